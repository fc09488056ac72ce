// Package buildinfo reports the version of this binary: release builds set
// the variables with -ldflags -X; `go install`/`go build` builds fall back to
// what the Go toolchain recorded (module version, VCS revision and time).
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set by the release build:
//
//	-X github.com/sailresearch/sail/internal/buildinfo.Version=1.2.3
//	-X github.com/sailresearch/sail/internal/buildinfo.Commit=abc123
//	-X github.com/sailresearch/sail/internal/buildinfo.Date=2026-11-25T00:00:00Z
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// Info is what `sail version` prints.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go"`
	Platform  string `json:"platform"`
	Modified  bool   `json:"modified,omitempty"`
}

// Get merges the ldflags values with the toolchain's build info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(Version, Commit, Date, bi)
}

func resolve(version, commit, date string, bi *debug.BuildInfo) Info {
	info := Info{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.time":
				if info.Date == "" {
					info.Date = s.Value
				}
			case "vcs.modified":
				info.Modified = s.Value == "true" && commit == ""
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if info.Date == "" {
		info.Date = "unknown"
	}
	return info
}

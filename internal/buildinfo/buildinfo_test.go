package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.time", Value: "2026-01-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	got := resolve("", "", "", bi)
	if got.Version != "v0.3.0" || got.Commit != "abc" || got.Date != "2026-01-01T00:00:00Z" || !got.Modified {
		t.Fatalf("fallback: %+v", got)
	}
	got = resolve("1.2.3", "def", "2026-11-25", bi)
	if got.Version != "1.2.3" || got.Commit != "def" || got.Date != "2026-11-25" || got.Modified {
		t.Fatalf("ldflags must win: %+v", got)
	}
	got = resolve("", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
	if got.Version != "dev" || got.Commit != "unknown" {
		t.Fatalf("defaults: %+v", got)
	}
}

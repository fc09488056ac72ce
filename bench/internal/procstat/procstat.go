// Package procstat reads a process's resident memory from Linux's
// /proc/<pid>/status: VmRSS (now) and VmHWM (the peak, "high water mark").
package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Mem is resident memory in KiB.
type Mem struct {
	RSSKiB int64 `json:"vm_rss_kib"`
	HWMKiB int64 `json:"vm_hwm_kib"`
}

// Self reads the calling process's memory.
func Self() (Mem, error) { return read("/proc/self/status") }

// Of reads the memory of process pid. A child's VmHWM starts afresh at
// exec, unlike wait4's Maxrss, which inherits the parent's.
func Of(pid int) (Mem, error) { return read(fmt.Sprintf("/proc/%d/status", pid)) }

func read(path string) (Mem, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Mem{}, fmt.Errorf("read memory from %s: %w (procstat needs Linux's /proc)", path, err)
	}
	return Parse(b)
}

// Parse extracts VmRSS and VmHWM from the text of a status file.
func Parse(status []byte) (Mem, error) {
	var m Mem
	var seen int
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return Mem{}, fmt.Errorf("parse %s: unexpected value %q", key, val)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return Mem{}, fmt.Errorf("parse %s: %w", key, err)
		}
		if key == "VmRSS" {
			m.RSSKiB = n
		} else {
			m.HWMKiB = n
		}
		seen++
	}
	if seen != 2 {
		return Mem{}, fmt.Errorf("parse status: VmRSS and VmHWM not both present")
	}
	return m, nil
}

// ResetPeak sets the calling process's VmHWM back to its current RSS
// (writing 5 to clear_refs, Linux ≥ 4.0), so that a later VmHWM is the peak
// of what happened in between.
func ResetPeak() error {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak RSS: %w", err)
	}
	return nil
}

// userHZ is the unit of utime and stime in /proc/<pid>/stat: 100 on every
// Linux architecture Go supports.
const userHZ = 100

// CPU returns the user + system CPU time process pid has used so far, at
// the kernel's 10 ms tick resolution.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w (procstat needs Linux's /proc)", pid, err)
	}
	return ParseCPU(b)
}

// ParseCPU extracts utime + stime from the text of a stat file. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func ParseCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse stat: no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("parse stat: %d fields after the name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

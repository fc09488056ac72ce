package procstat

import (
	"os"
	"runtime"
	"testing"
	"time"
)

const sample = `Name:	benchserver
VmPeak:	 1234 kB
VmHWM:	   52000 kB
VmRSS:	   8100 kB
Threads:	7
`

func TestParse(t *testing.T) {
	m, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if m.HWMKiB != 52000 || m.RSSKiB != 8100 {
		t.Fatalf("got %+v", m)
	}
}

func TestParseErrors(t *testing.T) {
	for name, in := range map[string]string{
		"missing": "Name:\tx\nVmRSS:\t1 kB\n",
		"unit":    "VmRSS:\t1 MB\nVmHWM:\t2 kB\n",
		"number":  "VmRSS:\tx kB\nVmHWM:\t2 kB\n",
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	m, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if m.RSSKiB <= 0 || m.HWMKiB < m.RSSKiB {
		t.Fatalf("implausible %+v", m)
	}
}

func TestParseCPU(t *testing.T) {
	// utime 250 and stime 50 ticks; the name holds a space and a ')'.
	stat := "4242 (bench server)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 100 1000 200"
	d, err := ParseCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if d != 3*time.Second {
		t.Fatalf("got %v, want 3s", d)
	}
	if _, err := ParseCPU([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("short stat: want an error")
	}
}

func TestCPUSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	if _, err := CPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

package procstat

import (
	"runtime"
	"testing"
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

package iostreams

import "testing"

func TestNoColor(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	cases := []struct {
		m    map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"NO_COLOR": "1"}, true},
		{map[string]string{"NO_COLOR": ""}, false},
		{map[string]string{"TERM": "dumb"}, true},
		{map[string]string{"TERM": "xterm-256color"}, false},
	}
	for _, c := range cases {
		if got := NoColor(env(c.m)); got != c.want {
			t.Errorf("NoColor(%v) = %v, want %v", c.m, got, c.want)
		}
	}
}

func TestTestStreams(t *testing.T) {
	s, _, out, errOut := Test()
	if s.StdoutTTY || s.StderrTTY || s.Interactive() {
		t.Fatal("test streams must not be terminals")
	}
	s.Out.Write([]byte("a"))
	s.ErrOut.Write([]byte("b"))
	if out.String() != "a" || errOut.String() != "b" {
		t.Fatal("streams not wired to buffers")
	}
}

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

func TestNoCursor(t *testing.T) {
	cases := []struct {
		term, goos string
		want       bool
	}{
		{"dumb", "linux", true},
		{"unknown", "darwin", true},
		{"", "linux", true},
		{"", "windows", false},
		{"xterm-256color", "linux", false},
		{"tmux-256color", "linux", false},
		{"screen", "freebsd", false},
	}
	for _, c := range cases {
		got := NoCursor(func(k string) string {
			if k == "TERM" {
				return c.term
			}
			return ""
		}, c.goos)
		if got != c.want {
			t.Errorf("NoCursor(TERM=%q, %s) = %v, want %v", c.term, c.goos, got, c.want)
		}
	}
	s, _, _, _ := Test()
	s.StderrTTY = true
	if !s.CanRedraw() {
		t.Error("a terminal with cursor addressing cannot redraw")
	}
	s.NoCursor = true
	if s.CanRedraw() {
		t.Error("TERM=dumb must not get a redrawn view")
	}
}

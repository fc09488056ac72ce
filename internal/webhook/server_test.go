package webhook

import (
	"net/http"
	"testing"
	"time"
)

func TestNewServer(t *testing.T) {
	s := NewServer(http.NotFoundHandler(), ServerOptions{})
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= s.ReadTimeout || s.IdleTimeout <= 0 ||
		s.MaxHeaderBytes <= 0 || s.ErrorLog == nil || s.Handler == nil {
		t.Fatalf("server limits not set: %+v", s)
	}
	if s.WriteTimeout < DefaultForwardTimeout+30*time.Second {
		t.Errorf("WriteTimeout %v leaves no room to read a body and forward it", s.WriteTimeout)
	}
}

// TestNewServerOptions: each timeout the caller sets replaces its default
// alone; the others keep theirs.
func TestNewServerOptions(t *testing.T) {
	timeouts := func(s *http.Server) [4]time.Duration {
		return [4]time.Duration{s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout}
	}
	def := timeouts(NewServer(http.NotFoundHandler(), ServerOptions{}))
	if def != [4]time.Duration{DefaultReadHeaderTimeout, DefaultReadTimeout, DefaultWriteTimeout, DefaultIdleTimeout} {
		t.Fatalf("defaults %v are not the Default* constants", def)
	}
	for i, o := range []ServerOptions{
		{ReadHeaderTimeout: time.Millisecond},
		{ReadTimeout: time.Millisecond},
		{WriteTimeout: time.Millisecond},
		{IdleTimeout: time.Millisecond},
	} {
		want := def
		want[i] = time.Millisecond
		if got := timeouts(NewServer(http.NotFoundHandler(), o)); got != want {
			t.Errorf("%+v gave timeouts %v, want %v", o, got, want)
		}
	}
}

package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
)

// serveOnce serves a handler that echoes "METHOD PATH" on tun's listener,
// POSTs to url, and returns the body.
func serveOnce(t *testing.T, tun Tunnel, url string) string {
	t.Helper()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.Method+" "+r.URL.Path)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tun.Listener()) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLocal(t *testing.T) {
	tun, err := Open(context.Background(), Options{Provider: Local, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	_, port, _ := net.SplitHostPort(tun.ListenAddr())
	if port == "0" || port == "" {
		t.Fatalf("ListenAddr %q does not report the chosen port", tun.ListenAddr())
	}
	if tun.URL() != "http://127.0.0.1:"+port {
		t.Errorf("URL %q", tun.URL())
	}
	if tun.Provider() != Local {
		t.Errorf("Provider %q", tun.Provider())
	}
	if !strings.Contains(tun.Note(), "only from this machine") {
		t.Errorf("Note %q", tun.Note())
	}
	if got := serveOnce(t, tun, tun.URL()+"/h/abc"); got != "POST /h/abc" {
		t.Errorf("served %q", got)
	}
	// http.Server.Shutdown closed the listener already; Close must still
	// succeed, twice.
	if err := tun.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := tun.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", tun.ListenAddr(), time.Second); err == nil {
		c.Close()
		t.Error("port still accepts connections after Close")
	}
}

func TestLocalCloseWithoutServing(t *testing.T) {
	tun, err := Open(context.Background(), Options{Provider: Local, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tun.Listener().Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

func TestLocalWildcardBind(t *testing.T) {
	tun, err := Open(context.Background(), Options{Provider: Local, Addr: "0.0.0.0:0"})
	if err != nil {
		t.Skipf("cannot bind 0.0.0.0: %v", err)
	}
	defer tun.Close()
	if !strings.HasPrefix(tun.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q: a wildcard bind must be reached through loopback", tun.URL())
	}
	if !strings.Contains(tun.Note(), "all interfaces") {
		t.Errorf("Note %q", tun.Note())
	}
}

func TestLocalIPv6(t *testing.T) {
	tun, err := Open(context.Background(), Options{Provider: Local, Addr: "[::1]:0"})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer tun.Close()
	if !strings.HasPrefix(tun.URL(), "http://[::1]:") {
		t.Errorf("URL %q", tun.URL())
	}
	if got := serveOnce(t, tun, tun.URL()+"/x"); got != "POST /x" {
		t.Errorf("served %q", got)
	}
}

func TestLocalPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	_, err = Open(context.Background(), Options{Provider: Local, Addr: addr})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindListen {
		t.Fatalf("err = %v, want a listen error", err)
	}
	if !strings.Contains(e.Error(), addr) || !strings.Contains(e.Error(), "already in use") {
		t.Errorf("message %q does not name %s as in use", e.Error(), addr)
	}
	if !strings.Contains(e.Hint, "--addr 127.0.0.1:0") {
		t.Errorf("hint %q does not suggest --addr 127.0.0.1:0", e.Hint)
	}
	if exitcode.Of(err) != exitcode.Tunnel {
		t.Errorf("exit code %d", exitcode.Of(err))
	}
}

func TestLocalBadAddr(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "http://127.0.0.1:80", "127.0.0.1:99999"} {
		_, err := Open(context.Background(), Options{Provider: Local, Addr: addr})
		var e *Error
		if !errors.As(err, &e) || (e.Kind != KindConfig && e.Kind != KindListen) {
			t.Errorf("%q: err = %v, want a config or listen error", addr, err)
			continue
		}
		if !strings.Contains(e.Error(), addr) {
			t.Errorf("%q: message %q does not name the address", addr, e.Error())
		}
	}
}

func TestOpenBadProvider(t *testing.T) {
	for _, p := range []string{"", Auto, "cloudflare"} {
		_, err := Open(context.Background(), Options{Provider: p})
		if exitcode.Of(err) != exitcode.Usage {
			t.Errorf("%q: err = %v (exit %d), want a usage error", p, err, exitcode.Of(err))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Open(ctx, Options{Provider: Local, Addr: "127.0.0.1:0"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
}

func TestValidatePublicURL(t *testing.T) {
	cases := []struct {
		in   string
		want string // "" = invalid
	}{
		{"https://hooks.example.com", "https://hooks.example.com"},
		{"https://hooks.example.com/", "https://hooks.example.com"},
		{"http://203.0.113.7:8080", "http://203.0.113.7:8080"},
		{"HTTPS://Hooks.Example.com", "https://Hooks.Example.com"},
		{"https://example.com/sail", "https://example.com/sail"},
		{"https://example.com/sail///", "https://example.com/sail"},
		{"https://example.com/a%20b/", "https://example.com/a%20b"},
		{"https://[2001:db8::1]:8443/", "https://[2001:db8::1]:8443"},
		{"", ""},
		{"   ", ""},
		{" https://example.com", ""},
		{"example.com", ""},
		{"//example.com", ""},
		{"ftp://example.com", ""},
		{"https://", ""},
		{"https:example.com", ""},
		{"https://:443", ""},
		{"https://user:pw@example.com", ""},
		{"https://example.com/?a=1", ""},
		{"https://example.com/?", ""},
		{"https://example.com/#frag", ""},
		{"https://example.com/#", ""},
		{"https://example.com:0", ""},
		{"https://example.com:70000", ""},
		{"https://exa mple.com", ""},
	}
	for _, c := range cases {
		got, err := ValidatePublicURL(c.in)
		if c.want == "" {
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindConfig || exitcode.Of(err) != exitcode.Config {
				t.Errorf("%q: got %q, %v; want a config error", c.in, got, err)
			} else if e.Hint == "" || !strings.Contains(e.Error(), "--public-url") {
				t.Errorf("%q: unhelpful error %q / %q", c.in, e.Error(), e.Hint)
			}
			if strings.Contains(c.in, "pw@") && err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("%q: error shows the credentials: %v", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
		if strings.Contains(got+"/h/x", "//h/x") {
			t.Errorf("%q: URL()+\"/h/x\" has a double slash", c.in)
		}
	}
}

func TestPublic(t *testing.T) {
	tun, err := Open(context.Background(), Options{Provider: Public, Addr: "127.0.0.1:0", PublicURL: "https://hooks.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	if tun.URL() != "https://hooks.example.com" || tun.Provider() != Public {
		t.Errorf("URL %q Provider %q", tun.URL(), tun.Provider())
	}
	want := "make sure https://hooks.example.com forwards to http://" + tun.ListenAddr()
	if tun.Note() != want {
		t.Errorf("Note %q, want %q", tun.Note(), want)
	}
	// The user's proxy forwards to the listener; simulate it by calling
	// the local address directly.
	if got := serveOnce(t, tun, "http://"+tun.ListenAddr()+"/h/abc"); got != "POST /h/abc" {
		t.Errorf("served %q", got)
	}
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPublicPathPrefix(t *testing.T) {
	tun, err := Open(context.Background(), Options{Provider: Public, Addr: "127.0.0.1:0", PublicURL: "https://example.com/sail/"})
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	if got := tun.URL() + "/h/x"; got != "https://example.com/sail/h/x" {
		t.Errorf("URL()+/h/x = %q", got)
	}
	if !strings.Contains(tun.Note(), "/sail prefix stripped") {
		t.Errorf("Note %q does not mention the prefix", tun.Note())
	}
}

func TestPublicInvalid(t *testing.T) {
	_, err := Open(context.Background(), Options{Provider: Public, Addr: "127.0.0.1:0", PublicURL: "hooks.example.com"})
	if exitcode.Of(err) != exitcode.Config {
		t.Fatalf("err = %v, want a config error", err)
	}
	_, err = Open(context.Background(), Options{Provider: Public, Addr: "127.0.0.1:0"})
	if exitcode.Of(err) != exitcode.Config {
		t.Fatalf("missing URL: err = %v, want a config error", err)
	}
}

package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.ngrok.com/ngrok/v2"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/testutil"
)

func TestPlanNgrok(t *testing.T) {
	cases := []struct {
		name string
		in   Options
		want ngrokPlan // Proxy compared by String below
		kind ErrKind   // KindUnknown = no error
		prox string
	}{
		{
			name: "defaults",
			in:   Options{Provider: Ngrok, Authtoken: "tok_123"},
			want: ngrokPlan{Authtoken: "tok_123", Timeout: DefaultConnectTimeout, Description: "sail webhook receiver"},
		},
		{
			name: "domain bare",
			in:   Options{Authtoken: "tok_S3CRET", Domain: "Sail-Hooks.ngrok.app", ConnectTimeout: 3 * time.Second},
			want: ngrokPlan{Authtoken: "tok_S3CRET", Domain: "sail-hooks.ngrok.app", EndpointURL: "https://sail-hooks.ngrok.app", Timeout: 3 * time.Second, Description: "sail webhook receiver"},
		},
		{
			name: "domain as https URL",
			in:   Options{Authtoken: "tok_S3CRET", Domain: "https://x.ngrok.dev/"},
			want: ngrokPlan{Authtoken: "tok_S3CRET", Domain: "x.ngrok.dev", EndpointURL: "https://x.ngrok.dev", Timeout: DefaultConnectTimeout, Description: "sail webhook receiver"},
		},
		{
			name: "server addr override",
			in:   Options{Authtoken: "tok_S3CRET", ServerAddr: "127.0.0.1:9"},
			want: ngrokPlan{Authtoken: "tok_S3CRET", ServerAddr: "127.0.0.1:9", Timeout: DefaultConnectTimeout, Description: "sail webhook receiver"},
		},
		{
			name: "http proxy uses our CONNECT dialer",
			in:   Options{Authtoken: "tok_S3CRET", ProxyURL: "http://proxy.corp:3128"},
			want: ngrokPlan{Authtoken: "tok_S3CRET", HTTPProxy: true, Timeout: DefaultConnectTimeout, Description: "sail webhook receiver"},
			prox: "http://proxy.corp:3128",
		},
		{
			name: "socks proxy goes to the SDK",
			in:   Options{Authtoken: "tok_S3CRET", ProxyURL: "socks5://127.0.0.1:1080"},
			want: ngrokPlan{Authtoken: "tok_S3CRET", Timeout: DefaultConnectTimeout, Description: "sail webhook receiver"},
			prox: "socks5://127.0.0.1:1080",
		},
		{name: "missing authtoken", in: Options{Provider: Ngrok}, kind: KindConfig},
		{name: "authtoken with newline", in: Options{Authtoken: "tok_S3CRET\n"}, kind: KindConfig},
		{name: "domain with path", in: Options{Authtoken: "tok_S3CRET", Domain: "x.ngrok.app/h"}, kind: KindConfig},
		{name: "domain with port", in: Options{Authtoken: "tok_S3CRET", Domain: "x.ngrok.app:8443"}, kind: KindConfig},
		{name: "domain http scheme", in: Options{Authtoken: "tok_S3CRET", Domain: "http://x.ngrok.app"}, kind: KindConfig},
		{name: "domain not qualified", in: Options{Authtoken: "tok_S3CRET", Domain: "localhost"}, kind: KindConfig},
		{name: "bad server addr", in: Options{Authtoken: "tok_S3CRET", ServerAddr: "no-port"}, kind: KindConfig},
		{name: "bad proxy scheme", in: Options{Authtoken: "tok_S3CRET", ProxyURL: "ftp://p:21"}, kind: KindConfig},
		{name: "proxy without host", in: Options{Authtoken: "tok_S3CRET", ProxyURL: "http://"}, kind: KindConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := planNgrok(c.in)
			if c.kind != KindUnknown {
				var e *Error
				if !errors.As(err, &e) || e.Kind != c.kind {
					t.Fatalf("err = %v, want kind %v", err, c.kind)
				}
				if exitcode.Of(err) != exitcode.Config {
					t.Fatalf("exit code %d, want %d", exitcode.Of(err), exitcode.Config)
				}
				if c.in.Authtoken != "" && strings.Contains(err.Error()+e.Hint, strings.TrimSpace(c.in.Authtoken)) {
					t.Fatalf("error shows the authtoken: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gotProxy := ""
			if got.Proxy != nil {
				gotProxy = got.Proxy.String()
			}
			if gotProxy != c.prox {
				t.Errorf("proxy = %q, want %q", gotProxy, c.prox)
			}
			got.Proxy = nil
			if got != c.want {
				t.Errorf("plan =\n%+v\nwant\n%+v", got, c.want)
			}
		})
	}
}

func TestPlanOptionsCount(t *testing.T) {
	// The SDK's options are opaque functions; this at least pins which
	// optional ones a plan adds.
	base, _ := planNgrok(Options{Authtoken: "tok_S3CRET"})
	full, _ := planNgrok(Options{Authtoken: "tok_S3CRET", ServerAddr: "127.0.0.1:1", ProxyURL: "http://127.0.0.1:2", Domain: "a.ngrok.app"})
	l := slog.New(slog.DiscardHandler)
	if a, b := len(base.agentOptions(l, nil)), len(full.agentOptions(l, nil)); b != a+2 {
		t.Errorf("agent options: base %d, full %d; want server and proxy options added", a, b)
	}
	if a, b := len(base.endpointOptions()), len(full.endpointOptions()); b != a+1 {
		t.Errorf("endpoint options: base %d, full %d; want the URL option added", a, b)
	}
}

func TestOpenNgrokMissingAuthtoken(t *testing.T) {
	_, err := Open(context.Background(), Options{Provider: Ngrok})
	if got := exitcode.Of(err); got != exitcode.Config {
		t.Fatalf("exit code %d (%v), want %d", got, err, exitcode.Config)
	}
	if !strings.Contains(exitcode.Hint(err), "NGROK_AUTHTOKEN") {
		t.Errorf("hint %q does not say to set NGROK_AUTHTOKEN", exitcode.Hint(err))
	}
}

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fakeServer accepts connections and hands each to serve, until the test
// ends.
func fakeServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// openFailing runs Open against a server that cannot work and checks what
// every failure must have in common: an *Error, exit 5, a hint, and no
// authtoken in the message or the logs. Callers check for leaked goroutines
// once all parallel cases are done.
func openFailing(t *testing.T, o Options) *Error {
	t.Helper()
	var logs testutil.LockedBuffer
	o.Provider = Ngrok
	o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// A generous bound: Open must return on its own ConnectTimeout long
	// before this; the context only keeps a regression from hanging CI.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	tun, err := Open(ctx, o)
	if err == nil {
		tun.Close()
		t.Fatal("Open succeeded against a server that is not ngrok")
	}
	if ctx.Err() != nil {
		t.Fatalf("Open returned only when the test's context ended: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %T %v, want *Error", err, err)
	}
	if got := exitcode.Of(err); got != exitcode.Tunnel {
		t.Errorf("exit code %d, want %d", got, exitcode.Tunnel)
	}
	if e.Hint == "" {
		t.Error("no hint")
	}
	for what, s := range map[string]string{"message": err.Error(), "hint": e.Hint, "logs": logs.String()} {
		if strings.Contains(s, o.Authtoken) {
			t.Errorf("%s contains the authtoken: %s", what, s)
		}
	}
	t.Logf("error: %v\nhint: %s", err, e.Hint)
	return e
}

// TestOpenNgrokFailures runs the real SDK against local servers that are
// not ngrok. The cases run in parallel; the goroutine check runs once after
// all of them, since it looks at every ngrok goroutine in the process.
func TestOpenNgrokFailures(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Run("group", func(t *testing.T) {
		t.Run("unreachable", func(t *testing.T) {
			t.Parallel()
			addr := closedPort(t)
			e := openFailing(t, Options{Authtoken: "bogus-token-123", ServerAddr: addr, ConnectTimeout: time.Second})
			if e.Kind != KindTimeout {
				t.Errorf("kind %v, want %v (%v)", e.Kind, KindTimeout, e)
			}
			for _, want := range []string{"within 1s", addr, "refused", "--tunnel local"} {
				if !strings.Contains(e.Error(), want) {
					t.Errorf("message %q does not mention %q", e.Error(), want)
				}
			}
			if !errors.Is(e, syscall.ECONNREFUSED) || !errors.Is(e, context.DeadlineExceeded) {
				t.Errorf("cause chain lost: %v", e.Err)
			}
		})
		t.Run("speaks garbage", func(t *testing.T) {
			t.Parallel()
			addr := fakeServer(t, func(c net.Conn) {
				c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\nnot ngrok\n"))
			})
			e := openFailing(t, Options{Authtoken: "bogus-token-123", ServerAddr: addr, ConnectTimeout: time.Second})
			if e.Kind != KindTimeout {
				t.Errorf("kind %v, want %v (%v)", e.Kind, KindTimeout, e)
			}
			if !strings.Contains(e.Error(), "TLS handshake with "+addr) {
				t.Errorf("message %q does not blame the TLS handshake with %s", e.Error(), addr)
			}
		})
		t.Run("hangs up", func(t *testing.T) {
			// The session layer often reports only "session closed" here;
			// the cause then comes from the SDK's diagnosis probe.
			t.Parallel()
			addr := fakeServer(t, func(c net.Conn) {})
			e := openFailing(t, Options{Authtoken: "bogus-token-123", ServerAddr: addr, ConnectTimeout: time.Second})
			msg := e.Error()
			if e.Kind != KindTimeout || !(strings.Contains(msg, "TLS handshake with "+addr) || strings.Contains(msg, addr+" closed the connection")) {
				t.Errorf("got %v %q, want a timeout saying %s hung up", e.Kind, msg, addr)
			}
			if strings.Contains(msg, "refused") || strings.Contains(msg, "session closed") {
				t.Errorf("message %q blames the wrong thing", msg)
			}
		})
		t.Run("proxy refuses", func(t *testing.T) {
			t.Parallel()
			proxy := fakeProxy(t, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", "")
			e := openFailing(t, Options{Authtoken: "bogus-token-123", ProxyURL: "http://" + proxy, ConnectTimeout: time.Second})
			if !strings.Contains(e.Error(), "proxy "+proxy+" refused") || !strings.Contains(e.Error(), "407") {
				t.Errorf("message %q does not blame the proxy", e.Error())
			}
			if !strings.Contains(e.Error(), ngrokDefaultServer) {
				t.Errorf("message %q does not name the ngrok server", e.Error())
			}
		})
		t.Run("caller cancels", func(t *testing.T) {
			t.Parallel()
			addr := closedPort(t)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			_, err := Open(ctx, Options{Provider: Ngrok, Authtoken: "tok_S3CRET", ServerAddr: addr, ConnectTimeout: 10 * time.Second})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if got := exitcode.Of(err); got != exitcode.Interrupted {
				t.Errorf("exit code %d, want %d", got, exitcode.Interrupted)
			}
		})
	})
	// The SDK sleeps out its reconnect backoff (≤ 2s after a short
	// timeout) before it notices the session was closed.
	testutil.VerifyNoneWithin(t, 10*time.Second, ignore)
}

// fakeAgent stands in for the SDK agent so that Open's control flow (fast
// failure on a refusal, teardown, the returned Tunnel) is testable offline.
// It is not evidence that ngrok works: only the real network can show that.
type fakeAgent struct {
	ngrok.Agent // unimplemented methods panic

	events ngrok.EventHandler
	listen func(ctx context.Context, events ngrok.EventHandler) (ngrok.EndpointListener, error)

	mu          sync.Mutex
	disconnects int
}

func (a *fakeAgent) Listen(ctx context.Context, _ ...ngrok.EndpointOption) (ngrok.EndpointListener, error) {
	return a.listen(ctx, a.events)
}

func (a *fakeAgent) Disconnect() error {
	a.mu.Lock()
	a.disconnects++
	a.mu.Unlock()
	return nil
}

func (a *fakeAgent) disconnected() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.disconnects
}

func (a *fakeAgent) factory() agentFactory {
	return func(_ ngrokPlan, _ *slog.Logger, events ngrok.EventHandler) (ngrok.Agent, error) {
		a.events = events
		return a, nil
	}
}

// fakeEndpoint is an ngrok endpoint backed by a loopback listener.
type fakeEndpoint struct {
	ngrok.EndpointListener
	net.Listener
	url *url.URL
}

func (e *fakeEndpoint) URL() *url.URL                          { return e.url }
func (e *fakeEndpoint) Accept() (net.Conn, error)              { return e.Listener.Accept() }
func (e *fakeEndpoint) Addr() net.Addr                         { return e.Listener.Addr() }
func (e *fakeEndpoint) Close() error                           { return e.Listener.Close() }
func (e *fakeEndpoint) CloseWithContext(context.Context) error { return e.Listener.Close() }

func TestOpenNgrokRefusalEndsWaitEarly(t *testing.T) {
	agent := &fakeAgent{listen: func(ctx context.Context, events ngrok.EventHandler) (ngrok.EndpointListener, error) {
		// What the SDK does with a bad authtoken: report the refusal as a
		// disconnect event, then keep retrying until the context ends.
		events(&ngrok.EventAgentDisconnected{Error: legacyErr{"ERR_NGROK_107", "authentication failed: The authtoken you specified is properly formed, but it is invalid.\nYour authtoken: tok_S3CRET"}})
		<-ctx.Done()
		return nil, fmt.Errorf("failed to connect: %w", ctx.Err())
	}}
	// ConnectTimeout is far beyond the test's own deadline: only the
	// refusal can end Open in time.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := openNgrokWith(ctx, Options{Provider: Ngrok, Authtoken: "tok_S3CRET", ConnectTimeout: time.Hour}, agent.factory())
	if ctx.Err() != nil {
		t.Fatal("Open waited for the connect timeout despite a refusal")
	}
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindAuth || e.Code != "ERR_NGROK_107" {
		t.Fatalf("err = %v, want an auth error with ERR_NGROK_107", err)
	}
	if strings.Contains(err.Error(), "tok_S3CRET") || strings.Contains(e.Err.Error(), "tok_S3CRET") {
		t.Errorf("authtoken leaked: %v / %v", err, e.Err)
	}
	if exitcode.Of(err) != exitcode.Tunnel {
		t.Errorf("exit code %d", exitcode.Of(err))
	}
	if agent.disconnected() == 0 {
		t.Error("failed Open did not disconnect the agent")
	}
}

func TestOpenNgrokListenErrorWithCode(t *testing.T) {
	agent := &fakeAgent{listen: func(ctx context.Context, _ ngrok.EventHandler) (ngrok.EndpointListener, error) {
		return nil, codeErr{"ERR_NGROK_319", "You must reserve a custom hostname"}
	}}
	_, err := openNgrokWith(context.Background(), Options{Provider: Ngrok, Authtoken: "tok_S3CRET", Domain: "mine.example.com"}, agent.factory())
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindDomain || !strings.Contains(e.Error(), "mine.example.com") {
		t.Fatalf("err = %v, want a domain error naming the domain", err)
	}
	if agent.disconnected() == 0 {
		t.Error("failed Open did not disconnect the agent")
	}
}

func TestOpenNgrokTunnelLifecycle(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var lifeCtx context.Context
	agent := &fakeAgent{listen: func(ctx context.Context, _ ngrok.EventHandler) (ngrok.EndpointListener, error) {
		lifeCtx = ctx
		return &fakeEndpoint{Listener: ln, url: &url.URL{Scheme: "https", Host: "abc.ngrok.app", Path: "/"}}, nil
	}}
	openCtx, cancelOpen := context.WithCancel(context.Background())
	tun, err := openNgrokWith(openCtx, Options{Provider: Ngrok, Authtoken: "tok_S3CRET"}, agent.factory())
	if err != nil {
		t.Fatal(err)
	}
	cancelOpen() // the tunnel must outlive Open's context
	if lifeCtx.Err() != nil {
		t.Fatal("tunnel context ended with Open's context")
	}
	if tun.URL() != "https://abc.ngrok.app" || tun.ListenAddr() != "https://abc.ngrok.app" || tun.Provider() != Ngrok {
		t.Errorf("URL %q ListenAddr %q Provider %q", tun.URL(), tun.ListenAddr(), tun.Provider())
	}
	if !strings.Contains(tun.Note(), "public") {
		t.Errorf("note %q", tun.Note())
	}
	body := serveOnce(t, tun, "http://"+ln.Addr().String()+"/h/x")
	if body != "POST /h/x" {
		t.Errorf("served %q", body)
	}
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tun.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if lifeCtx.Err() == nil {
		t.Error("Close did not end the session context")
	}
	if agent.disconnected() != 1 {
		t.Errorf("agent disconnected %d times, want 1", agent.disconnected())
	}
}

func TestSessionWatch(t *testing.T) {
	// Drive the event handler the way the SDK does, with the errors it
	// produces, without a network.
	w := newSessionWatch(slog.New(slog.DiscardHandler), "secret")
	w.handle(newDisconnected(context.Canceled))
	w.handle(newDisconnected(nil))
	if last, _ := w.state(); last != nil {
		t.Fatalf("context/nil errors recorded as causes: %v", last)
	}
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	w.handle(newDisconnected(dial))
	if last, _ := w.state(); last != dial {
		t.Fatalf("last = %v, want the dial error", last)
	}
	select {
	case err := <-w.fatal:
		t.Fatalf("network error treated as fatal: %v", err)
	default:
	}
	authErr := codeErr{code: "ERR_NGROK_105", msg: "authentication failed: bad token secret"}
	w.handle(newDisconnected(authErr))
	w.handle(newDisconnected(authErr)) // a second one must not block
	select {
	case err := <-w.fatal:
		if ngrokCode(err) != "ERR_NGROK_105" {
			t.Fatalf("fatal = %v", err)
		}
	default:
		t.Fatal("ERR_NGROK refusal did not end the wait")
	}
	w.markOpened()
	w.handle(newDisconnected(authErr))
	select {
	case err := <-w.fatal:
		t.Fatalf("error after Open treated as fatal: %v", err)
	default:
	}
}

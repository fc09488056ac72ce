// Package tunnel gives the webhook receiver a listener and a URL that the
// sender can reach: a loopback port (local), the user's own tunnel or
// reverse proxy (public), or an ngrok endpoint (ngrok).
//
// The caller picks a provider with ChooseForListen or ChooseForRun, calls
// Open, serves its http.Handler on Tunnel.Listener(), and hands
// Tunnel.URL()+path to the sender. Failures are *Error values whose
// ExitCode() maps to the documented exit codes.
package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/sailresearch/sail/internal/secret"
)

// Provider names, as accepted by --tunnel.
const (
	Auto   = "auto"
	Local  = "local"
	Public = "public"
	Ngrok  = "ngrok"
)

// Defaults applied by Open when the Options field is zero.
const (
	DefaultAddr           = "127.0.0.1:8765"
	DefaultConnectTimeout = 20 * time.Second
)

// Tunnel is an open tunnel. Serve on Listener() and give the sender URL().
type Tunnel interface {
	// Listener is where the receiver's http.Server serves. Closing it (as
	// http.Server.Shutdown does) is safe; Close is still required.
	Listener() net.Listener
	// URL is the base URL reachable by the sender, without a trailing slash;
	// the receiver appends its own path.
	URL() string
	// Provider is Local, Public or Ngrok.
	Provider() string
	// ListenAddr is the local address listened on, or the ngrok endpoint URL.
	ListenAddr() string
	// Note is one human line about reachability, for the Ready event.
	Note() string
	// Close stops the listener (and the ngrok session). Idempotent.
	Close() error
}

// Options configures Open. Only Provider is required; the CLI resolves
// "auto" with ChooseForListen/ChooseForRun first.
type Options struct {
	Provider  string // Local, Public or Ngrok
	Addr      string // local listen address for Local and Public; default DefaultAddr; port 0 picks a free port
	PublicURL string // Public: the user's tunnel or reverse proxy URL that forwards to Addr (absolute http/https)

	Authtoken string // Ngrok: the NGROK_AUTHTOKEN value; never logged or shown
	Domain    string // Ngrok: optional reserved domain, e.g. "sail-hooks.ngrok.app"
	// ProxyURL routes the ngrok session through a proxy: http://, https://,
	// socks5:// or socks5h://, with optional user:password. The CLI fills it
	// from HTTPS_PROXY/ALL_PROXY (see ProxyFromEnv).
	ProxyURL string
	// ConnectTimeout bounds connecting to ngrok and starting the endpoint;
	// default DefaultConnectTimeout. The SDK itself retries forever when
	// the server is unreachable.
	ConnectTimeout time.Duration
	// ServerAddr overrides ngrok's connect address (host:port). Tests point
	// it at a local port; this package reads no environment variables.
	ServerAddr string

	// Logger receives the ngrok SDK's logs; nil discards them. The SDK must
	// never write to the terminal itself: a TUI may own the screen.
	Logger *slog.Logger
}

// String and GoString keep the authtoken out of %v, %+v and %#v.
func (o Options) String() string {
	return fmt.Sprintf("{Provider:%s Addr:%s PublicURL:%s Authtoken:%s Domain:%s ProxyURL:%s ConnectTimeout:%s ServerAddr:%s}",
		o.Provider, o.Addr, o.PublicURL, mask(o.Authtoken), o.Domain, redactProxy(o.ProxyURL), o.ConnectTimeout, o.ServerAddr)
}

// GoString implements fmt.GoStringer; see String.
func (o Options) GoString() string { return "tunnel.Options" + o.String() }

// LogValue keeps the authtoken out of structured logs.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("provider", o.Provider),
		slog.String("addr", o.Addr),
		slog.String("public_url", o.PublicURL),
		slog.String("authtoken", mask(o.Authtoken)),
		slog.String("domain", o.Domain),
		slog.String("proxy_url", redactProxy(o.ProxyURL)),
		slog.Duration("connect_timeout", o.ConnectTimeout),
		slog.String("server_addr", o.ServerAddr),
	)
}

func mask(token string) string {
	if token == "" {
		return ""
	}
	return secret.Mask
}

// Open starts the tunnel. ctx bounds opening only: once Open returns, the
// tunnel lives until Close. Cancelling ctx during Open returns an error
// wrapping ctx.Err() (exit 130 or 124 through exitcode.Of).
func Open(ctx context.Context, o Options) (Tunnel, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open tunnel: %w", err)
	}
	switch o.Provider {
	case Local:
		return openLocal(ctx, o)
	case Public:
		return openPublic(ctx, o)
	case Ngrok:
		return openNgrok(ctx, o)
	case "", Auto:
		return nil, &Error{Kind: KindUsage, Msg: "tunnel provider not resolved", Hint: "call ChooseForListen or ChooseForRun before Open"}
	default:
		return nil, unknownProvider(o.Provider)
	}
}

func unknownProvider(p string) *Error {
	return &Error{
		Kind: KindUsage,
		Msg:  fmt.Sprintf("unknown tunnel provider %q", p),
		Hint: "use --tunnel auto, local, public or ngrok",
	}
}

// tunnel is the one Tunnel implementation; providers differ in how they fill
// it and in closeFn.
type tunnel struct {
	ln         *onceCloseListener
	url        string
	provider   string
	listenAddr string
	note       string

	closeFn   func() error // extra teardown after the listener is closed
	closeOnce sync.Once
	closeErr  error
}

func (t *tunnel) Listener() net.Listener { return t.ln }
func (t *tunnel) URL() string            { return t.url }
func (t *tunnel) Provider() string       { return t.provider }
func (t *tunnel) ListenAddr() string     { return t.listenAddr }
func (t *tunnel) Note() string           { return t.note }

func (t *tunnel) Close() error {
	t.closeOnce.Do(func() {
		err := t.ln.Close()
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
		if t.closeFn != nil {
			err = errors.Join(err, t.closeFn())
		}
		if err != nil {
			t.closeErr = fmt.Errorf("close %s tunnel: %w", t.provider, err)
		}
	})
	return t.closeErr
}

// onceCloseListener lets both http.Server and Tunnel.Close close the
// listener: the second close returns the first result instead of an error
// from the SDK.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

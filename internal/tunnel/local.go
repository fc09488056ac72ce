package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/sailresearch/sail/internal/secret"
)

func openLocal(ctx context.Context, o Options) (Tunnel, error) {
	ln, err := listenTCP(ctx, o.Addr)
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().(*net.TCPAddr)
	return &tunnel{
		ln:         &onceCloseListener{Listener: ln},
		url:        "http://" + dialableHostPort(addr, o.Addr),
		provider:   Local,
		listenAddr: addr.String(),
		note:       localNote(addr),
	}, nil
}

func openPublic(ctx context.Context, o Options) (Tunnel, error) {
	public, err := ValidatePublicURL(o.PublicURL)
	if err != nil {
		return nil, err
	}
	ln, err := listenTCP(ctx, o.Addr)
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().(*net.TCPAddr)
	target := "http://" + dialableHostPort(addr, o.Addr)
	note := fmt.Sprintf("make sure %s forwards to %s", public, target)
	if u, _ := url.Parse(public); u != nil && u.Path != "" {
		// The receiver sees the path the proxy sends, so a proxy that keeps
		// the prefix would miss the receiver's routes.
		note += fmt.Sprintf(" (with the %s prefix stripped)", u.EscapedPath())
	}
	return &tunnel{
		ln:         &onceCloseListener{Listener: ln},
		url:        public,
		provider:   Public,
		listenAddr: addr.String(),
		note:       note,
	}, nil
}

// listenTCP binds addr (DefaultAddr when empty) and turns bind failures into
// errors that name the address and say what to do.
func listenTCP(ctx context.Context, addr string) (net.Listener, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, &Error{
			Kind: KindConfig, Err: err,
			Msg:  fmt.Sprintf("invalid listen address %q: %v", addr, err),
			Hint: "pass --addr HOST:PORT, e.g. --addr 127.0.0.1:8765 (port 0 picks a free port)",
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err == nil {
		return ln, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, ctxErr)
	}
	e := &Error{Kind: KindListen, Err: err}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		e.Msg = fmt.Sprintf("cannot listen on %s: the address is already in use", addr)
		e.Hint = "pass --addr 127.0.0.1:0 to pick a free port, or stop the program using " + addr
	case errors.Is(err, syscall.EACCES):
		e.Msg = fmt.Sprintf("cannot listen on %s: permission denied", addr)
		e.Hint = "use a port above 1023, e.g. --addr 127.0.0.1:0"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		e.Msg = fmt.Sprintf("cannot listen on %s: no such local address", addr)
		e.Hint = "use an address of this machine, e.g. --addr 127.0.0.1:0"
	default:
		e.Msg = fmt.Sprintf("cannot listen on %s: %v", addr, err)
		e.Hint = "pass another --addr, e.g. --addr 127.0.0.1:0"
	}
	return nil, e
}

// dialableHostPort is the address a local sender should use: a wildcard bind
// is reached through loopback. requested is the --addr value: Go reports a
// 0.0.0.0 (or empty host) bind as [::], but the user asked for IPv4.
func dialableHostPort(a *net.TCPAddr, requested string) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		if h, _, err := net.SplitHostPort(requested); err == nil {
			if rip := net.ParseIP(h); rip != nil && rip.To4() == nil {
				ip = net.IPv6loopback
			}
		}
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}

func localNote(a *net.TCPAddr) string {
	switch {
	case a.IP.IsLoopback():
		return "reachable only from this machine (local tunnel)"
	case a.IP == nil || a.IP.IsUnspecified():
		return fmt.Sprintf("listening on all interfaces (%s): reachable from your network, not from the internet (local tunnel)", a)
	default:
		return fmt.Sprintf("reachable at %s from your network, not from the internet (local tunnel)", a)
	}
}

// ValidatePublicURL checks a --public-url value and returns it normalised:
// absolute http or https, a host, no credentials, query or fragment, and no
// trailing slash, so that URL()+"/h/x" is the address to send to. A path
// prefix is kept ("https://example.com/sail" → "https://example.com/sail/h/x").
func ValidatePublicURL(raw string) (string, error) {
	bad := func(why string) error {
		return &Error{
			Kind: KindConfig,
			Msg:  fmt.Sprintf("invalid --public-url %q: %s", hideUserinfo(raw), why),
			Hint: "pass the absolute http(s) URL of your tunnel or reverse proxy, e.g. --public-url https://hooks.example.com",
		}
	}
	if strings.TrimSpace(raw) == "" {
		return "", bad("it is empty")
	}
	if strings.TrimSpace(raw) != raw {
		return "", bad("it has leading or trailing spaces")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", bad(strings.TrimPrefix(err.Error(), fmt.Sprintf("parse %q: ", raw)))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", bad("the scheme must be http or https")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", bad("it has no host")
	case u.User != nil:
		return "", bad("credentials in the URL would be shown and stored; use the webhook token instead")
	case u.RawQuery != "" || u.ForceQuery:
		return "", bad("it must not have a query string")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", bad("it must not have a fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return "", bad("the port must be 1-65535")
		}
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	return u.Scheme + "://" + u.Host + path, nil
}

// hideUserinfo keeps credentials out of the message that refuses them.
func hideUserinfo(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	host, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = secret.Mask + host[i:]
	}
	if path != "" || strings.Contains(rest, "/") {
		return scheme + "://" + host + "/" + path
	}
	return scheme + "://" + host
}

func parsePort(p string) (int, error) {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, errors.New("not a number")
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, errors.New("out of range")
		}
	}
	return n, nil
}

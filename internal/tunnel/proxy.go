package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/sailresearch/sail/internal/secret"
)

// ProxyFromEnv returns the proxy URL the ngrok session should use under the
// usual HTTPS_PROXY / ALL_PROXY / NO_PROXY conventions (either case), or ""
// for a direct connection. serverAddr is Options.ServerAddr ("" for ngrok's
// default). getenv is os.Getenv in the CLI and a map in tests. A proxy value
// without a scheme is taken as http://.
func ProxyFromEnv(getenv func(string) string, serverAddr string) string {
	get := func(names ...string) string {
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				return v
			}
		}
		return ""
	}
	// ngrok's session is TLS, so HTTP_PROXY does not apply to it.
	proxy := get("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
	if proxy == "" {
		return ""
	}
	if serverAddr == "" {
		serverAddr = ngrokDefaultServer
	}
	if noProxy(get("NO_PROXY", "no_proxy"), serverAddr) {
		return ""
	}
	if !strings.Contains(proxy, "://") {
		proxy = "http://" + proxy
	}
	return proxy
}

// noProxy reports whether NO_PROXY exempts addr (host:port): "*", a host
// or domain suffix (".example.com" or "example.com", optionally with
// ":port"), an IP, or a CIDR.
func noProxy(list, addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ip := net.ParseIP(host)
	for _, e := range strings.Split(list, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case e == "":
			continue
		case e == "*":
			return true
		}
		if _, cidr, err := net.ParseCIDR(e); err == nil {
			if ip != nil && cidr.Contains(ip) {
				return true
			}
			continue
		}
		if h, p, err := net.SplitHostPort(e); err == nil {
			if p != port {
				continue
			}
			e = h
		}
		e = strings.TrimPrefix(strings.TrimPrefix(e, "*"), ".")
		if eip := net.ParseIP(e); eip != nil {
			if ip != nil && eip.Equal(ip) {
				return true
			}
			continue
		}
		if host == e || strings.HasSuffix(host, "."+e) {
			return true
		}
	}
	return false
}

func parseProxyURL(raw string) (*url.URL, error) {
	bad := func(why string) error {
		return &Error{
			Kind: KindConfig,
			Msg:  fmt.Sprintf("invalid proxy URL %q: %s", redactProxy(raw), why),
			Hint: "set HTTPS_PROXY to http://host:port, https://host:port or socks5://host:port",
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("it does not parse")
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, bad("the scheme must be http, https, socks5 or socks5h")
	}
	if u.Hostname() == "" {
		return nil, bad("it has no host")
	}
	return u, nil
}

// redactProxy hides a proxy password, which proxy URLs often carry.
func redactProxy(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), secret.Mask)
	}
	return u.String()
}

// proxyError is a refusal by the proxy itself, so that the message blames
// the proxy and not ngrok.
type proxyError struct {
	proxy  string // host:port
	target string
	status string
	err    error
}

func (e *proxyError) Error() string {
	if e.status != "" {
		return fmt.Sprintf("proxy %s refused to connect to %s: %s", e.proxy, e.target, e.status)
	}
	return fmt.Sprintf("proxy %s failed connecting to %s: %v", e.proxy, e.target, e.err)
}

func (e *proxyError) Unwrap() error { return e.err }

// connectDialer opens ngrok's TCP connection through an HTTP(S) proxy with
// CONNECT. The SDK only knows SOCKS proxies, and corporate networks mostly
// offer HTTP ones.
type connectDialer struct {
	proxy *url.URL
	net   net.Dialer
}

func (d *connectDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

func (d *connectDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	proxyAddr := d.proxy.Host
	if d.proxy.Port() == "" {
		port := "80"
		if d.proxy.Scheme == "https" {
			port = "443"
		}
		proxyAddr = net.JoinHostPort(d.proxy.Hostname(), port)
	}
	conn, err := d.net.DialContext(ctx, network, proxyAddr)
	if err != nil {
		return nil, &proxyError{proxy: proxyAddr, target: addr, err: err}
	}
	// Abort the handshake below when ctx ends; the SDK's session lifetime
	// is the caller's ctx, so the deadline is cleared on success.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	fail := func(status string, err error) (net.Conn, error) {
		stop()
		_ = conn.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, &proxyError{proxy: proxyAddr, target: addr, status: status, err: err}
	}
	if d.proxy.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: d.proxy.Hostname(), MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("", err)
		}
		conn = tc
	}
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: make(http.Header),
	}
	if u := d.proxy.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	if err := req.Write(conn); err != nil {
		return fail("", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fail("", err)
	}
	// The body is not read: after a 200 the stream belongs to the tunnel
	// (an HTTP/1.0 answer would make Body.Close drain it), and after any
	// other status the connection is dropped.
	if resp.StatusCode != http.StatusOK {
		return fail(resp.Status, nil)
	}
	if !stop() {
		// ctx ended and closed conn just as the proxy answered.
		return nil, &proxyError{proxy: proxyAddr, target: addr, err: ctx.Err()}
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// bufferedConn keeps bytes the proxy sent right after its 200 answer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

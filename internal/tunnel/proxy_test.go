package tunnel

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// fakeProxy answers every CONNECT with reply; after a 2xx reply it writes
// extra and then echoes what the client sends. Requests are recorded.
func fakeProxy(t *testing.T, reply, extra string) string {
	addr, _ := fakeProxyRec(t, reply, extra)
	return addr
}

func fakeProxyRec(t *testing.T, reply, extra string) (string, chan *http.Request) {
	t.Helper()
	reqs := make(chan *http.Request, 16)
	addr := fakeServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		select {
		case reqs <- req:
		default:
		}
		io.WriteString(c, reply)
		if !strings.HasPrefix(reply, "HTTP/1.1 2") && !strings.HasPrefix(reply, "HTTP/1.0 2") {
			return
		}
		io.WriteString(c, extra)
		io.Copy(c, br)
	})
	return addr, reqs
}

func TestConnectDialer(t *testing.T) {
	addr, reqs := fakeProxyRec(t, "HTTP/1.0 200 Connection established\r\n\r\n", "early:")
	d := &connectDialer{proxy: &url.URL{Scheme: "http", Host: addr, User: url.UserPassword("me", "pw")}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", "connect.example:443")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cancel() // the context bounds only the dial, not the connection
	req := <-reqs
	if req.Method != http.MethodConnect || req.Host != "connect.example:443" {
		t.Errorf("proxy got %s %s", req.Method, req.Host)
	}
	if got, want := req.Header.Get("Proxy-Authorization"), "Basic "+base64.StdEncoding.EncodeToString([]byte("me:pw")); got != want {
		t.Errorf("Proxy-Authorization %q, want %q", got, want)
	}
	if _, err := io.WriteString(conn, "ping"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, len("early:ping"))
	if _, err := io.ReadFull(conn, buf); err != nil {
		t.Fatal(err)
	}
	if string(buf) != "early:ping" {
		t.Errorf("tunnel carried %q, want bytes sent right after the 200 and then the echo", buf)
	}
}

func TestConnectDialerFailures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	refusing := fakeProxy(t, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "")
	_, err := (&connectDialer{proxy: &url.URL{Scheme: "http", Host: refusing}}).DialContext(ctx, "tcp", "x:443")
	var pe *proxyError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "403 Forbidden") || !strings.Contains(err.Error(), refusing) {
		t.Errorf("refusal: %v", err)
	}

	closed := closedPort(t)
	_, err = (&connectDialer{proxy: &url.URL{Scheme: "http", Host: closed}}).DialContext(ctx, "tcp", "x:443")
	if !errors.As(err, &pe) || !strings.Contains(describeNetErr(err, "x:443", closed), "proxy "+closed) {
		t.Errorf("unreachable proxy: %v / %s", err, describeNetErr(err, "x:443", closed))
	}

	silent := fakeServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	_, err = (&connectDialer{proxy: &url.URL{Scheme: "http", Host: silent}}).DialContext(short, "tcp", "x:443")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent proxy: %v, want the dial's deadline", err)
	}
}

func TestProxyFromEnv(t *testing.T) {
	cases := []struct {
		name   string
		env    map[string]string
		server string
		want   string
	}{
		{"none", nil, "", ""},
		{"HTTPS_PROXY", map[string]string{"HTTPS_PROXY": "http://p:3128"}, "", "http://p:3128"},
		{"lower case", map[string]string{"https_proxy": "http://p:3128"}, "", "http://p:3128"},
		{"no scheme", map[string]string{"HTTPS_PROXY": "p:3128"}, "", "http://p:3128"},
		{"ALL_PROXY socks", map[string]string{"ALL_PROXY": "socks5://s:1080"}, "", "socks5://s:1080"},
		{"HTTPS wins over ALL", map[string]string{"ALL_PROXY": "socks5://s:1080", "HTTPS_PROXY": "http://p:1"}, "", "http://p:1"},
		{"HTTP_PROXY ignored", map[string]string{"HTTP_PROXY": "http://p:1"}, "", ""},
		{"NO_PROXY star", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, "", ""},
		{"NO_PROXY domain", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "localhost,.ngrok-agent.com"}, "", ""},
		{"NO_PROXY bare domain", map[string]string{"HTTPS_PROXY": "http://p:1", "no_proxy": "ngrok-agent.com"}, "", ""},
		{"NO_PROXY other", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com"}, "", "http://p:1"},
		{"NO_PROXY not a suffix match", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "agent.com"}, "", "http://p:1"},
		{"NO_PROXY CIDR", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "127.0.0.0/8"}, "127.0.0.1:4443", ""},
		{"NO_PROXY IP", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.1"}, "10.0.0.1:443", ""},
		{"NO_PROXY port mismatch", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "connect.ngrok-agent.com:80"}, "", "http://p:1"},
		{"NO_PROXY port match", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "connect.ngrok-agent.com:443"}, "", ""},
	}
	for _, c := range cases {
		getenv := func(k string) string { return c.env[k] }
		if got := ProxyFromEnv(getenv, c.server); got != c.want {
			t.Errorf("%s: ProxyFromEnv = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestRedactProxy(t *testing.T) {
	if got := redactProxy("http://u:secret@p:1"); strings.Contains(got, "secret") || !strings.Contains(got, "u:") {
		t.Errorf("redactProxy = %q", got)
	}
	if got := redactProxy("http://p:1"); got != "http://p:1" {
		t.Errorf("redactProxy changed a URL without password: %q", got)
	}
}

package inbox

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/store"
	"github.com/sailresearch/sail/internal/testutil"
	"github.com/sailresearch/sail/internal/tunnel"
	"github.com/sailresearch/sail/internal/webhook"
)

// TestServerLimits pins the limits the inbox's server really runs with:
// they are what keeps a public tunnel URL from being held open by slow or
// bloated requests.
func TestServerLimits(t *testing.T) {
	in := openLocal(t, webhook.Options{})
	s := in.srv
	if s.ReadHeaderTimeout <= 0 || s.ReadHeaderTimeout > 30*time.Second {
		t.Errorf("ReadHeaderTimeout %v: want a bound of at most 30s against slowloris", s.ReadHeaderTimeout)
	}
	// Sail gives up on an attempt after 30 s; the server must not wait
	// much longer than that for a body, nor cut off one Sail still sends.
	if s.ReadTimeout < 30*time.Second || s.ReadTimeout > 5*time.Minute {
		t.Errorf("ReadTimeout %v: want between 30s and 5m", s.ReadTimeout)
	}
	if s.WriteTimeout <= 0 || s.IdleTimeout <= 0 {
		t.Errorf("WriteTimeout %v, IdleTimeout %v: want both set", s.WriteTimeout, s.IdleTimeout)
	}
	if s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes %d: want a bound of at most 1 MiB", s.MaxHeaderBytes)
	}
	t.Logf("inbox server: ReadHeaderTimeout %v, ReadTimeout %v, WriteTimeout %v, IdleTimeout %v, MaxHeaderBytes %d",
		s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes)
}

// dial opens a raw TCP connection to a tunnel's loopback listener.
func dial(t *testing.T, tun tunnel.Tunnel) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", tun.Listener().Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// trickle writes data to c one byte every interval until the reader of c
// reports on answer what the server sent before it hung up, and returns how
// many bytes went out and that answer.
func trickle(c net.Conn, data string, every time.Duration, answer <-chan string) (sent int, got string) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case got = <-answer:
			return sent, got
		case <-tick.C:
			if sent < len(data) {
				if _, err := c.Write([]byte{data[sent]}); err != nil {
					return sent, <-answer
				}
				sent++
			}
		}
	}
}

// readUntilClosed reads from c until the server closes it or limit passes,
// and returns what the server sent and whether it closed the connection.
func readUntilClosed(c net.Conn, limit time.Duration) (got string, closed bool) {
	c.SetReadDeadline(time.Now().Add(limit))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return string(b), false
	}
	return string(b), true // EOF or reset: the server hung up
}

// TestSlowlorisHeadersAreCutOff trickles a request's headers one byte at a
// time into the real inbox, never finishing them. The server must hang up
// once ReadHeaderTimeout has passed, without the request reaching the
// receiver. The timeout is shortened to keep the test quick; TestServerLimits
// pins the real one.
func TestSlowlorisHeadersAreCutOff(t *testing.T) {
	t.Parallel()
	rec := &event.Recorder{}
	in := openLocalServer(t, webhook.Options{Sink: rec}, webhook.ServerOptions{ReadHeaderTimeout: 200 * time.Millisecond})
	in.Receiver.Handle(webhook.Route{Path: "/hook"})
	timeout := in.srv.ReadHeaderTimeout
	if timeout != 200*time.Millisecond {
		t.Fatalf("ReadHeaderTimeout %v: the option was not applied", timeout)
	}
	start := time.Now()
	c := dial(t, in.Tunnel)

	closed := make(chan string, 1)
	go func() {
		got, ok := readUntilClosed(c, timeout+10*time.Second)
		if !ok {
			got = "\x00still open"
		}
		closed <- got
	}()
	// The request line and the first headers at once, then one byte of a
	// header value every 10ms, never the blank line that ends them: each
	// byte comes well within any per-read timeout, so only a bound on the
	// whole header stops this client. (Cut off inside the request line,
	// net/http would answer 400 to the half line instead.)
	if _, err := io.WriteString(c, "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	sent, got := trickle(c, strings.Repeat("a", 1<<16), 10*time.Millisecond, closed)
	if got == "\x00still open" {
		t.Fatalf("connection still open %v after the first header byte (ReadHeaderTimeout %v)", timeout+10*time.Second, timeout)
	}
	// net/http hangs up without a word when the header deadline passes;
	// any answer means something else ended the request.
	if got != "" {
		t.Fatalf("the server answered unfinished headers instead of timing out: %q", got)
	}
	settle(t, in.Receiver)
	if ds := testutil.EventsOf[event.Delivery](rec); len(ds) != 0 {
		t.Fatalf("the receiver saw a delivery from a slowloris client: %+v", ds)
	}
	t.Logf("cut off after %d header bytes, %v after connecting", sent, time.Since(start).Round(time.Millisecond))
}

// TestSlowBodyIsCutOff sends valid headers and then a body slower than the
// server's ReadTimeout, shortened from the real minute. The client must be
// cut off before it finishes, and the half-read delivery recorded as a
// failure, never acknowledged or stored as accepted.
func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "history")
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the inbox's own cleanup
	rec := &event.Recorder{}
	in := openLocalServer(t, webhook.Options{Store: st, Sink: rec}, webhook.ServerOptions{ReadTimeout: 300 * time.Millisecond})
	in.Receiver.Handle(webhook.Route{Path: "/hook", Token: "tok-slow-body"})

	c := dial(t, in.Tunnel)
	body := `{"id":"resp_slow","object":"response","status":"completed","pad":"` + strings.Repeat("x", 400) + `"}`
	fmt.Fprintf(c, "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer tok-slow-body\r\nContent-Length: %d\r\n\r\n", len(body))

	answer := make(chan string, 1)
	go func() {
		got, _ := readUntilClosed(c, 20*time.Second)
		answer <- got
	}()
	// One body byte every 20ms: the whole body would take 8 s, 27 times
	// the read timeout.
	sent, got := trickle(c, body, 20*time.Millisecond, answer)
	if sent == len(body) {
		t.Fatalf("the whole body was sent before the server gave up (answer %q)", got)
	}
	if strings.HasPrefix(got, "HTTP/1.1 2") {
		t.Fatalf("a half-sent body was acknowledged: %q", got)
	}
	settle(t, in.Receiver)
	ds := testutil.EventsOf[event.Delivery](rec)
	if len(ds) != 1 {
		t.Fatalf("want one (failed) delivery event, got %+v", ds)
	}
	if d := ds[0]; d.Accepted() || !strings.Contains(d.Error, "timeout") {
		t.Fatalf("delivery %+v: want a failure naming the timeout", d)
	}
	list, err := st.List(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.HTTPStatus >= 200 && s.HTTPStatus < 300 {
			t.Fatalf("a cut-off body was stored as accepted: %+v", s)
		}
	}
	first, _, _ := strings.Cut(got, "\r\n")
	t.Logf("cut off after %d of %d body bytes; server said %q; %d record(s) of the failure", sent, len(body), first, len(list))
}

// TestOversizedHeadersAre431 sends more header bytes than MaxHeaderBytes
// to the real inbox.
func TestOversizedHeadersAre431(t *testing.T) {
	rec := &event.Recorder{}
	in := openLocal(t, webhook.Options{Sink: rec})
	in.Receiver.Handle(webhook.Route{Path: "/hook"})
	c := dial(t, in.Tunnel)
	big := strings.Repeat("b", in.srv.MaxHeaderBytes+8192) // net/http allows 4 KiB of slack
	go fmt.Fprintf(c, "POST /hook HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nContent-Length: 2\r\n\r\n{}", big)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to oversized headers: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized headers answered %d, want 431", resp.StatusCode)
	}
	settle(t, in.Receiver)
	if ds := testutil.EventsOf[event.Delivery](rec); len(ds) != 0 {
		t.Fatalf("oversized headers reached the receiver: %+v", ds)
	}
}

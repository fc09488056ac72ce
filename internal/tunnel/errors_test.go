package tunnel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.ngrok.com/ngrok/v2"

	"github.com/sailresearch/sail/internal/exitcode"
)

// codeErr mimics ngrok.Error (Code) as returned by the SDK's calls.
type codeErr struct{ code, msg string }

func (e codeErr) Error() string {
	return e.msg + "\n\nhttps://ngrok.com/docs/errors/" + strings.ToLower(e.code)
}
func (e codeErr) Code() string { return e.code }

// legacyErr mimics the raw errors the SDK hands to event handlers, which
// carry ErrorCode() instead.
type legacyErr struct{ code, msg string }

func (e legacyErr) Error() string     { return e.msg + "\n\n" + e.code }
func (e legacyErr) ErrorCode() string { return e.code }
func (e legacyErr) Msg() string       { return e.msg }

func newDisconnected(err error) ngrok.Event {
	return &ngrok.EventAgentDisconnected{Error: err}
}

func TestClassifyNgrok(t *testing.T) {
	const token = "2abcSECRETtoken"
	plan := ngrokPlan{Authtoken: token, Domain: "hooks.example.com", ServerAddr: "127.0.0.1:4443"}
	dnsErr := &net.DNSError{Err: "no such host", Name: "connect.ngrok-agent.com", IsNotFound: true}
	cases := []struct {
		name     string
		err      error
		kind     ErrKind
		code     string
		contains []string
	}{
		{"105 via Code", codeErr{"ERR_NGROK_105", "The authtoken you specified does not look like a proper ngrok authtoken.\nYour authtoken: " + token},
			KindAuth, "ERR_NGROK_105", []string{"ngrok rejected the authtoken", "check NGROK_AUTHTOKEN", "does not look like"}},
		{"107 via ErrorCode, wrapped", fmt.Errorf("failed to connect: %w", legacyErr{"ERR_NGROK_107", "authentication failed: token invalid"}),
			KindAuth, "ERR_NGROK_107", []string{"ngrok rejected the authtoken", "check NGROK_AUTHTOKEN", "no longer valid"}},
		{"106 v1 token", codeErr{"ERR_NGROK_106", "v1 token"}, KindAuth, "ERR_NGROK_106", []string{"v1"}},
		{"300 revoked", codeErr{"ERR_NGROK_300", "revoked"}, KindAuth, "ERR_NGROK_300", []string{"revoked"}},
		{"4018 needs account", codeErr{"ERR_NGROK_4018", "verify"}, KindAuth, "ERR_NGROK_4018", []string{"verified account"}},
		{"108 session limit, code only in text", errors.New("authentication failed: Your account is limited to 1 simultaneous ngrok agent sessions.\n\nERR_NGROK_108"),
			KindSessionLimit, "ERR_NGROK_108", []string{"another ngrok agent session is running on this account"}},
		{"319 domain not reserved", codeErr{"ERR_NGROK_319", "You must reserve a custom hostname"}, KindDomain, "ERR_NGROK_319",
			[]string{"hooks.example.com", "not reserved for this account"}},
		{"320 domain of another account", codeErr{"ERR_NGROK_320", "reserved for another account"}, KindDomain, "ERR_NGROK_320",
			[]string{"hooks.example.com", "another ngrok account"}},
		{"7118 not reserved by you", codeErr{"ERR_NGROK_7118", "not reserved by your account"}, KindDomain, "ERR_NGROK_7118", []string{"not reserved"}},
		{"334 endpoint online", codeErr{"ERR_NGROK_334", "already online"}, KindEndpointInUse, "ERR_NGROK_334",
			[]string{"https://hooks.example.com", "already online"}},
		{"other code", codeErr{"ERR_NGROK_120", "Your ngrok agent version is no longer supported."}, KindRemote, "ERR_NGROK_120",
			[]string{"ngrok refused to start the tunnel", "no longer supported"}},
		{"DNS", fmt.Errorf("failed to dial ngrok server with address \"x\": %w", &net.OpError{Op: "dial", Net: "tcp", Err: dnsErr}),
			KindNetwork, "", []string{"DNS lookup of connect.ngrok-agent.com failed"}},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: &net.AddrError{Err: "x"}}, KindNetwork, "", []string{"127.0.0.1:4443"}},
		{"ECONNREFUSED", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), KindNetwork, "", []string{"connection to 127.0.0.1:4443 refused"}},
		{"TLS record", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, KindNetwork, "",
			[]string{"TLS handshake with 127.0.0.1:4443 failed"}},
		{"TLS as text only", errors.New("failed to send authentication request: remote error: tls: handshake failure"), KindNetwork, "",
			[]string{"TLS handshake with 127.0.0.1:4443"}},
		{"untrusted certificate", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, KindNetwork, "",
			[]string{"not trusted", "intercepting"}},
		{"proxy refused", &proxyError{proxy: "proxy.corp:3128", target: "127.0.0.1:4443", status: "407 Proxy Authentication Required"}, KindNetwork, "",
			[]string{"proxy proxy.corp:3128 refused", "407"}},
		{"EOF", fmt.Errorf("auth: %w", io.EOF), KindNetwork, "", []string{"closed the connection"}},
		{"other", errors.New("something odd"), KindUnknown, "", []string{"could not start the ngrok tunnel: something odd"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := classifyNgrok(c.err, plan)
			if e.Kind != c.kind || e.Code != c.code {
				t.Fatalf("kind %v code %q, want %v %q (%v)", e.Kind, e.Code, c.kind, c.code, e)
			}
			msg := e.Error()
			for _, want := range c.contains {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
			if strings.Contains(msg+e.Hint+e.Err.Error(), token) {
				t.Errorf("authtoken leaked: %q / %q / %q", msg, e.Hint, e.Err.Error())
			}
			if e.Hint == "" {
				t.Error("no hint")
			}
			if got := exitcode.Of(fmt.Errorf("open: %w", e)); got != exitcode.Tunnel {
				t.Errorf("exit code %d, want %d", got, exitcode.Tunnel)
			}
			if !errors.Is(e, c.err) && !errors.As(e, new(codeErr)) && !errors.As(e, new(legacyErr)) {
				t.Errorf("cause not reachable with errors.Is")
			}
		})
	}
}

func TestTimeoutError(t *testing.T) {
	plan := ngrokPlan{Authtoken: "tok", ServerAddr: "127.0.0.1:1"}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

	e := timeoutError(20*time.Second, refused, false, plan)
	if e.Kind != KindTimeout || exitcode.Of(e) != exitcode.Tunnel {
		t.Fatalf("kind %v exit %d", e.Kind, exitcode.Of(e))
	}
	want := "could not reach ngrok within 20s (connection to 127.0.0.1:1 refused); check your network or use --tunnel local/--public-url"
	if e.Error() != want {
		t.Errorf("message\n%q\nwant\n%q", e.Error(), want)
	}
	if !errors.Is(e, context.DeadlineExceeded) || !errors.Is(e, syscall.ECONNREFUSED) {
		t.Errorf("chain lost: %v", e.Err)
	}

	// A refusal seen before the deadline is the real answer, not the timeout.
	e = timeoutError(time.Second, legacyErr{"ERR_NGROK_107", "auth failed"}, false, plan)
	if e.Kind != KindAuth {
		t.Errorf("kind %v, want auth", e.Kind)
	}

	e = timeoutError(time.Second, nil, false, plan)
	if !strings.Contains(e.Error(), "no answer from 127.0.0.1:1") {
		t.Errorf("no-cause message %q", e.Error())
	}
	e = timeoutError(time.Second, nil, true, ngrokPlan{})
	if !strings.Contains(e.Error(), "connected, but the endpoint was not started") {
		t.Errorf("connected message %q", e.Error())
	}
	if !strings.Contains(timeoutError(time.Second, errors.New("x"), false, ngrokPlan{}).Error(), ngrokDefaultServer) {
		t.Error("default server not named")
	}
}

func TestErrorExitCodes(t *testing.T) {
	for kind := KindUnknown; kind <= KindTimeout; kind++ {
		want := exitcode.Tunnel
		switch kind {
		case KindUsage:
			want = exitcode.Usage
		case KindConfig:
			want = exitcode.Config
		}
		e := &Error{Kind: kind, Msg: "m", Hint: "h"}
		if got := exitcode.Of(fmt.Errorf("wrapped: %w", e)); got != want {
			t.Errorf("%v: exit %d, want %d", kind, got, want)
		}
		if exitcode.Hint(fmt.Errorf("wrapped: %w", e)) != "h" {
			t.Errorf("%v: hint not found through wrapping", kind)
		}
		if strings.HasPrefix(kind.String(), "ErrKind(") {
			t.Errorf("kind %d has no name", int(kind))
		}
	}
	if got := (&Error{Msg: "refused", Code: "ERR_NGROK_1"}).Error(); got != "refused (ERR_NGROK_1)" {
		t.Errorf("code not appended: %q", got)
	}
	if ErrKind(99).String() != "ErrKind(99)" {
		t.Error("unknown kind name")
	}
}

func TestNgrokCode(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("plain"), ""},
		{codeErr{"ERR_NGROK_105", "x"}, "ERR_NGROK_105"},
		{fmt.Errorf("a: %w", legacyErr{"ERR_NGROK_108", "y"}), "ERR_NGROK_108"},
		{errors.New("failed\n\nhttps://ngrok.com/docs/errors ERR_NGROK_4018 z"), "ERR_NGROK_4018"},
	}
	for _, c := range cases {
		if got := ngrokCode(c.err); got != c.want {
			t.Errorf("ngrokCode(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestRedaction(t *testing.T) {
	inner := codeErr{"ERR_NGROK_105", "Your authtoken: s3cr3t"}
	err := redactErr(fmt.Errorf("auth: %w", inner), "s3cr3t")
	if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "Your authtoken: •••") {
		t.Errorf("redacted text %q", err.Error())
	}
	if !errors.As(err, new(codeErr)) {
		t.Error("redaction broke errors.As")
	}
	plain := errors.New("nothing secret")
	if redactErr(plain, "s3cr3t") != plain || redactErr(plain, "") != plain {
		t.Error("errors without the secret must pass through unchanged")
	}
	o := Options{Provider: Ngrok, Authtoken: "s3cr3t", ProxyURL: "http://u:pw@proxy:1"}
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), o.LogValue().String()} {
		if strings.Contains(s, "s3cr3t") || strings.Contains(s, ":pw@") {
			t.Errorf("Options formatting leaks a secret: %s", s)
		}
		if !strings.Contains(s, "ngrok") {
			t.Errorf("Options formatting lost the provider: %s", s)
		}
	}
}

package tunnel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"
	"time"

	"golang.ngrok.com/ngrok/v2"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/secret"
)

// ErrKind says what went wrong while opening a tunnel, so that callers (and
// tests) can branch on the cause without parsing messages.
type ErrKind int

// The kinds of tunnel failure. Every kind exits with exitcode.Tunnel (5)
// except KindUsage (2) and KindConfig (4): those are fixed by changing a flag
// or the environment, not by retrying.
const (
	KindUnknown       ErrKind = iota
	KindUsage                 // unknown --tunnel value
	KindConfig                // missing authtoken, bad --public-url/--addr/domain, no way to get a public URL
	KindListen                // the local listener could not bind (port in use, permission)
	KindAuth                  // ngrok rejected the authtoken (ERR_NGROK_105/106/107/300/4018)
	KindSessionLimit          // another agent session already runs on the account (ERR_NGROK_108)
	KindDomain                // the requested domain is not reserved for this account (ERR_NGROK_318/319/320/7117/7118)
	KindEndpointInUse         // the endpoint URL is already online elsewhere (ERR_NGROK_334)
	KindRemote                // any other ERR_NGROK_… refusal
	KindNetwork               // DNS, connection refused, TLS, proxy
	KindTimeout               // ngrok was not reached within Options.ConnectTimeout
)

var kindNames = [...]string{
	KindUnknown:       "unknown",
	KindUsage:         "usage",
	KindConfig:        "config",
	KindListen:        "listen",
	KindAuth:          "auth",
	KindSessionLimit:  "session-limit",
	KindDomain:        "domain",
	KindEndpointInUse: "endpoint-in-use",
	KindRemote:        "remote",
	KindNetwork:       "network",
	KindTimeout:       "timeout",
}

func (k ErrKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ErrKind(%d)", int(k))
}

// Error is every failure returned by this package. Msg is one human line that
// already names the cause; Hint says what to do next (exitcode.Hint finds it).
// Neither ever contains the ngrok authtoken: ngrok echoes a rejected token in
// its error text, so server messages are redacted before they get here.
type Error struct {
	Kind ErrKind
	Code string // ERR_NGROK_… when ngrok reported one
	Msg  string
	Hint string
	Err  error // the underlying cause, for errors.Is/As; its text is redacted too
}

func (e *Error) Error() string {
	if e.Code != "" && !strings.Contains(e.Msg, e.Code) {
		return e.Msg + " (" + e.Code + ")"
	}
	return e.Msg
}

// Unwrap returns the cause so that errors.Is(err, syscall.ECONNREFUSED) and
// friends keep working.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode implements exitcode.Coder.
func (e *Error) ExitCode() int {
	switch e.Kind {
	case KindUsage:
		return exitcode.Usage
	case KindConfig:
		return exitcode.Config
	default:
		return exitcode.Tunnel
	}
}

// ExitHint implements the hint lookup of exitcode.Hint.
func (e *Error) ExitHint() string { return e.Hint }

// Hints shared by several errors. Flag names are the CLI's (--tunnel,
// --public-url, --addr).
const (
	authtokenURL     = "https://dashboard.ngrok.com/get-started/your-authtoken"
	hintNoPublicURL  = "set NGROK_AUTHTOKEN (" + authtokenURL + ") or pass --public-url URL of your own tunnel"
	hintOtherTunnels = "use --tunnel local (with the emulator) or --public-url URL of your own tunnel"
)

// ngrokCodeRE matches ngrok's error codes the way the SDK itself does.
var ngrokCodeRE = regexp.MustCompile(`ERR_NGROK_\d+`)

// ngrokCode returns the ERR_NGROK_… code carried by err, or "". The SDK
// exposes it as Code() on errors it returns and as ErrorCode() on the raw
// errors it hands to event handlers; the text is the last resort.
func ngrokCode(err error) string {
	if err == nil {
		return ""
	}
	var c interface{ Code() string }
	if errors.As(err, &c) && c.Code() != "" {
		return c.Code()
	}
	var ec interface{ ErrorCode() string }
	if errors.As(err, &ec) && ec.ErrorCode() != "" {
		return ec.ErrorCode()
	}
	return ngrokCodeRE.FindString(err.Error())
}

// redacted replaces a secret in an error's text while keeping the chain for
// errors.Is/As. Only its own Error() is safe to show; callers must not print
// errors they unwrap from it.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

func redactErr(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redacted{msg: redact(err.Error(), secret), err: err}
}

func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, secret.Mask)
}

// oneLine squeezes ngrok's multi-line messages (message, blank line, docs
// URL) into one line for a status bar or an NDJSON error event.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// authReasons explains each authtoken rejection in the user's terms.
var authReasons = map[string]string{
	"ERR_NGROK_105":  "it does not look like an ngrok authtoken",
	"ERR_NGROK_106":  "it is an old ngrok v1 authtoken",
	"ERR_NGROK_107":  "it is no longer valid (reset, revoked, or you left the team)",
	"ERR_NGROK_300":  "the credential has been revoked",
	"ERR_NGROK_4018": "ngrok requires a verified account and its authtoken",
}

var domainCodes = map[string]bool{
	"ERR_NGROK_318":  true, // wildcard domain not reserved
	"ERR_NGROK_319":  true, // custom hostname not reserved
	"ERR_NGROK_320":  true, // reserved by another account
	"ERR_NGROK_7117": true, // domain not reserved
	"ERR_NGROK_7118": true, // domain not reserved by your account
}

// fromNgrokCode maps a refusal by the ngrok service to an Error. domain is
// the requested domain ("" for a random URL). It returns nil when err has no
// ERR_NGROK code.
func fromNgrokCode(err error, domain, authtoken string) *Error {
	code := ngrokCode(err)
	if code == "" {
		return nil
	}
	safe := redactErr(err, authtoken)
	docs := "https://ngrok.com/docs/errors/" + strings.ToLower(code)
	switch {
	case authReasons[code] != "":
		return &Error{
			Kind: KindAuth, Code: code, Err: safe,
			Msg:  fmt.Sprintf("ngrok rejected the authtoken: %s (%s); check NGROK_AUTHTOKEN", authReasons[code], code),
			Hint: "copy the authtoken again from " + authtokenURL + " into NGROK_AUTHTOKEN, or " + hintOtherTunnels,
		}
	case code == "ERR_NGROK_108":
		return &Error{
			Kind: KindSessionLimit, Code: code, Err: safe,
			Msg:  fmt.Sprintf("another ngrok agent session is running on this account and the plan allows no more (%s)", code),
			Hint: "stop the other ngrok agent (see https://dashboard.ngrok.com/agents), or " + hintOtherTunnels,
		}
	case domainCodes[code]:
		what := "the requested ngrok domain"
		if domain != "" {
			what = "the ngrok domain " + domain
		}
		reason := "is not reserved for this account"
		if code == "ERR_NGROK_320" {
			reason = "is reserved by another ngrok account"
		}
		return &Error{
			Kind: KindDomain, Code: code, Err: safe,
			Msg:  fmt.Sprintf("%s %s (%s)", what, reason, code),
			Hint: "reserve it at https://dashboard.ngrok.com/domains with the account whose NGROK_AUTHTOKEN you use, or drop --domain for a random ngrok URL",
		}
	case code == "ERR_NGROK_334":
		what := "the ngrok endpoint"
		if domain != "" {
			what += " https://" + domain
		}
		return &Error{
			Kind: KindEndpointInUse, Code: code, Err: safe,
			Msg:  fmt.Sprintf("%s is already online in another ngrok agent (%s)", what, code),
			Hint: "stop the other agent serving it, or drop --domain for a random ngrok URL",
		}
	default:
		return &Error{
			Kind: KindRemote, Code: code, Err: safe,
			Msg:  fmt.Sprintf("ngrok refused to start the tunnel: %s", oneLine(safe.Error())),
			Hint: "see " + docs + ", or " + hintOtherTunnels,
		}
	}
}

// describeNetErr names a connection failure in one phrase that says where
// it happened: server is the ngrok connect address, proxy the proxy URL
// host ("" when none).
func describeNetErr(err error, server, proxy string) string {
	var (
		dnsErr   *net.DNSError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		pErr     *proxyError
		netErr   net.Error
	)
	switch {
	case errors.As(err, &pErr):
		return pErr.Error()
	case ngrok.IsMuxadoDiagnoseFailure(err):
		return fmt.Sprintf("%s completed TLS but does not speak the ngrok protocol (%v)", server, errors.Unwrap(err))
	case ngrok.IsTLSDiagnoseFailure(err) && !errors.As(err, &certErr) && !errors.As(err, &unknown) && !errors.As(err, &hostErr) && !errors.As(err, &invalid):
		return fmt.Sprintf("TLS handshake with %s failed (%v); is something other than ngrok answering there?", server, errors.Unwrap(err))
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("DNS lookup of %s failed (%s)", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		if proxy != "" {
			return fmt.Sprintf("connection refused by %s (proxy for %s)", proxy, server)
		}
		return fmt.Sprintf("connection to %s refused", server)
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &invalid):
		return fmt.Sprintf("TLS certificate of %s not trusted (%v); a proxy or firewall may be intercepting TLS", server, err)
	case errors.As(err, &recErr), errors.As(err, &alertErr), isTLSText(err):
		return fmt.Sprintf("TLS handshake with %s failed (%v); is something other than ngrok answering there?", server, err)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("%s closed the connection (%v)", server, err)
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("connection to %s timed out", server)
	default:
		return fmt.Sprintf("cannot connect to %s: %s", server, oneLine(err.Error()))
	}
}

// isTLSText catches TLS failures that the SDK's session layer flattened into
// text (muxado does not keep the error chain).
func isTLSText(err error) bool {
	s := err.Error()
	return strings.Contains(s, "tls: ") || strings.Contains(s, "x509: ")
}

// specific reports whether err already names its cause well enough for the
// user; the SDK's session layer reduces some failures to "session closed".
func specific(err error) bool {
	if err == nil {
		return false
	}
	var (
		dnsErr  *net.DNSError
		recErr  tls.RecordHeaderError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		pErr    *proxyError
		netErr  net.Error
	)
	return ngrokCode(err) != "" || errors.As(err, &dnsErr) || errors.As(err, &recErr) ||
		errors.As(err, &certErr) || errors.As(err, &unknown) || errors.As(err, &pErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &netErr) && netErr.Timeout()) ||
		isTLSText(err)
}

// isNetErr reports whether err looks like a failure to reach the server, as
// opposed to a refusal by it.
func isNetErr(err error) bool {
	var (
		netErr net.Error
		pErr   *proxyError
	)
	return errors.As(err, &netErr) || errors.As(err, &pErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isTLSText(err)
}

// classifyNgrok maps an error from the ngrok SDK to an Error.
func classifyNgrok(err error, p ngrokPlan) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if e := fromNgrokCode(err, p.Domain, p.Authtoken); e != nil {
		return e
	}
	safe := redactErr(err, p.Authtoken)
	if isNetErr(err) {
		return &Error{
			Kind: KindNetwork, Err: safe,
			Msg:  "could not reach ngrok: " + describeNetErr(safe, p.serverAddr(), p.proxyHost()),
			Hint: "check your network, firewall and proxy settings, or " + hintOtherTunnels,
		}
	}
	return &Error{
		Kind: KindUnknown, Err: safe,
		Msg:  "could not start the ngrok tunnel: " + oneLine(safe.Error()),
		Hint: "retry, or " + hintOtherTunnels,
	}
}

// timeoutError reports that ngrok was not reached within the connect
// timeout, naming the most specific cause seen (the last session error) —
// "context deadline exceeded" alone tells the user nothing.
func timeoutError(timeout time.Duration, last error, connected bool, p ngrokPlan) *Error {
	if e := fromNgrokCode(last, p.Domain, p.Authtoken); e != nil {
		return e
	}
	var cause string
	switch {
	case last != nil:
		cause = describeNetErr(redactErr(last, p.Authtoken), p.serverAddr(), p.proxyHost())
	case connected:
		cause = "connected, but the endpoint was not started"
	default:
		cause = "no answer from " + p.serverAddr()
	}
	err := error(context.DeadlineExceeded)
	if last != nil {
		err = fmt.Errorf("%w; last error: %w", context.DeadlineExceeded, redactErr(last, p.Authtoken))
	}
	return &Error{
		Kind: KindTimeout, Err: err,
		Msg:  fmt.Sprintf("could not reach ngrok within %s (%s); check your network or use --tunnel local/--public-url", timeout, cause),
		Hint: "check your network, firewall and HTTPS_PROXY, raise --tunnel-timeout on a slow network, or " + hintOtherTunnels,
	}
}

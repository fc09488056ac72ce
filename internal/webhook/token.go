package webhook

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/sailresearch/sail/internal/event"
)

// HealthPath answers GET with 200 {"ok":true} on every receiver, so
// tunnels and scripts can check that the endpoint is up.
const HealthPath = "/_sail/health"

// RandomPath returns an unguessable webhook path, "/h/" followed by 128
// random bits in lowercase base32. The path keeps scanners that hit a
// public tunnel URL away from the real endpoint even when no token is set.
func RandomPath() string {
	return "/h/" + strings.ToLower(rand.Text()[:26])
}

// NewToken returns a webhook token of 256 random bits, base64url without
// padding (43 characters).
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// CheckToken compares an Authorization header with the expected token and
// returns an event.Verdict*: none when want is empty, missing when there is
// no bearer token, mismatch when one is presented but wrong (or another
// scheme is used), ok when it matches. The comparison takes the same time
// whatever the header holds: both sides are hashed first, so neither the
// content nor the length of the token leaks through timing.
func CheckToken(authHeader, want string) (verdict string) {
	if want == "" {
		return event.VerdictNone
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(authHeader), " ")
	if scheme == "" {
		return event.VerdictMissing
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return event.VerdictMismatch
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return event.VerdictMissing
	}
	got, exp := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(got[:], exp[:]) == 1 {
		return event.VerdictOK
	}
	return event.VerdictMismatch
}

// NewServer wraps h in an http.Server with limits suited to webhooks of up
// to 32 MiB: headers within 10 s (slowloris), a whole request within 60 s
// (Sail gives up on an attempt after 30 s anyway), 90 s to answer (room for
// synchronous forwarding), idle keep-alive connections closed after 2 min,
// 64 KiB of headers. Its error log is discarded: net/http would otherwise
// print TLS and protocol noise from internet scanners over the TUI.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
}

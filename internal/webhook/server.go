package webhook

import (
	"crypto/rand"
	"io"
	"log"
	"net/http"
	"strings"
	"time"
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

// The server's limits, suited to webhooks of up to 32 MiB.
const (
	// DefaultReadHeaderTimeout stops slowloris clients.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds a whole request; Sail gives up on an
	// attempt after 30 s anyway.
	DefaultReadTimeout = 60 * time.Second
	// DefaultWriteTimeout leaves room for synchronous forwarding.
	DefaultWriteTimeout = 90 * time.Second
	// DefaultIdleTimeout closes idle keep-alive connections.
	DefaultIdleTimeout = 2 * time.Minute
	maxHeaderBytes     = 64 << 10
)

// ServerOptions overrides the server's timeouts; a zero field keeps the
// default. Shorter ones let a test see a slow client cut off without
// waiting out the real limits.
type ServerOptions struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
}

// NewServer wraps h in an http.Server with the timeouts of o (the
// Default* constants where o leaves them zero) and 64 KiB of headers. Its
// error log is discarded: net/http would otherwise print TLS and protocol
// noise from internet scanners over the TUI.
func NewServer(h http.Handler, o ServerOptions) *http.Server {
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: or(o.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       or(o.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      or(o.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       or(o.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
}

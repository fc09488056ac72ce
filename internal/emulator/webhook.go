package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// UserAgent is sent with every webhook delivery. Sail does not document
// one; receivers must not depend on it.
const UserAgent = "sail-emulator/1"

// maxBackoff caps the doubling so a large retry count cannot overflow.
const maxBackoff = time.Hour

// webhookURL returns the metadata's completion_webhook when it is an
// absolute http or https URL with a host, else "" (no delivery, as Sail
// does for an omitted or invalid URL).
func webhookURL(md map[string]string) string {
	raw := md["completion_webhook"]
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return raw
	}
	return ""
}

// deliver POSTs body to j's webhook with retries: at most MaxAttempts
// attempts in all, retrying on a non-2xx answer, a network error or a timeout, each
// bounded by DeliveryTimeout, waiting RetryBackoff doubling in between. A
// failing delivery never changes the response.
func (e *Emulator) deliver(j *job, body []byte) {
	if j.webhookURL == "" {
		return
	}
	if j.f.drop {
		e.log.Info("webhook dropped by fault injection", "id", j.id)
		return
	}
	ctx := e.abortCtx
	if !sleep(ctx, j.f.delay, nil) {
		return
	}
	maxAttempts := e.o.MaxAttempts
	backoff := e.o.RetryBackoff
	n := 1
	for ; n <= maxAttempts; n++ {
		if n > 1 {
			if !sleep(ctx, backoff, nil) {
				return
			}
			backoff = min(backoff*2, maxBackoff)
		}
		a := e.attempt(ctx, j, body, n, n <= j.f.failAttempts)
		e.record(a)
		if ctx.Err() != nil {
			return
		}
		if a.OK() {
			if j.f.duplicate {
				d := e.attempt(ctx, j, body, n+1, false)
				d.Duplicate = true
				e.record(d)
			}
			return
		}
	}
	e.log.Warn("webhook delivery gave up", "id", j.id, "attempts", maxAttempts)
}

// attempt makes one delivery attempt; simulated fails it without sending.
func (e *Emulator) attempt(ctx context.Context, j *job, body []byte, n int, simulated bool) Attempt {
	a := Attempt{ResponseID: j.id, URL: j.webhookURL, Number: n, At: e.now()}
	auth := ""
	switch {
	case j.f.wrongToken:
		// A fresh random token: wrong, and derived from nothing secret.
		auth = "Bearer " + newID("wrong_")
	case j.token != "":
		auth = "Bearer " + j.token
	}
	a.TokenSent = auth != ""
	if simulated {
		a.Simulated = true
		a.Err = "simulated network error: connection closed before the request was sent (fail_attempts)"
		return a
	}
	actx, cancel := context.WithTimeout(ctx, e.o.DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, j.webhookURL, bytes.NewReader(body))
	if err != nil {
		a.Err = fmt.Sprintf("building the request: %v", err)
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	start := time.Now()
	res, err := e.client.Do(req)
	if err == nil {
		// Drain a little so the connection is reused; a receiver's answer
		// body means nothing to Sail.
		_, err = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		a.StatusCode = res.StatusCode
	}
	a.Duration = time.Since(start)
	switch {
	case errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil && (err != nil || a.StatusCode == 0):
		a.StatusCode = 0
		a.Err = fmt.Sprintf("timed out after %v", e.o.DeliveryTimeout)
	case err != nil && a.StatusCode == 0:
		a.Err = err.Error()
	case a.StatusCode >= 300 && a.StatusCode < 400:
		a.Err = fmt.Sprintf("HTTP %d: redirects are not followed", a.StatusCode)
	case a.StatusCode < 200 || a.StatusCode >= 300:
		a.Err = fmt.Sprintf("HTTP %d", a.StatusCode)
	}
	e.log.Debug("webhook attempt", "id", j.id, "attempt", n, "status", a.StatusCode, "error", a.Err)
	return a
}

package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/payload"
	"github.com/sailresearch/sail/internal/secret"
)

// DefaultForwardTimeout bounds one forward when Forwarder.Timeout is zero.
// It stays under Sail's 30 s per attempt, so that in synchronous mode the
// sender gets our answer before it gives up on us.
const DefaultForwardTimeout = 20 * time.Second

// forwardExcerpt is how much of the app's answer a Forwarded event shows.
const forwardExcerpt = 200

// Forwarder re-posts deliveries to the user's app, like `stripe listen
// --forward-to`. The body forwarded is the redacted one the receiver
// stored (metadata.webhook_token reads "•••"); Token, when set, is sent as
// `Authorization: Bearer <Token>` so the app can check it as it would
// Sail's.
type Forwarder struct {
	URL     string
	Token   string
	Client  *http.Client  // nil: a client that does not follow redirects
	Timeout time.Duration // per forward; default DefaultForwardTimeout
}

// Forward POSTs body to f.URL with the given Content-Type and no delivery
// metadata; see ForwardDelivery.
func (f *Forwarder) Forward(ctx context.Context, body []byte, contentType string) event.Forwarded {
	return f.ForwardDelivery(ctx, body, Meta{ContentType: contentType})
}

// Headers sail adds to every forward and replay, so the app can tell which
// delivery (and which of Sail's attempts) it is looking at.
const (
	HeaderDeliveryID = "X-Sail-Delivery-Id"
	HeaderAttempt    = "X-Sail-Attempt"
)

// Meta describes the delivery being forwarded.
type Meta struct {
	ContentType string // the sender's; "" means application/json
	UserAgent   string // the sender's; "" means sail-forward
	DeliveryID  string // the history id of the delivery; "" sends no X-Sail-Delivery-Id
	Attempt     int    // the sender's attempt for this response id; 0 sends no X-Sail-Attempt
}

// ForwardDelivery POSTs body to f.URL as the sender posted it (its
// Content-Type and User-Agent) plus X-Sail-Delivery-Id and X-Sail-Attempt,
// and reports the app's status, response headers (redacted, one line
// each), the time it took and the start of its answer. Failures (app down,
// timeout) are reported in the Error field, never as a panic or an error
// value: the caller only shows them.
func (f *Forwarder) ForwardDelivery(ctx context.Context, body []byte, m Meta) event.Forwarded {
	out := event.Forwarded{URL: secret.URL(f.URL)}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultForwardTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(body))
	if err != nil {
		out.Error = fmt.Sprintf("forward: bad URL %q: %v (pass an http:// or https:// URL)", out.URL, err)
		return out
	}
	if m.ContentType == "" {
		m.ContentType = "application/json"
	}
	if m.UserAgent == "" {
		m.UserAgent = "sail-forward"
	}
	req.Header.Set("Content-Type", m.ContentType)
	req.Header.Set("User-Agent", m.UserAgent)
	if m.DeliveryID != "" {
		req.Header.Set(HeaderDeliveryID, m.DeliveryID)
	}
	if m.Attempt > 0 {
		req.Header.Set(HeaderAttempt, strconv.Itoa(m.Attempt))
	}
	if f.Token != "" {
		req.Header.Set("Authorization", "Bearer "+f.Token)
	}
	client := f.Client
	if client == nil {
		// A redirect is reported as the app's answer rather than followed:
		// following a POST redirect turns it into a GET without the body.
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	start := time.Now()
	resp, err := client.Do(req)
	out.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already in the event
		}
		out.Error = fmt.Sprintf("forward to %s failed: %v (is your app running?)", out.URL, err)
		return out
	}
	defer resp.Body.Close()
	out.StatusCode = resp.StatusCode
	out.Headers = ResponseHeaders(resp.Header)
	head, _ := io.ReadAll(io.LimitReader(resp.Body, forwardExcerpt))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	out.Excerpt = Excerpt(head)
	return out
}

// maxHeaderValue bounds one header value in a Forwarded event.
const maxHeaderValue = 200

// ResponseHeaders is an app's response headers as events carry them:
// credentials masked (secret.Headers), each name and value one
// printable line of at most 200 characters. The app is the user's, but
// what it answers is shown on a terminal like anything else.
func ResponseHeaders(h http.Header) map[string]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range secret.Headers(h) {
		out[Excerpt([]byte(k))] = payload.Excerpt(Excerpt([]byte(v)), maxHeaderValue)
	}
	return out
}

// Excerpt turns the start of an answer into one printable line: invalid
// UTF-8 dropped, and runs of white space, control, format (bidi) and other
// unprintable characters collapsed to one space.
func Excerpt(b []byte) string {
	return strings.Join(strings.FieldsFunc(strings.ToValidUTF8(string(b), ""), func(r rune) bool {
		return unicode.IsSpace(r) || !unicode.IsPrint(r)
	}), " ")
}

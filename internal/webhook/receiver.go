// Package webhook receives Sail's completion webhooks: an http.Handler
// that checks method, size, JSON and bearer token, stores every attempt
// before answering, recognises retries of the same payload, tells the rest
// of sail through events and can forward deliveries to the user's app.
//
// What the sender gets:
//
//	200 {"ok":true}            accepted (also for a duplicate)
//	<app status>               accepted, with Options.ForwardSync: the app's answer is passed through
//	400 {"error":…}            body is not a JSON object
//	401 + WWW-Authenticate     token missing or wrong
//	404 / 405 + Allow: POST    unknown path / not a POST
//	413                        body larger than Options.MaxBody (as soon as it passes it)
//	500                        the delivery could not be stored: retry
//	502                        ForwardSync and the app could not be reached
//	503 + Retry-After          too many large bodies in flight (Options.MaxInFlight)
//	503                        the receiver is shutting down
//
// 200 rather than 202: the payload is stored when the answer is sent, so
// it is accepted, not merely queued.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/payload"
	"github.com/sailresearch/sail/internal/secret"
	"github.com/sailresearch/sail/internal/store"
)

// DefaultMaxBody is the default body limit, 32 MiB.
const DefaultMaxBody = 32 << 20

const (
	// excerptRunes is the length of Delivery.Excerpt.
	excerptRunes = 100
	// inspectText is how much answer text is decoded for the excerpt.
	inspectText = 512
	// rejectedPrefix is how much of a rejected body is kept: enough to see
	// what was sent, without letting junk from the internet fill the disk.
	rejectedPrefix = 64 << 10
	// invalidPrefix is how much of a body that is not JSON is kept.
	invalidPrefix = 4 << 10
	// memoryKeys bounds the in-memory dedupe keys and attempt counters.
	memoryKeys = 10000
)

// Saver is what the receiver needs from the history; *store.Store
// implements it.
type Saver interface {
	Save(*store.Record) error
	HasDedupeKey(key string) bool
}

// Options configure a Receiver.
type Options struct {
	MaxBody int64 // default DefaultMaxBody
	// MaxInFlight bounds the bytes of bodies read at once (default twice
	// MaxBody); a large body beyond it gets 503 with Retry-After.
	MaxInFlight int64
	// Store keeps every attempt; nil keeps nothing on disk (--no-history),
	// duplicates are then recognised within this process only.
	Store Saver
	Sink  event.Sink // Delivery and Forwarded events; nil discards them
	// Forward, if set, re-posts every accepted delivery (duplicates too:
	// the app sees what Sail sends) to the user's app.
	Forward *Forwarder
	// ForwardSync forwards before answering and answers with the app's
	// status, so that Sail's retries reach the app when it fails. Otherwise
	// forwarding happens after the answer and cannot change it.
	ForwardSync bool
	Now         func() time.Time // default time.Now
}

// Route is one webhook endpoint of a receiver.
type Route struct {
	Path  string // exact path, e.g. from RandomPath
	Token string // expected bearer token; "" expects none
	// OnDelivery, if set, is called with every delivery to this path after
	// the sender was answered and the Delivery event was emitted, in the
	// order the deliveries were answered.
	OnDelivery func(event.Delivery)
}

// Receiver is the webhook http.Handler. Create it with NewReceiver.
type Receiver struct {
	o      Options
	ctx    context.Context // cancelled by Close, stops asynchronous forwards
	cancel context.CancelFunc

	// routes maps a path to its *Route. A sync.Map keeps the lookup on
	// every delivery lock-free and registering one route O(1): a Sail
	// batch registers one per request, 100,000 at once.
	routes sync.Map

	mu       sync.Mutex
	seen     *fifo // dedupe keys answered 2xx (or being answered)
	attempts *fifo // POSTs per response id

	work     dispatcher
	inflight budget
}

// NewReceiver returns a receiver with no routes.
func NewReceiver(o Options) *Receiver {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 2 * o.MaxBody
	}
	if o.Sink == nil {
		o.Sink = event.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Receiver{o: o, ctx: ctx, cancel: cancel, seen: newFIFO(memoryKeys), attempts: newFIFO(memoryKeys)}
	r.inflight.limit = o.MaxInFlight
	return r
}

// Handle registers rt and returns a function that removes it again. A
// later route with the same path replaces an earlier one; removing the
// earlier one then does nothing.
func (r *Receiver) Handle(rt Route) (remove func()) {
	if !strings.HasPrefix(rt.Path, "/") {
		rt.Path = "/" + rt.Path
	}
	p := &rt
	r.routes.Store(p.Path, p)
	return func() { r.routes.CompareAndDelete(p.Path, p) }
}

// Wait blocks until the work of every delivery answered so far (events,
// OnDelivery, forwards) is done, or ctx ends.
func (r *Receiver) Wait(ctx context.Context) error { return r.work.wait(ctx) }

// Close refuses new deliveries (503, so Sail retries elsewhere or later),
// waits like Wait, then cancels forwards still running. Shut the
// http.Server down first so that no request is cut off mid-way.
func (r *Receiver) Close(ctx context.Context) error {
	r.work.close()
	err := r.work.wait(ctx)
	r.cancel()
	if err != nil {
		return fmt.Errorf("webhook receiver: work still running at shutdown: %w", err)
	}
	return nil
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	writeJSON(w, code, b)
}

var okBody = []byte(`{"ok":true}`) // never modified

func writeJSON(w http.ResponseWriter, code int, b []byte) {
	// Direct assignment with canonical names: Header().Set canonicalises
	// the name on every call, and this runs for every delivery.
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(b))} // lets the answer be flushed without chunking
	w.WriteHeader(code)
	w.Write(b)
}

// ServeHTTP implements http.Handler.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == HealthPath {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		writeJSON(w, http.StatusOK, okBody)
		return
	}
	var rt *Route
	if v, ok := r.routes.Load(req.URL.Path); ok {
		rt = v.(*Route)
	}
	if rt == nil {
		writeError(w, http.StatusNotFound, "no webhook endpoint at this path")
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "webhooks must be POSTed")
		return
	}
	if !r.work.enter() {
		writeError(w, http.StatusServiceUnavailable, "the receiver is shutting down")
		return
	}
	defer r.work.done()
	r.deliver(w, req, rt)
}

// outcome is what deliver decided, for the record and the event.
type outcome struct {
	status int
	errMsg string
}

func (r *Receiver) deliver(w http.ResponseWriter, req *http.Request, rt *Route) {
	d := event.Delivery{
		ReceivedAt: r.o.Now(),
		RemoteAddr: req.RemoteAddr,
		Verdict:    CheckToken(req.Header.Get("Authorization"), rt.Token),
		Headers:    secret.Headers(req.Header, rt.Token),
	}
	limit := int64(-1)
	if d.Verdict == event.VerdictMissing || d.Verdict == event.VerdictMismatch {
		limit = rejectedPrefix
	}
	bd, readErr := r.readBody(req, limit)
	defer bd.release()
	body, truncated := bd.buf, bd.truncated
	if readErr != nil {
		body = nil
	}
	var info payload.Info
	var parseErr error
	if readErr == nil {
		d.Bytes = int64(len(body))
		if truncated {
			d.Bytes = max(req.ContentLength, d.Bytes+1) // at least one more byte was sent
		}
		// In place: from here on only the redacted body exists, and every
		// field below (summary, excerpt, dedupe key) is derived from it.
		info, body, parseErr = payload.Prepare(body, rt.Token, inspectText)
	} else {
		d.Bytes = max(req.ContentLength, int64(len(bd.buf))) // at least what was read
	}

	out := outcome{status: http.StatusOK}
	switch {
	case errors.Is(readErr, errTooLarge):
		out = outcome{http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than the %d-byte limit", r.o.MaxBody)}
	case errors.Is(readErr, errBusy):
		out = outcome{http.StatusServiceUnavailable, fmt.Sprintf("more than %d bytes of bodies in flight: answered 503 with Retry-After so the sender retries", r.inflight.limit)}
	case readErr != nil:
		// The sender went away or sent less than it announced; nobody is
		// left to read an answer, but record what happened.
		out = outcome{http.StatusBadRequest, readErr.Error()}
	case d.Verdict == event.VerdictMissing:
		out = outcome{http.StatusUnauthorized, "no bearer token: expected Authorization: Bearer <webhook_token>"}
	case d.Verdict == event.VerdictMismatch:
		out = outcome{http.StatusUnauthorized, "wrong bearer token"}
	case parseErr != nil:
		out = outcome{http.StatusBadRequest, "body is not a JSON object: " + parseErr.Error()}
	}
	accepted := out.status == http.StatusOK
	if parseErr == nil && readErr == nil && !truncated {
		d.ResponseID, d.ResponseStatus, d.Object, d.Model = info.ID, info.Status, info.Object, info.Model
		d.Excerpt = payload.Excerpt(info.OutputText, excerptRunes)
		d.Body = body
	}

	// Attempts count every POST that names a response; duplicates are
	// accepted deliveries already answered 2xx, here or (via the store)
	// by an earlier process.
	var key string
	if accepted {
		key = dedupeKey(info.ID, info.Status, body)
	}
	inStore := accepted && r.o.Store != nil && r.o.Store.HasDedupeKey(key)
	r.mu.Lock()
	d.Attempt = 1
	if d.ResponseID != "" {
		d.Attempt = r.attempts.add(d.ResponseID, 1)
	}
	if accepted {
		d.Duplicate = inStore || r.seen.get(key) > 0
		if !d.Duplicate {
			r.seen.add(key, 1) // reserved now, so a concurrent copy is a duplicate
		}
	}
	r.mu.Unlock()
	reserved := accepted && !d.Duplicate
	unreserve := func() {
		if reserved {
			r.mu.Lock()
			r.seen.remove(key)
			r.mu.Unlock()
			reserved = false
		}
	}

	var fwd *event.Forwarded
	var preID string // the history id, known before the forward that decides the answer
	if accepted && r.o.Forward != nil && r.o.ForwardSync {
		if g, ok := r.o.Store.(interface{ NewID() string }); ok {
			preID = g.NewID()
		}
		f := r.o.Forward.ForwardDelivery(req.Context(), body, forwardMeta(d, preID))
		fwd = &f
		switch {
		case f.Error != "":
			out = outcome{http.StatusBadGateway, f.Error}
		case f.StatusCode < 200 || f.StatusCode > 599:
			out = outcome{http.StatusBadGateway, fmt.Sprintf("your app answered %d", f.StatusCode)}
		default:
			out.status = f.StatusCode
			if f.StatusCode >= 300 {
				out.errMsg = fmt.Sprintf("your app answered %d; passed on so Sail retries", f.StatusCode)
			}
		}
		if out.status >= 300 {
			unreserve() // not acknowledged: the retry must reach the app again
		}
	}

	if r.o.Store != nil {
		rec := &store.Record{
			Summary: store.Summary{
				ReceivedAt: d.ReceivedAt, RemoteAddr: d.RemoteAddr, Path: rt.Path,
				Verdict: d.Verdict, HTTPStatus: out.status, Duplicate: d.Duplicate,
				ResponseID: d.ResponseID, ResponseStatus: d.ResponseStatus, Object: d.Object, Model: d.Model,
				Bytes: d.Bytes, Attempt: d.Attempt, Excerpt: d.Excerpt, Error: out.errMsg,
			},
			Headers: d.Headers,
			Body:    body,
		}
		rec.ID = preID
		rec.Truncated, rec.Rejected = truncated, !accepted
		switch {
		case out.status >= 200 && out.status < 300:
			rec.DedupeKey = key
		case !accepted:
			keep := rejectedPrefix
			if parseErr != nil && !truncated {
				keep = invalidPrefix // not JSON at all: a glimpse is enough
			}
			if len(rec.Body) > keep {
				rec.Body, rec.Truncated = rec.Body[:keep], true
			}
		}
		if err := r.o.Store.Save(rec); err != nil {
			if out.status < 300 {
				// Never acknowledge what is not stored: Sail will retry.
				out = outcome{http.StatusInternalServerError, "could not store the delivery, answered 500 so the sender retries: " + err.Error()}
				unreserve()
			} else {
				out.errMsg += "; also could not store it: " + err.Error()
			}
		} else {
			d.RecordID = rec.ID
		}
	}
	d.HTTPStatus, d.Error = out.status, out.errMsg

	// Everything else happens after the answer, off this goroutine, in the
	// order the deliveries were decided: the task is queued before the
	// answer is written (so a later request cannot overtake it) and starts
	// once the answer has been flushed, which takes microseconds.
	answered := make(chan struct{})
	r.work.push(func() {
		awaitClose(answered)
		r.o.Sink.Emit(d)
		if rt.OnDelivery != nil {
			rt.OnDelivery(d)
		}
		if fwd != nil {
			fwd.RecordID, fwd.ResponseID = d.RecordID, d.ResponseID
			r.o.Sink.Emit(*fwd)
		}
		if d.Accepted() && r.o.Forward != nil && !r.o.ForwardSync {
			r.work.async(func() {
				f := r.o.Forward.ForwardDelivery(r.ctx, body, forwardMeta(d, d.RecordID))
				f.RecordID, f.ResponseID = d.RecordID, d.ResponseID
				r.o.Sink.Emit(f)
			})
		}
	})
	defer close(answered)
	if truncated {
		w.Header().Set("Connection", "close") // the rest of the body is not read
	}
	bd.release() // read and stored: no longer in flight for the budget
	r.answer(w, out)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// forwardMeta passes the sender's Content-Type and User-Agent on to the
// app, with the delivery's history id and attempt number.
func forwardMeta(d event.Delivery, id string) Meta {
	return Meta{ContentType: d.Headers["Content-Type"], UserAgent: d.Headers["User-Agent"], DeliveryID: id, Attempt: d.Attempt}
}

// awaitClose waits for ch to be closed. The answer it waits for is
// microseconds away, so it yields a few times before sleeping on the
// channel: parking and waking the worker for every delivery cost more
// than the answer itself under load.
func awaitClose(ch <-chan struct{}) {
	for range 4 {
		select {
		case <-ch:
			return
		default:
			runtime.Gosched()
		}
	}
	<-ch
}

// dedupeKey identifies a payload: response id, status, and a checksum and
// the length of the redacted body. CRC-32C rather than SHA-256 because it
// runs in hardware at memory speed on every delivery, and it only has to
// tell apart bodies that already share an id and a status (accidental
// collisions, not adversaries: a forged duplicate would still be stored and
// acknowledged, only flagged).
func dedupeKey(id, status string, body []byte) string {
	return id + "\x00" + status + "\x00" + strconv.FormatUint(uint64(crc32.Checksum(body, castagnoli)), 16) + "-" + strconv.Itoa(len(body))
}

// answer writes the response and flushes it, so that the sender has it
// before any event or callback runs.
func (r *Receiver) answer(w http.ResponseWriter, out outcome) {
	switch {
	case out.status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="sail webhook"`)
		writeError(w, out.status, out.errMsg)
	case out.status == http.StatusRequestEntityTooLarge:
		w.Header().Set("Connection", "close") // the rest of the body is not read
		writeError(w, out.status, out.errMsg)
	case out.status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "2")
		w.Header().Set("Connection", "close")
		writeError(w, out.status, out.errMsg)
	case out.status == http.StatusNoContent || out.status == http.StatusNotModified:
		w.WriteHeader(out.status) // no body allowed
	case out.status >= 200 && out.status < 300:
		writeJSON(w, out.status, okBody)
	default:
		writeError(w, out.status, out.errMsg)
	}
	http.NewResponseController(w).Flush()
}

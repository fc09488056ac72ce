package emulator

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
)

// Defaults of the delivery options, from Sail's documentation: a 30 s
// timeout per attempt and "up to 3 retries", read as one attempt plus three
// retries (the project's decision; MaxAttempts 3 gives the other reading).
const (
	DefaultDeliveryTimeout = 30 * time.Second
	DefaultRetryBackoff    = time.Second
	DefaultMaxAttempts     = 4
	DefaultMaxResponses    = 10000
	// maxAttemptsKept bounds the delivery log served by Attempts.
	maxAttemptsKept = 20000
	// maxBody bounds a request body.
	maxBody = 8 << 20
)

// Options configures an Emulator. The zero value is a working emulator that
// accepts any non-empty API key, answers immediately and delivers every
// webhook once with Sail's documented retry policy.
type Options struct {
	// APIKey, when set, is the only key accepted; "" accepts any non-empty key.
	APIKey string
	// StatusNames picks the names of the two unfinished statuses:
	// StatusNamesSail ("", the reference's pending, running) or
	// StatusNamesOpenAI (queued, in_progress, as Sail's docs pages and
	// OpenAI show them). Terminal statuses are the same in both.
	StatusNames string
	// Latency is the time a response spends pending and then running,
	// each. A foreground create answers after both. 0 = immediate.
	Latency time.Duration
	// Outcome is the terminal status of every response:
	// completed (default, ""), failed, incomplete or cancelled.
	Outcome string
	// DropWebhook sends no webhook at all.
	DropWebhook bool
	// DuplicateWebhook delivers the payload a second time after the first
	// successful attempt.
	DuplicateWebhook bool
	// WebhookDelay is waited before the first attempt.
	WebhookDelay time.Duration
	// WrongToken sends a random bearer token instead of webhook_token (even
	// when none was set).
	WrongToken bool
	// FailAttempts makes the first N attempts fail as a network error would:
	// nothing is sent, the attempt is recorded as failed and retried.
	FailAttempts int
	// DeliveryTimeout bounds each attempt (default 30s).
	DeliveryTimeout time.Duration
	// RetryBackoff is the wait before the first retry, doubling after each
	// (default 1s).
	RetryBackoff time.Duration
	// MaxAttempts bounds the delivery attempts of one webhook, the first
	// included: 0 means DefaultMaxAttempts (4 = 1 + 3 retries); 1 means
	// no retry.
	MaxAttempts int
	// MaxResponses bounds the responses kept in memory (default 10000); the
	// oldest finished ones are evicted first.
	MaxResponses int
	// Log is called once per delivery attempt, from delivery goroutines
	// concurrently; it must be safe for concurrent use and quick.
	Log func(Attempt)
	// Logger receives operational logs; nil discards them. Tokens and API
	// keys are never logged.
	Logger *slog.Logger
	// HTTPClient sends deliveries. Its CheckRedirect is replaced so that
	// redirects are never followed. nil uses a client with a transport sized
	// for thousands of deliveries per second.
	HTTPClient *http.Client
	// Now is the clock for created_at, completed_at and Attempt.At.
	Now func() time.Time
	// NoBatchWebhooks makes the requests of a batch fire no webhook, as
	// Sail may do (whether it fires them is undocumented).
	NoBatchWebhooks bool
}

// Validate reports an option that cannot work. Its errors carry exit code
// Usage: options come from flags.
func (o Options) Validate() error {
	if o.Outcome != "" && !validOutcome(o.Outcome) {
		return exitcode.New(exitcode.Usage, "emulator outcome %q: use completed, failed, incomplete or cancelled", o.Outcome)
	}
	for name, d := range map[string]time.Duration{
		"latency": o.Latency, "webhook delay": o.WebhookDelay,
		"delivery timeout": o.DeliveryTimeout, "retry backoff": o.RetryBackoff,
	} {
		if d < 0 {
			return exitcode.New(exitcode.Usage, "emulator %s %v: must not be negative", name, d)
		}
	}
	if o.StatusNames != "" && o.StatusNames != StatusNamesSail && o.StatusNames != StatusNamesOpenAI {
		return exitcode.New(exitcode.Usage, "emulator status names %q: use %s (pending, running) or %s (queued, in_progress)", o.StatusNames, StatusNamesSail, StatusNamesOpenAI)
	}
	if o.MaxAttempts < 0 {
		return exitcode.New(exitcode.Usage, "emulator max attempts %d: use 1 or more (1 = no retry), or 0 for the default %d", o.MaxAttempts, DefaultMaxAttempts)
	}
	if o.FailAttempts < 0 {
		return exitcode.New(exitcode.Usage, "emulator fail attempts %d: must not be negative", o.FailAttempts)
	}
	if o.MaxResponses < 0 {
		return exitcode.New(exitcode.Usage, "emulator max responses %d: must not be negative", o.MaxResponses)
	}
	return nil
}

// Attempt records one webhook delivery attempt. It never holds the token.
type Attempt struct {
	ResponseID string        `json:"response_id"`
	URL        string        `json:"url"`
	Number     int           `json:"number"`                // 1-based, per response
	StatusCode int           `json:"status_code,omitempty"` // 0 when no HTTP answer
	Err        string        `json:"error,omitempty"`       // "" when the receiver answered 2xx
	Duration   time.Duration `json:"duration_ns"`
	At         time.Time     `json:"at"`
	TokenSent  bool          `json:"token_sent"`          // an Authorization header was sent
	Duplicate  bool          `json:"duplicate,omitempty"` // the DuplicateWebhook extra delivery
	Simulated  bool          `json:"simulated,omitempty"` // a FailAttempts failure: nothing was sent
}

// OK reports whether the receiver accepted the attempt with a 2xx.
func (a Attempt) OK() bool { return a.Err == "" && a.StatusCode >= 200 && a.StatusCode < 300 }

// Emulator is a local, Sail-compatible API: an http.Handler serving /v1 and
// /_emulator/deliveries, plus the webhook dispatcher behind it.
// It is safe for concurrent use.
type Emulator struct {
	o        Options
	base     faults
	client   *http.Client
	ownTrans *http.Transport
	log      *slog.Logger
	now      func() time.Time

	// stopCtx ends lifecycle timers and foreground waits (Close begins);
	// abortCtx ends in-flight deliveries (Close's context expired).
	stopCtx  context.Context
	stop     context.CancelFunc
	abortCtx context.Context
	abort    context.CancelFunc
	wg       sync.WaitGroup
	active   atomic.Int64 // goroutines running, for leak tests

	mu     sync.Mutex
	closed bool
	jobs   map[string]*job
	order  *list.List // *job in creation order, for eviction
	idem   map[string]idemEntry

	attMu    sync.Mutex
	attempts []Attempt // ring of at most maxAttemptsKept
	attHead  int

	stats    Stats        // under mu
	batches  batchStore   // under mu
	requests atomic.Int64 // /v1 requests served
}

// New returns an Emulator configured by o, or an error if o is invalid.
func New(o Options) (*Emulator, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Outcome == "" {
		o.Outcome = StatusCompleted
	}
	if o.DeliveryTimeout == 0 {
		o.DeliveryTimeout = DefaultDeliveryTimeout
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.StatusNames == "" {
		o.StatusNames = StatusNamesSail
	}
	if o.MaxResponses == 0 {
		o.MaxResponses = DefaultMaxResponses
	}
	e := &Emulator{
		o: o,
		base: faults{
			outcome:      o.Outcome,
			latency:      o.Latency,
			drop:         o.DropWebhook,
			duplicate:    o.DuplicateWebhook,
			wrongToken:   o.WrongToken,
			failAttempts: o.FailAttempts,
			delay:        o.WebhookDelay,
		},
		log:   o.Logger,
		now:   o.Now,
		jobs:  make(map[string]*job),
		order: list.New(),
		idem:  make(map[string]idemEntry),
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		e.client = &c
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// One receiver usually gets every delivery: keep many idle
		// connections to it so bursts reuse them instead of redialling.
		t.MaxIdleConns = 1024
		t.MaxIdleConnsPerHost = 512
		t.IdleConnTimeout = 30 * time.Second
		e.ownTrans = t
		e.client = &http.Client{Transport: t}
	}
	// Sail's redirect behaviour is undocumented; the project decided a 3xx
	// is a failed attempt, so it is returned as is and never followed.
	e.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e.stopCtx, e.stop = context.WithCancel(context.Background())
	e.abortCtx, e.abort = context.WithCancel(context.Background())
	return e, nil
}

// Close stops the lifecycle of unfinished responses (they stay as they are),
// lets deliveries already under way finish, including their retries, until
// ctx ends, then aborts them and waits for every goroutine to exit. Creates
// after Close answer 503. Close is idempotent.
func (e *Emulator) Close(ctx context.Context) error {
	e.beginClose()
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		e.abort()
		<-done // every wait selects on abortCtx, so this is prompt
		err = fmt.Errorf("emulator: deliveries still running were aborted: %w", ctx.Err())
	}
	e.abort()
	if e.ownTrans != nil {
		e.ownTrans.CloseIdleConnections()
	}
	return err
}

// beginClose refuses new work and stops lifecycle timers without waiting.
func (e *Emulator) beginClose() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.stop()
}

// spawnLocked runs fn in a goroutine tracked by Close; false once closed.
// Call with e.mu held, so no goroutine starts after Close set closed.
func (e *Emulator) spawnLocked(fn func()) bool {
	if e.closed {
		return false
	}
	e.wg.Add(1)
	e.active.Add(1)
	go func() {
		defer e.wg.Done()
		defer e.active.Add(-1)
		fn()
	}()
	return true
}

// Attempts returns the recorded delivery attempts, oldest first (at most the
// last 20000).
func (e *Emulator) Attempts() []Attempt {
	e.attMu.Lock()
	defer e.attMu.Unlock()
	out := make([]Attempt, 0, len(e.attempts))
	out = append(out, e.attempts[e.attHead:]...)
	return append(out, e.attempts[:e.attHead]...)
}

func (e *Emulator) record(a Attempt) {
	e.attMu.Lock()
	if len(e.attempts) < maxAttemptsKept {
		e.attempts = append(e.attempts, a)
	} else {
		e.attempts[e.attHead] = a
		e.attHead = (e.attHead + 1) % maxAttemptsKept
	}
	e.attMu.Unlock()
	if e.o.Log != nil {
		e.o.Log(a)
	}
}

// newID returns prefix followed by 48 random hex digits, like OpenAI's ids.
func newID(prefix string) string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥1.24)
	return prefix + hex.EncodeToString(b[:])
}

// sleep waits d or until ctx ends or interrupt closes; false when ctx ended.
func sleep(ctx context.Context, d time.Duration, interrupt <-chan struct{}) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-interrupt:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// Stats counts responses, so tests can check how many a client kept in
// flight at once.
type Stats struct {
	// Batches counts POST /v1/batches that created a batch; their requests
	// are counted in BatchRequests (and Active), not in Created.
	Batches       int   `json:"batches_created"`
	BatchRequests int   `json:"batch_requests"`
	APIRequests   int64 `json:"api_requests"` // every /v1 request, for benchmarks
	Created       int   `json:"created"`      // responses admitted
	Active        int   `json:"active"`       // not yet terminal
	PeakActive    int   `json:"peak_active"`  // most ever not terminal at once
}

// Stats returns the current counts; also served as GET /_emulator/stats.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.APIRequests = e.requests.Load()
	return s
}

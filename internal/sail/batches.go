package sail

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
)

// Sail's documented limits of one POST /v1/batches.
const (
	MaxBatchRequests       = 100000
	MaxBatchBytes    int64 = 256 << 20
	// BatchEndpointResponses is the only endpoint a batch carries today.
	BatchEndpointResponses = "/v1/responses"
	maxBatchListLimit      = 200
)

var batchLabelRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// CheckBatchLabel is the reference's rule for a batch label.
func CheckBatchLabel(label string) error {
	if label == "" || batchLabelRE.MatchString(label) {
		return nil
	}
	return exitcode.WithHint(exitcode.Usage, fmt.Errorf("batch label %q is not allowed", label),
		"a label is 1 to 128 characters of A-Z, a-z, 0-9, _ and -")
}

// BatchRequest is one request of a batch: its custom_id and the body of a
// responses create (a JSON object).
type BatchRequest struct {
	CustomID string
	Params   json.RawMessage
	// Line is where the request came from (1-based), named in errors; 0
	// names its position in the batch instead.
	Line int
}

// BatchLimits bound one create; zero fields mean Sail's limits. Smaller
// limits exist so tests can split a small input into several batches.
type BatchLimits struct {
	MaxRequests int
	MaxBytes    int64
}

func (l BatchLimits) withDefaults() BatchLimits {
	if l.MaxRequests <= 0 || l.MaxRequests > MaxBatchRequests {
		l.MaxRequests = MaxBatchRequests
	}
	if l.MaxBytes <= 0 || l.MaxBytes > MaxBatchBytes {
		l.MaxBytes = MaxBatchBytes
	}
	return l
}

// BatchCreateRequest is one POST /v1/batches.
type BatchCreateRequest struct {
	Endpoint string // "" means /v1/responses
	Label    string // optional, [A-Za-z0-9_-]{1,128}
	// Requests yields every request in order. It is called once to check
	// the limits before anything is sent and again for each attempt, so
	// it must yield the same requests every time (re-read a file, walk a
	// slice); the body is streamed from it, never held whole in memory.
	Requests func(yield func(BatchRequest) error) error
	// IdempotencyKey is sent on every attempt; "" means a fresh key.
	IdempotencyKey string
	Limits         BatchLimits
}

// Batch is a batch as GET /v1/batches/{id}, the create and the list answer.
type Batch struct {
	ID            string
	Label         string
	CreatedAt     int64
	RequestCounts map[string]int64
	// RequestStatus maps each custom_id to its status as Sail sent it
	// (upper case: COMPLETED, RUNNING…; compare with status.Normalize). Only
	// GET /v1/batches/{id} carries it.
	RequestStatus map[string]string
	Raw           json.RawMessage
}

// BatchLimitError is a batch that breaks a limit, found before sending.
type BatchLimitError struct {
	Line int // the request that broke it (1-based input line, or position)
	Msg  string
}

func (e *BatchLimitError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// ExitCode is a usage error: the input must change.
func (e *BatchLimitError) ExitCode() int { return exitcode.Usage }

// ExitHint says what to do next.
func (e *BatchLimitError) ExitHint() string {
	return "split the file, or use `sail run --webhook -f FILE --sail-batch`, which splits it into several batches"
}

// batchBody writes the create body: the envelope, then each request as it
// is yielded. It returns the number of requests written.
func batchBody(w io.Writer, req BatchCreateRequest) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	head := struct {
		Endpoint string `json:"endpoint"`
		Label    string `json:"label,omitempty"`
	}{req.Endpoint, req.Label}
	hb, _ := json.Marshal(head)
	bw.Write(hb[:len(hb)-1])
	bw.WriteString(`,"requests":[`)
	n := 0
	err := req.Requests(func(r BatchRequest) error {
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		id, _ := json.Marshal(r.CustomID)
		bw.WriteString(`{"custom_id":`)
		bw.Write(id)
		bw.WriteString(`,"params":`)
		bw.Write(r.Params)
		_, err := bw.WriteString(`}`)
		return err
	})
	if err != nil {
		return n, err
	}
	bw.WriteString("]}")
	return n, bw.Flush()
}

// countingWriter counts bytes and stops the check pass at the limit.
type countingWriter struct {
	n     int64
	limit int64
}

var errTooBig = errors.New("too big")

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.n > c.limit {
		return len(p), errTooBig
	}
	return len(p), nil
}

// checkBatch walks the requests once: every custom_id present and unique,
// params a JSON object, and the count and size within the limits. It
// returns the exact body size.
func checkBatch(req BatchCreateRequest) (int64, error) {
	lim := req.Limits.withDefaults()
	seen := make(map[string]int)
	cw := &countingWriter{limit: lim.MaxBytes}
	n := 0
	where := func(r BatchRequest) int {
		if r.Line > 0 {
			return r.Line
		}
		return n
	}
	check := func(r BatchRequest) error {
		n++
		if r.CustomID == "" {
			return &BatchLimitError{Line: where(r), Msg: "custom_id is empty"}
		}
		if prev, ok := seen[r.CustomID]; ok {
			return &BatchLimitError{Line: where(r), Msg: fmt.Sprintf("custom_id %q already used by line %d; custom_ids must be unique in a batch", r.CustomID, prev)}
		}
		seen[r.CustomID] = where(r)
		if p := bytes.TrimSpace(r.Params); len(p) == 0 || p[0] != '{' || !json.Valid(p) {
			return &BatchLimitError{Line: where(r), Msg: "params is not a JSON object"}
		}
		if n > lim.MaxRequests {
			return &BatchLimitError{Line: where(r), Msg: fmt.Sprintf("a batch holds at most %d requests", lim.MaxRequests)}
		}
		return nil
	}
	var last BatchRequest
	_, err := batchBody(cw, BatchCreateRequest{Endpoint: req.Endpoint, Label: req.Label, Requests: func(yield func(BatchRequest) error) error {
		return req.Requests(func(r BatchRequest) error {
			last = r
			if err := check(r); err != nil {
				return err
			}
			return yield(r)
		})
	}})
	switch {
	case errors.Is(err, errTooBig):
		return 0, &BatchLimitError{Line: where(last), Msg: fmt.Sprintf("the batch body would exceed %d bytes (%s) here", lim.MaxBytes, humanBytes(lim.MaxBytes))}
	case err != nil:
		return 0, err
	case n == 0:
		return 0, exitcode.New(exitcode.Usage, "a batch needs at least one request")
	}
	return cw.n, nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// CreateBatch sends POST /v1/batches. The limits are checked first (a
// *BatchLimitError naming the line, exit 2), then the body is streamed
// from req.Requests. Every attempt carries the same Idempotency-Key.
func (c *Client) CreateBatch(ctx context.Context, req BatchCreateRequest) (*Batch, error) {
	if req.Endpoint == "" {
		req.Endpoint = BatchEndpointResponses
	}
	if req.Requests == nil {
		return nil, exitcode.New(exitcode.Usage, "a batch needs at least one request")
	}
	if err := CheckBatchLabel(req.Label); err != nil {
		return nil, err
	}
	key := req.IdempotencyKey
	if key == "" {
		key = NewIdempotencyKey()
	}
	size, err := checkBatch(req)
	if err != nil {
		return nil, err
	}
	raw, err := c.do(ctx, http.MethodPost, "/v1/batches", nil, func() (io.ReadCloser, int64) {
		return newPipeBody(func(w io.Writer) error {
			_, err := batchBody(w, req)
			return err
		}), size
	}, map[string]string{"Idempotency-Key": key})
	if err != nil {
		return nil, err
	}
	return parseBatch(c.newCall(http.MethodPost, "/v1/batches"), raw)
}

// GetBatch fetches GET /v1/batches/{id}, with each request's status.
func (c *Client) GetBatch(ctx context.Context, id string) (*Batch, error) {
	if err := checkBatchID(id); err != nil {
		return nil, err
	}
	path := "/v1/batches/" + url.PathEscape(id)
	raw, err := c.do(ctx, http.MethodGet, path, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	return parseBatch(c.newCall(http.MethodGet, path), raw)
}

// BatchListParams page through GET /v1/batches.
type BatchListParams struct {
	AfterID, BeforeID string
	Limit             int // 1–200; 0 leaves the server's default (25)
}

// ListBatches fetches one page of GET /v1/batches.
func (c *Client) ListBatches(ctx context.Context, p BatchListParams) ([]*Batch, error) {
	if p.Limit < 0 || p.Limit > maxBatchListLimit {
		return nil, exitcode.New(exitcode.Usage, "limit %d: use 1 to %d", p.Limit, maxBatchListLimit)
	}
	q := url.Values{}
	if p.AfterID != "" {
		q.Set("after_id", p.AfterID)
	}
	if p.BeforeID != "" {
		q.Set("before_id", p.BeforeID)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	raw, err := c.do(ctx, http.MethodGet, "/v1/batches", q, nil, nil)
	if err != nil {
		return nil, err
	}
	k := c.newCall(http.MethodGet, "/v1/batches")
	// The reference answers a bare array; an OpenAI-style {"data":[…]}
	// list is accepted too.
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		var wrapped struct {
			Data []json.RawMessage `json:"data"`
		}
		if json.Unmarshal(raw, &wrapped) != nil || wrapped.Data == nil {
			return nil, &MalformedError{Method: k.method, Path: k.path, Err: err, Body: k.redact(shorten(string(raw), 120))}
		}
		items = wrapped.Data
	}
	out := make([]*Batch, 0, len(items))
	for _, it := range items {
		b, err := parseBatch(k, it)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// BatchResult fetches GET /v1/batches/{id}/{custom_id}: that request's
// response object.
func (c *Client) BatchResult(ctx context.Context, batchID, customID string) (*Response, error) {
	if err := checkBatchID(batchID); err != nil {
		return nil, err
	}
	if customID == "" {
		return nil, exitcode.New(exitcode.Usage, "no custom_id given")
	}
	path := "/v1/batches/" + url.PathEscape(batchID) + "/" + url.PathEscape(customID)
	raw, err := c.do(ctx, http.MethodGet, path, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	return c.newCall(http.MethodGet, path).decode(raw, Responses)
}

func checkBatchID(id string) error {
	if strings.TrimSpace(id) == "" {
		return exitcode.New(exitcode.Usage, "no batch id given")
	}
	if strings.ContainsAny(id, "/?#%\\ \t\r\n") {
		return exitcode.New(exitcode.Usage, "invalid batch id %q", id)
	}
	return nil
}

func parseBatch(k *call, raw []byte) (*Batch, error) {
	var w struct {
		ID            string                     `json:"id"`
		Label         *string                    `json:"label"`
		CreatedAt     json.Number                `json:"created_at"`
		RequestCounts map[string]json.Number     `json:"request_counts"`
		RequestStatus map[string]json.RawMessage `json:"request_status"`
	}
	err := json.Unmarshal(raw, &w)
	if err == nil && w.ID == "" {
		err = errors.New(`no "id" in the answer`)
	}
	if err != nil {
		return nil, &MalformedError{Method: k.method, Path: k.path, Err: err, Body: k.redact(shorten(string(raw), 120))}
	}
	b := &Batch{ID: w.ID, Raw: append(json.RawMessage(nil), raw...)}
	if w.Label != nil {
		b.Label = *w.Label
	}
	if n, err := w.CreatedAt.Int64(); err == nil {
		b.CreatedAt = n
	} else if f, err := w.CreatedAt.Float64(); err == nil {
		b.CreatedAt = int64(f)
	}
	if w.RequestCounts != nil {
		b.RequestCounts = make(map[string]int64, len(w.RequestCounts))
		for k, v := range w.RequestCounts {
			n, _ := v.Int64()
			b.RequestCounts[k] = n
		}
	}
	if w.RequestStatus != nil {
		b.RequestStatus = make(map[string]string, len(w.RequestStatus))
		for id, v := range w.RequestStatus {
			// {"status":"COMPLETED"} per the reference; a bare string is
			// taken as the status too.
			var obj struct {
				Status string `json:"status"`
			}
			var s string
			switch {
			case json.Unmarshal(v, &obj) == nil:
				s = obj.Status
			case json.Unmarshal(v, &s) == nil:
			}
			b.RequestStatus[id] = s
		}
	}
	return b, nil
}

// pipeBody streams what write produces into a request body. Close stops
// the writer and waits for it, so no goroutine outlives the call.
type pipeBody struct {
	*io.PipeReader
	once sync.Once
	done chan struct{}
}

func newPipeBody(write func(io.Writer) error) *pipeBody {
	pr, pw := io.Pipe()
	b := &pipeBody{PipeReader: pr, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		pw.CloseWithError(write(pw))
	}()
	return b
}

func (b *pipeBody) Close() error {
	b.once.Do(func() { b.PipeReader.Close() })
	<-b.done
	return nil
}

// do sends one call with plain net/http (the SDKs have no batches), with
// the same auth, base URL, error types and retry policy as the rest of the
// client: a connection error, 408, 409, 429 or 5xx is retried up to
// maxRetries times, waiting Retry-After when given. body, when set, makes
// a fresh body (and its exact length) for each attempt.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body func() (io.ReadCloser, int64), headers map[string]string) ([]byte, error) {
	k := c.newCall(method, path)
	u := c.baseURL + strings.TrimPrefix(path, "/v1")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	backoff := 500 * time.Millisecond
	for attempt := 0; ; attempt++ {
		raw, retry, wait, err := c.attempt(ctx, k, method, u, body, headers)
		if err == nil {
			return raw, nil
		}
		if !retry || attempt >= c.maxRetries || ctx.Err() != nil {
			return nil, err
		}
		if wait <= 0 {
			wait = backoff
			backoff *= 2
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, serr)
		}
	}
}

func (c *Client) attempt(ctx context.Context, k *call, method, u string, body func() (io.ReadCloser, int64), headers map[string]string) (raw []byte, retry bool, wait time.Duration, err error) {
	var rc io.ReadCloser
	var size int64
	if body != nil {
		rc, size = body()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rc)
	if err != nil {
		if rc != nil {
			rc.Close()
		}
		return nil, false, 0, fmt.Errorf("%s %s: %v", k.method, k.path, err)
	}
	if rc != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	for h, v := range headers {
		req.Header.Set(h, v)
	}
	res, err := c.hc.Do(req)
	if rc != nil {
		// The transport closes the body; this also ends the writer
		// goroutine if the request never read it.
		rc.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, 0, fmt.Errorf("%s %s: %w", k.method, k.path, ctx.Err())
		}
		return nil, true, 0, &NetworkError{Method: k.method, Path: k.path, BaseURL: c.baseURL, Err: errors.New(k.redact(unwrapURLError(err).Error()))}
	}
	defer res.Body.Close()
	if res.StatusCode >= 400 {
		b, _ := readLimited(res.Body, maxErrorBody)
		ae := newAPIError(k.method, k.path, res, b, c.now(), k.redact)
		retry = res.Header.Get("X-Should-Retry") != "false" &&
			(ae.Transient() || res.StatusCode == http.StatusConflict)
		return nil, retry, ae.RetryAfter, ae
	}
	raw, err = io.ReadAll(res.Body)
	if err != nil {
		return nil, true, 0, &NetworkError{Method: k.method, Path: k.path, BaseURL: c.baseURL, Err: err}
	}
	return raw, false, 0, nil
}

// ResponsesBody is the JSON body a responses create sends for req, as a
// batch request's params: the same fields, checks and webhook metadata as
// Create, without background (every batch request runs in the background).
func ResponsesBody(req CreateRequest) (json.RawMessage, error) {
	req.Endpoint = Responses
	req.Background = false
	if err := req.check(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(responseParams(req))
	if err != nil {
		return nil, fmt.Errorf("encode the request: %w", err)
	}
	extra := req.extraBody()
	if len(extra) == 0 {
		return b, nil
	}
	// The fields Create sets on the body beside the SDK's params
	// (openaiCreateOptions), set the same way here.
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("encode the request: %w", err)
	}
	for _, f := range extra {
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", f.key, err)
		}
		m[f.key] = v
	}
	return json.Marshal(m)
}

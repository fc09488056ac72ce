package emulator

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sailresearch/sail/internal/sailspec"
)

// Sail's documented limits of one batch.
const (
	maxBatchRequests        = 100000
	maxBatchBody      int64 = 256 << 20
	maxBatchListLimit       = 200
	defaultBatchList        = 25
	// maxBatchesKept bounds the batches held in memory; the oldest
	// finished ones are dropped first.
	maxBatchesKept = 256
	// batchDeliveryWorkers bounds the webhooks one batch delivers at once,
	// so 100,000 requests finishing together do not open as many
	// connections to the receiver.
	batchDeliveryWorkers = 64
)

var batchLabelRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// batch is one POST /v1/batches: its requests are ordinary jobs, driven
// by one goroutine per batch and never listed in Emulator.jobs (they are
// read through the batch).
type batch struct {
	id        string
	label     string
	endpoint  string
	createdAt time.Time
	ids       []string // custom_ids in request order
	jobs      []*job   // same order
	byID      map[string]*job
	idemKey   string
	idemHash  [32]byte
}

// batchStore is the emulator's batches, guarded by Emulator.mu.
type batchStore struct {
	once  sync.Once
	byID  map[string]*batch
	order []*batch // creation order
	idem  map[string]*batch
}

func (s *batchStore) init() {
	s.once.Do(func() {
		s.byID = map[string]*batch{}
		s.idem = map[string]*batch{}
	})
}

// batchStatus is the upper-case spelling Sail uses inside batches.
func batchStatus(s string) string {
	switch s {
	case StatusQueued:
		return "PENDING"
	case StatusInProgress:
		return "RUNNING"
	}
	return strings.ToUpper(s)
}

// serveBatches routes /v1/batches, /v1/batches/{id} and
// /v1/batches/{id}/{custom_id}.
func (e *Emulator) serveBatches(w http.ResponseWriter, r *http.Request, keyHash [32]byte) {
	e.batches.init()
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/v1/batches")
	if rest == "" || rest == "/" {
		switch r.Method {
		case http.MethodPost:
			e.createBatch(w, r, keyHash)
		case http.MethodGet:
			e.listBatches(w, r)
		default:
			w.Header().Set("Allow", "GET, POST")
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: "invalid_request_error",
				message: fmt.Sprintf("Method %s is not allowed on /v1/batches; use GET or POST.", r.Method)})
		}
		return
	}
	if !allow(w, r, http.MethodGet) {
		return
	}
	idPart, cidPart, hasCID := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	id, err1 := url.PathUnescape(idPart)
	cid, err2 := url.PathUnescape(cidPart)
	if err1 != nil || err2 != nil || id == "" || (hasCID && cid == "") {
		writeError(w, notFound("unknown_url", "Invalid URL (%s %s).", r.Method, r.URL.Path))
		return
	}
	e.mu.Lock()
	b := e.batches.byID[id]
	if b == nil {
		e.mu.Unlock()
		writeError(w, notFound("", "No batch found with id '%s'.", id))
		return
	}
	if hasCID {
		j := b.byID[cid]
		var snap []byte
		if j != nil {
			snap = j.snapshot
		}
		e.mu.Unlock()
		if j == nil {
			writeError(w, notFound("", "No request with custom_id '%s' in batch '%s'.", cid, id))
			return
		}
		writeBytes(w, snap, nil)
		return
	}
	obj := e.batchObjectLocked(b, true)
	e.mu.Unlock()
	writeJSON(w, obj)
}

type batchObject struct {
	ID            string                       `json:"id"`
	Object        string                       `json:"object"`
	Endpoint      string                       `json:"endpoint"`
	Label         *string                      `json:"label"`
	CreatedAt     int64                        `json:"created_at"`
	RequestCounts map[string]int               `json:"request_counts"`
	RequestStatus map[string]map[string]string `json:"request_status,omitempty"`
}

func (e *Emulator) batchObjectLocked(b *batch, withStatus bool) batchObject {
	counts := map[string]int{"total": len(b.jobs), "pending": 0, "running": 0, "completed": 0, "failed": 0, "incomplete": 0, "cancelled": 0}
	o := batchObject{ID: b.id, Object: "batch", Endpoint: b.endpoint, Label: nullable(b.label), CreatedAt: b.createdAt.Unix(), RequestCounts: counts}
	if withStatus {
		o.RequestStatus = make(map[string]map[string]string, len(b.jobs))
	}
	for i, j := range b.jobs {
		s := batchStatus(j.status)
		counts[strings.ToLower(s)]++
		if withStatus {
			o.RequestStatus[b.ids[i]] = map[string]string{"status": s}
		}
	}
	return o
}

// batchBody is the create body as decoded; requests are kept raw so each
// can be validated with an error naming it.
type batchBody struct {
	Endpoint *string `json:"endpoint"`
	Label    *string `json:"label"`
	Requests *[]struct {
		CustomID json.RawMessage `json:"custom_id"`
		Params   json.RawMessage `json:"params"`
	} `json:"requests"`
}

func (e *Emulator) createBatch(w http.ResponseWriter, r *http.Request, keyHash [32]byte) {
	idemKey, aerr := idempotencyKeyAt(r, sailspec.PathBatches)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	// The body is decoded as it arrives rather than read whole first; its
	// hash (for Idempotency-Key) is of the bytes as sent.
	h := sha256.New()
	lr := http.MaxBytesReader(w, r.Body, maxBatchBody)
	var body batchBody
	dec := json.NewDecoder(io.TeeReader(lr, h))
	if err := dec.Decode(&body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, &apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error",
				message: fmt.Sprintf("Batch body larger than %d bytes (256 MB); split it into several batches.", maxBatchBody)})
			return
		}
		writeError(w, invalid("", "We could not parse the JSON body of your request. The body must be a JSON object; check it and send it again."))
		return
	}
	_, _ = io.Copy(h, lr) // trailing space belongs to the hash too
	b, aerr := e.buildBatch(body)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	obj, aerr := e.admitBatch(b, idemKey, keyHash, sumOf(h))
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, obj)
}

func sumOf(h hash.Hash) (s [32]byte) {
	copy(s[:], h.Sum(nil))
	return s
}

// buildBatch validates the body and prepares every request's job.
func (e *Emulator) buildBatch(body batchBody) (*batch, *apiError) {
	if body.Endpoint == nil || *body.Endpoint == "" {
		return nil, invalidCode("endpoint", "missing_required_parameter", "Missing required parameter: 'endpoint'.")
	}
	if *body.Endpoint != "/v1/responses" {
		return nil, invalidCode("endpoint", "invalid_value", "Invalid value for 'endpoint': %q. Supported values are: '/v1/responses'.", *body.Endpoint)
	}
	label := ""
	if body.Label != nil {
		label = *body.Label
		if !batchLabelRE.MatchString(label) {
			return nil, invalidCode("label", "invalid_value", "Invalid 'label': it must be 1 to 128 characters of A-Z, a-z, 0-9, _ and -.")
		}
	}
	if body.Requests == nil {
		return nil, invalidCode("requests", "missing_required_parameter", "Missing required parameter: 'requests'.")
	}
	reqs := *body.Requests
	if len(reqs) == 0 {
		return nil, invalidCode("requests", "empty_array", "Invalid 'requests': empty array. Expected an array with minimum length 1, but got an empty array instead.")
	}
	if len(reqs) > maxBatchRequests {
		return nil, invalidCode("requests", "array_above_max_length", "Invalid 'requests': array too long. Expected an array with maximum length %d, but got an array with length %d instead.", maxBatchRequests, len(reqs))
	}
	b := &batch{id: newID("batch_"), label: label, endpoint: *body.Endpoint, createdAt: e.now(),
		ids: make([]string, len(reqs)), jobs: make([]*job, len(reqs)), byID: make(map[string]*job, len(reqs))}
	for i, rq := range reqs {
		param := fmt.Sprintf("requests[%d]", i)
		var cid string
		if isNull(rq.CustomID) {
			return nil, invalidCode(param+".custom_id", "missing_required_parameter", "Missing required parameter: '%s.custom_id'.", param)
		}
		if json.Unmarshal(rq.CustomID, &cid) != nil {
			return nil, typeError(param+".custom_id", "a string", rq.CustomID)
		}
		if cid == "" {
			return nil, invalidCode(param+".custom_id", "empty_string", "Invalid '%s.custom_id': empty string.", param)
		}
		if _, dup := b.byID[cid]; dup {
			return nil, invalidCode(param+".custom_id", "duplicate_value", "Duplicate custom_id %q in '%s': every request of a batch needs its own.", cid, param)
		}
		if isNull(rq.Params) {
			return nil, invalidCode(param+".params", "missing_required_parameter", "Missing required parameter: '%s.params'.", param)
		}
		f, aerr := decodeBody(rq.Params)
		if aerr != nil {
			return nil, typeError(param+".params", "an object", rq.Params)
		}
		if stream, aerr := f.boolean("stream"); aerr != nil || stream {
			return nil, invalidCode(param+".params.stream", "unsupported_value", "Invalid '%s.params.stream': a batch request cannot stream.", param)
		}
		// Every batch request runs in the background (so flex is allowed).
		if isNull(f["background"]) {
			f["background"] = json.RawMessage("true")
		}
		c, aerr := parseResponsesRequest(f)
		if aerr == nil {
			c.background = true
			var j *job
			j, aerr = e.prepare(epResponses, c)
			if aerr == nil {
				if e.o.NoBatchWebhooks {
					j.webhookURL = ""
				}
				b.ids[i], b.jobs[i], b.byID[cid] = cid, j, j
				continue
			}
		}
		aerr.message = param + ": " + aerr.message
		if aerr.param != "" {
			aerr.param = param + ".params." + aerr.param
		}
		return nil, aerr
	}
	return b, nil
}

// admitBatch stores b and starts its requests, or under an
// Idempotency-Key returns the batch the key already created.
func (e *Emulator) admitBatch(b *batch, idemKey string, keyHash, bodyHash [32]byte) (batchObject, *apiError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return batchObject{}, &apiError{status: http.StatusServiceUnavailable, typ: "server_error", message: "The emulator is shutting down; start it again and retry.", noRetry: true}
	}
	if idemKey != "" {
		scoped := "batches\x00" + string(keyHash[:]) + "\x00" + idemKey
		if prev := e.batches.idem[scoped]; prev != nil {
			if prev.idemHash != bodyHash {
				return batchObject{}, invalidCode("Idempotency-Key", "idempotency_error",
					"This Idempotency-Key was already used with a different request body; use a new key for a new request.")
			}
			return e.batchObjectLocked(prev, false), nil
		}
		b.idemKey, b.idemHash = scoped, bodyHash
		e.batches.idem[scoped] = b
	}
	e.evictBatchesLocked()
	now := e.now()
	for _, j := range b.jobs {
		j.status = StatusQueued
		j.snapshot = j.render(StatusQueued, now)
		j.running = true
	}
	e.batches.byID[b.id] = b
	e.batches.order = append(e.batches.order, b)
	e.stats.Batches++
	e.stats.BatchRequests += len(b.jobs)
	e.stats.Active += len(b.jobs)
	if e.stats.Active > e.stats.PeakActive {
		e.stats.PeakActive = e.stats.Active
	}
	e.spawnLocked(func() { e.driveBatch(b) })
	e.log.Debug("batch created", "id", b.id, "requests", len(b.jobs))
	return e.batchObjectLocked(b, false), nil
}

// evictBatchesLocked drops the oldest finished batches beyond the limit.
func (e *Emulator) evictBatchesLocked() {
	for len(e.batches.order) >= maxBatchesKept {
		idx := -1
		for i, b := range e.batches.order {
			if batchDoneLocked(b) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return
		}
		b := e.batches.order[idx]
		e.batches.order = append(e.batches.order[:idx], e.batches.order[idx+1:]...)
		delete(e.batches.byID, b.id)
		if b.idemKey != "" && e.batches.idem[b.idemKey] == b {
			delete(e.batches.idem, b.idemKey)
		}
	}
}

func batchDoneLocked(b *batch) bool {
	for _, j := range b.jobs {
		if !terminal(j.status) || j.running {
			return false
		}
	}
	return true
}

// driveBatch moves every request through queued → in_progress → terminal
// at its own latency (a request's sail_emulator metadata can change it)
// from one goroutine, and hands finished requests to a bounded pool of
// webhook senders.
func (e *Emulator) driveBatch(b *batch) {
	type step struct {
		at  time.Duration
		j   *job
		end bool
	}
	steps := make([]step, 0, 2*len(b.jobs))
	for _, j := range b.jobs {
		steps = append(steps, step{j.f.latency, j, false}, step{2 * j.f.latency, j, true})
	}
	sort.SliceStable(steps, func(a, c int) bool { return steps[a].at < steps[c].at })

	queue := make(chan *job, len(b.jobs))
	var wg sync.WaitGroup
	workers := min(batchDeliveryWorkers, len(b.jobs))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				e.mu.Lock()
				body := j.snapshot
				e.mu.Unlock()
				e.deliver(j, body)
				e.mu.Lock()
				j.running = false
				e.mu.Unlock()
			}
		}()
	}
	defer func() {
		close(queue)
		wg.Wait()
		// Requests never reached (the emulator closed) deliver nothing.
		e.mu.Lock()
		for _, j := range b.jobs {
			if !terminal(j.status) {
				j.running = false
			}
		}
		e.mu.Unlock()
	}()
	start := time.Now()
	for _, s := range steps {
		if !sleep(e.stopCtx, time.Until(start.Add(s.at)), nil) {
			return
		}
		if !s.end {
			e.setStatus(s.j, StatusInProgress)
			continue
		}
		e.setStatus(s.j, s.j.finalStatus())
		queue <- s.j
	}
}

// listBatches serves GET /v1/batches, newest first, paged by after_id
// (older than that batch) and before_id (newer than it).
func (e *Emulator) listBatches(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultBatchList
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxBatchListLimit {
			writeError(w, invalidCode("limit", "invalid_value", "Invalid 'limit': %q. Expected an integer from 1 to %d.", v, maxBatchListLimit))
			return
		}
		limit = n
	}
	e.mu.Lock()
	page, aerr := e.batchPageLocked(q, limit)
	e.mu.Unlock()
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, page)
}

func (e *Emulator) batchPageLocked(q url.Values, limit int) ([]batchObject, *apiError) {
	newest := make([]*batch, len(e.batches.order))
	for i, b := range e.batches.order {
		newest[len(newest)-1-i] = b
	}
	index := func(param, id string) (int, *apiError) {
		for i, b := range newest {
			if b.id == id {
				return i, nil
			}
		}
		return 0, invalidCode(param, "invalid_value", "Invalid '%s': no batch found with id '%s'.", param, id)
	}
	lo, hi := 0, len(newest)
	if id := q.Get("after_id"); id != "" {
		i, aerr := index("after_id", id)
		if aerr != nil {
			return nil, aerr
		}
		lo = i + 1
	}
	if id := q.Get("before_id"); id != "" {
		i, aerr := index("before_id", id)
		if aerr != nil {
			return nil, aerr
		}
		hi = i
	}
	page := []batchObject{}
	if lo < hi {
		sel := newest[lo:hi]
		if q.Get("before_id") != "" && q.Get("after_id") == "" && len(sel) > limit {
			// Paging backwards: the page just before the cursor.
			sel = sel[len(sel)-limit:]
		} else if len(sel) > limit {
			sel = sel[:limit]
		}
		for _, b := range sel {
			page = append(page, e.batchObjectLocked(b, false))
		}
	}
	return page, nil
}

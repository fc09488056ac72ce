// Package sailbatch runs a `sail run -f` batch through Sail's Batches API:
// the items go out as a few POST /v1/batches (split above the limits)
// instead of one create each, every request still carrying its own webhook
// path and token in params.metadata. Webhooks that arrive are verified as
// in package batch; an item whose webhook never comes is finished by
// polling the batch's request_status and fetching its result. The result
// lines, verdicts, progress, --resume keys and exit codes are package
// batch's.
package sailbatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/sailresearch/sail/internal/batch"
	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/payload"
	"github.com/sailresearch/sail/internal/run"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/status"
	"github.com/sailresearch/sail/internal/webhook"
)

// API is what a Sail batch run needs; *sail.Client implements it.
type API interface {
	CreateBatch(ctx context.Context, req sail.BatchCreateRequest) (*sail.Batch, error)
	GetBatch(ctx context.Context, id string) (*sail.Batch, error)
	BatchResult(ctx context.Context, batchID, customID string) (*sail.Response, error)
}

// Options are what a Sail batch adds to batch.Options.
type Options struct {
	API    API
	Label  string
	Limits sail.BatchLimits // zero: Sail's (100,000 requests, 256 MB)
	// OnBatch is told about each batch created, with its request count,
	// from the goroutine that creates them.
	OnBatch func(id string, requests int)
	// OnNotice gets warnings worth showing (a poll that failed, the
	// tunnel stopping), serially with results.
	OnNotice func(string)
}

// Paths says how the items ended: by a webhook, or by polling.
type Paths struct {
	Webhook int      `json:"webhook"`
	Poll    int      `json:"poll"`
	Batches []string `json:"batches"`
}

// item is one request in flight. The reader fills it before its route is
// registered; after that only the main loop touches it.
type item struct {
	key      string // the resume key (batch.Item.Key)
	customID string // in the Sail batch: the item's custom_id or line-N
	userID   string // the item's own custom_id ("" if none)
	line     int
	params   json.RawMessage // dropped once the batch is created
	remove   func()

	batchID   string
	createdAt time.Time
	attempts  int
	early     []event.Delivery // arrived before the batch's create answered
	status    string           // last seen in request_status
	settled   bool             // a delivery or a fetch decided its result
	graceAt   time.Time        // terminal in request_status, webhook awaited until then
}

type delivered struct {
	it *item
	d  event.Delivery
}

type created struct {
	batchID string
	items   []*item
	err     error
	results []batch.Result // items refused before any create (e.g. no model)
}

type fetched struct {
	it  *item
	res batch.Result
	via string // webhook | poll
}

// Run reads items from r and carries them through Sail batches. bo is the
// same options package batch takes (Concurrency bounds the GETs in
// flight); o adds the batch API.
func Run(ctx context.Context, r *batch.Reader, bo batch.Options, o Options) (batch.Summary, Paths, error) {
	if bo.Concurrency <= 0 {
		bo.Concurrency = 8
	}
	if bo.Now == nil {
		bo.Now = time.Now
	}
	if bo.PollInterval <= 0 {
		bo.PollInterval = 5 * time.Second
	}
	if bo.WebhookGrace <= 0 {
		bo.WebhookGrace = 60 * time.Second
	}
	if bo.Token == "" {
		bo.Token = run.TokenAuto
	}
	m := &loop{bo: bo, o: o, start: bo.Now(),
		sum:       batch.Summary{ByExitCode: map[int]int{}, ByStatus: map[string]int{}},
		pending:   map[string]*item{},
		remaining: map[string]int{},
		deliv:     make(chan delivered, 256),
		created:   make(chan created),
		fetched:   make(chan fetched),
		fetchQ:    make(chan fetchJob),
	}
	return m.run(ctx, r)
}

type fetchJob struct {
	it    *item
	d     *delivery // the delivery to compare; nil: the webhook never came
	batch string
}

// delivery is what verifying a delivery needs: a Delivery also carries
// headers and more, and thousands can wait for a GET at once.
type delivery struct {
	verdict    string
	receivedAt time.Time
	body       []byte
}

type loop struct {
	bo    batch.Options
	o     Options
	start time.Time

	sum       batch.Summary
	paths     Paths
	latencies []int64
	mu        sync.Mutex     // prog and the reader's counts, shared with the reader
	prog      batch.Progress // Read and Skipped are the reader's

	pending   map[string]*item // by customID
	remaining map[string]int   // batch id → items not finished
	graceQ    []*item          // FIFO: graceAt is monotonic

	deliv   chan delivered
	created chan created
	fetched chan fetched
	fetchQ  chan fetchJob

	readDone bool
	readErr  error
	outErr   error
	fatal    error
}

func (m *loop) run(ctx context.Context, r *batch.Reader) (batch.Summary, Paths, error) {
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	readEnd := make(chan error, 1)
	go func() { readEnd <- m.read(readCtx, r) }()

	fetchCtx, stopFetch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFetch()
	workersDone := make(chan struct{})
	go func() {
		defer close(workersDone)
		done := make(chan struct{}, m.bo.Concurrency)
		for range m.bo.Concurrency {
			go func() {
				defer func() { done <- struct{}{} }()
				for j := range m.fetchQ {
					m.fetched <- m.fetch(fetchCtx, j)
				}
			}()
		}
		for range m.bo.Concurrency {
			<-done
		}
	}()
	var fetchQ []fetchJob // waiting for a worker; the loop never blocks on one
	inFetch := 0

	var stopped <-chan error
	if m.bo.Inbox != nil {
		stopped = m.bo.Inbox.Stopped()
	}
	poll := time.NewTimer(min(time.Second, m.bo.PollInterval))
	defer poll.Stop()
	graceTick := time.NewTicker(max(10*time.Millisecond, min(time.Second, m.bo.WebhookGrace/4)))
	defer graceTick.Stop()
	if !m.bo.Webhook {
		graceTick.Stop()
	}

	for {
		if m.readDone && len(m.pending) == 0 && inFetch == 0 && len(fetchQ) == 0 {
			break
		}
		if m.fatal != nil || ctx.Err() != nil {
			break
		}
		var sendQ chan fetchJob
		var next fetchJob
		if len(fetchQ) > 0 {
			sendQ, next = m.fetchQ, fetchQ[0]
		}
		select {
		case <-ctx.Done():
		case err := <-readEnd:
			m.readDone = true
			m.readErr = err
			readEnd = nil
		case c := <-m.created:
			for _, res := range c.results {
				m.finish(nil, res, "")
			}
			if c.err != nil {
				res := batch.Result{ExitCode: exitcode.Of(c.err), Error: fmt.Sprintf("create batch: %v", c.err)}
				if m.bo.Webhook {
					res.Verdict = "not_delivered"
				}
				for _, it := range c.items {
					it.remove()
					r := res
					r.CustomID, r.Line = it.userID, it.line
					m.finish(nil, r, "")
				}
				if exitcode.Of(c.err) == exitcode.Config {
					m.fatal = c.err
				}
				continue
			}
			m.paths.Batches = append(m.paths.Batches, c.batchID)
			m.remaining[c.batchID] = len(c.items)
			for _, it := range c.items {
				it.batchID, it.params = c.batchID, nil
				m.pending[it.customID] = it
				for _, d := range it.early {
					fetchQ = m.onDelivery(it, d, fetchQ)
				}
				it.early = nil
			}
		case dv := <-m.deliv:
			if dv.it.batchID == "" {
				dv.d.Headers = nil
				dv.it.early = append(dv.it.early, dv.d)
				continue
			}
			if m.pending[dv.it.customID] != dv.it {
				continue // already finished: a late retry or duplicate
			}
			fetchQ = m.onDelivery(dv.it, dv.d, fetchQ)
		case sendQ <- next:
			fetchQ = fetchQ[1:]
			inFetch++
		case f := <-m.fetched:
			inFetch--
			if m.pending[f.it.customID] != f.it {
				continue
			}
			if f.res.ExitCode == exitcode.Config {
				m.fatal = errors.New(f.res.Error)
			}
			m.finish(f.it, f.res, f.via)
		case <-poll.C:
			fetchQ = m.poll(ctx, fetchQ)
			poll.Reset(m.bo.PollInterval)
		case <-graceTick.C:
			now := m.bo.Now()
			for len(m.graceQ) > 0 && !now.Before(m.graceQ[0].graceAt) {
				it := m.graceQ[0]
				m.graceQ = m.graceQ[1:]
				if m.pending[it.customID] == it && !it.settled {
					it.settled = true
					fetchQ = append(fetchQ, fetchJob{it: it, batch: it.batchID})
				}
			}
		case err := <-stopped:
			stopped = nil
			m.notice(err.Error() + "; items finish by polling the batch")
		}
	}

	// Ctrl-C or --timeout: what is unfinished gets a line saying so, like
	// an item of a per-item batch cut short; --resume runs it again.
	stopReading()
	if ctx.Err() != nil || m.fatal != nil {
		code, msg := exitcode.Error, "stopped"
		if m.fatal != nil {
			code, msg = exitcode.Of(m.fatal), "stopped: "+m.fatal.Error()
		}
		if ctx.Err() != nil {
			code = exitcode.Of(ctx.Err())
			msg = "interrupted"
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				msg = "timed out waiting"
			}
		}
		var left []*item
		for _, it := range m.pending {
			left = append(left, it)
		}
		sort.Slice(left, func(a, b int) bool { return left[a].line < left[b].line })
		for _, it := range left {
			res := batch.Result{Status: it.status, ExitCode: code,
				Error: fmt.Sprintf("%s; the request keeps running in batch %s: sail batches results %s", msg, it.batchID, it.batchID)}
			if m.bo.Webhook {
				res.Verdict = "not_delivered"
			}
			m.finish(it, res, "")
		}
	}
	stopFetch()
	// Drain: the reader may still be handing over a batch it created.
	for readEnd != nil || inFetch > 0 {
		select {
		case err := <-readEnd:
			readEnd = nil
			if m.readErr == nil {
				m.readErr = err
			}
		case c := <-m.created:
			for _, it := range c.items {
				it.remove()
			}
			if c.err == nil {
				m.paths.Batches = append(m.paths.Batches, c.batchID)
			}
		case <-m.fetched:
			inFetch--
		case <-m.deliv:
		}
	}
	close(m.fetchQ)
	<-workersDone
	return m.end(ctx)
}

func (m *loop) notice(msg string) {
	if m.o.OnNotice != nil {
		m.o.OnNotice(msg)
	}
}

// onDelivery handles one delivery to an item's route: the first accepted
// one (or a failed token check) decides the item, fetched and compared
// with its result by a worker.
func (m *loop) onDelivery(it *item, d event.Delivery, q []fetchJob) []fetchJob {
	it.attempts++
	if d.Duplicate || it.settled {
		return q
	}
	switch d.Verdict {
	case event.VerdictMismatch, event.VerdictMissing:
	default:
		if !d.Accepted() {
			return q // e.g. the store failed: the sender retries
		}
	}
	it.settled = true
	return append(q, fetchJob{it: it, d: &delivery{verdict: d.Verdict, receivedAt: d.ReceivedAt, body: d.Body}, batch: it.batchID})
}

// poll reads request_status of every batch with items left; items it
// shows finished wait WebhookGrace for their webhook (or, without
// --webhook, are fetched at once).
func (m *loop) poll(ctx context.Context, q []fetchJob) []fetchJob {
	if m.bo.NoPoll && m.bo.Webhook {
		return q
	}
	ids := make([]string, 0, len(m.remaining))
	for id, n := range m.remaining {
		if n > 0 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		b, err := m.o.API.GetBatch(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return q
			}
			if exitcode.Of(err) == exitcode.Config {
				m.fatal = err
				return q
			}
			m.notice("poll: " + err.Error())
			continue
		}
		now := m.bo.Now()
		for cid, st := range b.RequestStatus {
			it := m.pending[cid]
			if it == nil || it.batchID != id {
				continue
			}
			it.status = status.Normalize(st)
			if !status.IsTerminal(st) || it.settled || !it.graceAt.IsZero() {
				continue
			}
			if !m.bo.Webhook {
				it.settled = true
				q = append(q, fetchJob{it: it, batch: id})
				continue
			}
			it.graceAt = now.Add(m.bo.WebhookGrace)
			m.graceQ = append(m.graceQ, it)
		}
	}
	return q
}

// fetch gets an item's result and decides its line: compared with the
// delivery when one came, else found by polling.
func (m *loop) fetch(ctx context.Context, j fetchJob) fetched {
	it := j.it
	res := batch.Result{CustomID: it.userID, Line: it.line, Attempts: it.attempts}
	got, err := m.o.API.BatchResult(ctx, j.batch, it.customID)
	if err != nil {
		res.ExitCode, res.Error = exitcode.Of(err), fmt.Sprintf("fetch the result of %s in batch %s: %v", it.customID, j.batch, err)
		if j.d != nil {
			res.Verdict = j.d.verdict
		} else if m.bo.Webhook {
			res.Verdict = "not_delivered"
		}
		return fetched{it: it, res: res, via: "poll"}
	}
	res.ID, res.Status, res.OutputText = got.ID, got.Status, got.OutputText
	if j.d == nil {
		if !m.bo.Webhook {
			if ferr := statusError(got.ID, got.Status); ferr != nil {
				res.ExitCode, res.Error = exitcode.Of(ferr), ferr.Error()
			}
			return fetched{it: it, res: res, via: "poll"}
		}
		res.Verdict = "not_delivered"
		res.ExitCode = exitcode.Verify
		res.Error = fmt.Sprintf("webhook not delivered within %s of the request finishing", m.bo.WebhookGrace)
		return fetched{it: it, res: res, via: "poll"}
	}
	d := j.d
	res.Verdict = d.verdict
	if d.verdict == event.VerdictMismatch || d.verdict == event.VerdictMissing {
		what := "the wrong bearer token"
		if d.verdict == event.VerdictMissing {
			what = "no bearer token"
		}
		res.ExitCode = exitcode.Verify
		res.Error = fmt.Sprintf("webhook verification failed: the delivery carried %s (answered 401)", what)
		return fetched{it: it, res: res, via: "webhook"}
	}
	info, err := payload.Inspect(d.body)
	if err != nil {
		res.ExitCode, res.Error = exitcode.Verify, fmt.Sprintf("webhook payload: %v", err)
		return fetched{it: it, res: res, via: "webhook"}
	}
	res.Status, res.OutputText = info.Status, info.OutputText
	matches, _, err := payload.Compare(d.body, got.Raw)
	if err != nil {
		res.ExitCode, res.Error = exitcode.Verify, fmt.Sprintf("compare webhook payload with the batch result: %v", err)
		return fetched{it: it, res: res, via: "webhook"}
	}
	res.WebhookMatchesGet = &matches
	ms := max(d.receivedAt.Sub(it.createdAt).Milliseconds(), 0)
	res.CreateToWebhookMS = &ms
	switch {
	case !matches:
		res.ExitCode = exitcode.Verify
		res.Error = fmt.Sprintf("webhook payload differs from GET /v1/batches/%s/%s", j.batch, it.customID)
	default:
		if ferr := statusError(res.ID, res.Status); ferr != nil {
			res.ExitCode, res.Error = exitcode.Of(ferr), ferr.Error()
		}
	}
	return fetched{it: it, res: res, via: "webhook"}
}

func statusError(id, st string) error {
	switch status.Normalize(st) {
	case sail.StatusFailed, sail.StatusCancelled, sail.StatusIncomplete:
		return exitcode.New(exitcode.ResponseFailed, "response %s ended %s", id, st)
	}
	return nil
}

// finish writes an item's line and forgets the item.
func (m *loop) finish(it *item, res batch.Result, via string) {
	if it != nil {
		it.remove()
		delete(m.pending, it.customID)
		if it.batchID != "" {
			m.remaining[it.batchID]--
		}
		if res.Attempts < it.attempts {
			res.Attempts = it.attempts
		}
		res.CustomID, res.Line = it.userID, it.line
	}
	switch via {
	case "webhook":
		m.paths.Webhook++
	case "poll":
		m.paths.Poll++
	}
	m.sum.Items++
	m.sum.ByExitCode[res.ExitCode]++
	if res.Status != "" {
		m.sum.ByStatus[res.Status]++
	}
	if res.ExitCode == exitcode.OK {
		m.sum.Verified++
	}
	if res.Verdict == "not_delivered" {
		m.sum.WebhookMissing++
	}
	if res.CreateToWebhookMS != nil {
		m.latencies = append(m.latencies, *res.CreateToWebhookMS)
	}
	m.sum.ExitCode = batch.Worse(m.sum.ExitCode, res.ExitCode)
	if m.bo.OnResult != nil && m.outErr == nil {
		m.outErr = m.bo.OnResult(res)
	}
	m.mu.Lock()
	m.prog.Done++
	if res.ExitCode != exitcode.OK {
		m.prog.Failed++
	}
	m.prog.InFlight = len(m.pending)
	p := m.prog
	m.mu.Unlock()
	if m.bo.OnProgress != nil {
		p.Elapsed = m.bo.Now().Sub(m.start)
		m.bo.OnProgress(p)
	}
}

func (m *loop) end(ctx context.Context) (batch.Summary, Paths, error) {
	m.sum.Elapsed = m.bo.Now().Sub(m.start)
	m.sum.P50MS, m.sum.P95MS, m.sum.MaxMS = percentiles(m.latencies)
	if ctx.Err() != nil {
		m.sum.ExitCode = batch.Worse(m.sum.ExitCode, exitcode.Of(ctx.Err()))
	}
	if m.stopRequested() {
		m.sum.ExitCode = batch.Worse(m.sum.ExitCode, exitcode.Interrupted)
	}
	if m.sum.LineErrors > 0 && !m.bo.SkipInvalid {
		m.sum.ExitCode = batch.Worse(m.sum.ExitCode, exitcode.Usage)
	}
	switch {
	case m.readErr != nil:
		return m.sum, m.paths, m.readErr
	case m.fatal != nil:
		m.sum.ExitCode = batch.Worse(m.sum.ExitCode, exitcode.Of(m.fatal))
		return m.sum, m.paths, m.fatal
	case m.outErr != nil:
		return m.sum, m.paths, fmt.Errorf("write result: %w", m.outErr)
	case m.sum.ExitCode != exitcode.OK:
		return m.sum, m.paths, m.sum.Err()
	}
	return m.sum, m.paths, nil
}

func percentiles(v []int64) (p50, p95, mx int64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	at := func(q float64) int64 { return v[int(q*float64(len(v)-1)+0.5)] }
	return at(0.50), at(0.95), v[len(v)-1]
}

// read turns input lines into items, splits them into batches within the
// limits and creates each batch as soon as it is full, handing its items
// to the main loop.
func (m *loop) read(ctx context.Context, r *batch.Reader) error {
	lim := m.o.Limits
	if lim.MaxRequests <= 0 || lim.MaxRequests > sail.MaxBatchRequests {
		lim.MaxRequests = sail.MaxBatchRequests
	}
	if lim.MaxBytes <= 0 || lim.MaxBytes > sail.MaxBatchBytes {
		lim.MaxBytes = sail.MaxBatchBytes
	}
	// The envelope ({"endpoint":…,"label":…,"requests":[…]}) is counted
	// once; each request adds its custom_id, params and punctuation.
	envelope := int64(64 + len(m.o.Label))
	seen := map[string]int{} // customID → line: a batch needs them unique
	var chunk []*item
	var refused []batch.Result
	size := envelope

	flush := func() error {
		if len(chunk) == 0 && len(refused) == 0 {
			return nil
		}
		c := created{items: chunk, results: refused}
		if len(chunk) > 0 {
			items := chunk
			now := m.bo.Now()
			for _, it := range items {
				it.createdAt = now
			}
			b, err := m.o.API.CreateBatch(ctx, sail.BatchCreateRequest{
				Label: m.o.Label, Limits: lim,
				Requests: func(yield func(sail.BatchRequest) error) error {
					for _, it := range items {
						if err := yield(sail.BatchRequest{CustomID: it.customID, Params: it.params, Line: it.line}); err != nil {
							return err
						}
					}
					return nil
				},
			})
			if err != nil {
				c.err = err
			} else {
				c.batchID = b.ID
				if m.o.OnBatch != nil {
					m.o.OnBatch(b.ID, len(items))
				}
			}
		}
		chunk, refused, size = nil, nil, envelope
		select {
		case m.created <- c:
			return nil
		case <-ctx.Done():
			for _, it := range c.items {
				it.remove()
			}
			return ctx.Err()
		}
	}

	for {
		if ctx.Err() != nil {
			return nil
		}
		if m.stopRequested() {
			// The first Ctrl-C: no more batches. Items gathered for the
			// next one were never sent, so they get no result line and
			// --resume runs them; those already in batches finish.
			for _, it := range chunk {
				it.remove()
			}
			chunk = nil
			return flush()
		}
		bi, err := r.Next()
		if err == io.EOF {
			break
		}
		var le *batch.LineError
		if errors.As(err, &le) {
			if rerr := m.lineError(le); rerr != nil {
				return rerr
			}
			continue
		}
		if err != nil {
			return err
		}
		skip := m.bo.Skip != nil && m.bo.Skip(bi.Key())
		m.mu.Lock()
		m.prog.Read++
		if skip {
			m.prog.Skipped++
			m.sum.Skipped++
		}
		m.mu.Unlock()
		if skip {
			continue
		}
		cid := bi.CustomID
		if cid == "" {
			cid = fmt.Sprintf("line-%d", bi.Line)
		}
		if prev, dup := seen[cid]; dup {
			if rerr := m.lineError(&batch.LineError{Line: bi.Line, Err: fmt.Errorf("custom_id %q repeats line %d; a Sail batch needs unique custom_ids", cid, prev)}); rerr != nil {
				return rerr
			}
			continue
		}
		seen[cid] = bi.Line
		req := batch.ItemRequest(bi, m.bo.Defaults)
		if req.Endpoint != "" && req.Endpoint != sail.Responses {
			if rerr := m.lineError(&batch.LineError{Line: bi.Line, Err: fmt.Errorf(`"endpoint" %q: Sail batches carry responses requests only; run it without --sail-batch`, req.Endpoint)}); rerr != nil {
				return rerr
			}
			continue
		}
		it := &item{key: bi.Key(), customID: cid, userID: bi.CustomID, line: bi.Line, remove: func() {}}
		if m.bo.Webhook && m.bo.Inbox != nil {
			token := m.bo.Token
			switch token {
			case run.TokenAuto:
				token = webhook.NewToken()
			case run.TokenNone:
				token = ""
			}
			path := webhook.RandomPath()
			req.WebhookURL, req.WebhookToken = m.bo.Inbox.URL(path), token
			it.remove = m.bo.Inbox.Receiver.Handle(webhook.Route{Path: path, Token: token, OnDelivery: func(d event.Delivery) {
				select {
				case m.deliv <- delivered{it, d}:
				case <-ctx.Done():
				}
			}})
		}
		params, err := sail.ResponsesBody(req)
		if err != nil {
			it.remove()
			res := batch.Result{CustomID: bi.CustomID, Line: bi.Line, ExitCode: exitcode.Of(err), Error: err.Error()}
			if m.bo.Webhook {
				res.Verdict = "not_delivered"
			}
			refused = append(refused, res)
			continue
		}
		it.params = params
		idJSON, _ := json.Marshal(cid)
		add := int64(len(params) + len(idJSON) + len(`{"custom_id":,"params":},`))
		if len(chunk) > 0 && (len(chunk)+1 > lim.MaxRequests || size+add > lim.MaxBytes) {
			if err := flush(); err != nil {
				it.remove()
				return nil
			}
		}
		if size+add > lim.MaxBytes {
			it.remove()
			return exitcode.WithHint(exitcode.Usage, fmt.Errorf("line %d: the request alone is larger than a batch may be (%d bytes)", bi.Line, lim.MaxBytes), "shorten the line")
		}
		chunk = append(chunk, it)
		size += add
	}
	if err := flush(); err != nil {
		return nil
	}
	return nil
}

// stopRequested reports whether creating should end (batch.Options.Stop,
// the first Ctrl-C) while what is in flight finishes.
func (m *loop) stopRequested() bool {
	select {
	case <-m.bo.Stop:
		return true
	default:
		return false
	}
}

// lineError reports a malformed line; with Strict it ends the run.
func (m *loop) lineError(le *batch.LineError) error {
	m.mu.Lock()
	m.sum.LineErrors++
	m.mu.Unlock()
	if m.bo.OnLineError != nil {
		m.bo.OnLineError(le)
	}
	if m.bo.Strict {
		return exitcode.WithHint(exitcode.Usage, le, "fix the line, or drop --strict to skip malformed lines")
	}
	return nil
}

package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/store"
)

const flood = 100_000

// floodEv is the i-th delivery of a flood: small, distinct, every tenth
// rejected and every seventh a duplicate, so the counters have something
// to count.
func floodEv(i int) event.Delivery {
	code, verdict := 200, event.VerdictOK
	if i%10 == 9 {
		code, verdict = 401, event.VerdictMismatch
	}
	id := fmt.Sprintf("resp_%06d", i)
	body := fmt.Appendf(nil, `{"id":%q,"object":"response","status":"completed","metadata":{"webhook_token":"•••"},`+
		`"output":[{"type":"message","content":[{"type":"output_text","text":"answer %d"}]}]}`, id, i)
	return event.Delivery{
		Attempt: 1, Verdict: verdict, HTTPStatus: code, Bytes: int64(len(body)),
		ReceivedAt: t0.Add(time.Duration(i) * time.Millisecond), RemoteAddr: "127.0.0.1:52011",
		ResponseID: id, ResponseStatus: "completed", Object: "response", Excerpt: fmt.Sprintf("answer %d", i),
		Duplicate: i%7 == 6,
		Headers:   map[string]string{"Content-Type": "application/json"},
		Body:      body,
	}
}

// A delivery event must cost the same whatever came before: 100,000 of
// them, with a frame drawn every 1,000, prepare a payload at most once a
// frame, keep the rows and bodies bounded, and count every delivery.
func TestFloodDoesConstantWorkPerEvent(t *testing.T) {
	for _, mode := range []Mode{ModeListen, ModeRun} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			var tm tea.Model = NewModel(Options{Mode: mode, NoColor: true, MaxRows: 500})
			tm, _ = tm.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
			tm, _ = tm.Update(press("tab")) // the Payload tab: the costly one
			views, accepted, rejected, dups := 0, 0, 0, 0
			var batch []event.Event
			for i := range flood {
				d := floodEv(i)
				if d.Accepted() {
					accepted++
				} else {
					rejected++
				}
				if d.Duplicate {
					dups++
				}
				// A few single events, then batches as the queue hands
				// them over; a frame drawn every 1,000 events.
				if i < 100 {
					tm, _ = tm.Update(EventMsg{Event: d})
				} else {
					batch = append(batch, d)
				}
				if len(batch) == 100 {
					tm, _ = tm.Update(batchMsg{evs: batch})
					batch = batch[:0:0]
				}
				if i%1000 == 999 {
					_ = tm.View()
					views++
				}
			}
			m := tm.(Model)
			w := m.c.work
			// Per-event rendering would prepare and render 100,000 payloads.
			if w.Details > views || w.PayloadRenders > views || w.DetailRenders > views {
				t.Errorf("work after %d events and %d frames: %+v; want at most one payload prepared and rendered per frame", flood, views, w)
			}
			if w.Details == 0 || w.PayloadRenders == 0 {
				t.Errorf("no payload was ever prepared (%+v): the counters do not measure anything", w)
			}
			if len(m.deliveries) != 500 || (mode == ModeRun && len(m.timeline) != 500) {
				t.Errorf("rows held: %d deliveries, %d timeline entries; want the newest 500", len(m.deliveries), len(m.timeline))
			}
			if n := len(m.c.ring.slots); n > ringBodies {
				t.Errorf("%d bodies kept in memory, bound is %d", n, ringBodies)
			}
			for _, d := range m.deliveries {
				if d.ev.Body != nil || d.ev.Headers != nil {
					t.Fatal("a row keeps its body or headers")
				}
			}
			if c := m.counts; c.total != flood || c.accepted != accepted || c.rejected != rejected || c.dups != dups {
				t.Errorf("counts %+v, want %d total, %d accepted, %d rejected, %d duplicate", c, flood, accepted, rejected, dups)
			}
			v := view(m)
			if mode == ModeListen && !strings.Contains(v, "100000 deliveries") {
				t.Errorf("header lacks the total:\n%s", v)
			}
			if !strings.Contains(v, "resp_099999") {
				t.Errorf("the newest delivery is not shown:\n%s", v)
			}
		})
	}
}

// After 100,000 deliveries the oldest listed row is long out of the body
// ring: selecting it loads its payload from the history, once. Driven
// through a real Bubble Tea program (teatest), as the queue feeds it.
func TestRowSelectedAfterFloodLoadsFromStore(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{Keep: flood})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var loads atomic.Int32
	load := func(id string) (Stored, error) {
		loads.Add(1)
		rec, err := st.Get(id)
		if err != nil {
			return Stored{}, err
		}
		return Stored{Body: rec.Body, Headers: rec.Headers}, nil
	}
	hs := newHarness(t, Options{Mode: ModeListen, NoColor: true, Load: load}, 120, 35)
	const rows = DefaultMaxRows
	var batch []event.Event
	for i := range flood {
		d := floodEv(i)
		if i >= flood-rows {
			// Only what the view can still list needs to be in the
			// history for this test; saving all would only be slower.
			rec := &store.Record{
				Summary: store.Summary{ReceivedAt: d.ReceivedAt, Verdict: d.Verdict, HTTPStatus: d.HTTPStatus, ResponseID: d.ResponseID, Bytes: d.Bytes},
				Headers: d.Headers, Body: d.Body,
			}
			if err := st.Save(rec); err != nil {
				t.Fatal(err)
			}
			d.RecordID = rec.ID
		}
		batch = append(batch, d)
		if len(batch) == 1000 {
			hs.tm.Send(batchMsg{evs: batch})
			batch = nil
		}
	}
	hs.keys(press("G"), press("tab")) // the oldest row still listed; its Payload
	m := hs.final(t, true)
	want := fmt.Sprintf("resp_%06d", flood-rows)
	if d := m.selected(); d == nil || d.ev.ResponseID != want {
		t.Fatalf("selected %+v, want %s", m.selected(), want)
	}
	if _, inRing := m.c.ring.get(m.selected().seq); inRing {
		t.Fatal("the oldest row's body is still in memory: the test would not exercise the store")
	}
	v := view(m)
	if !strings.Contains(v, `"id": "`+want+`"`) || !strings.Contains(v, `"webhook_token": "•••"`) {
		t.Errorf("Payload tab does not show the stored payload:\n%s", v)
	}
	if !strings.Contains(v, "100000 deliveries") {
		t.Errorf("header lacks the total:\n%s", v)
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("%d loads from the history for one selection, want 1", n)
	}
	// One frame per message at most, and the flood's payloads were never
	// prepared one by one: per-event work would show 100,000 here.
	if w := m.c.work; w.Details > w.Frames || w.Batches != flood/1000 {
		t.Errorf("work %+v: want at most one payload prepared per frame, %d batches", w, flood/1000)
	}
}

// Without a history, a row whose body left the ring says so instead of
// showing nothing.
func TestNoHistoryOldRowSaysWhy(t *testing.T) {
	var tm tea.Model = NewModel(Options{Mode: ModeListen, NoColor: true})
	tm, _ = tm.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
	for i := range ringBodies + 10 {
		tm, _ = tm.Update(EventMsg{Event: floodEv(i)})
	}
	tm, _ = tm.Update(press("G"))
	v := view(tm.(Model))
	if !strings.Contains(v, "no longer in memory") || !strings.Contains(v, fmt.Sprint(ringBodies)) {
		t.Errorf("old row without history does not explain itself:\n%s", v)
	}
	// The newest still shows its payload.
	tm, _ = tm.Update(press("g"))
	if v := view(tm.(Model)); !strings.Contains(v, fmt.Sprintf("answer %d", ringBodies+9)) {
		t.Errorf("newest row lost its payload:\n%s", v)
	}
}

// Moving past the oldest row pages older deliveries in from the history.
func TestScrollingPastRowsPagesFromHistory(t *testing.T) {
	calls := 0
	older := func(before string, n int) ([]event.Delivery, error) {
		calls++
		if before != "rec_0010" {
			return nil, nil
		}
		var out []event.Delivery
		for i := 9; i >= max(10-n, 0); i-- { // newest first
			d := floodEv(i)
			d.Body, d.Headers, d.RecordID = nil, nil, fmt.Sprintf("rec_%04d", i)
			out = append(out, d)
		}
		return out, nil
	}
	var tm tea.Model = NewModel(Options{Mode: ModeListen, NoColor: true, MaxRows: 5, Older: older})
	tm, _ = tm.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
	for i := 10; i < 15; i++ {
		d := floodEv(i)
		d.RecordID = fmt.Sprintf("rec_%04d", i)
		tm, _ = tm.Update(EventMsg{Event: d})
	}
	tm, _ = tm.Update(press("G")) // oldest listed: resp_000010
	tm, _ = tm.Update(press("j")) // past it: page in
	m := tm.(Model)
	if calls != 1 {
		t.Fatalf("Older called %d times, want 1", calls)
	}
	if d := m.selected(); d == nil || d.ev.ResponseID != "resp_000009" {
		t.Fatalf("selected %+v after paging, want resp_000009", m.selected())
	}
	if len(m.deliveries) != 10 {
		t.Errorf("%d rows after paging 5 more, want 10", len(m.deliveries))
	}
	// New deliveries drop paged rows first, keeping the bound.
	d := floodEv(15)
	tm, _ = tm.Update(EventMsg{Event: d})
	if m := tm.(Model); len(m.deliveries) > 10 {
		t.Errorf("%d rows, bound is 5 + 5 paged", len(m.deliveries))
	}
}

// The queue never blocks and never loses count: what it cannot hold is
// folded into counters, exactly.
func TestQueueOverflowIsExact(t *testing.T) {
	q := newQueue(10, 1<<30)
	var want Overflow
	for i := range 25 {
		e := floodEv(i)
		q.push(e)
		if i >= 10 {
			want.add(e)
		}
	}
	q.push(event.Completed{ID: testID, Status: "completed"}) // never dropped
	evs, over := q.take()
	if len(evs) != 11 || over != want {
		t.Fatalf("took %d events and %+v, want 11 and %+v", len(evs), over, want)
	}
	if _, ok := evs[10].(event.Completed); !ok {
		t.Errorf("the lifecycle event was dropped or reordered: %T", evs[10])
	}
	var tm tea.Model = NewModel(Options{Mode: ModeListen, NoColor: true})
	tm, _ = tm.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
	tm, _ = tm.Update(batchMsg{evs: evs, over: over})
	m := tm.(Model)
	v := view(m)
	for _, s := range []string{"25 deliveries", fmt.Sprintf("%d accepted", 10-1+want.Accepted), "+15 more since 12:00:00"} {
		if !strings.Contains(v, s) {
			t.Errorf("view lacks %q:\n%s", s, v)
		}
	}
	if evs, over := q.take(); len(evs) != 0 || !over.empty() {
		t.Errorf("take did not empty the queue: %d, %+v", len(evs), over)
	}
}

// A Program under a flood from many goroutines: Emit never waits for the
// view, every delivery is either listed or counted in a gap row (exactly),
// the view redraws per batch rather than per event, and the pump goroutine
// is gone once the program ended.
func TestProgramFloodExactAndNoLeak(t *testing.T) {
	// Bubble Tea's Tick (listen's clock) sleeps out its second after the
	// program ended; it is the library's, not the queue's.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("charm.land/bubbletea/v2.Tick.func1"))
	p, _ := startTest(t, context.Background(), Options{Mode: ModeListen, ExitOnComplete: true, NoColor: true, MaxRows: 2 * flood}, strings.NewReader(""))
	const senders = 8
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := s; i < flood; i += senders {
				p.Emit(floodEv(i))
			}
		}()
	}
	wg.Wait()
	p.Emit(event.Error{ExitCode: 1, Message: "stop"})
	if _, err := waitProgram(t, p); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	m := p.final
	listed, folded := 0, 0
	for _, d := range m.deliveries {
		if d.gap > 0 {
			folded += d.gap
		} else {
			listed++
		}
	}
	if listed+folded != flood || m.counts.total != flood || folded != m.overflow.Deliveries {
		t.Errorf("listed %d + folded %d (overflow %d), counted %d; want %d exactly", listed, folded, m.overflow.Deliveries, m.counts.total, flood)
	}
	// One redraw per batch: per-event delivery to the loop would make
	// 100,000 batches and frames.
	if w := m.c.work; w.Batches > flood/50 || w.Frames > w.Batches+50 {
		t.Errorf("work %+v for %d events: not batched", w, flood)
	}
}

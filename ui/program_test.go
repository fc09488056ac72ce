package ui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/testutil"
)

// startTest starts a Program on a fake terminal with keys from input.
func startTest(t *testing.T, ctx context.Context, o Options, input io.Reader) (*Program, *testutil.LockedBuffer) {
	t.Helper()
	out := &testutil.LockedBuffer{}
	o.Output, o.Input = out, input
	if o.Now == nil {
		o.Now = clockAt(t0)
	}
	p := Start(ctx, o, tea.WithWindowSize(80, 24))
	return p, out
}

// waitDrawn blocks until the fake terminal shows want: events reach the
// model through the queue, so a key sent right after Emit could overtake
// them.
func waitDrawn(t *testing.T, out *testutil.LockedBuffer, want string) {
	t.Helper()
	testutil.WaitUntil(t, finalWait, fmt.Sprintf("%q to be drawn", want), func() bool { return strings.Contains(out.String(), want) })
}

// waitProgram is Wait with a deadline, so a hang fails instead of stalling.
func waitProgram(t *testing.T, p *Program) (Result, error) {
	t.Helper()
	type res struct {
		r   Result
		err error
	}
	ch := make(chan res, 1)
	go func() {
		r, err := p.Wait()
		ch <- res{r, err}
	}()
	select {
	case r := <-ch:
		return r.r, r.err
	case <-time.After(finalWait):
		t.Fatalf("program did not end within %s", finalWait)
		return Result{}, nil
	}
}

func TestProgramExitOnComplete(t *testing.T) {
	p, out := startTest(t, context.Background(), Options{ExitOnComplete: true, NoColor: true}, strings.NewReader(""))
	for _, e := range runScenario(true) {
		p.Emit(e)
	}
	res, err := waitProgram(t, p)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if res.QuitBeforeDone {
		t.Error("QuitBeforeDone after Completed")
	}
	if !strings.Contains(out.String(), "resp_01JTESTABCDEF") {
		t.Error("nothing was drawn on Output")
	}
}

func TestProgramQuitBeforeDone(t *testing.T) {
	// The q arrives through the real input parser, as a terminal sends it.
	p, _ := startTest(t, context.Background(), Options{NoColor: true}, strings.NewReader("q"))
	res, err := waitProgram(t, p)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if !res.QuitBeforeDone {
		t.Error("q before Completed not reported as QuitBeforeDone")
	}
}

func TestProgramContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe() // input that never ends by itself
	t.Cleanup(func() { _ = pw.Close() })
	p, _ := startTest(t, ctx, Options{NoColor: true}, pr)
	p.Emit(readyEv())
	cancel()
	res, err := waitProgram(t, p)
	if err != nil {
		t.Errorf("cancelling ctx is not a TUI failure, got %v", err)
	}
	if !res.QuitBeforeDone {
		t.Error("cancelled before Completed, but QuitBeforeDone is false")
	}
	select {
	case <-p.Done():
	default:
		t.Error("Done not closed after Wait returned")
	}
}

func TestProgramEmitAfterExit(t *testing.T) {
	p, _ := startTest(t, context.Background(), Options{ExitOnComplete: true, NoColor: true}, strings.NewReader(""))
	p.Emit(event.Error{ExitCode: 5, Message: "tunnel failed"})
	if _, err := waitProgram(t, p); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, e := range runScenario(true) {
			p.Emit(e)
		}
		p.Emit(nil)
	}()
	select {
	case <-done:
	case <-time.After(finalWait):
		t.Fatal("Emit blocked after the program exited")
	}
	// Wait stays answerable.
	if _, err := waitProgram(t, p); err != nil {
		t.Fatalf("second Wait: %v", err)
	}
}

func TestProgramConcurrentEmit(t *testing.T) {
	p, _ := startTest(t, context.Background(), Options{Mode: ModeListen, ExitOnComplete: true, NoColor: true}, strings.NewReader(""))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Emit(deliveryEv("resp_"+string(rune('a'+i)), 1, event.VerdictOK, 200, t0, "x"))
		}()
	}
	wg.Wait()
	p.Emit(event.Error{ExitCode: 1, Message: "stop"})
	if _, err := waitProgram(t, p); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if n := len(p.final.deliveries); n != 8 {
		t.Errorf("%d deliveries reached the model, want 8", n)
	}
}

func TestProgramCancelsReplayOnQuit(t *testing.T) {
	started := make(chan struct{})
	ended := make(chan error, 1)
	replay := func(ctx context.Context, d event.Delivery) event.Forwarded {
		close(started)
		<-ctx.Done() // a forward target that never answers
		ended <- ctx.Err()
		return event.Forwarded{Error: ctx.Err().Error()}
	}
	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.Close() })
	p, out := startTest(t, context.Background(), Options{NoColor: true, Replay: replay}, pr)
	for _, e := range runScenario(true) {
		p.Emit(e)
	}
	waitDrawn(t, out, "The answer is 4.")
	go func() { _, _ = pw.Write([]byte("r")) }()
	select {
	case <-started:
	case <-time.After(finalWait):
		t.Fatal("r did not start a replay")
	}
	go func() { _, _ = pw.Write([]byte("q")) }()
	if _, err := waitProgram(t, p); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	select {
	case err := <-ended:
		if err == nil {
			t.Error("replay context ended without an error")
		}
	case <-time.After(finalWait):
		t.Fatal("the replay kept running after the program quit")
	}
}

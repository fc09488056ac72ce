package doctor

import (
	"context"
	"testing"
	"time"
)

func TestRunOrderAndDeadline(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	checks := Run(context.Background(), 100*time.Millisecond, []Probe{
		{Name: "fast", Required: true, Run: func(context.Context) Check { return Check{OK: true, Detail: "fine"} }},
		{Name: "stuck", Run: func(context.Context) Check { <-block; return Check{OK: true} }},
		{Name: "ctx-aware", Required: true, Run: func(ctx context.Context) Check {
			<-ctx.Done()
			return Check{Detail: "gave up: " + ctx.Err().Error()}
		}},
	})
	if len(checks) != 3 || checks[0].Name != "fast" || checks[1].Name != "stuck" || checks[2].Name != "ctx-aware" {
		t.Fatalf("order: %+v", checks)
	}
	if !checks[0].OK || checks[1].OK || checks[2].OK {
		t.Fatalf("results: %+v", checks)
	}
	if checks[1].Detail == "" || checks[1].Fix == "" {
		t.Fatalf("a stuck probe must still explain itself: %+v", checks[1])
	}
	if Healthy(checks) {
		t.Fatal("a failed required check must make the report unhealthy")
	}
	if !Healthy(checks[:2]) {
		t.Fatal("optional failures must not make the report unhealthy")
	}
}

package cli

import (
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/sail"
)

func TestBatchesCreateFlags(t *testing.T) {
	t.Parallel()
	o := parseLine(t, map[string]string{"SAIL_MODEL": "zai-org/GLM-5"}, NewCmdBatchesCreate, "batches", "create", "-f", "evals.jsonl").ok(t)
	if o.File != "evals.jsonl" || o.Label != "" || o.Endpoint != "responses" || o.JSON {
		t.Errorf("defaults: %+v", o)
	}
	if cfg, err := o.Config(); err != nil || cfg.Get("model") != "zai-org/GLM-5" {
		t.Errorf("config: %v", err)
	}
	o = parseLine(t, nil, NewCmdBatchesCreate, "batches", "create", "-f", "-", "--label", "nightly", "-e", "/v1/responses", "-m", "m1", "--json", "--api-url", "http://127.0.0.1:9/v1").ok(t)
	if o.File != "-" || o.Label != "nightly" || o.Endpoint != "/v1/responses" || !o.JSON || o.API.URL != "http://127.0.0.1:9/v1" {
		t.Errorf("every flag: %+v", o)
	}
	if cfg, _ := o.Config(); cfg.Get("model") != "m1" {
		t.Errorf("-m must set the lines' default model, got %q", cfg.Get("model"))
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "-f FILE is required"},
		{[]string{"-f", "x.jsonl", "-e", "chat"}, `--endpoint "chat": Sail batches carry responses requests only`},
		{[]string{"-f", "x.jsonl", "extra"}, "run 'sail batches create --help'"},
	} {
		parseLine(t, nil, NewCmdBatchesCreate, append([]string{"batches", "create"}, c.args...)...).refused(t, exitcode.Usage, c.want)
	}
}

func TestBatchesGetFlags(t *testing.T) {
	t.Parallel()
	o := parseLine(t, nil, NewCmdBatchesGet, "batches", "get", "batch_1", "--json").ok(t)
	if o.ID != "batch_1" || !o.JSON {
		t.Errorf("get: %+v", o)
	}
	parseLine(t, nil, NewCmdBatchesGet, "batches", "get").refused(t, exitcode.Usage, "which batch? give its id")
	parseLine(t, nil, NewCmdBatchesGet, "batches", "get", "a", "b").refused(t, exitcode.Usage, "one batch id at a time, got 2")
}

func TestBatchesListFlags(t *testing.T) {
	t.Parallel()
	if o := parseLine(t, nil, NewCmdBatchesList, "batches", "list").ok(t); o.Page != (sail.BatchListParams{}) || o.JSON {
		t.Errorf("defaults: %+v", o)
	}
	o := parseLine(t, nil, NewCmdBatchesList, "batches", "list", "--limit", "200", "--after", "batch_1", "--before", "batch_9", "--json").ok(t)
	if o.Page != (sail.BatchListParams{Limit: 200, AfterID: "batch_1", BeforeID: "batch_9"}) || !o.JSON {
		t.Errorf("every flag: %+v", o)
	}
	parseLine(t, nil, NewCmdBatchesList, "batches", "list", "--limit", "0").refused(t, exitcode.Usage, "--limit 0 is out of range")
	parseLine(t, nil, NewCmdBatchesList, "batches", "list", "--limit", "201").refused(t, exitcode.Usage, "--limit 201 is out of range")
	parseLine(t, nil, NewCmdBatchesList, "batches", "list", "batch_1").refused(t, exitcode.Usage, "run 'sail batches list --help'")
}

func TestBatchesWaitFlags(t *testing.T) {
	t.Parallel()
	o := parseLine(t, nil, NewCmdBatchesWait, "batches", "wait", "batch_1").ok(t)
	if o.ID != "batch_1" || o.Timeout != 24*time.Hour || o.Interval != 5*time.Second || o.Progress == nil || o.Now == nil {
		t.Errorf("defaults: %+v", o)
	}
	o = parseLine(t, nil, NewCmdBatchesWait, "batches", "wait", "batch_1", "--timeout", "2h", "--poll-interval", "30s").ok(t)
	if o.Timeout != 2*time.Hour || o.Interval != 30*time.Second {
		t.Errorf("flags: %+v", o)
	}
	for _, args := range [][]string{{"--timeout", "0s"}, {"--poll-interval", "-1s"}} {
		parseLine(t, nil, NewCmdBatchesWait, append([]string{"batches", "wait", "batch_1"}, args...)...).refused(t, exitcode.Usage, "--timeout and --poll-interval must be positive")
	}
	parseLine(t, nil, NewCmdBatchesWait, "batches", "wait").refused(t, exitcode.Usage, "which batch?")
}

func TestBatchesResultsFlags(t *testing.T) {
	t.Parallel()
	o := parseLine(t, nil, NewCmdBatchesResults, "batches", "results", "batch_1").ok(t)
	if o.ID != "batch_1" || o.Out != "" || o.Concurrency != 8 {
		t.Errorf("defaults: %+v", o)
	}
	o = parseLine(t, nil, NewCmdBatchesResults, "batches", "results", "batch_1", "-o", "r.jsonl", "--concurrency", "2").ok(t)
	if o.Out != "r.jsonl" || o.Concurrency != 2 {
		t.Errorf("flags: %+v", o)
	}
	parseLine(t, nil, NewCmdBatchesResults, "batches", "results", "batch_1", "--concurrency", "0").refused(t, exitcode.Usage, "--concurrency must be at least 1")
	parseLine(t, nil, NewCmdBatchesResults, "batches", "results").refused(t, exitcode.Usage, "which batch?")
}

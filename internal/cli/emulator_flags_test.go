package cli

import (
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/exitcode"
)

func TestEmulatorFlags(t *testing.T) {
	t.Parallel()
	o := parseLine(t, nil, NewCmdEmulator, "emulator").ok(t)
	want := emulatorFlags{Outcome: "completed", RetryBackoff: emulator.DefaultRetryBackoff, MaxAttempts: emulator.DefaultMaxAttempts,
		StatusNames: emulator.StatusNamesSail, BatchWebhooks: true}
	if o.Addr != "127.0.0.1:4010" || o.APIKey != "" || o.JSON || o.URLFile != "" || o.DeliveryTimeout != emulator.DefaultDeliveryTimeout || o.Faults != want {
		t.Errorf("defaults: %+v", o)
	}

	o = parseLine(t, nil, NewCmdEmulator, "emulator", "--addr", "127.0.0.1:0", "--api-key", "k", "--json", "--url-file", "u.txt",
		"--delivery-timeout", "1s", "--latency", "10ms", "--outcome", "failed", "--drop-webhook", "--duplicate-webhook", "--wrong-token",
		"--fail-attempts", "2", "--webhook-delay", "5ms", "--retry-backoff", "100ms", "--max-attempts", "3", "--status-names", "openai",
		"--batch-webhooks=false").ok(t)
	want = emulatorFlags{Latency: 10 * time.Millisecond, Outcome: "failed", DropWebhook: true, DuplicateWebhook: true, WrongToken: true,
		FailAttempts: 2, WebhookDelay: 5 * time.Millisecond, RetryBackoff: 100 * time.Millisecond, MaxAttempts: 3, StatusNames: "openai"}
	if o.Addr != "127.0.0.1:0" || o.APIKey != "k" || !o.JSON || o.URLFile != "u.txt" || o.DeliveryTimeout != time.Second || o.Faults != want {
		t.Errorf("every flag: %+v", o)
	}

	parseLine(t, nil, NewCmdEmulator, "emulator", "--fail-attempts", "x").refused(t, exitcode.Usage, `invalid argument "x" for "--fail-attempts"`)
	parseLine(t, nil, NewCmdEmulator, "emulator", "serve").refused(t, exitcode.Usage, "run 'sail emulator --help'")
}

// TestEmulatorFaultsRefusedBeforeListening: fault settings the emulator
// cannot honour are a usage error before any port is opened.
func TestEmulatorFaultsRefusedBeforeListening(t *testing.T) {
	t.Parallel()
	f := flagsFactory(t, nil)
	o := &EmulatorOptions{IO: f.IO, Addr: "127.0.0.1:0", Faults: emulatorFlags{Outcome: "exploded", MaxAttempts: 1, StatusNames: emulator.StatusNamesSail}}
	if err := emulatorRun(t.Context(), o); exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("outcome exploded: %v (exit %d), want a usage error", err, exitcode.Of(err))
	}
}

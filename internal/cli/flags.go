package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/buildinfo"
	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/secret"
	"github.com/sailresearch/sail/internal/store"
	"github.com/sailresearch/sail/internal/tunnel"
	"github.com/sailresearch/sail/internal/webhook"
)

// applyFlags records the flags the user set in cfg, so precedence
// (flag > env > file > default) is decided in one place.
func applyFlags(cmd *cobra.Command, cfg *config.Config, flagToKey map[string]string) {
	for flag, key := range flagToKey {
		if fl := cmd.Flags().Lookup(flag); fl != nil && fl.Changed {
			cfg.Set(key, fl.Value.String())
		}
	}
}

func versionShort() string { return buildinfo.Get().Version }

// tunnelFlags are shared by run and listen.
type tunnelFlags struct {
	Provider  string
	Addr      string
	PublicURL string
	Domain    string
	Timeout   time.Duration
	Server    string // ngrok connect address override (hidden; tests and private ngrok servers)
	Authtoken string // from NGROK_AUTHTOKEN or the config file, never a flag
	ProxyURL  string // from HTTPS_PROXY / ALL_PROXY
}

func (t *tunnelFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&t.Provider, "tunnel", "", "tunnel: auto, local, ngrok or public (default auto)")
	fl.StringVar(&t.Addr, "addr", "127.0.0.1:0", "local address the receiver listens on (port 0 picks one)")
	fl.StringVar(&t.PublicURL, "public-url", "", "URL of your own tunnel that forwards to --addr")
	fl.StringVar(&t.Domain, "domain", "", "reserved ngrok domain, e.g. myapp.ngrok.app")
	fl.DurationVar(&t.Timeout, "tunnel-timeout", 20*time.Second, "give up connecting the tunnel after this long (exit 5)")
	fl.StringVar(&t.Server, "ngrok-server-addr", "", "ngrok connect address host:port (default: ngrok's own)")
	_ = fl.MarkHidden("ngrok-server-addr")
}

func (t *tunnelFlags) resolve(cfg *config.Config, env config.Env) {
	t.ProxyURL = tunnel.ProxyFromEnv(env, t.Server)
	t.Provider = cfg.Get("tunnel")
	t.PublicURL = cfg.Get("public_url")
	t.Domain = cfg.Get("ngrok_domain")
	t.Authtoken = cfg.Get("ngrok_authtoken")
}

func (t *tunnelFlags) options(provider string, logger *slog.Logger) tunnel.Options {
	return tunnel.Options{
		Provider: provider, Addr: t.Addr, PublicURL: t.PublicURL, Authtoken: t.Authtoken,
		Domain: t.Domain, ConnectTimeout: t.Timeout, Logger: logger, ServerAddr: t.Server, ProxyURL: t.ProxyURL,
	}
}

// historyFlags select the delivery history.
type historyFlags struct {
	Dir       string
	NoHistory bool
	Keep      int
}

func (h *historyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&h.Dir, "history-dir", "", "delivery history directory (default $XDG_STATE_HOME/sail/history)")
	fl.BoolVar(&h.NoHistory, "no-history", false, "keep no delivery history on disk")
	fl.IntVar(&h.Keep, "history-keep", 1000, "keep the newest N deliveries")
}

func (h *historyFlags) resolve(cfg *config.Config) { h.Dir = cfg.Get("history_dir") }

// dir is the history directory after defaults.
func (h *historyFlags) dir(f *Factory) string { return h.dirIn(f.Env) }

func (h *historyFlags) dirIn(env config.Env) string {
	if h.Dir != "" {
		return h.Dir
	}
	return filepath.Join(config.StateDir(env), "history")
}

// open returns the store, or nil with --no-history.
func (h *historyFlags) open(f *Factory) (*store.Store, error) {
	return h.opener(f.Env, f.Now, f.IO.ErrOut)()
}

// opener opens the store when called, or returns nil with --no-history;
// warnings go to errOut.
func (h *historyFlags) opener(env config.Env, now func() time.Time, errOut io.Writer) func() (*store.Store, error) {
	return func() (*store.Store, error) {
		if h.NoHistory {
			return nil, nil
		}
		st, err := store.Open(h.dirIn(env), store.Options{Keep: h.Keep, Now: now, Warn: func(msg string) {
			fmt.Fprintf(errOut, "warning: history: %s\n", msg)
		}})
		if err != nil {
			return nil, fmt.Errorf("open delivery history: %w (use --history-dir DIR or --no-history)", err)
		}
		return st, nil
	}
}

// forwardFlags re-post accepted deliveries to the user's app.
type forwardFlags struct {
	URL   string
	Token string
	Sync  bool
}

func (w *forwardFlags) register(cmd *cobra.Command, withSync bool) {
	fl := cmd.Flags()
	fl.StringVar(&w.URL, "forward-to", "", "re-POST each accepted delivery to this URL (your app)")
	fl.StringVar(&w.Token, "forward-token", "", "bearer token to send to --forward-to")
	if withSync {
		fl.BoolVar(&w.Sync, "forward-sync", false, "answer Sail with your app's status, so Sail's retries reach your app")
	}
}

// validate rejects a --forward-to that could never be posted to, before
// any tunnel opens, rather than once per delivery.
func (w *forwardFlags) validate() error {
	if w.URL == "" {
		return nil
	}
	return checkHTTPURL("--forward-to", w.URL)
}

// checkHTTPURL is the usage error for a flag that needs an absolute
// http(s) URL.
func checkHTTPURL(flag, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return exitcode.WithHint(exitcode.Usage, fmt.Errorf("%s %q is not an absolute http(s) URL", flag, secret.URL(v)),
			"e.g. "+flag+" http://localhost:3000/webhooks/sail")
	}
	return nil
}

func (w *forwardFlags) forwarder(client *http.Client) *webhook.Forwarder {
	if w.URL == "" {
		return nil
	}
	return &webhook.Forwarder{URL: w.URL, Token: w.Token, Client: noRedirectClient(client), Timeout: 30 * time.Second}
}

// replayFunc lets the TUI re-send a delivery to --forward-to (key r).
func (w *forwardFlags) replayFunc(client *http.Client) func(context.Context, event.Delivery) event.Forwarded {
	fw := w.forwarder(client)
	if fw == nil {
		return nil
	}
	return func(ctx context.Context, d event.Delivery) event.Forwarded {
		r := fw.ForwardDelivery(ctx, d.Body, webhook.Meta{ContentType: d.Headers["Content-Type"], UserAgent: d.Headers["User-Agent"], DeliveryID: d.RecordID, Attempt: d.Attempt})
		r.RecordID, r.ResponseID = d.RecordID, d.ResponseID
		return r
	}
}

func noRedirectClient(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// emulatorFlags expose the embedded emulator and its fault knobs on run.
type emulatorFlags struct {
	Enabled          bool
	Latency          time.Duration
	Outcome          string
	DropWebhook      bool
	DuplicateWebhook bool
	WrongToken       bool
	FailAttempts     int
	WebhookDelay     time.Duration
	RetryBackoff     time.Duration
	StatusNames      string
	MaxAttempts      int
	BatchWebhooks    bool
}

func (e *emulatorFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&e.Enabled, "emulator", false, "run against an embedded Sail emulator on loopback (no API key needed)")
	fl.DurationVar(&e.Latency, "emulator-latency", 0, "emulator: time spent pending, then again running (queued, in_progress)")
	fl.StringVar(&e.Outcome, "emulator-outcome", "completed", "emulator: completed, failed, incomplete or cancelled")
	fl.BoolVar(&e.DropWebhook, "emulator-drop-webhook", false, "emulator: never send the webhook")
	fl.BoolVar(&e.DuplicateWebhook, "emulator-duplicate-webhook", false, "emulator: send the webhook twice")
	fl.BoolVar(&e.WrongToken, "emulator-wrong-token", false, "emulator: send a wrong bearer token")
	fl.IntVar(&e.FailAttempts, "emulator-fail-attempts", 0, "emulator: the first N delivery attempts fail like a dropped connection")
	fl.DurationVar(&e.WebhookDelay, "emulator-webhook-delay", 0, "emulator: wait this long before the first delivery attempt")
	fl.DurationVar(&e.RetryBackoff, "emulator-retry-backoff", time.Second, "emulator: first retry delay, doubling")
	fl.StringVar(&e.StatusNames, "emulator-status-names", emulator.StatusNamesSail, "emulator: status names, sail (pending, running) or openai (queued, in_progress)")
	fl.IntVar(&e.MaxAttempts, "emulator-max-attempts", emulator.DefaultMaxAttempts, "emulator: delivery attempts per webhook, the first included (4 = 1 + 3 retries)")
	fl.BoolVar(&e.BatchWebhooks, "emulator-batch-webhooks", true, "emulator: requests of a Sail batch fire their webhooks (false: only polling finds them)")
}

func (e *emulatorFlags) anyWebhookFault() bool {
	return e.DropWebhook || e.DuplicateWebhook || e.WrongToken || e.FailAttempts > 0 || e.WebhookDelay > 0 || !e.BatchWebhooks
}

func (e *emulatorFlags) options(log func(emulator.Attempt)) emulator.Options {
	return emulator.Options{
		Latency: e.Latency, Outcome: e.Outcome, DropWebhook: e.DropWebhook, DuplicateWebhook: e.DuplicateWebhook,
		WrongToken: e.WrongToken, FailAttempts: e.FailAttempts, WebhookDelay: e.WebhookDelay,
		RetryBackoff: e.RetryBackoff, StatusNames: e.StatusNames, MaxAttempts: e.MaxAttempts, Log: log,
		NoBatchWebhooks: !e.BatchWebhooks,
	}
}

// genFlags are the create parameters of run and responses create, mapped
// per endpoint by sail.CreateRequest.
type genFlags struct {
	Temperature     float64
	TopP            float64
	ReasoningEffort string
	JSONSchema      string // file
	PromptCacheKey  string
	User            string
}

// maxSchemaBytes bounds a --json-schema file.
const maxSchemaBytes = 1 << 20

func (g *genFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Float64Var(&g.Temperature, "temperature", 0, "sampling temperature: 0–2 (responses, chat), 0–1 (messages)")
	fl.Float64Var(&g.TopP, "top-p", 0, "nucleus sampling, 0–1")
	fl.StringVar(&g.ReasoningEffort, "reasoning-effort", "", "none, minimal, low, medium, high, xhigh (responses, chat); low, medium, high, xhigh, max (messages)")
	fl.StringVar(&g.JSONSchema, "json-schema", "", "structured output following the JSON Schema in `FILE`")
	fl.StringVar(&g.PromptCacheKey, "prompt-cache-key", "", "prompt_cache_key (responses and chat only)")
	fl.StringVar(&g.User, "user", "", "end-user id: user (responses, chat) or metadata.user_id (messages)")
	_ = cmd.MarkFlagFilename("json-schema", "json")
}

// apply sets the given flags on req (unset flags stay nil or "", so the
// server's defaults apply) and reads --json-schema.
func (g *genFlags) apply(cmd *cobra.Command, req *sail.CreateRequest) error {
	fl := cmd.Flags()
	if fl.Changed("temperature") {
		req.Temperature = &g.Temperature
	}
	if fl.Changed("top-p") {
		req.TopP = &g.TopP
	}
	req.ReasoningEffort, req.PromptCacheKey, req.User = g.ReasoningEffort, g.PromptCacheKey, g.User
	if g.JSONSchema != "" {
		js, err := readJSONSchema(g.JSONSchema)
		if err != nil {
			return err
		}
		req.JSONSchema = js
	}
	return nil
}

func readJSONSchema(path string) (*sail.JSONSchema, error) {
	hint := `pass a file holding a JSON Schema object, e.g. {"type":"object","properties":{"answer":{"type":"string"}}}`
	fh, err := os.Open(path)
	if err != nil {
		return nil, exitcode.WithHint(exitcode.Usage, fmt.Errorf("--json-schema: %w", err), hint)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxSchemaBytes+1))
	if err != nil {
		return nil, fmt.Errorf("--json-schema: read %s: %w", path, err)
	}
	if len(data) > maxSchemaBytes {
		return nil, exitcode.New(exitcode.Usage, "--json-schema: %s is larger than %d MiB", path, maxSchemaBytes>>20)
	}
	js, err := sail.ParseJSONSchema(path, data)
	if err != nil {
		return nil, exitcode.WithHint(exitcode.Usage, fmt.Errorf("--json-schema %s: %w", path, err), hint)
	}
	return js, nil
}

// setPrompt puts the prompt on req: a JSON array of {role, content}
// messages becomes input messages, anything else is the text prompt.
func setPrompt(req *sail.CreateRequest, prompt string) error {
	msgs, ok, err := sail.PromptMessages(prompt)
	switch {
	case err != nil:
		return err
	case ok:
		req.Input, req.Messages = "", msgs
	default:
		req.Input, req.Messages = prompt, nil
	}
	return nil
}

// metadataPairsHave reports whether repeated --metadata pairs set key.
func metadataPairsHave(pairs []string, key string) bool {
	for _, p := range pairs {
		if k, _, ok := strings.Cut(p, "="); ok && strings.TrimSpace(k) == key {
			return true
		}
	}
	return false
}

// metadataReserve counts the metadata keys sail adds on top of the
// user's --metadata: the webhook's (given), the completion window, and
// the user on messages, unless the user's metadata already holds them.
func metadataReserve(pairs []string, webhook int, window, user string, ep sail.Endpoint) int {
	n := webhook
	if window != "" && !metadataPairsHave(pairs, sail.MetaCompletionWindow) {
		n++
	}
	if user != "" && ep == sail.Messages && !metadataPairsHave(pairs, sail.MetaUserID) {
		n++
	}
	return n
}

// noteOverrides tells the user (on stderr) which --metadata values a
// dedicated flag replaces: the flag wins, as in the request sail sends.
func noteOverrides(w io.Writer, md map[string]string, window, user string, ep sail.Endpoint) {
	if v, ok := md[sail.MetaCompletionWindow]; ok && window != "" && v != window {
		fmt.Fprintf(w, "notice: --completion-window %q replaces --metadata %s=%q\n", window, sail.MetaCompletionWindow, v)
	}
	if v, ok := md[sail.MetaUserID]; ok && user != "" && ep == sail.Messages && v != user {
		fmt.Fprintf(w, "notice: --user replaces --metadata %s on the messages endpoint\n", sail.MetaUserID)
	}
}

// Package sail is the client of Sail's inference API: create a response on
// any of the three endpoints (OpenAI Responses, OpenAI Chat Completions,
// Anthropic Messages), get, wait for, and cancel it, and list models.
//
// The calls go through the official SDKs (openai-go for Responses, Chat and
// Models, anthropic-sdk-go for Messages), built without their environment
// defaults so no OPENAI_* or ANTHROPIC_* variable or profile file leaks into
// a Sail request. Every Response keeps the server's exact bytes in Raw.
//
// Failures are typed: *APIError (the server answered with an error status),
// *NetworkError (it could not be reached), *MalformedError (a 2xx that is
// not the expected JSON), and context errors wrapped with %w. Each knows its
// exit code and a hint (exitcode.Of, exitcode.Hint).
package sail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	openai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/sailresearch/sail/internal/exitcode"
)

// DefaultMaxRetries is how many times a call is retried after a connection
// error, 408, 409, 429 or 5xx when Options.MaxRetries is 0.
const DefaultMaxRetries = 2

// Options configure a Client.
type Options struct {
	// BaseURL is the API root, with or without /v1 and trailing slash
	// (see NormalizeBaseURL); "" means DefaultBaseURL.
	BaseURL string
	// APIKey is sent as "Authorization: Bearer" on every call, and also as
	// x-api-key on /v1/messages. Required.
	APIKey string
	// HTTPClient carries every request; nil means a fresh &http.Client{}
	// (no overall timeout: contexts bound the calls).
	HTTPClient *http.Client
	// UserAgent replaces the SDKs' User-Agent when set.
	UserAgent string
	// MaxRetries bounds retries of a call after a connection error, 408,
	// 409, 429 or 5xx: 0 means DefaultMaxRetries, a negative value disables
	// retries. Creates retry too: every attempt carries the same
	// Idempotency-Key, so Sail answers a retried create with the job the
	// first attempt started instead of starting a second one.
	MaxRetries int
}

// Client talks to one Sail API with one key. It is safe for concurrent use.
type Client struct {
	baseURL    string // normalised, ends in /v1
	apiKey     string
	maxRetries int
	hc         *http.Client // for the calls no SDK covers (batches)
	userAgent  string

	responses responses.ResponseService
	chat      openai.ChatCompletionService
	models    openai.ModelService
	messages  anthropic.MessageService

	// now and sleep are swapped by tests so backoff is checked without
	// waiting; production uses the wall clock.
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// New checks the options and builds a Client. A missing API key or an
// invalid base URL is a configuration error (exit 4).
func New(o Options) (*Client, error) {
	base, err := NormalizeBaseURL(o.BaseURL)
	if err != nil {
		return nil, err
	}
	key := strings.TrimSpace(o.APIKey)
	if key == "" {
		return nil, exitcode.WithHint(exitcode.Config,
			errors.New("no Sail API key"),
			"set SAIL_API_KEY (or api_key in the config file), or run with --emulator")
	}
	if strings.ContainsAny(key, "\r\n") {
		return nil, exitcode.WithHint(exitcode.Config,
			errors.New("the Sail API key contains a line break"),
			"set SAIL_API_KEY to the key alone, without newline")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	retries := o.MaxRetries
	switch {
	case retries == 0:
		retries = DefaultMaxRetries
	case retries < 0:
		retries = 0
	}

	c := &Client{baseURL: base, apiKey: key, maxRetries: retries, hc: hc, userAgent: o.UserAgent, now: time.Now, sleep: sleepCtx}

	// The services are built directly rather than through openai.NewClient /
	// anthropic.NewClient: those prepend defaults read from OPENAI_* and
	// ANTHROPIC_* variables (keys, base URLs, org headers, profiles), which
	// must never reach Sail.
	oopts := []option.RequestOption{
		option.WithHTTPClient(hc),
		option.WithBaseURL(base + "/"),
		option.WithAPIKey(key),
		option.WithMaxRetries(retries),
	}
	if o.UserAgent != "" {
		oopts = append(oopts, option.WithHeader("User-Agent", o.UserAgent))
	}
	c.responses = responses.NewResponseService(oopts...)
	c.chat = openai.NewChatCompletionService(oopts...)
	c.models = openai.NewModelService(oopts...)

	aopts := []aoption.RequestOption{
		aoption.WithHTTPClient(hc),
		aoption.WithBaseURL(anthropicBase(base)),
		aoption.WithAPIKey(key),    // x-api-key, as Anthropic's API expects
		aoption.WithAuthToken(key), // Authorization: Bearer, as Sail documents everywhere
		aoption.WithMaxRetries(retries),
	}
	if o.UserAgent != "" {
		aopts = append(aopts, aoption.WithHeader("User-Agent", o.UserAgent))
	}
	c.messages = anthropic.NewMessageService(aopts...)
	return c, nil
}

// BaseURL is the normalised base URL, ending in /v1.
func (c *Client) BaseURL() string { return c.baseURL }

// call is the bookkeeping of one logical call (all its attempts): it sees
// every attempt's answer through a middleware so the final error answer can
// be turned into an *APIError whatever shape its body has, which the SDKs'
// own error types cannot do for non-JSON bodies.
type call struct {
	c       *Client
	method  string
	path    string
	secrets []string
	last    *APIError // the error answer of the latest attempt, nil if it succeeded or got none
}

func (c *Client) newCall(method, path string, secrets ...string) *call {
	return &call{c: c, method: method, path: path, secrets: append([]string{c.apiKey}, secrets...)}
}

// middleware records the latest attempt's error answer. The SDKs run
// attempts one after another, so no locking is needed.
func (k *call) middleware(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	res, err := next(req)
	k.last = nil
	if err != nil || res == nil || res.StatusCode < 400 {
		return res, err
	}
	body, rerr := readLimited(res.Body, maxErrorBody)
	_ = res.Body.Close()
	if rerr != nil {
		// Let the SDK see a broken body as the connection error it is.
		return nil, rerr
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	k.last = newAPIError(k.method, k.path, res, body, k.c.now(), k.redact)
	return res, nil
}

// redact hides every secret this call sent (API key, webhook token) in
// server-provided text: some servers echo a bad key back in the message.
func (k *call) redact(s string) string {
	for _, sec := range k.secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "•••")
		}
	}
	return s
}

// finish turns the SDK's error into one of the package's typed errors.
func (k *call) finish(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if k.last != nil {
		return k.last
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s %s: %w", k.method, k.path, ctxErr)
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typ) {
		return &MalformedError{Method: k.method, Path: k.path, Err: err}
	}
	var uerr *url.Error
	if errors.As(err, &uerr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &NetworkError{Method: k.method, Path: k.path, BaseURL: k.c.baseURL, Err: errors.New(k.redact(unwrapURLError(err).Error()))}
	}
	return fmt.Errorf("%s %s: %s", k.method, k.path, k.redact(err.Error()))
}

// unwrapURLError drops the url.Error's "Post \"http://…\":" prefix; the
// NetworkError names the base URL itself.
func unwrapURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) && uerr.Err != nil {
		return uerr.Err
	}
	return err
}

// decode parses a 2xx body into a Response.
func (k *call) decode(raw []byte, want Endpoint) (*Response, error) {
	r, err := ParseResponse(raw)
	if err == nil && r.ID == "" {
		err = errors.New(`no "id" in the answer`)
	}
	if err != nil {
		return nil, &MalformedError{Method: k.method, Path: k.path, Err: err, Body: k.redact(shorten(string(raw), 120))}
	}
	if r.Endpoint != want && want != "" {
		// The body shape decides Object; the call decides Endpoint.
		r.Endpoint = want
	}
	return r, nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

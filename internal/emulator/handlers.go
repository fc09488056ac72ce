package emulator

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/sailresearch/sail/internal/sailspec"
)

// Models are the models Sail serves, in the order GET /v1/models lists them.
var Models = []string{
	"moonshotai/Kimi-K2.5",
	"moonshotai/Kimi-K2.6",
	"zai-org/GLM-5",
	"openai/gpt-oss-20b",
	"openai/gpt-oss-120b",
	"deepseek-ai/DeepSeek-V3.2",
}

// modelsCreated is a fixed "created" timestamp so GET /v1/models is stable.
const modelsCreated = 1764000000

func knownModel(m string) bool {
	for _, k := range Models {
		if k == m {
			return true
		}
	}
	return false
}

// ServeHTTP implements http.Handler: the /v1 API and
// GET /_emulator/deliveries.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	// The Anthropic SDKs authenticate with x-api-key and look for a
	// Request-Id header; errors are in OpenAI's envelope everywhere, as
	// Sail's reference has them.
	anthropic := p == "/v1/messages" || strings.HasPrefix(p, "/v1/messages/")
	w.Header().Set("Content-Type", "application/json")
	if anthropic {
		w.Header().Set("Request-Id", newID("req_"))
	} else {
		w.Header().Set("X-Request-Id", newID("req_"))
	}
	if p == "/_emulator/stats" {
		if !allow(w, r, http.MethodGet) {
			return
		}
		_ = json.NewEncoder(w).Encode(e.Stats())
		return
	}
	if p == "/_emulator/deliveries" {
		if !allow(w, r, http.MethodGet) {
			return
		}
		e.serveDeliveries(w, r)
		return
	}
	if !strings.HasPrefix(p, "/v1/") {
		writeError(w, notFound("unknown_url", "Invalid URL (%s %s): the emulator serves /v1/... and /_emulator/deliveries.", r.Method, p))
		return
	}
	e.requests.Add(1)
	keyHash, aerr := e.authenticate(r, anthropic)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	switch {
	case p == "/v1/models":
		if allow(w, r, http.MethodGet) {
			e.serveModels(w)
		}
	case strings.HasPrefix(p, "/v1/models/"):
		if allow(w, r, http.MethodGet) {
			e.serveModel(w, strings.TrimPrefix(p, "/v1/models/"))
		}
	case p == "/v1/responses":
		if allow(w, r, http.MethodPost) {
			e.createResponse(w, r, keyHash)
		}
	case strings.HasPrefix(p, "/v1/responses/"):
		rest := strings.TrimPrefix(p, "/v1/responses/")
		if id, ok := strings.CutSuffix(rest, "/cancel"); ok && !strings.Contains(id, "/") {
			if allow(w, r, http.MethodPost) {
				body, aerr := e.cancel(id)
				writeBytes(w, body, aerr)
			}
			return
		}
		if strings.Contains(rest, "/") {
			writeError(w, notFound("unknown_url", "Invalid URL (%s %s).", r.Method, p))
			return
		}
		if allow(w, r, http.MethodGet) {
			body, ok := e.get(rest)
			if !ok {
				writeError(w, notFound("", "No response found with id '%s'.", rest))
				return
			}
			writeBytes(w, body, nil)
		}
	case p == "/v1/batches" || strings.HasPrefix(p, "/v1/batches/"):
		e.serveBatches(w, r, keyHash)
	case p == "/v1/chat/completions":
		if allow(w, r, http.MethodPost) {
			e.createChat(w, r, keyHash)
		}
	case p == "/v1/messages":
		if allow(w, r, http.MethodPost) {
			e.createMessage(w, r, keyHash)
		}
	case p == "/v1/messages/count_tokens":
		if allow(w, r, http.MethodPost) {
			e.countTokens(w, r)
		}
	default:
		writeError(w, notFound("unknown_url", "Invalid URL (%s %s).", r.Method, p))
	}
}

// allow answers 405 unless r uses method.
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: "invalid_request_error",
		message: fmt.Sprintf("Method %s is not allowed on %s; use %s.", r.Method, r.URL.Path, method)})
	return false
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.noRetry {
		w.Header().Set("X-Should-Retry", "false")
	}
	w.WriteHeader(e.status)
	w.Write(e.envelope())
}

func writeBytes(w http.ResponseWriter, body []byte, aerr *apiError) {
	writeBytesStatus(w, http.StatusOK, body, aerr)
}

func writeBytesStatus(w http.ResponseWriter, status int, body []byte, aerr *apiError) {
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	w.WriteHeader(status)
	w.Write(body)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, &apiError{status: http.StatusInternalServerError, typ: "server_error", message: "encoding the answer: " + err.Error()})
		return
	}
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// authenticate checks the API key: Authorization: Bearer everywhere, and
// x-api-key on the Anthropic endpoints. It returns a hash of the key, which
// scopes idempotency keys without keeping the key itself.
func (e *Emulator) authenticate(r *http.Request, anthropic bool) ([32]byte, *apiError) {
	key := ""
	if scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		key = strings.TrimSpace(cred)
	}
	if anthropic && key == "" {
		key = strings.TrimSpace(r.Header.Get("X-Api-Key"))
	}
	if key == "" {
		msg := "You didn't provide an API key. Send your Sail API key as Authorization: Bearer YOUR_KEY (set SAIL_API_KEY)."
		if anthropic {
			msg = "x-api-key header is required (or send Authorization: Bearer YOUR_KEY)."
		}
		return [32]byte{}, &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", message: msg}
	}
	h := sha256.Sum256([]byte(key))
	if e.o.APIKey != "" {
		want := sha256.Sum256([]byte(e.o.APIKey))
		// Hashes have equal length, so the comparison time says nothing
		// about the key's length either.
		if subtle.ConstantTimeCompare(h[:], want[:]) != 1 {
			return h, &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "invalid_api_key",
				message: "Incorrect API key provided. Check SAIL_API_KEY (the emulator was started with a fixed key)."}
		}
	}
	return h, nil
}

func (e *Emulator) serveModels(w http.ResponseWriter) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	data := make([]model, 0, len(Models))
	for _, m := range Models {
		owner, _, _ := strings.Cut(m, "/")
		data = append(data, model{ID: m, Object: "model", Created: modelsCreated, OwnedBy: owner})
	}
	writeJSON(w, map[string]any{"object": "list", "data": data})
}

func (e *Emulator) serveModel(w http.ResponseWriter, id string) {
	if !knownModel(id) {
		writeError(w, modelNotFound(id))
		return
	}
	owner, _, _ := strings.Cut(id, "/")
	writeJSON(w, map[string]any{"id": id, "object": "model", "created": modelsCreated, "owned_by": owner})
}

func modelNotFound(m string) *apiError {
	e := notFound("model_not_found", "The model `%s` does not exist or you do not have access to it. GET /v1/models lists the models.", m)
	e.param = "model"
	return e
}

func (e *Emulator) serveDeliveries(w http.ResponseWriter, r *http.Request) {
	all := e.Attempts()
	if id := r.URL.Query().Get("response_id"); id != "" {
		kept := all[:0]
		for _, a := range all {
			if a.ResponseID == id {
				kept = append(kept, a)
			}
		}
		all = kept
	}
	writeJSON(w, all)
}

// readBody reads a request body of at most maxBody bytes. The content type
// is not checked: like the real APIs, any body that parses as JSON is fine.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error",
				message: fmt.Sprintf("Request body larger than %d bytes; send a smaller request.", maxBody)}
		}
		return nil, invalid("", "Reading the request body: %v.", err)
	}
	return b, nil
}

// canonicalHash hashes body as canonical JSON (sorted keys, no spacing), so
// an idempotent retry matches even if a client re-encodes the same request.
func canonicalHash(body []byte) [32]byte {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if d.Decode(&v) == nil {
		if c, err := json.Marshal(v); err == nil {
			body = c
		}
	}
	return sha256.Sum256(body)
}

// idempotencyHeader names the header that carries an idempotency key on
// ep: Sail takes Anthropic's name on /v1/messages and Idempotency-Key on
// the other creates. Each endpoint reads only its own.
func idempotencyHeader(ep endpoint) string { return sailspec.IdempotencyHeader(ep.path()) }

// idempotencyKey validates the endpoint's idempotency header; "" when absent.
func idempotencyKey(r *http.Request, ep endpoint) (string, *apiError) {
	return idempotencyKeyAt(r, ep.path())
}

// idempotencyKeyAt validates the idempotency header of the create at path
// (a model endpoint or /v1/batches); "" when absent.
func idempotencyKeyAt(r *http.Request, path string) (string, *apiError) {
	h := sailspec.IdempotencyHeader(path)
	k := r.Header.Get(h)
	if len(k) > sailspec.MaxIdempotencyKey {
		return "", invalidCode(h, sailspec.IdempotencyErrorCode,
			"%s is %d characters long; the maximum is %d.", h, len(k), sailspec.MaxIdempotencyKey)
	}
	return k, nil
}

// common is what every create endpoint shares after its own validation.
type common struct {
	model      string
	metadata   map[string]string
	background bool
	gen        generation
}

// newObjectID is a fresh id for the object ep answers with, prefixed as
// OpenAI and Anthropic prefix theirs.
func (ep endpoint) newObjectID() string {
	switch ep {
	case epChat:
		return newID("chatcmpl-")
	case epMessages:
		return newID("msg_")
	}
	return newID("resp_")
}

// prepare parses the fault key of c.metadata and builds the job.
func (e *Emulator) prepare(ep endpoint, c common) (*job, *apiError) {
	f := e.base
	if v, ok := c.metadata[FaultKey]; ok {
		var err error
		if f, err = parseFaults(v, e.base); err != nil {
			return nil, invalidCode("metadata."+FaultKey, "invalid_value",
				"Invalid 'metadata.%s': %v. See `sail emulator --help` for the syntax.", FaultKey, err)
		}
	}
	if f.outcome == StatusIncomplete {
		c.gen = c.gen.halve()
	}
	return &job{
		id: ep.newObjectID(), ep: ep, background: c.background, createdAt: e.now(),
		model: c.model, metadata: c.metadata, outputMsgID: newID("msg_"),
		gen: c.gen, f: f, webhookURL: webhookURL(c.metadata), token: c.metadata["webhook_token"], names: e.o.StatusNames,
		done: make(chan struct{}), cancelCh: make(chan struct{}),
	}, nil
}

// start admits j, or under an idempotency key returns the response the key
// already created (same body) or an idempotency_error (different body).
// Keys are scoped per endpoint and API key.
func (e *Emulator) start(j *job, idemKey string, keyHash [32]byte, bodyHash [32]byte) (*job, []byte, *apiError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	scoped := ""
	if idemKey != "" {
		scoped = string(j.ep) + "\x00" + string(keyHash[:]) + "\x00" + idemKey
		if prev, ok := e.idem[scoped]; ok {
			if prev.hash != bodyHash {
				h := idempotencyHeader(j.ep)
				return nil, nil, invalidCode(h, sailspec.IdempotencyErrorCode,
					"This %s was already used with a different request body; use a new key for a new request.", h)
			}
			if pj := e.jobs[prev.id]; pj != nil {
				return pj, pj.snapshot, nil
			}
		}
	}
	if aerr := e.admitLocked(j); aerr != nil {
		return nil, nil, aerr
	}
	if scoped != "" {
		j.idemKey = scoped
		e.idem[scoped] = idemEntry{hash: bodyHash, id: j.id}
	}
	e.log.Debug("response created", "id", j.id, "endpoint", string(j.ep), "background", j.background, "webhook", j.webhookURL != "")
	return j, j.snapshot, nil
}

// wait blocks until j is terminal; false (after answering) when the client
// went away or the emulator is closing.
func (e *Emulator) wait(w http.ResponseWriter, r *http.Request, j *job) bool {
	select {
	case <-j.done:
		return true
	case <-r.Context().Done():
		return false
	case <-e.stopCtx.Done():
		select {
		case <-j.done:
			return true
		default:
		}
		writeError(w, &apiError{status: http.StatusServiceUnavailable, typ: "server_error",
			message: "The emulator shut down before the response finished.", noRetry: true})
		return false
	}
}

// begin runs the shared part of every create: body, idempotency, validation
// by parse, job start. parse validates the endpoint's fields. It returns the
// job and its snapshot as of creation (queued for a new job, the current
// state for an idempotent replay), or nil after answering an error.
func (e *Emulator) begin(w http.ResponseWriter, r *http.Request, ep endpoint, keyHash [32]byte,
	parse func(fields) (common, *apiError)) (*job, []byte) {
	idemKey, aerr := idempotencyKey(r, ep)
	if aerr != nil {
		writeError(w, aerr)
		return nil, nil
	}
	body, aerr := readBody(w, r)
	if aerr != nil {
		writeError(w, aerr)
		return nil, nil
	}
	f, aerr := decodeBody(body)
	if aerr != nil {
		writeError(w, aerr)
		return nil, nil
	}
	if stream, aerr := f.boolean("stream"); aerr != nil || stream {
		if aerr == nil {
			aerr = invalidCode("stream", "unsupported_value", "Streaming is not emulated: omit stream (or send false) and read the answer, poll GET /v1/responses/{id}, or use a completion webhook.")
		}
		writeError(w, aerr)
		return nil, nil
	}
	c, aerr := parse(f)
	if aerr != nil {
		writeError(w, aerr)
		return nil, nil
	}
	j, aerr := e.prepare(ep, c)
	if aerr != nil {
		writeError(w, aerr)
		return nil, nil
	}
	j, snap, aerr := e.start(j, idemKey, keyHash, canonicalHash(body))
	if aerr != nil {
		writeError(w, aerr)
		return nil, nil
	}
	return j, snap
}

// requireModel returns the known model named by the model field.
func requireModel(f fields) (string, *apiError) {
	m, ok, aerr := f.str("model")
	if aerr != nil {
		return "", aerr
	}
	if !ok || m == "" {
		return "", invalidCode("model", "missing_required_parameter", "Missing required parameter: 'model'.")
	}
	if !knownModel(m) {
		return "", modelNotFound(m)
	}
	return m, nil
}

func parseResponsesRequest(f fields) (common, *apiError) {
	var c common
	var aerr *apiError
	if c.model, aerr = requireModel(f); aerr != nil {
		return c, aerr
	}
	prompt, all, aerr := responsesInput(f)
	if aerr != nil {
		return c, aerr
	}
	instructions, _, aerr := f.str("instructions")
	if aerr != nil {
		return c, aerr
	}
	maxTokens, aerr := f.positiveInt("max_output_tokens")
	if aerr != nil {
		return c, aerr
	}
	if c.background, aerr = f.boolean("background"); aerr != nil {
		return c, aerr
	}
	if aerr = f.generation(epResponses); aerr != nil {
		return c, aerr
	}
	// A top-level completion_window is not in the reference's schema:
	// ignored, as Sail would. The window Sail reads is in metadata.
	if c.metadata, aerr = f.metadata(); aerr != nil {
		return c, aerr
	}
	if aerr = checkWindow(c.metadata, epResponses, c.background); aerr != nil {
		return c, aerr
	}
	if instructions != "" {
		all = instructions + "\n" + all
	}
	c.gen = generate(prompt, all, maxTokens)
	return c, nil
}

// responsesInput reads the Responses "input": a non-empty string, or a
// non-empty array of items whose last user message is the prompt.
func responsesInput(f fields) (prompt, all string, aerr *apiError) {
	raw := f["input"]
	if isNull(raw) {
		return "", "", invalidCode("input", "missing_required_parameter", "Missing required parameter: 'input'.")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return "", "", invalidCode("input", "empty_string", "Invalid 'input': empty string. Expected a string with minimum length 1.")
		}
		return s, s, nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return "", "", typeError("input", "a string or an array", raw)
	}
	if len(items) == 0 {
		return "", "", invalidCode("input", "empty_array", "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.")
	}
	for i, it := range items {
		var m message
		if json.Unmarshal(it, &m) != nil {
			return "", "", typeError(fmt.Sprintf("input[%d]", i), "an object", it)
		}
		text := textOf(m.Content)
		if all != "" {
			all += "\n"
		}
		all += text
		if m.Role == "user" {
			prompt = text
		}
	}
	return prompt, all, nil
}

func (e *Emulator) createResponse(w http.ResponseWriter, r *http.Request, keyHash [32]byte) {
	j, snap := e.begin(w, r, epResponses, keyHash, parseResponsesRequest)
	if j == nil {
		return
	}
	// Sail answers a background create with 202 (accepted, not done) and a
	// foreground one with 200 once it is terminal.
	if j.background {
		writeBytesStatus(w, http.StatusAccepted, snap, nil)
		return
	}
	if !e.wait(w, r, j) {
		return
	}
	writeBytes(w, e.snapshotOf(j), nil)
}

package sail

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/sailresearch/sail/internal/exitcode"
)

// checkID rejects ids that would change the request path.
func checkID(id string) error {
	if strings.TrimSpace(id) == "" {
		return exitcode.New(exitcode.Usage, "no response id given")
	}
	if strings.ContainsAny(id, "/?#%\\ \t\r\n") {
		return exitcode.New(exitcode.Usage, "invalid response id %q", id)
	}
	return nil
}

// Get fetches GET /v1/responses/{id}. Only ids from the responses endpoint
// can be fetched. It retries like every call (Options.MaxRetries).
func (c *Client) Get(ctx context.Context, id string) (*Response, error) {
	return c.get(ctx, id, c.maxRetries)
}

func (c *Client) get(ctx context.Context, id string, retries int) (*Response, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	k := c.newCall(http.MethodGet, "/v1/responses/"+url.PathEscape(id))
	var raw []byte
	_, err := c.responses.Get(ctx, id, responses.ResponseGetParams{},
		option.WithMiddleware(k.middleware),
		option.WithResponseBodyInto(&raw),
		option.WithMaxRetries(retries),
	)
	if err := k.finish(ctx, err); err != nil {
		return nil, err
	}
	return k.decode(raw, Responses)
}

// Cancel sends POST /v1/responses/{id}/cancel and returns the response as
// the server answered. Sail's later docs mark cancel unsupported: a 404 or
// 405 gives an error matching ErrCancelUnsupported (and *APIError) that
// says so.
func (c *Client) Cancel(ctx context.Context, id string) (*Response, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	k := c.newCall(http.MethodPost, "/v1/responses/"+url.PathEscape(id)+"/cancel")
	var raw []byte
	_, err := c.responses.Cancel(ctx, id,
		option.WithMiddleware(k.middleware),
		option.WithResponseBodyInto(&raw),
	)
	if err := k.finish(ctx, err); err != nil {
		var api *APIError
		if errors.As(err, &api) && (api.StatusCode == http.StatusNotFound || api.StatusCode == http.StatusMethodNotAllowed) {
			return nil, &cancelError{id: id, api: api}
		}
		return nil, err
	}
	return k.decode(raw, Responses)
}

// Model is one entry of GET /v1/models.
type Model struct {
	ID      string
	OwnedBy string
	Created int64 // Unix seconds; 0 when the server omits it
}

// Models lists GET /v1/models.
func (c *Client) Models(ctx context.Context) ([]Model, error) {
	k := c.newCall(http.MethodGet, "/v1/models")
	var raw []byte
	_, err := c.models.List(ctx, option.WithMiddleware(k.middleware), option.WithResponseBodyInto(&raw))
	if err := k.finish(ctx, err); err != nil {
		return nil, err
	}
	// The body is decoded here rather than by the SDK so that a truncated
	// or non-JSON answer is reported as malformed, not as a network error.
	var list struct {
		Data []struct {
			ID      string `json:"id"`
			OwnedBy string `json:"owned_by"`
			Created int64  `json:"created"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, &MalformedError{Method: k.method, Path: k.path, Err: err, Body: shorten(string(raw), 120)}
	}
	out := make([]Model, 0, len(list.Data))
	for _, m := range list.Data {
		if m.ID == "" {
			continue
		}
		out = append(out, Model{ID: m.ID, OwnedBy: m.OwnedBy, Created: m.Created})
	}
	return out, nil
}

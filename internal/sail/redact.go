package sail

import "fmt"

// The types below hold secrets (the API key, the webhook token). Their
// String and GoString methods keep those out of any %v, %+v or %#v that a
// log line or error message might apply to them.

// String describes the client without its key.
func (c *Client) String() string {
	if c == nil {
		return "sail.Client(nil)"
	}
	return fmt.Sprintf("sail.Client(%s)", c.baseURL)
}

// GoString is String, so %#v does not dump the key either.
func (c *Client) GoString() string { return c.String() }

// String describes the options with the key redacted.
func (o Options) String() string {
	return fmt.Sprintf("sail.Options{BaseURL:%q APIKey:%s UserAgent:%q MaxRetries:%d}",
		o.BaseURL, mask(o.APIKey), o.UserAgent, o.MaxRetries)
}

// GoString is String.
func (o Options) GoString() string { return o.String() }

// String describes the request with the webhook token redacted.
func (r CreateRequest) String() string {
	return fmt.Sprintf("sail.CreateRequest{Endpoint:%s Model:%q Input:%d bytes Background:%t WebhookURL:%q WebhookToken:%s Metadata:%d keys CompletionWindow:%q}",
		r.Endpoint, r.Model, len(r.Input), r.Background, r.WebhookURL, mask(r.WebhookToken), len(r.Metadata), r.CompletionWindow)
}

// GoString is String.
func (r CreateRequest) GoString() string { return r.String() }

func mask(secret string) string {
	if secret == "" {
		return `""`
	}
	return "•••"
}

package secret

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

const tok = "tok_SECRET_0123456789abcdef"

func TestHeaders(t *testing.T) {
	h := http.Header{
		"Authorization":       {"Bearer " + tok},
		"Proxy-Authorization": {"Basic dXNlcjpwYXNz"},
		"Cookie":              {"a=1", "b=2"},
		"X-Api-Key":           {"sk-123"},
		"X-Webhook-Token":     {"t"},
		"Accept":              {"a", "b"},
		"Content-Type":        {"application/json"},
	}
	h.Add("X-Odd-Auth", "x")
	got := Headers(h)
	want := map[string]string{
		"Authorization":       "Bearer •••",
		"Proxy-Authorization": "Basic •••",
		"Cookie":              "•••",
		"X-Api-Key":           "•••",
		"X-Webhook-Token":     "•••",
		"Accept":              "a, b",
		"Content-Type":        "application/json",
		"X-Odd-Auth":          "x",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Headers:\n got %v\nwant %v", got, want)
	}
	for _, v := range []string{tok, "", "Bearer", "Bearer  ", "weird!scheme secret"} {
		if got := Headers(http.Header{"Authorization": {v}})["Authorization"]; got != "•••" && got != "Bearer •••" {
			t.Errorf("Authorization %q → %q", v, got)
		} else if strings.Contains(got, "secret") || strings.Contains(got, "tok_") {
			t.Errorf("Authorization %q leaked: %q", v, got)
		}
	}
}

func TestHeadersToken(t *testing.T) {
	h := http.Header{
		"User-Agent":   {"agent/" + tok},
		"X-Signature":  {tok},
		"Content-Type": {"application/json; sig=" + tok},
		"X-Encoded":    {"a%5F" + strings.ReplaceAll(tok, "_", "%5F")},
		"X-" + tok:     {"v"},
		"Accept":       {"*/*"},
	}
	got := Headers(h, tok, "")
	for name, v := range got {
		if strings.Contains(name+v, tok) || strings.Contains(name+v, "SECRET") {
			t.Errorf("%s: %s keeps the token", name, v)
		}
	}
	if got["User-Agent"] != "agent/"+Mask || got["Accept"] != "*/*" || got["X-Encoded"] != Mask {
		t.Errorf("Headers = %v", got)
	}
	// A token below the floor is not searched for: it would mask words.
	if got := Headers(http.Header{"Accept": {"json"}}, "json"); got["Accept"] != "json" {
		t.Errorf("short token masked: %v", got)
	}
}

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://user:pass@127.0.0.1:3000/hook", "http://" + Mask + "@127.0.0.1:3000/hook"},
		{"https://tok@example.com/a?x=1&token=abc&sig=def#f", "https://" + Mask + "@example.com/a?x=1&token=" + Mask + "&sig=" + Mask + "#f"},
		{"http://localhost:3000/webhooks/sail", "http://localhost:3000/webhooks/sail"},
		{"http://user:pa ss@[bad/x", "http://" + Mask + "@[bad/x"},
		{"not a url", "not a url"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

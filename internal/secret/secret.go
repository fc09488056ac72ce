// Package secret masks credentials wherever sail shows or stores them
// outside a payload's JSON: HTTP header values and URLs. internal/payload
// masks them inside bodies with the same Mask and MinLen.
package secret

import (
	"net/http"
	"net/url"
	"strings"
)

// Mask replaces secrets (webhook tokens, API keys) wherever the project
// displays or stores them.
const Mask = "•••"

// MinLen is the shortest webhook token sail accepts (`--token` refuses
// shorter ones): masking a shorter string wherever it appears would mangle
// ordinary words, and not masking it would leak it. Tokens of at least
// this length are searched for everywhere; metadata.webhook_token is
// masked whatever its length.
const MinLen = 16

// Headers flattens h into one value per name (joined with ", ") and
// masks credentials: Authorization and Proxy-Authorization keep their
// scheme ("Bearer •••"); Cookie, Set-Cookie, X-Api-Key and any header
// whose name mentions a token, secret, password, session or API key become
// "•••". Each of tokens (of at least MinLen bytes) is masked wherever
// it appears in a name or value, and a value that spells one
// percent-encoded is masked whole. Names keep the spelling they have in h.
func Headers(h http.Header, tokens ...string) map[string]string {
	out := make(map[string]string, len(h))
	for name, vals := range h {
		var v string
		switch sensitivity(name) {
		case keepScheme:
			masked := make([]string, len(vals))
			for i, v := range vals {
				masked[i] = maskCredential(v)
			}
			v = strings.Join(masked, ", ")
		case maskAll:
			v = Mask
		default:
			v = strings.Join(vals, ", ")
		}
		out[maskTokens(name, tokens)] = maskTokens(v, tokens)
	}
	return out
}

func maskTokens(s string, tokens []string) string {
	for _, t := range tokens {
		if len(t) < MinLen {
			continue
		}
		s = strings.ReplaceAll(s, t, Mask)
		if strings.IndexByte(s, '%') >= 0 {
			if u, err := url.QueryUnescape(s); err == nil && strings.Contains(u, t) {
				return Mask
			}
		}
	}
	return s
}

// URL hides the credentials of a URL for display: the user
// information becomes "•••" and so do the values of query parameters whose
// name mentions a token, secret, password, session, signature or API key.
// Text that does not parse as a URL is returned with anything between
// "://" and an "@" masked.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		scheme, rest, ok := strings.Cut(raw, "://")
		if at := strings.LastIndexByte(rest, '@'); ok && at >= 0 {
			return scheme + "://" + Mask + "@" + rest[at+1:]
		}
		return raw
	}
	hadUser, changed := u.User != nil, u.User != nil
	u.User = nil
	if u.RawQuery != "" {
		params := strings.Split(u.RawQuery, "&")
		for i, p := range params {
			if k, _, ok := strings.Cut(p, "="); ok && (sensitivity(k) != public || strings.Contains(strings.ToLower(k), "sig")) {
				params[i], changed = k+"="+Mask, true
			}
		}
		u.RawQuery = strings.Join(params, "&")
	}
	if !changed {
		return raw
	}
	s := u.String()
	if hadUser {
		if scheme, rest, ok := strings.Cut(s, "//"); ok {
			s = scheme + "//" + Mask + "@" + rest
		}
	}
	return s
}

type headerClass uint8

const (
	public headerClass = iota
	keepScheme
	maskAll
)

func sensitivity(name string) headerClass {
	var buf [64]byte
	n := name
	if len(name) <= len(buf) {
		// Lower-case without allocating: this runs for every header of every delivery.
		for i := 0; i < len(name); i++ {
			c := name[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		n = string(buf[:len(name)]) // does not escape: only compared below
	} else {
		n = strings.ToLower(name)
	}
	switch n {
	case "authorization", "proxy-authorization":
		return keepScheme
	case "cookie", "set-cookie", "x-api-key", "api-key":
		return maskAll
	}
	for _, w := range []string{"token", "secret", "password", "session", "api-key", "apikey", "api_key"} {
		if strings.Contains(n, w) {
			return maskAll
		}
	}
	return public
}

// maskCredential keeps an auth scheme such as "Bearer" and masks the rest.
func maskCredential(v string) string {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || strings.TrimSpace(rest) == "" || !isScheme(scheme) {
		return Mask
	}
	return scheme + " " + Mask
}

func isScheme(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

package sail

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/secret"
)

// DefaultBaseURL is Sail's public API, in normalised form.
const DefaultBaseURL = "https://api.sailresearch.com/v1"

// NormalizeBaseURL turns what a user may put in SAIL_API_URL into the one
// form the client uses: scheme://host[:port][/prefix]/v1, without a trailing
// slash. "" gives DefaultBaseURL; a host with or without "/v1" and with or
// without a trailing slash all normalise the same. Scheme and host are
// lower-cased. A URL without http(s) scheme or host, or one carrying
// credentials, a query or a fragment, is a configuration error (exit 4):
// credentials in a URL would end up in error messages and logs.
func NormalizeBaseURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultBaseURL, nil
	}
	bad := func(why string) error {
		return exitcode.WithHint(exitcode.Config,
			fmt.Errorf("invalid Sail API URL %q: %s", secret.URL(s), why),
			"set SAIL_API_URL to an absolute URL such as https://api.sailresearch.com/v1 (or http://127.0.0.1:PORT for a local emulator)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", bad("cannot parse it")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", bad("it must start with http:// or https://")
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", bad("it has no host")
	}
	if u.User != nil {
		return "", bad("it must not contain credentials; use SAIL_API_KEY")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", bad("it must not have a query or fragment")
	}
	u.Host = strings.ToLower(u.Host)
	path := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(path, "/v1") {
		path += "/v1"
	}
	u.Path = path
	u.RawPath = ""
	return u.String(), nil
}

// IsLoopback reports whether baseURL points at this machine (127.0.0.0/8,
// ::1, localhost or a *.localhost name), as a local emulator does. A URL
// that does not parse is not loopback.
func IsLoopback(baseURL string) bool {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return false
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" {
		return false
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i] // an IPv6 zone (::1%lo0) does not change the address
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// anthropicBase derives the Anthropic SDK's base URL (which appends
// "v1/messages" itself) from a normalised base URL.
func anthropicBase(normalized string) string {
	return strings.TrimSuffix(normalized, "/v1") + "/"
}

package listen

import (
	"strings"

	"github.com/sailresearch/sail/internal/event"
)

// tokenVar names the token in the lines listen prints when the token did
// not come from a variable of the user's own (--token-env).
const tokenVar = "SAIL_WEBHOOK_TOKEN"

// listenTry returns the commands `sail listen` offers to paste — a create
// whose completion webhook is this listener, and a test webhook to it —
// and, for a listener without a token, the warning that anyone with the
// URL can post. The token itself is never written out: it is referred to
// as a shell variable (the --token-env one when given), so the lines can
// sit in NDJSON, logs and scrollback.
func listenTry(url, tokenMode, tokenEnv string) (try []string, warning string) {
	u := shellQuote(url)
	create := "sail responses create --background --webhook-url " + u
	trigger := "sail trigger --to " + u
	if tokenMode == event.TokenModeNone || tokenMode == "" {
		return []string{create + ` "What is 2+2?"`, trigger},
			"No token: anyone who has this URL can post to it. Require one with --token VALUE, --token-env VAR or --token auto."
	}
	v := tokenEnv
	if v == "" {
		v = tokenVar
		what := "the value you gave --token"
		if tokenMode == event.TokenModeAuto {
			what = "the token printed above (--token auto)"
		}
		try = append(try, "# $"+v+": "+what)
	}
	ref := `"$` + v + `"`
	return append(try, create+" --webhook-token "+ref+` "What is 2+2?"`, trigger+" --token "+ref), ""
}

// shellQuote quotes s for a POSIX shell when it holds anything but the
// characters URLs are usually made of.
func shellQuote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+,=", r)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// autoToken is the token the view may show: only one sail made
// (--token auto), never one the user passed.
func autoToken(token string, generated bool) string {
	if !generated {
		return ""
	}
	return token
}

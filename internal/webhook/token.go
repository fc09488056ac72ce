package webhook

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/sailresearch/sail/internal/event"
)

// NewToken returns a webhook token of 256 random bits, base64url without
// padding (43 characters).
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// CheckToken compares an Authorization header with the expected token and
// returns an event.Verdict*: none when want is empty, missing when there is
// no bearer token, mismatch when one is presented but wrong (or another
// scheme is used), ok when it matches. The comparison takes the same time
// whatever the header holds: both sides are hashed first, so neither the
// content nor the length of the token leaks through timing.
func CheckToken(authHeader, want string) (verdict string) {
	if want == "" {
		return event.VerdictNone
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(authHeader), " ")
	if scheme == "" {
		return event.VerdictMissing
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return event.VerdictMismatch
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return event.VerdictMissing
	}
	got, exp := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(got[:], exp[:]) == 1 {
		return event.VerdictOK
	}
	return event.VerdictMismatch
}

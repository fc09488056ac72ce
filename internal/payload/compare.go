package payload

import (
	"bytes"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/jsondiff"
)

// Compare reports whether two payloads are the same JSON document, as
// jsondiff.Compare sees them, with metadata.webhook_token counted as
// equal when both sides have one, which is how a webhook body is checked
// against GET /v1/responses/{id}. diffs lists up to jsondiff.MaxDiffs
// paths where they differ, as jsondiff writes them. err is set when
// either side is not valid JSON.
func Compare(a, b []byte) (equal bool, diffs []string, err error) {
	c, err := compare(a, b)
	return c.Equal, c.Paths, err
}

// Comparison is what Diff found.
type Comparison struct {
	Equal bool
	Paths []string // as Compare returns them
	// Diffs gives, per path, both sides as compact JSON (at most 1 KiB
	// each, longer values cut and ending in "…"; an absent side is "").
	Diffs []event.Difference
}

// Diff compares a webhook body with GET's answer like Compare, on copies
// of both redacted with token, so that the values it returns are safe to
// show and a secret masked on one side only does not count as a change.
func Diff(webhook, get []byte, token string) (Comparison, error) {
	return compare(Redact(bytes.Clone(webhook), token), Redact(bytes.Clone(get), token))
}

func compare(a, b []byte) (Comparison, error) {
	ds, err := jsondiff.Compare(a, b, isToken)
	c := Comparison{Equal: err == nil && len(ds) == 0}
	for _, d := range ds {
		c.Paths = append(c.Paths, d.Path)
		c.Diffs = append(c.Diffs, event.Difference{Path: d.Path, Webhook: d.A, Get: d.B})
	}
	return c, err
}

// isToken tells the root metadata.webhook_token, which Redact masks: on
// both sides, it is equal whatever its value.
func isToken(path []any) bool {
	return len(path) == 2 && path[0] == "metadata" && path[1] == "webhook_token"
}

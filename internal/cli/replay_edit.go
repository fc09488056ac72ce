package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
)

// editBody applies `sail replay --edit` then every --set to body.
func editBody(ctx context.Context, streams *iostreams.IOStreams, env config.Env, body []byte, edit bool, sets []string) ([]byte, error) {
	if edit {
		var err error
		if body, err = editInEditor(ctx, streams, env, body); err != nil {
			return nil, err
		}
	}
	if len(sets) > 0 && !json.Valid(body) {
		return nil, exitcode.WithHint(exitcode.Usage, errors.New("--set: this delivery's stored body is not JSON (it was rejected or cut short)"), "use --edit to change it by hand")
	}
	for _, s := range sets {
		path, value, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			return nil, exitcode.WithHint(exitcode.Usage, fmt.Errorf("--set %q: want PATH=VALUE", s),
				`e.g. --set status=failed --set 'output.0.content.0.text="hi"' --set metadata.team=evals`)
		}
		var err error
		if body, err = setJSONPath(body, splitJSONPath(path), jsonValue(value)); err != nil {
			return nil, exitcode.WithHint(exitcode.Usage, fmt.Errorf("--set %s: %w", path, err), "paths are dot-separated keys and array indexes, e.g. output.0.status")
		}
	}
	return body, nil
}

// jsonValue is value itself when it is valid JSON (a number, true, an
// object, a quoted string…), otherwise value as a JSON string.
func jsonValue(value string) json.RawMessage {
	if v := strings.TrimSpace(value); v != "" && json.Valid([]byte(v)) {
		return json.RawMessage(v)
	}
	b, _ := json.Marshal(value)
	return b
}

// splitJSONPath splits "a.b[0].c" or "a.b.0.c" into its segments.
func splitJSONPath(p string) []string {
	p = strings.NewReplacer("[", ".", "]", "").Replace(p)
	var out []string
	for _, s := range strings.Split(p, ".") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// setJSONPath returns doc with the value at path replaced by (or, for a
// missing object key, added as) val. Everything else is kept byte for byte
// in its order, so an edit changes only what it names.
func setJSONPath(doc []byte, path []string, val json.RawMessage) ([]byte, error) {
	if len(path) == 0 {
		return val, nil
	}
	doc = bytes.TrimSpace(doc)
	switch {
	case len(doc) > 0 && doc[0] == '{':
		keys, vals, err := decodeObject(doc)
		if err != nil {
			return nil, err
		}
		i := indexOf(keys, path[0])
		if i < 0 {
			keys, vals = append(keys, path[0]), append(vals, json.RawMessage("{}"))
			i = len(keys) - 1
		}
		if vals[i], err = setJSONPath(vals[i], path[1:], val); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		b.WriteByte('{')
		for j, k := range keys {
			if j > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			b.Write(vals[j])
		}
		b.WriteByte('}')
		return b.Bytes(), nil
	case len(doc) > 0 && doc[0] == '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(doc, &elems); err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(path[0])
		if err != nil || n < 0 || n >= len(elems) {
			return nil, fmt.Errorf("%q is not an index of this %d-element array", path[0], len(elems))
		}
		if elems[n], err = setJSONPath(elems[n], path[1:], val); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		b.WriteByte('[')
		for j, e := range elems {
			if j > 0 {
				b.WriteByte(',')
			}
			b.Write(e)
		}
		b.WriteByte(']')
		return b.Bytes(), nil
	case len(doc) == 0 || string(doc) == "null":
		return setJSONPath([]byte("{}"), path, val)
	}
	return nil, fmt.Errorf("%q is inside a %s, not an object or array", path[0], jsonKind(doc))
}

func jsonKind(doc []byte) string {
	switch doc[0] {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	}
	return "number"
}

func indexOf(keys []string, k string) int {
	for i, x := range keys {
		if x == k {
			return i
		}
	}
	return -1
}

// decodeObject returns an object's keys and raw values in document order.
func decodeObject(doc []byte) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals, nil
}

// editInEditor opens body, indented, in $VISUAL or $EDITOR (default vi)
// and returns what was saved, which must be a JSON object.
func editInEditor(ctx context.Context, streams *iostreams.IOStreams, env config.Env, body []byte) ([]byte, error) {
	editor := env("VISUAL")
	if editor == "" {
		editor = env("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		pretty.Reset()
		pretty.Write(body)
	}
	pretty.WriteByte('\n')
	// The stored body is redacted, but it is still the user's data: a
	// private file, removed afterwards.
	tmp, err := os.CreateTemp("", "sail-replay-*.json")
	if err != nil {
		return nil, fmt.Errorf("--edit: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(pretty.Bytes()); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("--edit: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("--edit: %w", err)
	}
	argv := strings.Fields(editor) // EDITOR="code -w" is common
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], tmp.Name())...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = streams.In, streams.Out, streams.ErrOut
	if err := cmd.Run(); err != nil {
		return nil, exitcode.WithHint(exitcode.Error, fmt.Errorf("--edit: editor %q: %w; nothing was sent", argv[0], err),
			"set EDITOR (or VISUAL) to an editor that waits until the file is closed, e.g. EDITOR=\"code -w\"")
	}
	edited, err := os.ReadFile(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("--edit: %w", err)
	}
	edited = bytes.TrimSpace(edited)
	if len(edited) == 0 {
		return nil, exitcode.New(exitcode.Error, "--edit: the file was emptied; nothing was sent")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(edited, &obj); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			err = fmt.Errorf("%w (at byte %d)", err, se.Offset)
		}
		return nil, exitcode.WithHint(exitcode.Usage, fmt.Errorf("--edit: the edited body is not a JSON object: %v; nothing was sent", err), "run the replay again and fix the JSON")
	}
	return edited, nil
}

package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/store"
)

// TestNoNULInJSONOutput drives every --json output with data holding NUL
// (raw, and as \u0000 escapes) and requires valid JSON without a raw NUL
// byte: the escape is fine, the byte breaks tools that read C strings.
func TestNoNULInJSONOutput(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	hist := filepath.Join(home, "history")
	st, err := store.Open(hist, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range []*store.Record{
		{Summary: store.Summary{Verdict: "ok", HTTPStatus: 200, ResponseID: "resp_\x00a", Excerpt: "x\x00y"},
			Headers: map[string]string{"X-Evil": "a\x00b"}, Body: []byte(`{"id":"resp_\u0000a","text":"\u0000"}`)},
		{Summary: store.Summary{Verdict: "ok", HTTPStatus: 400, Error: "not JSON \x00"},
			Headers: map[string]string{}, Body: []byte("raw\x00bytes\x1b[31m")},
	} {
		if err := st.Save(rec); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	list, _ := os.ReadDir(hist)
	if len(list) == 0 {
		t.Fatal("nothing stored")
	}

	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/models":
			w.Write([]byte(`{"object":"list","data":[{"id":"m\u0000x","object":"model","created":1,"owned_by":"o\u0000"}]}`))
		case strings.HasPrefix(r.URL.Path, "/v1/responses/"):
			w.Write([]byte(`{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"m","metadata":{"k":"a\u0000b"},"output":[],"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2}}`))
		default:
			// The user's app, answering NUL bytes.
			w.Write([]byte("ok\x00\x00done"))
		}
	}))
	defer api.Close()
	cfgFile := filepath.Join(home, "config.toml")
	if err := os.WriteFile(cfgFile, []byte("ngrok_domain = \"a\\u0000b\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": home, "SAIL_HISTORY_DIR": hist, "SAIL_API_URL": api.URL, "SAIL_API_KEY": "k", "SAIL_CONFIG": cfgFile}

	for _, args := range [][]string{
		{"history", "--json", "--all"},
		{"history", "show", "--last", "--json"},
		{"models", "--json"},
		{"responses", "get", "resp_1"},
		{"config", "show", "--json"},
		{"trigger", "--to", api.URL + "/hook", "--json"},
		{"doctor", "--json"},
	} {
		code, out, errOut := runCLI(t, env, args...)
		if code != 0 && args[0] != "doctor" { // doctor: no ngrok here
			t.Errorf("%v: exit %d: %s", args, code, errOut)
			continue
		}
		if bytes.IndexByte([]byte(out), 0) >= 0 {
			t.Errorf("%v printed a raw NUL byte:\n%q", args, out)
		}
		if bytes.IndexByte([]byte(out), 0x1b) >= 0 {
			t.Errorf("%v printed a raw ESC byte:\n%q", args, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if !json.Valid([]byte(line)) {
				t.Errorf("%v: not JSON: %q", args, line)
			}
		}
		if !strings.Contains(out, `\u0000`) && args[0] != "trigger" && args[0] != "doctor" {
			t.Errorf("%v: the NUL was dropped rather than escaped:\n%s", args, out)
		}
	}
}

// TestPrintJSONSanitisedOnATerminal: an API answer printed on a terminal
// passes through the one sanitiser (a model's text can hold bidi and other
// format controls), stays valid JSON that means the same, and a pipe gets
// the compact bytes untouched.
func TestPrintJSONSanitisedOnATerminal(t *testing.T) {
	t.Parallel()
	raw := []byte("{\"id\":\"resp_1\",\"output_text\":\"a\u202eb\u2066c\"}")
	for _, tty := range []bool{true, false} {
		s, _, out, _ := iostreams.Test()
		s.StdoutTTY = tty
		if err := printJSON(s, raw); err != nil {
			t.Fatal(err)
		}
		got := out.Bytes()
		var want, have any
		json.Unmarshal(raw, &want)
		if err := json.Unmarshal(got, &have); err != nil || !reflect.DeepEqual(want, have) {
			t.Fatalf("tty %v: %q is not the same JSON as %q (%v)", tty, got, raw, err)
		}
		if raw := bytes.ContainsAny(got, "\u202e\u2066"); raw == tty {
			t.Errorf("tty %v: bidi controls raw in the output: %v (%q)", tty, raw, got)
		}
	}
}

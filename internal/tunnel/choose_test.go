package tunnel

import (
	"strings"
	"testing"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestChooseForListen(t *testing.T) {
	cases := []struct {
		provider  string
		authtoken bool
		publicURL string
		want      string
		noteHas   string
		exit      int // non-zero: want an error with this exit code
	}{
		{"auto", true, "", Ngrok, "NGROK_AUTHTOKEN", 0},
		{"", true, "https://x.example", Public, "--public-url", 0},
		{"auto", false, "https://x.example", Public, "--public-url", 0},
		{"auto", false, "", Local, "this machine only", 0},
		{" AUTO ", false, "", Local, "this machine only", 0},
		{"auto", false, "not a url", "", "", exitcode.Config},
		{"local", true, "https://x.example", Local, "", 0},
		{"public", false, "https://x.example", Public, "", 0},
		{"public", true, "", "", "", exitcode.Config},
		{"public", false, "ftp://x", "", "", exitcode.Config},
		{"ngrok", true, "", Ngrok, "", 0},
		{"ngrok", false, "https://x.example", "", "", exitcode.Config},
		{"cloudflare", true, "", "", "", exitcode.Usage},
	}
	for _, c := range cases {
		got, note, err := ChooseForListen(c.provider, c.authtoken, c.publicURL)
		name := c.provider + "/" + map[bool]string{true: "token", false: "notoken"}[c.authtoken] + "/" + c.publicURL
		if c.exit != 0 {
			if exitcode.Of(err) != c.exit || got != "" {
				t.Errorf("%s: got %q, %v (exit %d); want exit %d", name, got, err, exitcode.Of(err), c.exit)
			}
			if exitcode.Hint(err) == "" {
				t.Errorf("%s: no hint", name)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, c.want)
		}
		if c.noteHas == "" && note != "" {
			t.Errorf("%s: explicit choice got note %q", name, note)
		}
		if !strings.Contains(note, c.noteHas) {
			t.Errorf("%s: note %q lacks %q", name, note, c.noteHas)
		}
	}
}

func TestChooseForRun(t *testing.T) {
	const want = "set NGROK_AUTHTOKEN (https://dashboard.ngrok.com/get-started/your-authtoken) or pass --public-url URL of your own tunnel"
	cases := []struct {
		provider  string
		loopback  bool
		authtoken bool
		publicURL string
		want      string
		exit      int
		msgHas    string
	}{
		{"auto", true, true, "https://x.example", Public, 0, ""},
		{"auto", true, false, "", Local, 0, ""},
		{"auto", true, true, "", Local, 0, ""},
		{"auto", false, true, "https://x.example", Public, 0, ""},
		{"auto", false, true, "", Ngrok, 0, ""},
		{"auto", false, false, "https://x.example", Public, 0, ""},
		{"auto", false, false, "", "", exitcode.Config, want},
		{"", false, false, "", "", exitcode.Config, want},
		{"auto", false, false, "x.example", "", exitcode.Config, "--public-url"},
		{"local", true, false, "", Local, 0, ""},
		{"local", false, true, "", "", exitcode.Config, "Sail cannot reach 127.0.0.1"},
		{"ngrok", true, true, "", Ngrok, 0, ""},
		{"ngrok", false, false, "", "", exitcode.Config, "NGROK_AUTHTOKEN"},
		{"public", false, true, "https://x.example/p/", Public, 0, ""},
		{"public", false, false, "", "", exitcode.Config, "--public-url"},
		{"tailscale", false, true, "", "", exitcode.Usage, "tailscale"},
	}
	for _, c := range cases {
		got, err := ChooseForRun(c.provider, c.loopback, c.authtoken, c.publicURL)
		name := strings.Join([]string{c.provider, map[bool]string{true: "loopback", false: "remote"}[c.loopback],
			map[bool]string{true: "token", false: "notoken"}[c.authtoken], c.publicURL}, "/")
		if c.exit != 0 {
			if exitcode.Of(err) != c.exit || got != "" {
				t.Errorf("%s: got %q, %v (exit %d); want exit %d", name, got, err, exitcode.Of(err), c.exit)
				continue
			}
			if !strings.Contains(err.Error(), c.msgHas) {
				t.Errorf("%s: message %q lacks %q", name, err.Error(), c.msgHas)
			}
			if exitcode.Hint(err) == "" {
				t.Errorf("%s: no hint", name)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, c.want)
		}
	}
}

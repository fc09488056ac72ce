package sail

import (
	"fmt"
	"strings"
	"testing"
)

func TestSecretsStayOutOfFormatting(t *testing.T) {
	o := Options{BaseURL: "http://127.0.0.1:1", APIKey: testKey}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	req := CreateRequest{Model: "m", Input: "hi", WebhookURL: "https://x.example/h", WebhookToken: "tok-secret-123"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for name, v := range map[string]any{"client": c, "options": o, "request": req, "request ptr": &req} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, testKey) || strings.Contains(out, "tok-secret-123") {
				t.Errorf("%s formatted with %s leaks a secret: %s", name, verb, out)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(c), "127.0.0.1:1/v1") {
		t.Errorf("client string lost its base URL: %v", c)
	}
}

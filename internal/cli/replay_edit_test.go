package cli

import "testing"

func TestSetJSONPathKeepsEverythingElse(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"z":1,"id":"resp_1","output":[{"content":[{"text":"4","x":[1, 2]}]}],"metadata":{"webhook_token":"•••"}}`)
	for _, c := range []struct{ path, value, want string }{
		{"output[0].content[0].text", "five", `{"z":1,"id":"resp_1","output":[{"content":[{"text":"five","x":[1, 2]}]}],"metadata":{"webhook_token":"•••"}}`},
		{"output.0.content.0.text", `"5"`, `{"z":1,"id":"resp_1","output":[{"content":[{"text":"5","x":[1, 2]}]}],"metadata":{"webhook_token":"•••"}}`},
		{"z", "null", `{"z":null,"id":"resp_1","output":[{"content":[{"text":"4","x":[1, 2]}]}],"metadata":{"webhook_token":"•••"}}`},
		{"metadata.a.b", "true", `{"z":1,"id":"resp_1","output":[{"content":[{"text":"4","x":[1, 2]}]}],"metadata":{"webhook_token":"•••","a":{"b":true}}}`},
		{"id", "", `{"z":1,"id":"","output":[{"content":[{"text":"4","x":[1, 2]}]}],"metadata":{"webhook_token":"•••"}}`},
	} {
		got, err := setJSONPath(doc, splitJSONPath(c.path), jsonValue(c.value))
		if err != nil || string(got) != c.want {
			t.Errorf("%s=%s:\n got %s (%v)\nwant %s", c.path, c.value, got, err, c.want)
		}
	}
	for _, bad := range []string{"id.x", "output.1", "output.x", "z.0"} {
		if _, err := setJSONPath(doc, splitJSONPath(bad), jsonValue("1")); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The server's own batch validation, as raw HTTP: every refusal is a 400
// in OpenAI's envelope naming the parameter.
func TestBatchValidation(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer e.Close(t.Context())
	req := func(i int) string {
		return fmt.Sprintf(`{"custom_id":"c%d","params":{"model":"moonshotai/Kimi-K2.5","input":"hi"}}`, i)
	}
	many := make([]string, maxBatchRequests+1)
	for i := range many {
		many[i] = req(i)
	}
	cases := []struct {
		name, body, param, code string
	}{
		{"not json", `{`, "", ""},
		{"no endpoint", `{"requests":[` + req(1) + `]}`, "endpoint", "missing_required_parameter"},
		{"chat endpoint", `{"endpoint":"/v1/chat/completions","requests":[` + req(1) + `]}`, "endpoint", "invalid_value"},
		{"bad label", `{"endpoint":"/v1/responses","label":"a b","requests":[` + req(1) + `]}`, "label", "invalid_value"},
		{"long label", `{"endpoint":"/v1/responses","label":"` + strings.Repeat("x", 129) + `","requests":[` + req(1) + `]}`, "label", "invalid_value"},
		{"no requests", `{"endpoint":"/v1/responses"}`, "requests", "missing_required_parameter"},
		{"empty requests", `{"endpoint":"/v1/responses","requests":[]}`, "requests", "empty_array"},
		{"too many", `{"endpoint":"/v1/responses","requests":[` + strings.Join(many, ",") + `]}`, "requests", "array_above_max_length"},
		{"no custom_id", `{"endpoint":"/v1/responses","requests":[{"params":{"model":"moonshotai/Kimi-K2.5","input":"hi"}}]}`, "requests[0].custom_id", "missing_required_parameter"},
		{"duplicate", `{"endpoint":"/v1/responses","requests":[` + req(1) + `,` + req(1) + `]}`, "requests[1].custom_id", "duplicate_value"},
		{"no params", `{"endpoint":"/v1/responses","requests":[{"custom_id":"a"}]}`, "requests[0].params", "missing_required_parameter"},
		{"no input", `{"endpoint":"/v1/responses","requests":[{"custom_id":"a","params":{"model":"moonshotai/Kimi-K2.5"}}]}`, "requests[0].params.input", "missing_required_parameter"},
		{"stream", `{"endpoint":"/v1/responses","requests":[{"custom_id":"a","params":{"model":"moonshotai/Kimi-K2.5","input":"hi","stream":true}}]}`, "requests[0].params.stream", "unsupported_value"},
	}
	for _, tc := range cases {
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/batches", strings.NewReader(tc.body))
		r.Header.Set("Authorization", "Bearer k")
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Error struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
				Code    *string `json:"code"`
			} `json:"error"`
		}
		err = json.NewDecoder(res.Body).Decode(&env)
		res.Body.Close()
		if err != nil || res.StatusCode != 400 || env.Error.Type != "invalid_request_error" || env.Error.Message == "" {
			t.Errorf("%s: %d %+v %v", tc.name, res.StatusCode, env, err)
			continue
		}
		param, code := "", ""
		if env.Error.Param != nil {
			param = *env.Error.Param
		}
		if env.Error.Code != nil {
			code = *env.Error.Code
		}
		if param != tc.param || code != tc.code {
			t.Errorf("%s: param %q code %q, want %q %q", tc.name, param, code, tc.param, tc.code)
		}
	}
	if st := e.Stats(); st.Batches != 0 || st.Active != 0 {
		t.Fatalf("a refused batch was admitted: %+v", st)
	}
	// Methods and unknown ids.
	r, _ := http.NewRequest(http.MethodDelete, srv.URL+"/v1/batches", nil)
	r.Header.Set("Authorization", "Bearer k")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 || res.Header.Get("Allow") != "GET, POST" {
		t.Fatalf("DELETE: %d %q", res.StatusCode, res.Header.Get("Allow"))
	}
	r, _ = http.NewRequest(http.MethodGet, srv.URL+"/v1/batches?limit=0", nil)
	r.Header.Set("Authorization", "Bearer k")
	res, err = http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Fatalf("limit=0: %d", res.StatusCode)
	}
}

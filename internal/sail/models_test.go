package sail

import (
	"errors"
	"net/http"
	"testing"
)

func TestModels(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"object":"list","data":[
			{"id":"moonshotai/Kimi-K2.5","object":"model","created":1764000000,"owned_by":"sail"},
			{"id":"zai-org/GLM-5","object":"model"}]}`)
	})
	models, err := f.client(t).Models(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	req := f.only(t)
	if req.Method != "GET" || req.Path != "/v1/models" || req.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("request = %s %s auth %q", req.Method, req.Path, req.Header.Get("Authorization"))
	}
	if len(models) != 2 || models[0] != (Model{ID: "moonshotai/Kimi-K2.5", OwnedBy: "sail", Created: 1764000000}) || models[1].ID != "zai-org/GLM-5" {
		t.Errorf("models = %+v", models)
	}
}

func TestModelsUnauthorized(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, `{"error":{"message":"Invalid API key"}}`)
	})
	_, err := f.client(t).Models(testCtx(t))
	var api *APIError
	if err == nil || !errors.As(err, &api) || api.StatusCode != 401 || api.ExitCode() != 4 {
		t.Fatalf("err = %v", err)
	}
}

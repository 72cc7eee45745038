package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/linli/linli/internal/platform/errs"
)

// fuzzBody is a typical API body: texts, numbers, a list and a nested
// optional object.
type fuzzBody struct {
	Description string   `json:"description"`
	Category    string   `json:"category"`
	Count       int      `json:"count"`
	Tags        []string `json:"tags"`
	Point       *struct {
		Lat float64 `json:"lat"`
		Lon float64 `json:"lon"`
	} `json:"point"`
	Anonymous bool `json:"anonymous"`
}

// fuzzMaxBody is the body limit of the fuzzed route, small so that the
// fuzzer reaches it.
const fuzzMaxBody = 256

// FuzzDecodeJSON sends arbitrary bodies through the server's body limit
// (http.MaxBytesReader, as Server does) to DecodeJSON. An accepted body is
// within the limit, one JSON value with nothing after it, and decodes
// strictly (unknown fields refused) to the same value with
// encoding/json; a refused one is an Invalid or TooLarge *errs.Error, never
// an internal error.
//
//	go test -run '^$' -fuzz FuzzDecodeJSON -fuzztime 60s ./internal/platform/web/
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"description":"楼道灯坏了","category":"S0201","point":{"lat":37.4605,"lon":121.4405},"tags":["紧急"]}`,
		`{"description":"x"} `,
		`{"description":"x"}{"description":"y"}`,
		`{"description":"x","unknown":1}`,
		`{"count":"3"}`,
		`{"count":1e400}`,
		`{"Description":"case-insensitive keys"}`,
		`{"description":"x"}` + string(bytes.Repeat([]byte(" "), 300)),
		`[1,2,3]`,
		`null`,
		"\ufeff{}",
		`{"point":{"lat":1,"lon":2,"alt":3}}`,
	} {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`{}`), "application/json; charset=utf-8")
	f.Add([]byte(`{}`), "text/plain")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/api/v1/cases", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		r.Body = http.MaxBytesReader(w, r.Body, fuzzMaxBody)
		var got fuzzBody
		err := DecodeJSON(r, &got)
		if err != nil {
			e, ok := err.(*errs.Error)
			if !ok || (e.Code != errs.Invalid && e.Code != errs.TooLarge) || e.Key == "" {
				t.Fatalf("DecodeJSON(%q): %#v is not an Invalid or TooLarge *errs.Error", body, err)
			}
			if e.Code == errs.TooLarge && len(body) <= fuzzMaxBody {
				t.Fatalf("DecodeJSON(%q): a body of %d bytes called too large", body, len(body))
			}
			return
		}
		if len(body) > fuzzMaxBody {
			t.Fatalf("DecodeJSON accepted a body of %d bytes over the limit of %d", len(body), fuzzMaxBody)
		}
		if !json.Valid(body) {
			t.Fatalf("DecodeJSON accepted %q, which is not one JSON value", body)
		}
		var want fuzzBody
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("DecodeJSON accepted %q; a strict decoder says %v", body, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("DecodeJSON accepted %q with data after the value", body)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeJSON(%q) = %+v; encoding/json gives %+v", body, got, want)
		}
	})
}

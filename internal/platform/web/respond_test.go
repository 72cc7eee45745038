package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/errs"
)

// A body over the limit is too large however it is padded: spaces after a
// complete value once turned the 413 into a 400 "trailing data".
func TestDecodeJSONOverTheLimit(t *testing.T) {
	for _, body := range []string{
		`{"description":"` + strings.Repeat("x", 300) + `"}`,
		`{"description":"x"}` + strings.Repeat(" ", 300),
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 256)
		var v struct{ Description string }
		if err := DecodeJSON(r, &v); errs.CodeOf(err) != errs.TooLarge {
			t.Errorf("%d bytes: %v, want TooLarge", len(body), err)
		}
	}
}

package open311

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/linli/linli/internal/cases"
)

// form is the parameters of a request, read as real clients send them:
// from the query string and from the body (urlencoded or multipart), the
// body's values first. Repeated keys are kept; attribute[CODE] and
// attribute[CODE][] gather into one list per code; file parts of a
// multipart body (FixMyStreet's photo1…, uReport's media) become files.
type form struct {
	values url.Values
	attrs  map[string][]string
	files  []cases.File
}

// get returns the first non-empty value of key: an empty optional
// parameter is treated as absent.
func (f form) get(key string) string {
	for _, v := range f.values[key] {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// all returns the non-empty values of key.
func (f form) all(key string) []string {
	var out []string
	for _, v := range f.values[key] {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// list returns the values of key split at commas, trimmed, empty ones
// dropped (service_request_id=a, b,c).
func (f form) list(key string) []string {
	var out []string
	for _, v := range f.values[key] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// formError is a body that cannot be read: a message key
// (open311.err.*) and its arguments.
type formError struct {
	key  string
	args []any
}

func (e formError) Error() string { return fmt.Sprint(e.key, e.args) }

// Limits of what parseForm reads.
const (
	maxFormValues = 1000
	maxFiles      = cases.MaxFiles
)

var attributeKeyRE = regexp.MustCompile(`^attribute\[([^\[\]]*)\](\[\])?$`)

// parseForm reads query and body. contentType is the body's Content-Type
// ("" for none). Errors are formError (the client's fault) or the body
// reader's error (e.g. *http.MaxBytesError).
func parseForm(query string, contentType string, body io.Reader) (form, error) {
	f := form{values: url.Values{}, attrs: map[string][]string{}}
	q, err := url.ParseQuery(query)
	if err != nil {
		return f, formError{"query", []any{err.Error()}}
	}
	if body != nil && contentType != "" {
		mt, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			return f, formError{"content_type", []any{contentType}}
		}
		switch mt {
		case "application/x-www-form-urlencoded":
			b, err := io.ReadAll(body)
			if err != nil {
				return f, err
			}
			v, err := url.ParseQuery(string(b))
			if err != nil {
				return f, formError{"body", []any{err.Error()}}
			}
			addValues(f.values, v)
		case "multipart/form-data":
			if err := f.readMultipart(body, params["boundary"]); err != nil {
				return f, err
			}
		default:
			// Unknown bodies are ignored, as the spec's "ignore what you do
			// not know"; the query may still hold everything.
		}
	}
	addValues(f.values, q)
	n := 0
	for _, k := range slices.Sorted(maps.Keys(f.values)) { // attribute[x] before attribute[x][]
		vs := f.values[k]
		n += len(vs)
		if !utf8.ValidString(k) || slices.ContainsFunc(vs, func(v string) bool { return !utf8.ValidString(v) }) {
			return f, formError{"not_text", []any{strings.ToValidUTF8(k, "\uFFFD")}}
		}
		if m := attributeKeyRE.FindStringSubmatch(k); m != nil && m[1] != "" {
			f.attrs[m[1]] = append(f.attrs[m[1]], vs...)
		}
	}
	if n > maxFormValues {
		return f, formError{"params", []any{maxFormValues}}
	}
	return f, nil
}

func addValues(dst, src url.Values) {
	for k, vs := range src {
		dst[k] = append(dst[k], vs...)
	}
}

func (f *form) readMultipart(body io.Reader, boundary string) error {
	if boundary == "" {
		return formError{"boundary", nil}
	}
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		if err != nil {
			return formError{"multipart", []any{err.Error()}}
		}
		name := p.FormName()
		data, err := io.ReadAll(io.LimitReader(p, cases.MaxFileBytes+1))
		if errors.As(err, &tooLarge) {
			return err
		}
		if err != nil {
			return formError{"multipart", []any{err.Error()}}
		}
		if p.FileName() == "" {
			if len(data) > cases.MaxDescription*4+1024 {
				return formError{"field_long", []any{name}}
			}
			f.values.Add(name, string(data))
			continue
		}
		if len(f.files) >= maxFiles {
			return formError{"files", []any{maxFiles}}
		}
		ct := p.Header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); err == nil && mt != "application/octet-stream" {
			ct = mt
		} else {
			ct, _, _ = strings.Cut(http.DetectContentType(data), ";")
		}
		f.files = append(f.files, cases.File{Name: safeName(p.FileName()), ContentType: ct, Data: bytes.Clone(data)})
	}
}

// safeName keeps the last element of a client's file name.
func safeName(n string) string {
	if i := strings.LastIndexAny(n, `/\`); i >= 0 {
		n = n[i+1:]
	}
	if len(n) > 100 {
		n = n[len(n)-100:]
	}
	if n == "" {
		n = "upload"
	}
	return n
}

package web

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
)

// statusOf maps an error code to HTTP, once for the whole program.
var statusOf = map[errs.Code]int{
	errs.Invalid:         http.StatusBadRequest,
	errs.NotFound:        http.StatusNotFound,
	errs.Conflict:        http.StatusConflict,
	errs.Forbidden:       http.StatusForbidden,
	errs.Unauthenticated: http.StatusUnauthorized,
	errs.TooMany:         http.StatusTooManyRequests,
	errs.TooLarge:        http.StatusRequestEntityTooLarge,
	errs.Unavailable:     http.StatusServiceUnavailable,
	errs.Internal:        http.StatusInternalServerError,
}

// Status returns the HTTP status for err.
func Status(err error) int {
	if s, ok := statusOf[errs.CodeOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// IsAPI reports whether r wants JSON: the API and Open311-style clients.
func IsAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/")
}

// FieldMessage is one bad field in the error envelope.
type FieldMessage struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ErrorBody is the JSON error envelope of the API.
type ErrorBody struct {
	Error struct {
		Code      string         `json:"code"`
		Message   string         `json:"message"`
		Fields    []FieldMessage `json:"fields,omitempty"`
		RequestID string         `json:"request_id,omitempty"`
	} `json:"error"`
}

// Message renders an error for people in lang; internal details stay out.
func Message(c *i18n.Catalog, lang i18n.Lang, err error) (string, []FieldMessage) {
	e := errs.As(err)
	if e.Code == errs.Internal {
		return c.T(lang, "err.internal"), nil
	}
	fields := make([]FieldMessage, len(e.Fields))
	for i, f := range e.Fields {
		fields[i] = FieldMessage{Field: f.Field, Message: c.T(lang, f.Key, f.Args...)}
	}
	return c.T(lang, e.Key, e.Args...), fields
}

// Error answers r with err: the JSON envelope for the API, a page otherwise
// (a login redirect when the visitor is not logged in). Internal errors are
// logged with the request id; the user sees only that id.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	status := Status(err)
	rc := Ctx(r.Context())
	if status >= 500 {
		s.log.Error("request failed", "request_id", rc.RequestID, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err, status = errs.E(errs.TooLarge, "err.too_large", tooLarge.Limit/1024), http.StatusRequestEntityTooLarge
	}
	SetRetryAfter(w, err)
	msg, fields := Message(s.catalog, rc.Lang, err)
	if IsAPI(r) {
		var body ErrorBody
		body.Error.Code = string(errs.CodeOf(err))
		body.Error.Message = msg
		body.Error.Fields = fields
		body.Error.RequestID = rc.RequestID
		JSON(w, status, body)
		return
	}
	// A client that sent a token is a program (Prometheus, a script): it
	// needs the 401, not a redirect to a login form it cannot fill in.
	if status == http.StatusUnauthorized && r.Method == http.MethodGet && r.Header.Get("Authorization") == "" {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	s.render.Page(w, r, status, "error", PageData{Title: "err.title", Data: map[string]any{
		"Message": msg, "Fields": fields, "RequestID": rc.RequestID, "Status": status,
	}})
}

// SetRetryAfter tells a throttled or refused client when to come back:
// when the error says (a login lock), else in a minute.
func SetRetryAfter(w http.ResponseWriter, err error) {
	status := Status(err)
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return
	}
	secs := 60
	if e := errs.As(err); e.Retry > 0 {
		secs = int(e.Retry.Seconds() + 0.999)
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}

// JSON writes v as JSON with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		slog.Debug("writing JSON", "err", err)
	}
}

// DecodeJSON reads a JSON body into v, refusing unknown fields, trailing
// data and bodies over the server's limit, with messages that say where.
func DecodeJSON(r *http.Request, v any) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return errs.E(errs.Invalid, "err.json.content_type")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Whatever follows the value: the end, more data, or a body over
		// the limit, which must stay a 413 however it was padded.
		if next := dec.Decode(&struct{}{}); next != io.EOF {
			err = next
			var tooLarge *http.MaxBytesError
			if !errors.As(next, &tooLarge) {
				err = errors.New("trailing data")
			}
		}
	}
	if err == nil {
		return nil
	}
	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge):
		return errs.E(errs.TooLarge, "err.too_large", tooLarge.Limit/1024)
	case errors.As(err, &syntax):
		return errs.E(errs.Invalid, "err.json.syntax", syntax.Offset)
	case errors.As(err, &typ):
		return &errs.Error{Code: errs.Invalid, Key: "err.invalid",
			Fields: []errs.Field{{Field: typ.Field, Key: "err.json.type", Args: []any{typ.Type.String()}}}}
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &errs.Error{Code: errs.Invalid, Key: "err.invalid",
			Fields: []errs.Field{{Field: field, Key: "err.json.unknown_field"}}}
	default:
		return errs.E(errs.Invalid, "err.json.invalid")
	}
}

// ParseForm parses a form body within the server's limit.
func ParseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errs.E(errs.TooLarge, "err.too_large", tooLarge.Limit/1024)
		}
		return errs.E(errs.Invalid, "err.form")
	}
	return nil
}

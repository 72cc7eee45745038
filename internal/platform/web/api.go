package web

import (
	"net/http"
	"strconv"

	"github.com/linli/linli/internal/platform/errs"
)

// The small pieces every module's JSON API is made of: a handler decodes
// its body, reads the {id} of its path, and replies with a value or the
// service's error.

// Reply writes v as JSON with status, or returns err for the server to
// answer (web.Server.Error), so that a handler can end with one line:
// return web.Reply(w, http.StatusOK, v, err).
func Reply(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		return err
	}
	JSON(w, status, v)
	return nil
}

// Decode reads a JSON body into a new T (see DecodeJSON for the checks).
func Decode[T any](r *http.Request) (T, error) {
	var v T
	err := DecodeJSON(r, &v)
	return v, err
}

// PathID reads a positive integer wildcard of the route's path. Anything
// else is NotFound: /cases/abc names nothing, as /cases/0 does.
func PathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "err.bad_id", r.PathValue(name))
	}
	return id, nil
}

// WithID runs fn with the route's {id}, for the many routes that take one.
func WithID(r *http.Request, fn func(id int64) error) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	return fn(id)
}

// Items wraps a list as {"items": […]}, never null.
func Items[T any](xs []T) map[string]any {
	if xs == nil {
		xs = []T{}
	}
	return map[string]any{"items": xs}
}

package open311

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

// The administrators' page of Open311 keys: issue one (shown once),
// revoke one, see when each was last used.

type adminHandler struct {
	s   *Server
	srv *web.Server
}

func (s *Server) adminRoutes(srv *web.Server) {
	h := adminHandler{s, srv}
	srv.Handle(web.Route{Pattern: "GET /admin/open311"}, h.page)
	srv.Handle(web.Route{Pattern: "POST /admin/open311/keys"}, h.create)
	srv.Handle(web.Route{Pattern: "POST /admin/open311/keys/{id}/revoke"}, h.revoke)
}

func (h adminHandler) render(w http.ResponseWriter, r *http.Request, status int, newKey string, formErr error) error {
	keys, err := h.s.Keys(r.Context())
	if err != nil {
		return err
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	data := map[string]any{"Keys": keys, "NewKey": newKey, "Endpoint": scheme + "://" + r.Host + Root}
	if formErr != nil {
		data["Error"], data["Fields"] = web.Message(h.srv.Catalog(), web.Ctx(r.Context()).Lang, formErr)
	}
	return h.srv.RenderStatus(w, r, status, "open311_keys", web.PageData{Title: "open311.keys.title", Data: data})
}

func (h adminHandler) page(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "", nil)
}

func (h adminHandler) create(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	if err := auth.From(r.Context()).Require(auth.UserManage, ""); err != nil {
		return err
	}
	rate, err := strconv.ParseFloat(strings.TrimSpace(r.PostForm.Get("rate")), 64)
	if r.PostForm.Get("rate") == "" {
		rate, err = 0, nil
	}
	if err != nil {
		err = &errs.Error{Code: errs.Invalid, Key: "err.invalid", Fields: []errs.Field{{Field: "rate", Key: "err.open311.key_rate"}}}
	} else {
		var key string
		key, _, err = h.s.CreateKey(r.Context(), r.PostForm.Get("name"), rate, r.PostForm.Get("batch") == "1")
		if err == nil {
			return h.render(w, r, http.StatusOK, key, nil)
		}
	}
	if errs.CodeOf(err) == errs.Invalid {
		return h.render(w, r, http.StatusBadRequest, "", err)
	}
	return err
}

func (h adminHandler) revoke(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errs.E(errs.NotFound, "err.open311.key_not_found", r.PathValue("id"))
	}
	if _, err := h.s.RevokeKey(r.Context(), strconv.FormatInt(id, 10)); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/open311", http.StatusSeeOther)
	return nil
}

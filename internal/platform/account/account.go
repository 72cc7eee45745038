// Package account serves the pages and API of accounts: login and logout,
// display preferences, a user's settings and tokens, and the administrators'
// account pages. The rules live in platform/auth; this package parses,
// calls and renders.
package account

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
	"github.com/linli/linli/internal/platform/web"
)

type handler struct {
	svc *auth.Service
	srv *web.Server
}

// Routes registers the account routes.
func Routes(srv *web.Server, svc *auth.Service) {
	h := &handler{svc: svc, srv: srv}
	srv.Handle(web.Route{Pattern: "GET /login", Access: web.Public}, h.loginPage)
	srv.Handle(web.Route{Pattern: "POST /login", Access: web.Public}, h.login)
	srv.Handle(web.Route{Pattern: "POST /logout", Access: web.Public}, h.logout)
	srv.Handle(web.Route{Pattern: "POST /prefs", Access: web.Public}, h.prefs)
	srv.Handle(web.Route{Pattern: "GET /settings"}, h.settings)
	srv.Handle(web.Route{Pattern: "POST /settings/password"}, h.changePassword)
	srv.Handle(web.Route{Pattern: "POST /settings/tokens"}, h.createToken)
	srv.Handle(web.Route{Pattern: "POST /settings/tokens/{id}/revoke"}, h.revokeToken)
	srv.Handle(web.Route{Pattern: "GET /admin/users"}, h.adminUsers)
	srv.Handle(web.Route{Pattern: "POST /admin/users"}, h.adminCreateUser)
	srv.Handle(web.Route{Pattern: "POST /admin/users/{name}/grants"}, h.adminGrant)
	srv.Handle(web.Route{Pattern: "POST /admin/users/{name}/grants/revoke"}, h.adminRevoke)
	srv.Handle(web.Route{Pattern: "POST /admin/users/{name}/password"}, h.adminSetPassword)
	srv.Handle(web.Route{Pattern: "GET /api/v1/me"}, h.apiMe)
	srv.Handle(web.Route{Pattern: "GET /api/v1/users"}, h.apiUsers)
	srv.Handle(web.Route{Pattern: "POST /api/v1/users"}, h.apiCreateUser)
}

// localPath keeps redirects on this site.
func localPath(next string) string {
	if u, err := url.Parse(next); err == nil && u.Scheme == "" && u.Host == "" &&
		strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, `\`) {
		return next
	}
	return "/"
}

// formState is what a page re-rendered after a failed form needs.
type formState struct {
	Error  string
	Fields map[string]string
	Values url.Values
	Notice string
}

func (h *handler) failed(r *http.Request, err error) formState {
	msg, fields := web.Message(h.srv.Catalog(), web.Ctx(r.Context()).Lang, err)
	fs := formState{Error: msg, Fields: map[string]string{}, Values: r.PostForm}
	for _, f := range fields {
		fs.Fields[f.Field] = f.Message
	}
	return fs
}

func (h *handler) loginPage(w http.ResponseWriter, r *http.Request) error {
	if auth.From(r.Context()) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	return h.srv.Render(w, r, "login", web.PageData{Title: "login.title", Data: map[string]any{
		"Next": localPath(r.URL.Query().Get("next")), "Form": formState{},
	}})
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	old := ""
	if c, err := r.Cookie(web.SessionCookie); err == nil {
		old = c.Value
	}
	cookie, p, err := h.svc.Login(r.Context(), r.PostForm.Get("name"), r.PostForm.Get("password"), old)
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		r.PostForm.Del("password")
		// The form is shown again rather than through web.Error, so the
		// throttled answer's Retry-After is set here.
		web.SetRetryAfter(w, err)
		return h.srvPage(w, r, web.Status(err), "login", "login.title", map[string]any{
			"Next": localPath(r.PostForm.Get("next")), "Form": h.failed(r, err),
		})
	}
	h.srv.SetSession(w, cookie)
	if l, ok := i18n.Parse(p.Locale); ok {
		h.srv.SetPrefCookie(w, web.LangCookie, string(l))
	}
	http.Redirect(w, r, localPath(r.PostForm.Get("next")), http.StatusSeeOther)
	return nil
}

func (h *handler) srvPage(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) error {
	return h.srv.RenderStatus(w, r, status, name, web.PageData{Title: title, Data: data})
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(web.SessionCookie); err == nil {
		if err := h.svc.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	h.srv.ClearSession(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// prefs stores the language and the large-text mode, in cookies for
// everyone and on the account for a logged-in user.
func (h *handler) prefs(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	rc := web.Ctx(r.Context())
	lang, large := rc.Lang, rc.LargeText
	if v := r.PostForm.Get("lang"); v != "" {
		l, ok := i18n.Parse(v)
		if !ok {
			return &errs.Error{Code: errs.Invalid, Key: "err.invalid",
				Fields: []errs.Field{{Field: "lang", Key: "err.lang.unknown", Args: []any{v}}}}
		}
		lang = l
	}
	if v := r.PostForm.Get("large"); v != "" {
		large = v == "1"
	}
	if auth.From(r.Context()) != nil {
		if err := h.svc.SetPreferences(r.Context(), string(lang), large); err != nil {
			return err
		}
	}
	h.srv.SetPrefCookie(w, web.LangCookie, string(lang))
	h.srv.SetPrefCookie(w, web.LargeCookie, map[bool]string{true: "1", false: "0"}[large])
	http.Redirect(w, r, localPath(r.PostForm.Get("back")), http.StatusSeeOther)
	return nil
}

func (h *handler) settingsPage(w http.ResponseWriter, r *http.Request, status int, form formState, newToken string) error {
	tokens, err := h.svc.ListTokens(r.Context())
	if err != nil {
		return err
	}
	return h.srvPage(w, r, status, "settings", "settings.title", map[string]any{
		"Tokens": tokens, "NewToken": newToken, "Form": form, "Scopes": auth.Scopes, "Now": time.Now(),
	})
}

func (h *handler) settings(w http.ResponseWriter, r *http.Request) error {
	return h.settingsPage(w, r, http.StatusOK, formState{}, "")
}

func (h *handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	err := h.svc.ChangePassword(r.Context(), r.PostForm.Get("current"), r.PostForm.Get("password"))
	if errs.CodeOf(err) == errs.Invalid {
		r.PostForm = url.Values{}
		return h.settingsPage(w, r, http.StatusBadRequest, h.failed(r, err), "")
	}
	if err != nil {
		return err
	}
	// Changing the password ended every session, this one too.
	h.srv.ClearSession(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (h *handler) createToken(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	scopes, err := auth.ParseScopes(strings.Join(r.PostForm["scope"], ","))
	if err == nil {
		var days int
		if v := r.PostForm.Get("days"); v != "" {
			days, err = strconv.Atoi(v)
			if err != nil || days < 0 {
				err = &errs.Error{Code: errs.Invalid, Key: "err.invalid",
					Fields: []errs.Field{{Field: "days", Key: "err.token.expires"}}}
			}
		}
		if err == nil {
			var token string
			token, err = h.svc.CreateToken(r.Context(), auth.NewToken{User: auth.From(r.Context()).Name,
				Name: r.PostForm.Get("name"), Scopes: scopes, Expires: time.Duration(days) * 24 * time.Hour})
			if err == nil {
				return h.settingsPage(w, r, http.StatusOK, formState{}, token)
			}
		}
	}
	if errs.CodeOf(err) != errs.Invalid {
		return err
	}
	return h.settingsPage(w, r, http.StatusBadRequest, h.failed(r, err), "")
}

func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errs.E(errs.NotFound, "err.token.not_found")
	}
	if err := h.svc.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
	return nil
}

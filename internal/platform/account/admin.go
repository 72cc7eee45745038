package account

import (
	"net/http"
	"net/url"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

func (h *handler) adminPage(w http.ResponseWriter, r *http.Request, status int, form formState) error {
	users, err := h.svc.ListUsers(r.Context())
	if err != nil {
		return err
	}
	return h.srvPage(w, r, status, "admin_users", "admin.users.title", map[string]any{
		"Users": users, "Roles": auth.Roles, "Form": form,
	})
}

func (h *handler) adminUsers(w http.ResponseWriter, r *http.Request) error {
	return h.adminPage(w, r, http.StatusOK, formState{})
}

// adminResult re-renders the page with a notice, or with the form's
// errors when the input was at fault.
func (h *handler) adminResult(w http.ResponseWriter, r *http.Request, err error, notice string) error {
	switch errs.CodeOf(err) {
	case "":
		return h.adminPage(w, r, http.StatusOK, formState{Notice: h.srv.Catalog().T(web.Ctx(r.Context()).Lang, notice)})
	case errs.Invalid, errs.Conflict, errs.NotFound:
		form := h.failed(r, err)
		form.Values.Del("password")
		return h.adminPage(w, r, web.Status(err), form)
	}
	return err
}

func (h *handler) adminCreateUser(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	_, err := h.svc.CreateUser(r.Context(), auth.NewUser{Name: f.Get("name"), DisplayName: f.Get("display_name"),
		Password: f.Get("password"), Role: auth.Role(f.Get("role")), AreaCode: f.Get("area")})
	if err == nil {
		r.PostForm = url.Values{}
	}
	return h.adminResult(w, r, err, "admin.users.created")
}

func (h *handler) adminGrant(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	err := h.svc.Grant(r.Context(), r.PathValue("name"), auth.Role(r.PostForm.Get("role")), r.PostForm.Get("area"))
	return h.adminResult(w, r, err, "admin.users.granted")
}

func (h *handler) adminRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	err := h.svc.Revoke(r.Context(), r.PathValue("name"), auth.Role(r.PostForm.Get("role")), r.PostForm.Get("area"))
	return h.adminResult(w, r, err, "admin.users.revoked")
}

func (h *handler) adminSetPassword(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	err := h.svc.SetPassword(r.Context(), r.PathValue("name"), r.PostForm.Get("password"))
	return h.adminResult(w, r, err, "admin.users.password_set")
}

// apiUser is an account in the API.
type apiUser struct {
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name"`
	Disabled    bool       `json:"disabled"`
	Grants      []apiGrant `json:"grants"`
}

type apiGrant struct {
	Role     auth.Role `json:"role"`
	AreaCode string    `json:"area,omitempty"`
	AreaName string    `json:"area_name,omitempty"`
}

func grantsOut(gs []auth.GrantInfo) []apiGrant {
	out := make([]apiGrant, len(gs))
	for i, g := range gs {
		out[i] = apiGrant{Role: g.Role, AreaCode: g.AreaCode, AreaName: g.AreaName}
	}
	return out
}

func (h *handler) apiMe(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	web.JSON(w, http.StatusOK, apiUser{Name: p.Name, DisplayName: p.DisplayName, Grants: grantsOut(p.Grants)})
	return nil
}

func (h *handler) apiUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := h.svc.ListUsers(r.Context())
	if err != nil {
		return err
	}
	out := make([]apiUser, len(users))
	for i, u := range users {
		out[i] = apiUser{Name: u.Name, DisplayName: u.DisplayName, Disabled: u.Disabled, Grants: grantsOut(u.Grants)}
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (h *handler) apiCreateUser(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name        string    `json:"name"`
		DisplayName string    `json:"display_name"`
		Password    string    `json:"password"`
		Role        auth.Role `json:"role"`
		Area        string    `json:"area"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	u, err := h.svc.CreateUser(r.Context(), auth.NewUser{Name: in.Name, DisplayName: in.DisplayName,
		Password: in.Password, Role: in.Role, AreaCode: in.Area})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusCreated, apiUser{Name: u.Name, DisplayName: u.DisplayName})
	return nil
}

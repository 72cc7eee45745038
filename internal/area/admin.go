package area

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

// The administrators' area pages: create areas, import boundaries with a
// preview, and confirm.

func adminRoutes(h *Handler) {
	h.srv.Handle(web.Route{Pattern: "GET /admin/areas"}, h.adminPage)
	h.srv.Handle(web.Route{Pattern: "POST /admin/areas"}, h.adminCreate)
	h.srv.Handle(web.Route{Pattern: "POST /admin/areas/import", MaxBody: MaxImportBytes + 1<<20}, h.adminImportPreview)
	h.srv.Handle(web.Route{Pattern: "POST /admin/areas/import/{id}"}, h.adminImportConfirm)
}

// importParams is an import's form, kept with the staged file.
type importParams struct {
	Level    Level  `json:"level"`
	Parent   string `json:"parent"`
	CodeProp string `json:"code_prop"`
	NameProp string `json:"name_prop"`
	Kind     Kind   `json:"kind"`
	Source   string `json:"source"`
}

func (p importParams) request(file io.Reader, dryRun bool) ImportRequest {
	return ImportRequest{File: file, Level: p.Level, Parent: p.Parent, CodeProp: p.CodeProp, NameProp: p.NameProp,
		Kind: p.Kind, Source: p.Source, DryRun: dryRun}
}

type adminView struct {
	Error   string
	Fields  []web.FieldMessage
	Notice  string
	Values  map[string]string
	Preview *ImportReport
	Staged  string
	Params  importParams
}

func (h *Handler) renderAdmin(w http.ResponseWriter, r *http.Request, status int, v adminView) error {
	if p := auth.From(r.Context()); !p.CanAnywhere(auth.AreaManage) {
		return p.Require(auth.AreaManage, "")
	}
	return h.srv.RenderStatus(w, r, status, "admin_areas", web.PageData{Title: "areas.admin_title", Data: map[string]any{
		"View": v, "Levels": []Level{District, Street, Community, Grid}, "Purposes": Purposes,
	}})
}

func (h *Handler) failedView(r *http.Request, err error) adminView {
	msg, fields := web.Message(h.srv.Catalog(), web.Ctx(r.Context()).Lang, err)
	return adminView{Error: msg, Fields: fields}
}

func (h *Handler) adminPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderAdmin(w, r, http.StatusOK, adminView{})
}

func (h *Handler) adminCreate(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	a, err := h.svc.Create(r.Context(), NewArea{Code: f.Get("code"), Name: f.Get("name"), Level: Level(f.Get("level")),
		Parent: f.Get("parent"), Kind: Kind(f.Get("kind")), Purpose: f.Get("purpose")})
	if code := errs.CodeOf(err); code == errs.Invalid || code == errs.Conflict {
		v := h.failedView(r, err)
		v.Values = map[string]string{"code": f.Get("code"), "name": f.Get("name"), "parent": f.Get("parent"), "level": f.Get("level")}
		return h.renderAdmin(w, r, web.Status(err), v)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/areas/"+a.Code, http.StatusSeeOther)
	return nil
}

// adminImportPreview checks an uploaded file without changing anything,
// stages it, and shows what the import would do (or every problem).
func (h *Handler) adminImportPreview(w http.ResponseWriter, r *http.Request) error {
	file, header, err := r.FormFile("file")
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errs.E(errs.TooLarge, "err.import.too_large", MaxImportBytes>>20)
		}
		return h.renderAdmin(w, r, http.StatusBadRequest, h.failedView(r, fieldErr("file", "err.import.no_file")))
	}
	defer file.Close()
	body, err := io.ReadAll(io.LimitReader(file, MaxImportBytes+1))
	if err != nil {
		return err
	}
	params := importParams{Level: Level(r.FormValue("level")), Parent: r.FormValue("parent"), CodeProp: r.FormValue("code_prop"),
		NameProp: r.FormValue("name_prop"), Kind: Kind(r.FormValue("kind")), Source: header.Filename}
	rep, err := h.svc.Import(r.Context(), params.request(bytes.NewReader(body), true))
	if code := errs.CodeOf(err); code == errs.Invalid || code == errs.TooLarge || code == errs.Conflict {
		v := h.failedView(r, err)
		v.Params = params
		return h.renderAdmin(w, r, web.Status(err), v)
	}
	if err != nil {
		return err
	}
	id, err := h.svc.stage(r.Context(), params, body)
	if err != nil {
		return err
	}
	return h.renderAdmin(w, r, http.StatusOK, adminView{Preview: &rep, Staged: id, Params: params})
}

func (h *Handler) adminImportConfirm(w http.ResponseWriter, r *http.Request) error {
	rep, params, err := h.svc.importStaged(r.Context(), r.PathValue("id"))
	if code := errs.CodeOf(err); code == errs.Invalid || code == errs.Conflict {
		// The tree changed since the preview (another import, say).
		v := h.failedView(r, err)
		v.Params = params
		return h.renderAdmin(w, r, web.Status(err), v)
	}
	if err != nil {
		return err
	}
	return h.renderAdmin(w, r, http.StatusOK, adminView{Notice: h.srv.Catalog().T(web.Ctx(r.Context()).Lang,
		"areas.import.done", len(rep.Items)), Params: params})
}

// stage keeps an uploaded file until its confirmation.
func (s *Service) stage(ctx context.Context, p importParams, body []byte) (string, error) {
	b := make([]byte, 12)
	rand.Read(b)
	id := hex.EncodeToString(b)
	params, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	user := auth.From(ctx).UserID
	return id, s.db.Write(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		now := s.now().UTC()
		if _, err := q.ExecContext(ctx, "DELETE FROM area_import_staging WHERE created_at < $1", now.Add(-24*time.Hour)); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, "INSERT INTO area_import_staging (id, user_id, params, body, created_at) VALUES ($1, $2, $3, $4, $5)",
			id, user, string(params), string(body), now)
		return err
	})
}

// importStaged imports a staged file of the caller's and drops it, in one
// transaction: a failed import keeps the file for another try.
func (s *Service) importStaged(ctx context.Context, id string) (ImportReport, importParams, error) {
	var rep ImportReport
	var p importParams
	err := s.db.Write(ctx, func(ctx context.Context) error {
		var params, body string
		q := s.db.Q(ctx)
		err := q.QueryRowContext(ctx, "SELECT params, body FROM area_import_staging WHERE id = $1 AND user_id = $2",
			id, auth.From(ctx).UserID).Scan(&params, &body)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "err.import.staged_gone")
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(params), &p); err != nil {
			return err
		}
		if rep, err = s.Import(ctx, p.request(strings.NewReader(body), false)); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, "DELETE FROM area_import_staging WHERE id = $1", id)
		return err
	})
	return rep, p, err
}

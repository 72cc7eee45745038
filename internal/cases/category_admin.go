package cases

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
	"github.com/linli/linli/internal/platform/workcal"
)

var categoryCodeRE = regexp.MustCompile(`^[A-Z][0-9A-Z]{1,11}$`)

var urgencies = map[string]bool{"normal": true, "urgent": true, "critical": true}

// checkCategory validates a category an administrator entered; field
// names are prefixed so that an import can name its row.
func checkCategory(v *errs.Validation, prefix string, c Category) {
	v.Check(categoryCodeRE.MatchString(c.Code), prefix+"code", "err.category.code")
	v.Check(c.NameZH != "" && utf8.RuneCountInString(c.NameZH) <= 40, prefix+"name_zh", "err.category.name")
	v.Check(c.NameEN != "" && utf8.RuneCountInString(c.NameEN) <= 80, prefix+"name_en", "err.category.name")
	v.Check(c.Kind == "event" || c.Kind == "component" || c.Kind == "community", prefix+"kind", "err.category.kind")
	v.Check(urgencies[c.Urgency], prefix+"urgency", "err.category.urgency")
	if c.TimeLimit != "" {
		_, err := workcal.ParseLimit(c.TimeLimit)
		v.Check(err == nil, prefix+"time_limit", "err.category.time_limit", c.TimeLimit)
	}
	v.Check(utf8.RuneCountInString(c.FilingStandard) <= 500 && utf8.RuneCountInString(c.ClosingStandard) <= 500,
		prefix+"standard", "err.category.standard")
}

// SaveCategory creates a category or updates the one with its code
// (administrators). A leaf needs a parent that is a top-level class.
func (s *Service) SaveCategory(ctx context.Context, c Category) error {
	if err := auth.From(ctx).Require(auth.AreaManage, ""); err != nil {
		return err
	}
	c.Code, c.Parent = strings.ToUpper(strings.TrimSpace(c.Code)), strings.ToUpper(strings.TrimSpace(c.Parent))
	if c.Urgency == "" {
		c.Urgency = "normal"
	}
	var v errs.Validation
	checkCategory(&v, "", c)
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error { return s.saveCategory(ctx, "", c) })
}

func (s *Service) saveCategory(ctx context.Context, field string, c Category) error {
	var parentID int64
	if c.Parent != "" {
		parent, err := s.store.categoryByCode(ctx, c.Parent)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && parent.Parent != "") {
			return fieldErr(field+"parent", "err.category.parent", c.Parent)
		}
		if err != nil {
			return err
		}
		parentID = parent.ID
	}
	existing, err := s.store.categoryByCode(ctx, c.Code)
	s.dropRefsAfterCommit(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := s.store.insertCategory(ctx, c, parentID, 1000); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if existing.Parent != c.Parent {
			return fieldErr(field+"parent", "err.category.move", c.Code)
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE case_categories SET kind = $1, name_zh = $2, name_en = $3,
			filing_standard = $4, closing_standard = $5, time_limit = $6, urgency = $7, default_unit = $8, public = $9, active = $10
			WHERE id = $11`, c.Kind, c.NameZH, c.NameEN, c.FilingStandard, c.ClosingStandard, c.TimeLimit, c.Urgency,
			c.DefaultUnit, c.Public, c.Active, existing.ID); err != nil {
			return err
		}
	}
	return s.audit.Record(ctx, audit.Entry{Action: "category.save", TargetType: "category", TargetID: c.Code})
}

// categoryColumns is the header of a category CSV, in this order.
var categoryColumns = []string{"code", "parent", "kind", "name_zh", "name_en", "time_limit", "urgency", "public", "active",
	"filing_standard", "closing_standard"}

// ImportCategories reads a CSV with categoryColumns (parents before their
// leaves) and saves every row, or none: a bad row fails the whole file,
// with every bad row named.
func (s *Service) ImportCategories(ctx context.Context, r io.Reader) (int, error) {
	if err := auth.From(ctx).Require(auth.AreaManage, ""); err != nil {
		return 0, err
	}
	rd := csv.NewReader(r)
	header, err := rd.Read()
	if err != nil {
		return 0, errs.E(errs.Invalid, "err.category.csv_header", strings.Join(categoryColumns, ","))
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff") // Excel's byte-order mark
	if strings.Join(header, ",") != strings.Join(categoryColumns, ",") {
		return 0, errs.E(errs.Invalid, "err.category.csv_header", strings.Join(categoryColumns, ","))
	}
	var rows []Category
	var v errs.Validation
	for line := 2; ; line++ {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			v.Add(fmt.Sprintf("row %d", line), "err.category.csv_row", err.Error())
			break
		}
		c := Category{Code: strings.ToUpper(rec[0]), Parent: strings.ToUpper(rec[1]), Kind: rec[2], NameZH: rec[3], NameEN: rec[4],
			TimeLimit: rec[5], Urgency: rec[6], Public: rec[7] != "false", Active: rec[8] != "false",
			FilingStandard: rec[9], ClosingStandard: rec[10]}
		checkCategory(&v, fmt.Sprintf("row %d: ", line), c)
		rows = append(rows, c)
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		for i, c := range rows {
			if err := s.saveCategory(ctx, fmt.Sprintf("row %d: ", i+2), c); err != nil {
				return err
			}
		}
		return nil
	})
	return len(rows), err
}

type categoryHandler struct{ h *handler }

// categoryRoutes registers the administrators' category pages.
func categoryRoutes(h *handler) {
	c := categoryHandler{h}
	h.srv.Handle(web.Route{Pattern: "GET /admin/categories"}, c.page)
	h.srv.Handle(web.Route{Pattern: "POST /admin/categories"}, c.save)
	h.srv.Handle(web.Route{Pattern: "POST /admin/categories/import", MaxBody: 4 << 20}, c.importCSV)
	h.srv.Handle(web.Route{Pattern: "GET /admin/categories.csv"}, c.exportCSV)
	h.srv.Handle(web.Route{Pattern: "POST /admin/categories/attributes"}, c.saveAttributes)
}

func (c categoryHandler) render(w http.ResponseWriter, r *http.Request, status int, formErr error, notice string) error {
	if err := auth.From(r.Context()).Require(auth.AreaManage, ""); err != nil {
		return err
	}
	cats, err := c.h.svc.Categories(r.Context())
	if err != nil {
		return err
	}
	data := map[string]any{"Categories": cats, "Notice": notice}
	if data["Attributes"], err = c.h.svc.attributeTexts(r.Context()); err != nil {
		return err
	}
	if formErr != nil {
		msg, fields := web.Message(c.h.srv.Catalog(), web.Ctx(r.Context()).Lang, formErr)
		data["Error"], data["Fields"] = msg, fields
	}
	return c.h.srv.RenderStatus(w, r, status, "categories", web.PageData{Title: "categories.title", Data: data})
}

func (c categoryHandler) page(w http.ResponseWriter, r *http.Request) error {
	return c.render(w, r, http.StatusOK, nil, "")
}

func (c categoryHandler) save(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	err := c.h.svc.SaveCategory(r.Context(), Category{Code: f.Get("code"), Parent: f.Get("parent"), Kind: f.Get("kind"),
		NameZH: f.Get("name_zh"), NameEN: f.Get("name_en"), TimeLimit: f.Get("time_limit"), Urgency: f.Get("urgency"),
		DefaultUnit: f.Get("default_unit"), FilingStandard: f.Get("filing_standard"), ClosingStandard: f.Get("closing_standard"),
		Public: f.Get("public") == "1", Active: f.Get("active") == "1"})
	return c.after(w, r, err, "categories.saved")
}

func (c categoryHandler) after(w http.ResponseWriter, r *http.Request, err error, notice string) error {
	if code := errs.CodeOf(err); code == errs.Invalid || code == errs.Conflict {
		return c.render(w, r, web.Status(err), err, "")
	}
	if err != nil {
		return err
	}
	return c.render(w, r, http.StatusOK, nil, c.h.srv.Catalog().T(web.Ctx(r.Context()).Lang, notice))
}

func (c categoryHandler) importCSV(w http.ResponseWriter, r *http.Request) error {
	file, _, err := r.FormFile("file")
	if err != nil {
		return c.after(w, r, fieldErr("file", "err.import.no_file"), "")
	}
	defer file.Close()
	_, err = c.h.svc.ImportCategories(r.Context(), file)
	return c.after(w, r, err, "categories.imported")
}

func (c categoryHandler) exportCSV(w http.ResponseWriter, r *http.Request) error {
	if err := auth.From(r.Context()).Require(auth.AreaManage, ""); err != nil {
		return err
	}
	cats, err := c.h.svc.Categories(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="categories.csv"`)
	w.Write([]byte("\ufeff")) // so that Excel reads UTF-8
	cw := csv.NewWriter(w)
	cw.Write(categoryColumns)
	for _, k := range cats {
		cw.Write([]string{k.Code, k.Parent, k.Kind, k.NameZH, k.NameEN, k.TimeLimit, k.Urgency,
			fmt.Sprint(k.Public), fmt.Sprint(k.Active), k.FilingStandard, k.ClosingStandard})
	}
	cw.Flush()
	return cw.Error()
}

// saveAttributes saves a category's attributes from their text form.
func (c categoryHandler) saveAttributes(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	attrs, err := ParseAttributes(r.PostForm.Get("attributes"))
	if err == nil {
		err = c.h.svc.SaveAttributes(r.Context(), r.PostForm.Get("code"), attrs)
	}
	return c.after(w, r, err, "categories.attributes_saved")
}

package cases

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
	"github.com/linli/linli/internal/platform/web"
)

// maxHotlineBody bounds an upload: 50,000 tickets of a few hundred
// characters each.
const maxHotlineBody = 64 << 20

func hotlineRoutes(h *handler) {
	h.srv.Handle(web.Route{Pattern: "GET /cases/import"}, h.hotlinePage)
	h.srv.Handle(web.Route{Pattern: "POST /cases/import", MaxBody: maxHotlineBody}, h.hotlineImport)
	h.srv.Handle(web.Route{Pattern: "POST /api/v1/cases/import", MaxBody: maxHotlineBody}, h.hotlineImport)
	h.srv.Handle(web.Route{Pattern: "GET /cases/import/template.csv"}, h.hotlineTemplate)
	h.srv.Handle(web.Route{Pattern: "GET /cases/import/mapping.json"}, h.hotlineMapping)
}

func (h *handler) hotlinePage(w http.ResponseWriter, r *http.Request) error {
	return h.renderHotline(w, r, http.StatusOK, nil, nil)
}

func (h *handler) renderHotline(w http.ResponseWriter, r *http.Request, status int, rep *HotlineReport, formErr error) error {
	p := auth.From(r.Context())
	if !p.CanAnywhere(auth.CaseAccept) {
		return p.Require(auth.CaseAccept, "")
	}
	data := map[string]any{"Report": rep}
	if formErr != nil {
		msg, fields := web.Message(h.srv.Catalog(), web.Ctx(r.Context()).Lang, formErr)
		data["Error"], data["Fields"] = msg, fields
	}
	return h.srv.RenderStatus(w, r, status, "hotline", web.PageData{Title: "hotline.title", Data: data})
}

// hotlineImport takes the multipart upload of the page and of the API:
// "file" (CSV or xlsx), an optional "mapping" (JSON) and "check" (any
// value: check only).
func (h *handler) hotlineImport(w http.ResponseWriter, r *http.Request) error {
	rep, err := h.importUpload(r)
	if web.IsAPI(r) {
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, rep)
		return nil
	}
	if code := errs.CodeOf(err); code == errs.Invalid || code == errs.TooLarge {
		return h.renderHotline(w, r, web.Status(err), nil, err)
	}
	if err != nil {
		return err
	}
	return h.renderHotline(w, r, http.StatusOK, &rep, nil)
}

func (h *handler) importUpload(r *http.Request) (HotlineReport, error) {
	p := auth.From(r.Context())
	if !p.CanAnywhere(auth.CaseAccept) {
		return HotlineReport{}, p.Require(auth.CaseAccept, "")
	}
	if err := parseForm(r); err != nil {
		return HotlineReport{}, err
	}
	if r.MultipartForm == nil { // a form without files, or no form at all
		return HotlineReport{}, fieldErr("file", "err.hotline.file_missing")
	}
	defer r.MultipartForm.RemoveAll()
	opt := HotlineOptions{Mapping: DefaultHotlineMapping(), CheckOnly: r.FormValue("check") != ""}
	if mf, _, err := r.FormFile("mapping"); err == nil {
		defer mf.Close()
		if opt.Mapping, err = ParseHotlineMapping(mf); err != nil {
			return HotlineReport{}, err
		}
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		return HotlineReport{}, fieldErr("file", "err.hotline.file_missing")
	}
	defer file.Close()
	// An xlsx is read through its zip directory, which needs the whole file
	// at hand: the upload goes to a temporary file first.
	tmp, err := os.CreateTemp("", "linli-hotline-*")
	if err != nil {
		return HotlineReport{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, file); err != nil {
		return HotlineReport{}, err
	}
	rows, err := sheet.Open(tmp.Name(), sheet.Options{})
	if err != nil {
		return HotlineReport{}, sheet.AsError(err)
	}
	defer rows.Close()
	return h.svc.ImportHotline(r.Context(), rows, opt)
}

// hotlineTemplate is a CSV with the default mapping's header and one
// example ticket, in UTF-8 with a byte-order mark so that Excel reads it.
func (h *handler) hotlineTemplate(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="12345-template.csv"`)
	io.WriteString(w, "\ufeff")
	cw := csv.NewWriter(w)
	m := DefaultHotlineMapping()
	cw.Write([]string{m.ExternalID, m.ReportedAt, m.Category, m.Description, m.Address, m.Area, m.Name, m.Phone, m.Lon, m.Lat})
	cw.Write([]string{"SD2026112700001", "2026-11-27 09:30:00", "生活求助", "楼道灯坏了一个星期，老人晚上下楼不方便",
		"黄海路街道岱山社区 3 号楼 2 单元", "岱山社区", "王先生", "13800000000", "", ""})
	cw.Flush()
	return cw.Error()
}

func (h *handler) hotlineMapping(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="12345-mapping.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(DefaultHotlineMapping()); err != nil {
		return fmt.Errorf("writing the mapping: %w", err)
	}
	return nil
}

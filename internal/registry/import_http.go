package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
	"github.com/linli/linli/internal/platform/web"
)

// The web import: an upload is saved to a temporary file and imported by a
// goroutine of this process (an import job), so that a file of a million
// rows does not hold a request open for minutes; the page reloads itself
// every two seconds (an HTTP Refresh header: the pages run no inline
// script) and shows the job's progress, then its report or every bad row.
// The API answers the same upload at once with the report, or with 202 and
// the job when asked for ?async=1, and GET …/import/{job} tells how far it
// is. Jobs live in memory: the uploaded file is on this node's disk, and a
// restart ends the import's transaction anyway (nothing half-written
// remains); a finished job is kept for an hour for its page.
//
// Jobs are not platform/jobs rows: those run handlers inside a write
// transaction with a few seconds' budget, or outside one on any node,
// where this node's temporary file is not.

// maxImportBody bounds an upload: a million residents are about 130 MB of
// CSV and 60 MB of xlsx.
const maxImportBody = 512 << 20

// importJob is one upload being imported.
type importJob struct {
	ID      string
	kind    ImportKind
	owner   int64 // the user who started it; only they see it
	name    string
	mu      sync.Mutex
	prog    ImportProgress
	done    bool
	report  ImportReport
	err     error
	started time.Time
	ended   time.Time
}

type importJobs struct {
	mu   sync.Mutex
	jobs map[string]*importJob
}

var jobsByService sync.Map // *Service → *importJobs

func (s *Service) importJobs() *importJobs {
	v, _ := jobsByService.LoadOrStore(s, &importJobs{jobs: map[string]*importJob{}})
	return v.(*importJobs)
}

// startImport imports the upload (whose file it removes afterwards) in
// the background, as the caller of ctx.
func (s *Service) startImport(ctx context.Context, up upload) *importJob {
	b := make([]byte, 8)
	rand.Read(b)
	p := auth.From(ctx)
	j := &importJob{ID: hex.EncodeToString(b), kind: up.kind, started: time.Now(), prog: ImportProgress{Phase: "read"}}
	if p != nil {
		j.owner, j.name = p.UserID, p.Name
	}
	js := s.importJobs()
	js.mu.Lock()
	for id, old := range js.jobs {
		if old.finished(time.Hour) {
			delete(js.jobs, id)
		}
	}
	js.jobs[j.ID] = j
	js.mu.Unlock()
	ctx = context.WithoutCancel(ctx) // the request ends at once; the job goes on
	go func() {
		defer os.Remove(up.path)
		rep, err := s.importFile(ctx, up, func(pr ImportProgress) {
			j.mu.Lock()
			j.prog = pr
			j.mu.Unlock()
		})
		j.mu.Lock()
		j.done, j.report, j.err, j.ended = true, rep, err, time.Now()
		j.mu.Unlock()
	}()
	return j
}

func (j *importJob) finished(age time.Duration) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.done && time.Since(j.ended) > age
}

// importFile opens and imports an upload's file.
func (s *Service) importFile(ctx context.Context, up upload, progress func(ImportProgress)) (ImportReport, error) {
	rows, _, err := OpenImportFile(up.path)
	if err != nil {
		return ImportReport{}, err
	}
	defer rows.Close()
	return s.Import(ctx, up.kind, rows, ImportOptions{CheckOnly: up.check, Progress: progress})
}

// job returns the caller's job.
func (s *Service) job(ctx context.Context, id string) (*importJob, error) {
	p := auth.From(ctx)
	js := s.importJobs()
	js.mu.Lock()
	j := js.jobs[id]
	js.mu.Unlock()
	if j == nil || p == nil || j.owner != p.UserID || j.name != p.Name {
		return nil, errs.E(errs.NotFound, "err.registry.import_not_found")
	}
	return j, nil
}

// ImportStatus is what the progress endpoint answers.
type ImportStatus struct {
	ID       string             `json:"id"`
	Kind     ImportKind         `json:"kind"`
	Done     bool               `json:"done"`
	Progress ImportProgress     `json:"progress"`
	Report   *ImportReport      `json:"report,omitempty"`
	Error    *ImportStatusError `json:"error,omitempty"`
	Seconds  float64            `json:"seconds"`
	err      error              // for the page
}

// ImportStatusError is a failed import's message and every bad row.
type ImportStatusError struct {
	Code    string             `json:"code"`
	Message string             `json:"message"`
	Fields  []web.FieldMessage `json:"fields,omitempty"`
}

func (h *handler) status(r *http.Request, j *importJob) ImportStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := ImportStatus{ID: j.ID, Kind: j.kind, Done: j.done, Progress: j.prog, err: j.err}
	end := time.Now()
	if j.done {
		end = j.ended
		if j.err == nil {
			rep := j.report
			st.Report = &rep
		} else {
			msg, fields := web.Message(h.srv.Catalog(), web.Ctx(r.Context()).Lang, j.err)
			st.Error = &ImportStatusError{Code: string(errs.CodeOf(j.err)), Message: msg, Fields: fields}
		}
	}
	st.Seconds = end.Sub(j.started).Round(100 * time.Millisecond).Seconds()
	return st
}

func importRoutes(h *handler) {
	h.srv.Handle(web.Route{Pattern: "GET /registry/import"}, h.importPage)
	h.srv.Handle(web.Route{Pattern: "POST /registry/import", MaxBody: maxImportBody}, h.importUpload)
	h.srv.Handle(web.Route{Pattern: "GET /registry/import/template.csv"}, h.importTemplate)
	h.srv.Handle(web.Route{Pattern: "GET /registry/import/template.xlsx"}, h.importTemplate)
	h.srv.Handle(web.Route{Pattern: "POST /api/v1/registry/import", MaxBody: maxImportBody}, h.apiImport)
	h.srv.Handle(web.Route{Pattern: "GET /api/v1/registry/import/{job}"}, h.apiImportStatus)
	h.srv.Handle(web.Route{Pattern: "GET /registry/export/residents.xlsx"}, h.exportXLSX)
	h.srv.Handle(web.Route{Pattern: "POST /registry/export/residents.xlsx"}, h.exportXLSX)
	h.srv.Handle(web.Route{Pattern: "GET /api/v1/registry/export/residents.xlsx"}, h.exportXLSX)
	// Every kind: templates, the API's upload, and exports, the kind named in the path.
	h.srv.Handle(web.Route{Pattern: "GET /registry/import/{kind}/template.csv"}, h.importTemplate)
	h.srv.Handle(web.Route{Pattern: "GET /registry/import/{kind}/template.xlsx"}, h.importTemplate)
	h.srv.Handle(web.Route{Pattern: "POST /api/v1/registry/import/{kind}", MaxBody: maxImportBody}, h.apiImport)
	h.srv.Handle(web.Route{Pattern: "GET /registry/export/{file}"}, h.exportFile)
	h.srv.Handle(web.Route{Pattern: "POST /registry/export/{file}"}, h.exportFile)
	h.srv.Handle(web.Route{Pattern: "GET /api/v1/registry/export/{file}"}, h.exportFile)
}

// upload is a received file to import: where it is saved, what it holds,
// and whether only to check it.
type upload struct {
	path  string
	kind  ImportKind
	check bool
}

// receive streams the multipart upload's "file" into a temporary file
// (an xlsx is read through its zip directory, which needs the whole file)
// and reads the "check" and "kind" fields; kind is the path's kind when
// the route names one. The read deadline is moved on: a large file on a
// slow line takes longer than the server's usual minute.
func receive(w http.ResponseWriter, r *http.Request) (upload, error) {
	up, kind, err := receiveParts(w, r)
	if err != nil {
		return up, err
	}
	if k := r.PathValue("kind"); k != "" {
		kind = k
	}
	if up.kind, err = ParseImportKind(kind); err != nil {
		os.Remove(up.path)
		return upload{}, err
	}
	return up, nil
}

func receiveParts(w http.ResponseWriter, r *http.Request) (up upload, kind string, err error) {
	path, check := "", false
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(30 * time.Minute))
	mr, err := r.MultipartReader()
	if err != nil {
		return up, "", errs.OnField("file", "err.registry.import_file_missing")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return up, "", cleanup(path, tooLarge(err))
		}
		switch part.FormName() {
		case "check":
			v, _ := io.ReadAll(io.LimitReader(part, 16))
			check = len(v) > 0
		case "kind":
			v, _ := io.ReadAll(io.LimitReader(part, 16))
			kind = string(v)
		case "file":
			if path != "" {
				break
			}
			if path, err = save(part); err != nil {
				return up, "", cleanup(path, tooLarge(err))
			}
		}
		part.Close()
	}
	if path == "" {
		return up, "", errs.OnField("file", "err.registry.import_file_missing")
	}
	return upload{path: path, check: check}, kind, nil
}

func save(part *multipart.Part) (string, error) {
	tmp, err := os.CreateTemp("", "linli-import-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(tmp, part)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	return tmp.Name(), err
}

func cleanup(path string, err error) error {
	if path != "" {
		os.Remove(path)
	}
	return err
}

func tooLarge(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return errs.E(errs.TooLarge, "err.too_large", mb.Limit/1024)
	}
	return err
}

func (h *handler) importPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return err
	}
	data, err := h.common(ctx, "import")
	if err != nil {
		return err
	}
	status := http.StatusOK
	data["Kinds"], data["Kind"] = ImportKinds, KindResidents
	if k, err := ParseImportKind(r.URL.Query().Get("kind")); err == nil {
		data["Kind"] = k
	}
	if id := r.URL.Query().Get("job"); id != "" {
		j, err := h.svc.job(ctx, id)
		if err != nil {
			return err
		}
		st := h.status(r, j)
		data["Job"], data["Kind"] = st, st.Kind
		if !st.Done {
			w.Header().Set("Refresh", "2")
		} else if st.err != nil {
			if err := h.formError(ctx, data, st.err); err != nil {
				return err
			}
			if data["Error"] == nil { // a fault of the file or the server
				data["Error"] = st.Error.Message
			}
		}
	}
	return h.render(w, r, status, "registry_import", "registry.import.title", data)
}

// importUpload starts the import of an uploaded file and sends the page
// to its progress.
func (h *handler) importUpload(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return err
	}
	up, err := receive(w, r)
	if err != nil {
		data, derr := h.common(ctx, "import")
		if derr != nil {
			return derr
		}
		data["Kinds"], data["Kind"] = ImportKinds, KindResidents
		if ferr := h.formError(ctx, data, err); ferr != nil {
			return ferr
		}
		return h.render(w, r, web.Status(err), "registry_import", "registry.import.title", data)
	}
	j := h.svc.startImport(ctx, up)
	http.Redirect(w, r, "/registry/import?job="+j.ID, http.StatusSeeOther)
	return nil
}

// apiImport imports an upload of residents, or of the path's kind: at
// once (the answer is the report, or the error listing every bad row), or
// with ?async=1 in the background (202 with the job; poll
// GET /api/v1/registry/import/{job}).
func (h *handler) apiImport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return err
	}
	up, err := receive(w, r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("async") != "" {
		j := h.svc.startImport(ctx, up)
		w.Header().Set("Location", "/api/v1/registry/import/"+j.ID)
		web.JSON(w, http.StatusAccepted, h.status(r, j))
		return nil
	}
	defer os.Remove(up.path)
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	rep, err := h.svc.importFile(ctx, up, nil)
	return web.Reply(w, http.StatusOK, rep, err)
}

func (h *handler) apiImportStatus(w http.ResponseWriter, r *http.Request) error {
	if _, err := auth.Require(r.Context(), auth.RegistryEdit); err != nil {
		return err
	}
	j, err := h.svc.job(r.Context(), r.PathValue("job"))
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, h.status(r, j))
	return nil
}

// importTemplate is a kind's template with its Chinese header and an
// example row, as xlsx or CSV (UTF-8 with a byte-order mark, for Excel).
func (h *handler) importTemplate(w http.ResponseWriter, r *http.Request) error {
	if _, err := auth.Require(r.Context(), auth.RegistryRead); err != nil {
		return err
	}
	kind, err := ParseImportKind(r.PathValue("kind"))
	if err != nil {
		return err
	}
	sheetName, header, example := TemplateOf(kind)
	var out sheet.Writer
	if strings.HasSuffix(r.URL.Path, ".xlsx") {
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="`+string(kind)+`-template.xlsx"`)
		out, err = sheet.NewXLSXWriter(w, sheetName, header)
	} else {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+string(kind)+`-template.csv"`)
		out, err = sheet.NewCSVWriter(w, header)
	}
	if err != nil {
		return err
	}
	cells := make([]any, len(example))
	for i, c := range example {
		cells[i] = c
	}
	if err := out.Write(cells); err != nil {
		return err
	}
	return out.Close()
}

// exportXLSX streams the residents a search selects as xlsx, masked; with
// reveal=1 and a reason (a form's POST, or the API's query) the numbers of
// the grids where the caller holds registry.reveal are in clear, audited.
// The write deadline is moved on: a million rows take about a minute.
func (h *handler) exportXLSX(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if r.Method == http.MethodPost {
		if err := web.ParseForm(r); err != nil {
			return err
		}
	}
	opt := ExportOptions{Reveal: r.FormValue("reveal") != "", Reason: r.FormValue("reason")}
	if err := h.svc.CheckExport(ctx, opt); err != nil {
		return err
	}
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="residents.xlsx"`)
	_, err := h.svc.ExportResidentsXLSX(ctx, residentQuery(r), w, opt)
	return err
}

// exportFile streams a kind's export named by the path's file, as
// buildings.xlsx or places.csv, in the caller's scope (?grid= for one
// grid). Places' phones and residents' numbers are masked unless a reveal
// with a reason is asked for (a form's POST, or the API's query), as for
// exportXLSX.
func (h *handler) exportFile(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if r.Method == http.MethodPost {
		if err := web.ParseForm(r); err != nil {
			return err
		}
	}
	name, format, _ := strings.Cut(r.PathValue("file"), ".")
	kind, err := ParseImportKind(name)
	if err != nil || name == "" {
		return errs.E(errs.NotFound, "err.registry.import_kind", name)
	}
	opt := ExportOptions{Reveal: r.FormValue("reveal") != "", Reason: r.FormValue("reason")}
	if err := h.svc.CheckExport(ctx, opt); err != nil {
		return err
	}
	if format != "csv" && format != "xlsx" {
		return errs.OnField("format", "err.registry.export_format")
	}
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	d := &download{w: w, set: func() {
		if format == "xlsx" {
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		} else {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+string(kind)+"."+format+`"`)
	}}
	_, err = h.svc.Export(ctx, kind, format, ExportQuery{Grid: r.FormValue("grid")}, d, opt)
	return err
}

// download sets a file's headers at its first byte, so that an error found
// before (a grid outside the caller's scope) is answered as an error.
type download struct {
	w       http.ResponseWriter
	set     func()
	started bool
}

func (d *download) Write(p []byte) (int, error) {
	if !d.started {
		d.started = true
		d.set()
	}
	return d.w.Write(p)
}

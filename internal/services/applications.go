package services

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// AppState is where an application stands.
type AppState string

const (
	Submitted AppState = "submitted" // waiting for the desk
	Missing   AppState = "missing"   // the desk asked for materials
	Forwarded AppState = "forwarded" // with the responsible department
	Approved  AppState = "approved"
	Rejected  AppState = "refused"
)

// AppAction is a step on an application.
type AppAction string

const (
	AskMaterials AppAction = "request_materials"
	Supply       AppAction = "supply"
	Forward      AppAction = "forward"
	Approve      AppAction = "approve"
	Refuse       AppAction = "refuse"
)

// appMoves is the application state machine: from which states each step
// may be taken and where it leads. Anything else is refused.
var appMoves = map[AppAction]struct {
	from []AppState
	to   AppState
}{
	AskMaterials: {[]AppState{Submitted, Forwarded}, Missing},
	Supply:       {[]AppState{Missing}, Submitted},
	Forward:      {[]AppState{Submitted}, Forwarded},
	Approve:      {[]AppState{Submitted, Forwarded}, Approved},
	Refuse:       {[]AppState{Submitted, Missing, Forwarded}, Rejected},
}

// Upload is one file handed in. The type is read from the bytes, not from
// what the client claims.
type Upload struct {
	Material string `json:"material"`
	Name     string `json:"name"`
	Data     []byte `json:"data"` // base64 in JSON
}

// Upload limits.
const (
	MaxUploadBytes = 10 << 20
	maxUploads     = 20
)

var uploadTypes = []string{"image/jpeg", "image/png", "image/webp", "application/pdf"}

// contentType sniffs an upload's type.
func contentType(b []byte) string {
	ct := http.DetectContentType(b)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return ct
}

// checkUploads validates each file (size, type, material of the item)
// and that every code in need has a file.
func checkUploads(v *errs.Validation, it Item, files []Upload, need []string) {
	v.Check(len(files) <= maxUploads, "files", "err.services.files_many", maxUploads)
	has := map[string]bool{}
	for i, f := range files {
		field := fmt.Sprintf("files.%d", i)
		m, ok := it.material(f.Material)
		if !ok {
			v.Add(field, "err.services.material_unknown", f.Material)
			continue
		}
		switch {
		case len(f.Data) == 0 || len(f.Data) > MaxUploadBytes:
			v.Add(field, "err.services.file_size", m.Name, MaxUploadBytes>>20)
		case !slices.Contains(uploadTypes, contentType(f.Data)):
			v.Add(field, "err.services.file_type", m.Name)
		default:
			has[f.Material] = true
		}
	}
	for _, code := range need {
		if !has[code] {
			m, _ := it.material(code)
			v.Add("material."+code, "err.services.material_missing", m.Name)
		}
	}
}

// requiredCodes lists the item's required materials.
func requiredCodes(it Item) []string {
	var out []string
	for _, m := range it.Materials {
		if m.Required {
			out = append(out, m.Code)
		}
	}
	return out
}

// Application is one application for a catalog item (申请).
type Application struct {
	ID          int64         `json:"id"`
	Number      string        `json:"number"`
	ItemID      int64         `json:"item_id"`
	ItemName    string        `json:"item_name"`
	Unit        string        `json:"unit"`
	Online      bool          `json:"online"`
	Applicant   string        `json:"applicant"`
	Phone       string        `json:"phone,omitempty"` // masked
	ResidentID  int64         `json:"resident_id,omitempty"`
	Proxy       bool          `json:"proxy"` // 代办
	Note        string        `json:"note,omitempty"`
	State       AppState      `json:"state"`
	Missing     []Material    `json:"missing,omitempty"`
	MissingNote string        `json:"missing_note,omitempty"`
	Reason      string        `json:"reason,omitempty"`
	Department  string        `json:"department,omitempty"`
	DueAt       time.Time     `json:"due_at"`
	Overdue     bool          `json:"overdue"`
	CreatedAt   time.Time     `json:"created_at"`
	Files       []FileInfo    `json:"files,omitempty"`
	Log         []AppLogEntry `json:"log,omitempty"`
	userID      int64         // the applicant's account, when they applied themselves
	proxyID     int64         // the staff member who applied for them (代办)
	areaPath    string
	missing     []string
}

// ownedBy reports whether p applied, for themselves or on someone's
// behalf.
func (a Application) ownedBy(p *auth.Principal) bool {
	return p.UserID != 0 && (a.userID == p.UserID || a.proxyID == p.UserID)
}

// FileInfo describes a file of an application.
type FileInfo struct {
	ID          int64  `json:"id"`
	Material    string `json:"material"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
}

// AppLogEntry is one step of an application, as the applicant follows it.
type AppLogEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	From   AppState  `json:"from,omitempty"`
	To     AppState  `json:"to"`
	Detail string    `json:"detail,omitempty"`
}

// ApplyInput is what applying takes. A linked resident gives only the
// item, the files and a note; an unlinked account gives a name and phone
// number; staff applying on behalf of someone (代办) name the resident of
// the register.
type ApplyInput struct {
	Item       int64    `json:"item"`
	Name       string   `json:"name"`
	Phone      string   `json:"phone"`
	ResidentID int64    `json:"resident_id"`
	Note       string   `json:"note"`
	Files      []Upload `json:"files"`
}

var phoneRE = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// applicant is who an application is for.
type applicant struct {
	name, phone, birth string
	residentID         int64
	proxy              bool
}

// applicantOf works out who applies: the named resident for staff acting
// on their behalf, the caller's register entry for a linked resident, or
// the name and phone given.
func (s *Service) applicantOf(ctx context.Context, p *auth.Principal, it Item, in *ApplyInput) (applicant, error) {
	if in.ResidentID != 0 {
		// 代办 is done by staff who serve the resident's grid: a grid
		// worker for their grids, community staff for the community.
		if _, err := auth.Require(ctx, auth.ServiceHandle); err != nil {
			return applicant{}, err
		}
		r, err := s.reg.Resident(ctx, in.ResidentID)
		if err != nil {
			return applicant{}, err
		}
		if err := auth.Allowed(p, auth.ServiceHandle, r.AreaPath, outOfScope); err != nil {
			return applicant{}, err
		}
		return applicant{name: r.Name, birth: r.BirthDate, residentID: r.ID, proxy: true}, nil
	}
	id, err := s.reg.IdentityOf(ctx, p.UserID)
	if err == nil {
		return applicant{name: id.Name, birth: id.BirthDate, residentID: id.ResidentID}, nil
	}
	if errs.CodeOf(err) != errs.NotFound {
		return applicant{}, err
	}
	in.Name, in.Phone = strings.TrimSpace(in.Name), strings.TrimSpace(in.Phone)
	var v errs.Validation
	v.Check(in.Name != "" && textOK(in.Name, 30), "name", "err.services.applicant_name")
	v.Check(phoneRE.MatchString(in.Phone), "phone", "err.services.phone")
	return applicant{name: in.Name, phone: in.Phone}, v.Err()
}

// ageOn is someone's age in whole years on a day, from YYYY-MM-DD.
func ageOn(birth string, day time.Time) (int, bool) {
	b, err := time.Parse("2006-01-02", birth)
	if err != nil {
		return 0, false
	}
	age := day.Year() - b.Year()
	if day.Month() < b.Month() || (day.Month() == b.Month() && day.Day() < b.Day()) {
		age--
	}
	return age, true
}

// Apply files an application with its materials. Every required material
// must come with a valid file (jpeg, png, webp or pdf, at most 10 MB);
// the error names each one that is missing or wrong, and nothing is kept.
// The time limit runs in working days from now.
func (s *Service) Apply(ctx context.Context, in ApplyInput) (Application, error) {
	p := auth.From(ctx)
	if p == nil {
		return Application{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	it, err := s.Item(ctx, in.Item)
	if err != nil {
		return Application{}, err
	}
	if !it.Active {
		return Application{}, errs.OnField("item", "err.services.item_inactive", it.Name)
	}
	who, err := s.applicantOf(ctx, p, it, &in)
	if err != nil {
		return Application{}, err
	}
	in.Note = strings.TrimSpace(in.Note)
	var v errs.Validation
	if age, ok := ageOn(who.birth, s.now().In(local)); ok && it.MinAge > 0 {
		v.Check(age >= it.MinAge, "item", "err.services.too_young", it.Name, it.MinAge)
	}
	v.Check(textOK(in.Note, 1000), "note", "err.services.note")
	checkUploads(&v, it, in.Files, requiredCodes(it))
	if err := v.Err(); err != nil {
		return Application{}, err
	}
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		var err error
		if id, err = s.insertApplication(ctx, p, it, who, in.Note); err != nil {
			return err
		}
		if err := s.insertFiles(ctx, id, in.Files); err != nil {
			return err
		}
		detail := ""
		if who.proxy {
			detail = "代办"
		}
		if err := s.logStep(ctx, id, "apply", "", Submitted, detail); err != nil {
			return err
		}
		return s.record(ctx, "services.application.create", "application", id, it.Code)
	})
	if err != nil {
		return Application{}, err
	}
	return s.application(ctx, id)
}

func (s *Service) insertApplication(ctx context.Context, p *auth.Principal, it Item, who applicant, note string) (int64, error) {
	now := s.now().UTC()
	number := "FW" + now.In(local).Format("060102") + strings.ToUpper(newToken(4))
	phone := ""
	if who.phone != "" {
		phone = s.box.Seal(fieldPhone, who.phone)
	}
	user, proxy := nullID(p.UserID), any(nil)
	if who.proxy {
		user, proxy = nil, nullID(p.UserID)
	}
	due := s.Calendar.AddDays(now, it.LimitDays).UTC()
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO service_applications (number, item_id, area_id, area_path, resident_id,
		user_id, proxy_user_id, applicant_name, phone_enc, note, state, due_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'submitted', $11, $12, $12) RETURNING id`,
		number, it.ID, it.AreaID, it.AreaPath, nullID(who.residentID), user, proxy, who.name, phone, note, due, now).Scan(&id)
	return id, err
}

func (s *Service) insertFiles(ctx context.Context, appID int64, files []Upload) error {
	for _, f := range files {
		if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO service_application_files (application_id, material, content_type, size, data, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, appID, f.Material, contentType(f.Data), len(f.Data), f.Data, s.now().UTC()); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) logStep(ctx context.Context, appID int64, action string, from, to AppState, detail string) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO service_application_log (application_id, at, actor, action, from_state, to_state, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, appID, s.now().UTC(), actorName(ctx), action, string(from), string(to), detail)
	return err
}

const appCols = `x.id, x.number, x.item_id, i.name, i.unit, i.online, x.applicant_name, x.phone_enc, COALESCE(x.resident_id, 0),
	COALESCE(x.proxy_user_id, 0), x.note, x.state, x.missing, x.missing_note, x.reason, x.department, x.due_at, x.created_at,
	COALESCE(x.user_id, 0), x.area_path`

const appFrom = ` FROM service_applications x JOIN service_items i ON i.id = x.item_id`

func (s *Service) scanApp(r db.Scanner) (Application, error) {
	var a Application
	var phone, missing string
	err := r.Scan(&a.ID, &a.Number, &a.ItemID, &a.ItemName, &a.Unit, &a.Online, &a.Applicant, &phone, &a.ResidentID, &a.proxyID,
		&a.Note, &a.State, &missing, &a.MissingNote, &a.Reason, &a.Department, &a.DueAt, &a.CreatedAt, &a.userID, &a.areaPath)
	if err != nil {
		return a, err
	}
	a.DueAt, a.CreatedAt = a.DueAt.UTC(), a.CreatedAt.UTC()
	a.Proxy = a.proxyID != 0
	if phone != "" {
		if clear, err := s.box.Open(fieldPhone, phone); err == nil {
			a.Phone = crypto.MaskPhone(clear)
		}
	}
	a.Overdue = (a.State == Submitted || a.State == Forwarded || a.State == Missing) && s.now().After(a.DueAt)
	return a, json.Unmarshal([]byte(missing), &a.missing)
}

// application loads an application with its files and log, unchecked.
func (s *Service) application(ctx context.Context, id int64) (Application, error) {
	return s.loadApp(ctx, "x.id = $1", id)
}

func (s *Service) loadApp(ctx context.Context, cond string, arg any) (Application, error) {
	a, err := s.scanApp(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+appCols+appFrom+` WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, errs.E(errs.NotFound, "err.services.application_not_found", fmt.Sprint(arg))
	}
	if err != nil {
		return Application{}, err
	}
	it, err := scanItem(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+itemCols+` FROM service_items i JOIN areas a ON a.id = i.area_id WHERE i.id = $1`, a.ItemID))
	if err != nil {
		return Application{}, err
	}
	for _, code := range a.missing {
		if m, ok := it.material(code); ok {
			a.Missing = append(a.Missing, m)
		}
	}
	if a.Files, err = db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (FileInfo, error) {
		var f FileInfo
		return f, r.Scan(&f.ID, &f.Material, &f.ContentType, &f.Size)
	}, `SELECT id, material, content_type, size FROM service_application_files WHERE application_id = $1 ORDER BY id`, a.ID); err != nil {
		return Application{}, err
	}
	a.Log, err = db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (AppLogEntry, error) {
		var e AppLogEntry
		err := r.Scan(&e.At, &e.Actor, &e.Action, &e.From, &e.To, &e.Detail)
		e.At = e.At.UTC()
		return e, err
	}, `SELECT at, actor, action, from_state, to_state, detail FROM service_application_log WHERE application_id = $1 ORDER BY id`, a.ID)
	return a, err
}

// Track returns an application by its number, for whoever holds the
// number (it is random, like a case's private link): the applicant's name
// is masked and no files are listed, but the state, what is missing, the
// reason and the steps are there.
func (s *Service) Track(ctx context.Context, number string) (Application, error) {
	number = strings.ToUpper(strings.TrimSpace(number))
	a, err := s.loadApp(ctx, "x.number = $1", number)
	if err != nil {
		return Application{}, err
	}
	p := auth.From(ctx)
	if p != nil && (p.Can(auth.ServiceRead, a.areaPath) || a.ownedBy(p)) {
		return a, nil
	}
	a.Applicant, a.Phone, a.Files, a.Note = crypto.MaskName(a.Applicant), "", nil, ""
	for i := range a.Log {
		a.Log[i].Actor = crypto.MaskName(a.Log[i].Actor)
	}
	return a, nil
}

// Application returns an application the caller may read: staff with
// service.read over its community, or the applicant.
func (s *Service) Application(ctx context.Context, id int64) (Application, error) {
	a, err := s.application(ctx, id)
	if err != nil {
		return Application{}, err
	}
	if err := s.mayRead(ctx, a); err != nil {
		return Application{}, err
	}
	return a, nil
}

func (s *Service) mayRead(ctx context.Context, a Application) error {
	p := auth.From(ctx)
	if p == nil {
		return errs.E(errs.Unauthenticated, "err.auth.required")
	}
	if p.Can(auth.ServiceRead, a.areaPath) || a.ownedBy(p) {
		return nil
	}
	return errs.E(errs.NotFound, "err.services.application_not_found", a.Number)
}

// AppQuery selects applications for the desk.
type AppQuery struct {
	Community string
	State     AppState
	Mine      bool // the caller's own applications
	After     int64
	Limit     int
}

// Applications lists applications: the caller's own (Mine), or those of
// the communities where the caller has service.read, newest first.
func (s *Service) Applications(ctx context.Context, q AppQuery) (Page[Application], error) {
	p := auth.From(ctx)
	if p == nil {
		return Page[Application]{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	var where string
	var args []any
	if q.Mine {
		where, args = "(x.user_id = $1 OR x.proxy_user_id = $1)", []any{p.UserID}
	} else {
		if _, err := auth.Require(ctx, auth.ServiceRead); err != nil {
			return Page[Application]{}, err
		}
		where, args = p.Filter(auth.ServiceRead, "x.area_id", 1)
	}
	if q.Community != "" {
		c, err := s.community(ctx, q.Community, auth.AreaRead)
		if err != nil {
			return Page[Application]{}, err
		}
		args = append(args, c.ID)
		where += fmt.Sprintf(" AND x.area_id = $%d", len(args))
	}
	if q.State != "" {
		args = append(args, string(q.State))
		where += fmt.Sprintf(" AND x.state = $%d", len(args))
	}
	if q.After > 0 {
		args = append(args, q.After)
		where += fmt.Sprintf(" AND x.id < $%d", len(args))
	}
	limit := limitOf(q.Limit)
	items, err := db.All(ctx, s.db.Q(ctx), s.scanApp, `SELECT `+appCols+appFrom+` WHERE `+where+fmt.Sprintf(" ORDER BY x.id DESC LIMIT %d", limit), args...)
	if err != nil {
		return Page[Application]{}, err
	}
	return pageOf(items, limit, func(a Application) int64 { return a.ID }), nil
}

// StepInput is what a step on an application takes: the materials asked
// for and what exactly is wrong (request_materials), the files
// (supply), the department (forward), the reason (refuse, optional note
// on approve).
type StepInput struct {
	Materials  []string `json:"materials"`
	Note       string   `json:"note"`
	Department string   `json:"department"`
	Files      []Upload `json:"files"`
}

// Step takes a step on an application. Staff with service.handle over its
// community ask for materials, forward, approve and refuse; the applicant
// (or the staff member who applied for them) supplies what was asked
// for. Two people acting at once cannot both succeed: the update is
// conditional on the state read.
func (s *Service) Step(ctx context.Context, id int64, act AppAction, in StepInput) (Application, error) {
	p := auth.From(ctx)
	if p == nil {
		return Application{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	mv, ok := appMoves[act]
	if !ok {
		return Application{}, errs.OnField("action", "err.services.app_action", string(act))
	}
	a, err := s.application(ctx, id)
	if err != nil {
		return Application{}, err
	}
	if err := s.mayStep(ctx, p, a, act); err != nil {
		return Application{}, err
	}
	it, err := scanItem(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+itemCols+` FROM service_items i JOIN areas a ON a.id = i.area_id WHERE i.id = $1`, a.ItemID))
	if err != nil {
		return Application{}, err
	}
	if err := checkStep(act, it, a, &in); err != nil {
		return Application{}, err
	}
	if !slices.Contains(mv.from, a.State) {
		return Application{}, conflictErr("state", "err.services.app_state", string(a.State), string(act))
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.applyStep(ctx, a, act, mv.to, in); err != nil {
			return err
		}
		if act == Supply {
			if err := s.insertFiles(ctx, a.ID, in.Files); err != nil {
				return err
			}
		}
		if err := s.logStep(ctx, a.ID, string(act), a.State, mv.to, stepDetail(act, in)); err != nil {
			return err
		}
		return s.record(ctx, "services.application."+string(act), "application", a.ID, string(a.State)+"→"+string(mv.to))
	})
	if err != nil {
		return Application{}, err
	}
	return s.application(ctx, id)
}

func (s *Service) mayStep(ctx context.Context, p *auth.Principal, a Application, act AppAction) error {
	if act == Supply && a.ownedBy(p) {
		return nil
	}
	if err := s.mayRead(ctx, a); err != nil {
		if !p.Can(auth.ServiceHandle, a.areaPath) {
			return err
		}
	}
	return auth.Allowed(p, auth.ServiceHandle, a.areaPath, outOfScope)
}

// checkStep validates a step's input against the item and the
// application.
func checkStep(act AppAction, it Item, a Application, in *StepInput) error {
	in.Note, in.Department = strings.TrimSpace(in.Note), strings.TrimSpace(in.Department)
	var v errs.Validation
	v.Check(textOK(in.Note, 1000), "note", "err.services.note")
	switch act {
	case AskMaterials:
		v.Check(len(in.Materials) > 0, "materials", "err.services.ask_which")
		for _, code := range in.Materials {
			_, ok := it.material(code)
			v.Check(ok, "materials", "err.services.material_unknown", code)
		}
		v.Check(in.Note != "", "note", "err.services.ask_note")
	case Supply:
		checkUploads(&v, it, in.Files, a.missing)
	case Forward:
		v.Check(in.Department != "" && textOK(in.Department, 60), "department", "err.services.department")
	case Refuse:
		v.Check(in.Note != "", "note", "err.services.reason")
	}
	return v.Err()
}

func (s *Service) applyStep(ctx context.Context, a Application, act AppAction, to AppState, in StepInput) error {
	missing, missingNote, reason, dept := "[]", "", a.Reason, a.Department
	switch act {
	case AskMaterials:
		b, _ := json.Marshal(in.Materials)
		missing, missingNote = string(b), in.Note
	case Forward:
		dept = in.Department
	case Refuse, Approve:
		reason = in.Note
	}
	res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE service_applications SET state = $3, missing = $4, missing_note = $5, reason = $6,
		department = $7, version = version + 1, updated_at = $8 WHERE id = $1 AND state = $2`,
		a.ID, string(a.State), string(to), missing, missingNote, reason, dept, s.now().UTC())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflictErr("state", "err.services.app_changed")
	}
	return nil
}

func stepDetail(act AppAction, in StepInput) string {
	switch act {
	case AskMaterials:
		return strings.Join(in.Materials, ",") + ": " + in.Note
	case Forward:
		return in.Department
	case Supply:
		return fmt.Sprintf("%d", len(in.Files))
	}
	return in.Note
}

// File is the content of an application's file.
type File struct {
	ContentType string
	Data        []byte
}

// ApplicationFile returns a file of an application the caller may read.
func (s *Service) ApplicationFile(ctx context.Context, appID, fileID int64) (File, error) {
	a, err := s.Application(ctx, appID)
	if err != nil {
		return File{}, err
	}
	var f File
	err = s.db.Q(ctx).QueryRowContext(ctx, `SELECT content_type, data FROM service_application_files WHERE id = $1 AND application_id = $2`,
		fileID, a.ID).Scan(&f.ContentType, &f.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return File{}, errs.E(errs.NotFound, "err.services.file_not_found")
	}
	return f, err
}

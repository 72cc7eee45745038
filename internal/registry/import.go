package registry

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
)

// Importing residents from a spreadsheet (居民花名册导入).
//
// A file is taken whole or not at all. The first pass reads every row,
// checks it and keeps only what the write needs, compactly: the texts of a
// row in one arena record (no Go string per field), its grid, room and
// groups as small numbers, the blind index of its ID number (16 bytes), and
// the id of the resident it updates. A million rows take about 120 MB so
// (64 bytes of record and about 55 of text each).
// Any bad row means nothing is written, and every bad row is listed by row,
// column and reason (the first sheet.MaxListed of them, with a count of
// the rest). Only then is everything written in one transaction.
//
// Re-importing: a row whose ID number is already registered updates that
// resident (upsert by the number's blind index) rather than being skipped,
// because the spreadsheet is how communities keep the register up to date:
// a corrected phone number or a move to another grid in next month's file
// must land. A row never creates a second record of a person. An empty
// phone cell keeps the stored number, as the forms do. It is refused
// (not updated) when the register holds the number under another name —
// most likely a mistyped ID number that happens to be someone else's — or
// in a grid outside the caller's scope.

// MaxImportRows bounds one import: the first pass keeps about 130 bytes a
// row, so this bounds its memory too.
const MaxImportRows = 2_000_000

// importColumn is one column of the template.
type importColumn struct {
	key     string   // the field, for messages
	header  string   // the template's header
	aliases []string // other headers that mean the same
}

// importColumns is the template, in its order. 网格代码 or a room
// (楼栋地址 + 户室号, or 房屋编号) places the resident.
var importColumns = []importColumn{
	{"seq", "序号", nil}, // ignored: most registers number their rows
	{"name", "姓名", nil},
	{"id_number", "证件号码", []string{"公民身份号码", "身份证号", "身份证号码"}},
	{"sex", "性别", nil},
	{"birth_date", "出生日期", nil},
	{"phone", "联系电话", []string{"手机号", "手机号码", "电话"}},
	{"pop_type", "人口类型", nil},
	{"grid", "网格代码", []string{"网格编码"}},
	{"building", "楼栋地址", []string{"楼栋"}},
	{"unit", "单元", nil},
	{"room_number", "户室号", []string{"房号"}},
	{"room_id", "房屋编号", nil},
	{"role", "人房关系", nil},
	{"from", "入住日期", nil},
	{"relation", "与户主关系", nil},
	{"groups", "特殊人群", nil},
	{"care_level", "关爱等级", nil},
	{"note", "备注", nil},
}

// ImportTemplateHeader is the header of the downloadable template.
func ImportTemplateHeader() []string { return templateHeader(importColumns) }

func templateHeader(cols []importColumn) []string {
	out := make([]string, 0, len(cols))
	for _, c := range cols {
		out = append(out, c.header)
	}
	return out
}

// ImportTemplateExample is the template's example row (a fictitious person
// with a valid ID number).
func ImportTemplateExample() []string {
	return []string{"1", "张桂兰", "370613194503121223", "女", "1945-03-12", "13812345678", "户籍", "370613001001001",
		"岱山路12号 海韵小区 3号楼", "1", "301", "", "产权人", "1998-05-01", "户主", "独居老人、低保", "", "示例行，导入前请删除"}
}

var (
	sexNames  = map[string]Sex{"男": Male, "女": Female, "m": Male, "f": Female, "male": Male, "female": Female}
	popByName = map[string]PopType{"户籍": Registered, "户籍人口": Registered, "流动": Floating, "流动人口": Floating,
		"境外": Overseas, "境外人员": Overseas, "registered": Registered, "floating": Floating, "overseas": Overseas}
	roleByName = map[string]Role{"产权人": RoleOwner, "业主": RoleOwner, "承租人": RoleTenant, "租户": RoleTenant, "居住": RoleLives,
		"居住人": RoleLives, "owner": RoleOwner, "tenant": RoleTenant, "lives": RoleLives}
	dateLayouts = []string{time.DateOnly, "2006/1/2", "2006-1-2", "20060102", "2006年1月2日", "2006.1.2"}
)

// ImportOptions configure ImportResidents.
type ImportOptions struct {
	// CheckOnly validates the file and counts what an import would do,
	// writing nothing.
	CheckOnly bool
	// Progress, when set, is told how far the import is, every few
	// thousand rows and at each phase's end, from the importing goroutine.
	Progress func(ImportProgress)
	// KeepIndexes keeps the residents' indexes during a large load on
	// SQLite instead of building them again afterwards (see bulkRows):
	// slower, but without the sorter's memory.
	KeepIndexes bool
}

// ImportProgress is how far an import has come.
type ImportProgress struct {
	Phase   string `json:"phase"`   // "read", "write", "done"
	Read    int    `json:"read"`    // data rows read
	Bad     int    `json:"bad"`     // problems found so far
	Written int    `json:"written"` // rows written (write phase)
	Total   int    `json:"total"`   // rows to write, known from the write phase on
}

// ImportReport is what an import did, or would do when it was a check.
type ImportReport struct {
	Rows    int `json:"rows"`    // residents in the file (other kinds: its rows)
	Created int `json:"created"` // new residents (other kinds: rows adding something)
	Updated int `json:"updated"` // residents already registered, updated (other kinds: rows changing something)
	// Unchanged counts the rows of buildings, households and places that
	// are registered as the file has them (residents' rows always update).
	Unchanged int  `json:"unchanged,omitempty"`
	Checked   bool `json:"checked_only,omitempty"`
}

// ImportResidents imports the residents of a CSV or xlsx file opened with
// platform/sheet. The caller needs registry.edit on every row's grid. A
// bad file or any bad row is an Invalid error whose fields name every bad
// row and column; nothing is written then.
func (s *Service) ImportResidents(ctx context.Context, rows sheet.Reader, opt ImportOptions) (ImportReport, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return ImportReport{}, err
	}
	defer tightGC()()
	im, err := s.newImporter(ctx, rows.Header(), opt.Progress)
	if err != nil {
		return ImportReport{}, err
	}
	if err := im.readAll(ctx, rows); err != nil {
		return ImportReport{}, err
	}
	rep := ImportReport{Rows: im.n, Created: im.n - im.updates, Updated: im.updates, Checked: opt.CheckOnly}
	if opt.CheckOnly {
		im.report(ImportProgress{Phase: "done", Read: im.n, Total: im.n})
		return rep, nil
	}
	// What only the check needed goes before the write, which needs the
	// memory for SQLite's sorting and caches.
	im.builds, im.roomsBy, im.gridBy = nil, nil, nil
	if im.n >= bulkRows {
		// The first pass's garbage (a million rows' cells) would stay
		// resident beside SQLite's caches and sorter for the whole write:
		// hand it back first. One collection, a few hundred ms.
		debug.FreeOSMemory()
	}
	if err := s.writeImport(ctx, im, opt.KeepIndexes); err != nil {
		return ImportReport{}, err
	}
	im.report(ImportProgress{Phase: "done", Read: im.n, Written: im.n, Total: im.n})
	return rep, nil
}

// OpenImportFile opens a CSV or xlsx file for ImportResidents. For a CSV
// file, progress tells how many of its bytes were read, so that a caller
// can estimate the time left; for xlsx (read through a zip) it stays 0.
func OpenImportFile(path string) (rows sheet.Reader, progress func() (read, size int64), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, sheet.AsError(&sheet.Error{Kind: sheet.KindRead, Zh: "无法读取文件", En: "the file cannot be read: " + err.Error(), Err: err})
	}
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	st, statErr := f.Stat()
	if n == 4 && bytes.Equal(head, []byte("PK\x03\x04")) || statErr != nil {
		f.Close()
		r, err := sheet.Open(path, sheet.Options{})
		if err != nil {
			return nil, nil, sheet.AsError(err)
		}
		return r, func() (int64, int64) { return 0, 0 }, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, err
	}
	cr := &countingReader{r: f}
	r, err := sheet.OpenCSV(bufio.NewReaderSize(cr, 64<<10), sheet.Options{})
	if err != nil {
		f.Close()
		return nil, nil, sheet.AsError(err)
	}
	size := st.Size()
	return &closingReader{Reader: r, f: f}, func() (int64, int64) { return cr.n.Load(), size }, nil
}

type closingReader struct {
	sheet.Reader
	f *os.File
}

func (c *closingReader) Close() error { return errors.Join(c.Reader.Close(), c.f.Close()) }

// --- the first pass ---

// impRec is one checked row, compactly: no pointers, so that a million of
// them cost the collector nothing to scan.
type impRec struct {
	text   uint64   // arena reference of the row's texts
	known  int64    // the resident this row updates; 0: a new one
	room   int64    // the room it links to; 0: none
	groups uint64   // bit i: the i-th configured group
	idx    [16]byte // blind index of the ID number
	line   int32
	grid   int32 // index into importer.grids
	sex    Sex8
	pop    uint8 // index into PopTypes
	care   uint8 // index into importer.levels, +1; 0: none
	role   uint8 // index into Roles
}

// Sex8 is Sex in one byte.
type Sex8 uint8

// importText is the text fields of a row, kept in the arena.
type importText struct {
	name, id, phone, birth, relation, note, from string
}

// arena keeps the rows' texts in large byte chunks: a reference is the
// chunk and the offset of a record of length-prefixed strings.
type arena struct {
	chunks [][]byte
}

const arenaChunk = 4 << 20

func (a *arena) put(fields ...string) uint64 {
	need := 0
	for _, f := range fields {
		need += binary.MaxVarintLen32 + len(f)
	}
	if len(a.chunks) == 0 || len(a.chunks[len(a.chunks)-1])+need > arenaChunk {
		a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, need)))
	}
	c := len(a.chunks) - 1
	off := len(a.chunks[c])
	b := a.chunks[c]
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	a.chunks[c] = b
	return uint64(c)<<32 | uint64(off)
}

// get reads n strings of a record.
func (a *arena) get(ref uint64, out []string) {
	b := a.chunks[ref>>32][ref&0xffffffff:]
	for i := range out {
		l, k := binary.Uvarint(b)
		out[i] = string(b[k : k+int(l)])
		b = b[k+int(l):]
	}
}

func (a *arena) text(ref uint64) importText {
	var f [7]string
	a.get(ref, f[:])
	return importText{name: f[0], id: f[1], phone: f[2], birth: f[3], relation: f[4], note: f[5], from: f[6]}
}

// sheetImport is what the first pass of every kind of file shares: the
// caller, the kind's columns, the problems found, the count of good rows,
// and the grids, buildings and rooms the rows name, each looked up once.
type sheetImport struct {
	svc      *Service
	p        *auth.Principal
	cols     []importColumn // the kind's template
	col      map[string]int // field key → cell index
	progress func(ImportProgress)
	now      time.Time
	n        int // good rows

	grids   []placed
	gridBy  map[string]gridRef
	builds  map[string]*importBuilding // by address without spaces
	roomsBy map[int64]roomRef          // by room id
	shapes  map[int32]orb.Geometry     // by grid: its boundary, nil for none

	problems sheet.Problems
}

func (s *Service) newSheetImport(ctx context.Context, cols []importColumn, col map[string]int, progress func(ImportProgress)) sheetImport {
	return sheetImport{svc: s, p: auth.From(ctx), cols: cols, col: col, progress: progress, now: s.now(),
		gridBy: map[string]gridRef{}, roomsBy: map[int64]roomRef{}}
}

// importer is the state of one residents import's first pass.
type importer struct {
	sheetImport

	groups  []Group
	groupBy map[string]int // code, Chinese or English name → index
	levels  []CareLevel
	levelBy map[string]int

	recs    [][]impRec // in chunks, so that growing never copies them all
	updates int
	text    arena
	pending []int // records (by number) whose register check is due
}

type gridRef struct {
	i   int32
	err string // message key when the grid cannot be used
}

type importBuilding struct {
	id    int64
	grid  int32 // -1: outside the caller's scope
	rooms map[string]int64
}

type roomRef struct {
	grid int32 // -1: unknown or outside the scope
}

const recChunk = 1 << 16

func (im *importer) rec(i int) *impRec { return &im.recs[i/recChunk][i%recChunk] }

func (s *Service) newImporter(ctx context.Context, header []string, progress func(ImportProgress)) (*importer, error) {
	col, err := bindColumns(header)
	if err != nil {
		return nil, err
	}
	im := &importer{sheetImport: s.newSheetImport(ctx, importColumns, col, progress)}
	if im.groups, err = s.store.groups(ctx); err != nil {
		return nil, err
	}
	if len(im.groups) > 64 {
		return nil, errs.E(errs.Invalid, "err.registry.import_groups", 64)
	}
	im.groupBy = map[string]int{}
	for i, g := range im.groups {
		if g.Active {
			im.groupBy[g.Code], im.groupBy[g.NameZH], im.groupBy[strings.ToLower(g.NameEN)] = i, i, i
		}
	}
	if im.levels, err = s.store.careLevels(ctx); err != nil {
		return nil, err
	}
	im.levelBy = map[string]int{}
	for i, l := range im.levels {
		im.levelBy[l.Code], im.levelBy[l.NameZH], im.levelBy[strings.ToLower(l.NameEN)] = i, i, i
	}
	return im, nil
}

// bindColumns finds the residents' template's columns in a header: it
// must name a name, an ID number and something that places the resident.
func bindColumns(header []string) (map[string]int, error) {
	col, v := bindHeader(importColumns, header, "name", "id_number")
	checkPlaceColumns(col, v, "err.registry.import_column_place")
	return col, v.Err()
}

// checkPlaceColumns checks that a header has a column placing the row (a grid
// code, a building's room, or a room's id; else the message key none),
// and the building's address with the room's number.
func checkPlaceColumns(col map[string]int, v *errs.Validation, none string) {
	_, grid := col["grid"]
	_, building := col["building"]
	_, roomID := col["room_id"]
	_, number := col["room_number"]
	if !grid && !building && !roomID {
		v.Add("header", none)
	}
	if building != number {
		v.Add("header", "err.registry.import_column_room")
	}
}

// bindHeader finds a template's columns in a header. Unknown and repeated
// columns are refused (a misspelt 联系电话 would otherwise drop every phone
// number silently), and so is a header without the required columns.
func bindHeader(cols []importColumn, header []string, required ...string) (map[string]int, *errs.Validation) {
	col := map[string]int{}
	v := &errs.Validation{}
	names := strings.Join(templateHeader(cols), "、")
	for i, h := range header {
		key := ""
		for _, c := range cols {
			if h == c.header || containsString(c.aliases, h) {
				key = c.key
				break
			}
		}
		switch _, dup := col[key]; {
		case key == "":
			v.Add(columnWhere(i, h), "err.registry.import_column_unknown", h, names)
		case dup:
			v.Add(columnWhere(i, h), "err.registry.import_column_twice", h)
		default:
			col[key] = i
		}
	}
	for _, need := range required {
		if _, ok := col[need]; !ok {
			v.Add("header", "err.registry.import_column_missing", headerOf(cols, need), names)
		}
	}
	return col, v
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func columnWhere(i int, h string) string {
	return fmt.Sprintf("表头第 %d 列 / header column %d “%s”", i+1, i+1, h)
}

func headerOf(cols []importColumn, key string) string {
	for _, c := range cols {
		if c.key == key {
			return c.header
		}
	}
	return key
}

func (b *sheetImport) report(p ImportProgress) {
	if b.progress != nil {
		b.progress(p)
	}
}

// add records a bad cell of the column of key ("" for the whole row).
func (b *sheetImport) add(line int, key, msg string, args ...any) {
	column := ""
	if key != "" {
		column = b.header(key)
	}
	b.problems.Add(line, column, msg, args...)
}

// header is the column's name as the file has it.
func (b *sheetImport) header(key string) string {
	return headerOf(b.cols, key)
}

// getter reads a row's cells by field key, trimmed; "" for a column the
// file does not have.
func (b *sheetImport) getter(cells []string) func(string) string {
	return func(key string) string {
		if i, ok := b.col[key]; ok && i < len(cells) {
			return strings.TrimSpace(cells[i])
		}
		return ""
	}
}

// readAll is the first pass.
func (im *importer) readAll(ctx context.Context, rows sheet.Reader) error {
	err := im.readRows(ctx, rows, func(line int, cells []string) error {
		im.row(ctx, line, cells)
		if len(im.pending) >= knownBatch {
			return im.checkKnown(ctx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := im.checkKnown(ctx); err != nil {
		return err
	}
	im.repeated()
	return im.verdict("err.registry.import_no_rows")
}

// readRows reads every row of a file and hands each readable one to each;
// an unreadable row is a problem of the file, and reading goes on.
func (b *sheetImport) readRows(ctx context.Context, rows sheet.Reader, each func(line int, cells []string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := readAhead(ctx, rows)
	defer func() {
		// Stop the reader and wait for it: the caller closes rows next.
		cancel()
		for range batches {
		}
	}()
	for batch := range batches {
		for _, r := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			var bad *sheet.RowError
			switch {
			case errors.As(r.err, &bad):
				b.add(bad.Line, "", "err.registry.import_row_unreadable", bad.Zh+" / "+bad.En)
				continue
			case r.err != nil:
				return sheet.AsError(r.err)
			}
			if b.n+b.problems.Count() >= MaxImportRows {
				return errs.OnField("file", "err.registry.import_too_many", MaxImportRows)
			}
			if err := each(r.row.Line, r.row.Cells); err != nil {
				return err
			}
			if (b.n+b.problems.Count())%10000 == 0 {
				b.report(ImportProgress{Phase: "read", Read: b.n + b.problems.Count(), Bad: b.problems.Count()})
			}
		}
	}
	return nil
}

// verdict ends a first pass: the problems found, or a file without a
// single row (the message key empty), or nil.
func (b *sheetImport) verdict(empty string) error {
	b.report(ImportProgress{Phase: "read", Read: b.n, Bad: b.problems.Count()})
	if err := b.problems.Err(); err != nil {
		return err
	}
	if b.n == 0 {
		return errs.OnField("file", empty)
	}
	return nil
}

// row checks one row; every fault of the row is recorded. A good row is
// appended to the records.
func (im *importer) row(ctx context.Context, line int, cells []string) {
	before := im.problems.Count()
	get := im.getter(cells)
	in := ResidentInput{Name: get("name"), IDNumber: normaliseID(get("id_number")), Relation: get("relation"), Note: get("note")}
	r := impRec{line: int32(line), grid: -1}
	if !(in.Name != "" && textOK(in.Name, 50)) {
		im.add(line, "name", "err.registry.name")
	}
	if c := get("pop_type"); c != "" {
		pt, ok := popByName[strings.ToLower(c)]
		if !ok {
			im.add(line, "pop_type", "err.registry.pop_type", c)
		}
		in.PopType = pt
	} else {
		in.PopType = Registered
	}
	if c := get("sex"); c != "" {
		sx, ok := sexNames[strings.ToLower(c)]
		if !ok {
			im.add(line, "sex", "err.registry.sex")
		}
		in.Sex = sx
	}
	if c := get("birth_date"); c != "" {
		in.BirthDate = "?" + c
		for _, layout := range dateLayouts {
			if t, err := time.Parse(layout, c); err == nil {
				in.BirthDate = t.Format(time.DateOnly)
				break
			}
		}
	}
	im.identity(line, &in)
	phone, ok := normalisePhone(get("phone"))
	if !ok {
		im.add(line, "phone", "err.registry.phone")
	}
	in.Phone = phone
	if !textOK(in.Relation, 20) {
		im.add(line, "relation", "err.registry.relation")
	}
	if !textOK(in.Note, 500) {
		im.add(line, "note", "err.registry.note")
	}
	for i, p := range PopTypes {
		if p == in.PopType {
			r.pop = uint8(i)
		}
	}
	r.sex = Sex8(0)
	if in.Sex == Female {
		r.sex = 1
	}
	r.grid, r.room = im.place(ctx, line, get)
	from := im.link(line, &r, get)
	im.care(line, &r, get("groups"), get("care_level"))
	if im.problems.Count() > before {
		return
	}
	r.idx = blind(im.svc.box, in.IDNumber)
	r.text = im.text.put(in.Name, in.IDNumber, in.Phone, in.BirthDate, in.Relation, in.Note, from)
	if im.n%recChunk == 0 {
		im.recs = append(im.recs, make([]impRec, 0, recChunk))
	}
	c := &im.recs[len(im.recs)-1]
	*c = append(*c, r)
	im.pending = append(im.pending, im.n)
	im.n++
}

// blind is the ID number's blind index as 16 bytes.
func blind(box *crypto.Box, id string) [16]byte {
	var out [16]byte
	hex.Decode(out[:], []byte(box.Index(fieldIDNumber, id)))
	return out
}

// identity checks the ID number, and sex and birth date against it.
func (im *importer) identity(line int, in *ResidentInput) {
	var v errs.Validation
	bad := strings.HasPrefix(in.BirthDate, "?")
	if bad {
		v.Add("birth_date", "err.registry.birth_date")
		in.BirthDate = ""
	}
	im.svc.checkIdentity(&v, in, true)
	seen := map[string]bool{}
	for _, f := range errs.As(v.Err()).Fields {
		// A bad birth cell also fails the "valid birth date" rule; say it once.
		if seen[f.Field] {
			continue
		}
		seen[f.Field] = true
		im.add(line, f.Field, f.Key, f.Args...)
	}
}

// place resolves the row's grid and room: a grid code, a room by its id,
// or a room by its building's standard address, unit and number. When a
// grid and a room are both given they must agree.
func (im *sheetImport) place(ctx context.Context, line int, get func(string) string) (grid int32, room int64) {
	grid = int32(-1)
	if code := get("grid"); code != "" {
		g := im.gridOf(ctx, code)
		if g.err != "" {
			im.add(line, "grid", g.err, code)
		} else {
			grid = g.i
		}
	}
	roomGrid := int32(-1)
	switch idText, addr := get("room_id"), get("building"); {
	case idText != "":
		id, err := strconv.ParseInt(idText, 10, 64)
		ref := roomRef{grid: -1}
		if err == nil && id > 0 {
			ref = im.roomByID(ctx, id)
		}
		if ref.grid < 0 {
			im.add(line, "room_id", "err.registry.import_room_id_unknown", idText)
			return -1, 0
		}
		room, roomGrid = id, ref.grid
	case addr != "":
		b := im.building(ctx, addr)
		if b == nil || b.grid < 0 {
			im.add(line, "building", "err.registry.import_building_unknown", addr)
			return -1, 0
		}
		unit, number := get("unit"), get("room_number")
		unit = strings.TrimSuffix(unit, "单元")
		id, ok := b.rooms[unit+"\x00"+number]
		if !ok {
			im.add(line, "room_number", "err.registry.import_room_unknown", addr, unit, number)
			return -1, 0
		}
		room, roomGrid = id, b.grid
	}
	switch {
	case grid >= 0 && roomGrid >= 0 && grid != roomGrid:
		im.add(line, "grid", "err.registry.import_room_grid", im.grids[roomGrid].Grid)
		return -1, room
	case grid >= 0:
		return grid, room
	case roomGrid >= 0:
		return roomGrid, room
	case get("grid") == "":
		im.add(line, "grid", "err.registry.grid_missing")
	}
	return -1, room
}

// gridOf resolves a grid code once per import.
func (im *sheetImport) gridOf(ctx context.Context, code string) gridRef {
	if g, ok := im.gridBy[code]; ok {
		return g
	}
	g := gridRef{}
	a, err := im.svc.grid(ctx, code, auth.RegistryEdit)
	switch e := errs.As(err); {
	case err == nil:
		g.i = im.addGrid(placed{AreaID: a.ID, AreaPath: a.Path, Grid: a.Code, GridName: a.Name})
	case len(e.Fields) > 0 && e.Fields[0].Key == "err.registry.grid_unknown":
		// Outside the caller's areas the area module answers "not found";
		// a grid that exists is named as outside the scope, which says
		// what to do (grid codes are no secret: they are printed on maps).
		g.err = e.Fields[0].Key
		if a, err := im.svc.areas.Get(auth.WithPrincipal(ctx, auth.System()), code); err == nil && a.Level == area.Grid {
			g.err = "err.registry.import_grid_scope"
		}
	case len(e.Fields) > 0:
		g.err = e.Fields[0].Key
	case e.Code == errs.Forbidden:
		g.err = "err.registry.import_grid_scope"
	default:
		g.err = "err.registry.grid_unknown"
	}
	im.gridBy[code] = g
	return g
}

func (im *sheetImport) addGrid(pl placed) int32 {
	for i, g := range im.grids {
		if g.AreaID == pl.AreaID {
			return int32(i)
		}
	}
	im.grids = append(im.grids, pl)
	return int32(len(im.grids) - 1)
}

// placeOf turns an area of the database into a grid of the import, or
// -1 when the caller may not edit there.
func (im *sheetImport) placeOf(areaID int64, path, code, name string) int32 {
	if !im.p.Can(auth.RegistryEdit, path) {
		return -1
	}
	return im.addGrid(placed{AreaID: areaID, AreaPath: path, Grid: code, GridName: name})
}

// building finds a building by its standard address, ignoring spaces, with
// its rooms; buildings are read once, on first use.
func (im *sheetImport) building(ctx context.Context, addr string) *importBuilding {
	if im.builds == nil {
		im.builds = map[string]*importBuilding{}
		rows, err := im.svc.db.Q(ctx).QueryContext(ctx, `SELECT b.id, b.address, a.id, a.path, a.code, a.name
			FROM registry_buildings b JOIN areas a ON a.id = b.area_id`)
		if err == nil {
			for rows.Next() {
				var b importBuilding
				var address, path, code, name string
				var areaID int64
				if rows.Scan(&b.id, &address, &areaID, &path, &code, &name) == nil {
					b.grid = im.placeOf(areaID, path, code, name)
					im.builds[squash(address)] = &b
				}
			}
			rows.Close()
		}
	}
	b := im.builds[squash(addr)]
	if b == nil || b.grid < 0 || b.rooms != nil {
		return b
	}
	b.rooms = map[string]int64{}
	rows, err := im.svc.db.Q(ctx).QueryContext(ctx, "SELECT id, unit, number FROM registry_rooms WHERE building_id = $1", b.id)
	if err != nil {
		return b
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var unit, number string
		if rows.Scan(&id, &unit, &number) == nil {
			b.rooms[unit+"\x00"+number] = id
		}
	}
	return b
}

func (im *sheetImport) roomByID(ctx context.Context, id int64) roomRef {
	if r, ok := im.roomsBy[id]; ok {
		return r
	}
	ref := roomRef{grid: -1}
	var areaID int64
	var path, code, name string
	err := im.svc.db.Q(ctx).QueryRowContext(ctx, `SELECT a.id, a.path, a.code, a.name FROM registry_rooms rm
		JOIN registry_buildings b ON b.id = rm.building_id JOIN areas a ON a.id = b.area_id WHERE rm.id = $1`, id).Scan(&areaID, &path, &code, &name)
	if err == nil {
		ref.grid = im.placeOf(areaID, path, code, name)
	}
	im.roomsBy[id] = ref
	return ref
}

// squash drops the spaces of an address, so that 岱山路12号海韵小区3号楼
// finds 岱山路12号 海韵小区 3号楼.
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u3000' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

// link reads the room link's role and date; it returns the date.
func (im *importer) link(line int, r *impRec, get func(string) string) string {
	role := RoleLives
	if c := get("role"); c != "" {
		rl, ok := roleByName[strings.ToLower(c)]
		if !ok {
			im.add(line, "role", "err.registry.role", c)
		}
		role = rl
	}
	for i, x := range Roles {
		if x == role {
			r.role = uint8(i)
		}
	}
	from := get("from")
	if from != "" {
		ok := false
		for _, layout := range dateLayouts {
			if t, err := time.Parse(layout, from); err == nil {
				from, ok = t.Format(time.DateOnly), true
				break
			}
		}
		if !ok {
			im.add(line, "from", "err.registry.date")
		}
	}
	return from
}

// care reads the special groups (names or codes, separated by 、 , ， ; ；
// or spaces) and the care level, derived from the groups when empty.
func (im *importer) care(line int, r *impRec, groups, level string) {
	derived := -1
	for _, name := range strings.FieldsFunc(groups, func(c rune) bool { return strings.ContainsRune("、,，;；/ \u3000", c) }) {
		i, ok := im.groupBy[name]
		if !ok {
			i, ok = im.groupBy[strings.ToLower(name)]
		}
		if !ok {
			im.add(line, "groups", "err.registry.group", name)
			continue
		}
		r.groups |= 1 << i
		if l, ok := im.levelBy[im.groups[i].CareLevel]; ok && (derived < 0 || im.levels[l].Rank > im.levels[derived].Rank) {
			derived = l
		}
	}
	if level != "" {
		l, ok := im.levelBy[level]
		if !ok {
			l, ok = im.levelBy[strings.ToLower(level)]
		}
		if !ok {
			im.add(line, "care_level", "err.registry.care_level", level)
			return
		}
		derived = l
	}
	r.care = uint8(derived + 1)
}

// repeated finds the ID numbers that occur more than once in the file:
// the records sorted by blind index, each repeat named with the row it
// repeats. (A map of a million 16-byte keys would hold some 50 MB through
// the whole first pass; the sort needs 4 MB, once.)
func (im *importer) repeated() {
	order := make([]int32, im.n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		ra, rb := im.rec(int(a)), im.rec(int(b))
		if c := bytes.Compare(ra.idx[:], rb.idx[:]); c != 0 {
			return c
		}
		return int(ra.line - rb.line)
	})
	var dups [][2]int32 // line, first line
	for i := 1; i < len(order); i++ {
		prev, cur := im.rec(int(order[i-1])), im.rec(int(order[i]))
		if cur.idx != prev.idx {
			continue
		}
		first := prev.line
		for j := i - 1; j > 0 && im.rec(int(order[j-1])).idx == cur.idx; j-- {
			first = im.rec(int(order[j-1])).line
		}
		dups = append(dups, [2]int32{cur.line, first})
	}
	slices.SortFunc(dups, func(a, b [2]int32) int { return int(a[0] - b[0]) })
	for _, d := range dups {
		im.add(int(d[0]), "id_number", "err.registry.import_id_repeated", int(d[1]))
	}
}

// readRow is a row, or the error reading it, handed from the reading
// goroutine to the checking one.
type readRow struct {
	row sheet.Row
	err error
}

// readAhead reads rows on a goroutine of its own, in batches, so that
// parsing the file (for xlsx, excelize's XML decoding: four fifths of the
// first pass) and checking its rows use both cores. The channel closes
// after the last row, after a fault of the file, or when ctx ends.
func readAhead(ctx context.Context, rows sheet.Reader) <-chan []readRow {
	out := make(chan []readRow, 8)
	go func() {
		defer close(out)
		for {
			b := make([]readRow, 0, 256)
			done := false
			for len(b) < cap(b) {
				row, err := rows.Next()
				if err == io.EOF {
					done = true
					break
				}
				b = append(b, readRow{row, err})
				var bad *sheet.RowError
				if err != nil && !errors.As(err, &bad) {
					done = true
					break
				}
			}
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
			if done {
				return
			}
		}
	}()
	return out
}

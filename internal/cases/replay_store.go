package cases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// ReplayCategory is the parent of the categories Replay creates, one per
// case type of the export. Its leaves have no time limit: a replayed case
// keeps the city's own target, and one without a target has no deadline.
const ReplayCategory = "R01"

// replayRefs are what a replay files cases under: the area tree, one
// category per case type and one unit per department. They are created as
// the first row needing them is read, so that a file whose every row is
// refused changes nothing. Only the replay's reader goroutine uses them.
type replayRefs struct {
	opt                   ReplayOptions
	community, street     string
	communityID, parentID int64             // 0 until they exist
	categories            map[string]string // export's type → category code
	nextCategory          int
	units                 map[string]string // export's department → unit code
	unitCodes             map[string]bool   // every unit code taken
	seen                  map[string]bool   // external ids replayed under this tree
}

// loadReplayRefs reads what earlier replays under the same tree created.
func (s *Service) loadReplayRefs(ctx context.Context, opt ReplayOptions) (*replayRefs, error) {
	r := &replayRefs{opt: opt, street: opt.District + "001", community: opt.District + "001001",
		categories: map[string]string{}, nextCategory: 1, units: map[string]string{}, unitCodes: map[string]bool{},
		seen: map[string]bool{}}
	community, err := s.areas.Get(ctx, r.community)
	if err != nil && errs.CodeOf(err) != errs.NotFound {
		return nil, err
	}
	r.communityID = community.ID
	parent, err := s.store.categoryByCode(ctx, ReplayCategory)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	r.parentID = parent.ID
	q := s.db.Q(ctx)
	type pair struct{ a, b string }
	scan := func(row db.Scanner) (pair, error) {
		var p pair
		err := row.Scan(&p.a, &p.b)
		return p, err
	}
	leaves, err := db.All(ctx, q, scan, "SELECT code, name_en FROM case_categories WHERE parent_id = $1", r.parentID)
	if err != nil {
		return nil, err
	}
	for _, l := range leaves {
		r.categories[l.b] = l.a
		if n, err := strconv.Atoi(strings.TrimPrefix(l.a, ReplayCategory)); err == nil && n >= r.nextCategory {
			r.nextCategory = n + 1
		}
	}
	units, err := db.All(ctx, q, scan, `SELECT u.code, u.name FROM units u JOIN areas a ON a.id = u.area_id
		WHERE a.code = $1`, r.street)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		r.units[u.b] = u.a
	}
	codes, err := db.All(ctx, q, scanString, "SELECT code FROM units")
	if err != nil {
		return nil, err
	}
	for _, c := range codes {
		r.unitCodes[c] = true
	}
	ids, err := db.All(ctx, q, scanString, "SELECT external_id FROM cases WHERE channel = $1 AND area_id = $2 AND external_id <> ''",
		string(ChannelReplay), r.communityID)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		r.seen[id] = true
	}
	return r, nil
}

func scanString(row db.Scanner) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// replayParent creates the replay categories' parent when missing and
// returns its id.
func (s *Service) replayParent(ctx context.Context) (int64, error) {
	c, err := s.store.categoryByCode(ctx, ReplayCategory)
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.SaveCategory(ctx, Category{Code: ReplayCategory, Kind: "event", NameZH: "历史数据",
			NameEN: "Replayed history", Active: true}); err != nil {
			return 0, err
		}
		c, err = s.store.categoryByCode(ctx, ReplayCategory)
	}
	return c.ID, err
}

// known reports whether a case with this external id was replayed before
// (in an earlier run or earlier in this file), and remembers it.
func (r *replayRefs) known(externalID string) bool {
	if externalID == "" {
		return false
	}
	if r.seen[externalID] {
		return true
	}
	r.seen[externalID] = true
	return false
}

// resolve sets the row's category and unit codes, creating them (and the
// tree and the parent category, the first time) when new.
func (r *replayRefs) resolve(ctx context.Context, s *Service, row *replayRow) error {
	if r.communityID == 0 {
		community, err := s.replayArea(ctx, r.opt)
		if err != nil {
			return err
		}
		r.communityID = community.ID
	}
	if r.parentID == 0 {
		id, err := s.replayParent(ctx)
		if err != nil {
			return err
		}
		r.parentID = id
	}
	// The export's type is the category's English name, kept to the 80
	// characters a name may have (the Chinese name to 40); the map is keyed
	// by the kept name so that a second replay finds what the first made.
	name := clip(row.rawCategory, 80)
	code, ok := r.categories[name]
	if !ok {
		code = ReplayCategory + fmt.Sprintf("%03d", r.nextCategory)
		if err := s.SaveCategory(ctx, Category{Code: code, Parent: ReplayCategory, Kind: "event",
			NameZH: clip(name, 40), NameEN: name, Active: true}); err != nil {
			return err
		}
		r.nextCategory++
		r.categories[name] = code
	}
	row.nc.Category = code
	dept := clip(row.rawUnit, 64)
	if dept == "" {
		dept = "(无部门 / no department)"
	}
	unit, ok := r.units[dept]
	if !ok {
		unit = r.unitCode(dept)
		if err := s.CreateUnit(ctx, unit, dept, r.street); err != nil {
			return err
		}
		r.units[dept], r.unitCodes[unit] = unit, true
	}
	row.unit = unit
	return nil
}

// unitCode makes a free unit code from the district and the department:
// "990100-pwdx". Characters a code may not hold become "-".
func (r *replayRefs) unitCode(dept string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(dept) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	base := clip(r.opt.District+"-"+strings.Trim(b.String(), "-"), 36)
	code := base
	for n := 2; r.unitCodes[code]; n++ {
		code = base + "-" + strconv.Itoa(n)
	}
	return code
}

// replayArea makes sure the replay's tree exists and returns its community.
func (s *Service) replayArea(ctx context.Context, opt ReplayOptions) (area.Area, error) {
	district := opt.District
	name := strings.TrimSpace(opt.Mapping.Name)
	if name == "" {
		name = "Replay"
	}
	tree := []area.NewArea{
		{Code: district, Name: clip(name+" (回放 / replay)", 64), Level: area.District},
		{Code: district + "001", Name: clip(name+" 回放街道 / replay street", 64), Level: area.Street, Parent: district},
		{Code: district + "001001", Name: clip(name+" 回放社区 / replay community", 64), Level: area.Community, Parent: district + "001"},
	}
	var last area.Area
	for _, na := range tree {
		a, err := s.areas.Get(ctx, na.Code)
		if errs.CodeOf(err) == errs.NotFound && opt.Areas != nil {
			a, err = opt.Areas.Create(ctx, na)
		}
		if err != nil {
			return area.Area{}, err
		}
		last = a
	}
	return last, nil
}

// batchRefs remember, for the length of one replayed batch's transaction,
// the categories, areas and units its rows refer to, and the case each
// Report has just filed: every row of a batch names the same community, a
// few dozen categories and a dozen units, which the loop would otherwise
// read again for every row and every dispatch (a fifth of a replay's
// writer time, with reading back each case it has just written). They
// are made anew for each attempt of the transaction, inside it, and the
// replay itself changes none of them there, so they are what a read would
// return. Outside a replay batch ctx carries none, and nothing changes.
type batchRefs struct {
	categories map[string]Category
	areas      map[string]area.Area
	paths      map[int64]area.Area
	units      map[string]unit
	reported   *Case // set by Report, taken by replayCase
	// jobless is the case whose moves replayCase is making on that copy:
	// filed in this transaction, with no job planned yet, so none to cancel.
	jobless int64
}

type batchRefsKey struct{}

func withBatchRefs(ctx context.Context) context.Context {
	return context.WithValue(ctx, batchRefsKey{}, &batchRefs{categories: map[string]Category{},
		areas: map[string]area.Area{}, paths: map[int64]area.Area{}, units: map[string]unit{}})
}

func batchRefsOf(ctx context.Context) *batchRefs {
	b, _ := ctx.Value(batchRefsKey{}).(*batchRefs)
	return b
}

// batchCategory is s.category, remembered within a replay batch.
func (s *Service) batchCategory(ctx context.Context, code string) (Category, error) {
	b := batchRefsOf(ctx)
	if b == nil {
		return s.category(ctx, code)
	}
	if c, ok := b.categories[code]; ok {
		return c, nil
	}
	c, err := s.category(ctx, code)
	if err == nil {
		b.categories[code] = c
	}
	return c, err
}

// batchArea is s.areas.Get, remembered within a replay batch.
func (s *Service) batchArea(ctx context.Context, code string) (area.Area, error) {
	b := batchRefsOf(ctx)
	if b == nil {
		return s.areas.Get(ctx, code)
	}
	if a, ok := b.areas[code]; ok {
		return a, nil
	}
	a, err := s.areas.Get(ctx, code)
	if err == nil {
		b.areas[code], b.paths[a.ID] = a, a
	}
	return a, err
}

// batchUnit is s.store.unitByCode, remembered within a replay batch.
func (s *Service) batchUnit(ctx context.Context, code string) (unit, error) {
	b := batchRefsOf(ctx)
	if b == nil {
		return s.store.unitByCode(ctx, code)
	}
	if u, ok := b.units[code]; ok {
		return u, nil
	}
	u, err := s.store.unitByCode(ctx, code)
	if err == nil {
		b.units[code] = u
	}
	return u, err
}

// noteReported keeps, in a replay batch, the case Report has just filed,
// as store.byNumber would read it back in the same transaction, so that
// the row's moves need not read it. Only a case located by its area code
// (as replayed rows are) is kept; any other is read as usual.
func noteReported(ctx context.Context, id int64, number string, r row, cat Category, state State) {
	b := batchRefsOf(ctx)
	if b == nil {
		return
	}
	b.reported = nil
	a, ok := b.paths[r.areaID]
	if !ok || state != Reported {
		return
	}
	c := &Case{ID: id, Number: number, Channel: r.channel, ExternalID: r.externalID, CategoryID: cat.ID,
		Category: cat.NameZH, CategoryCode: cat.Code, Description: r.description, Address: r.address,
		AreaID: r.areaID, AreaPath: a.Path, GridCode: a.Code, GridName: a.Name, NeedsRouting: r.needsRouting,
		Reporter: Contact{Name: r.name, Phone: r.phone, Email: r.email}, State: state, Version: 1,
		Urgency: r.urgency, CreatedAt: r.createdAt, UpdatedAt: r.createdAt}
	if r.point != nil {
		lon, lat := r.point[0], r.point[1]
		c.Lon, c.Lat = &lon, &lat
	}
	b.reported = c
}

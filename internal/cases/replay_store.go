package cases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/platform/db"
)

// ReplayCategory is the parent of the categories Replay creates, one per
// case type of the export. Its leaves have no time limit: a replayed case
// keeps the city's own target, and one without a target has no deadline.
const ReplayCategory = "R01"

// replayRefs are what a replay files cases under: the area tree, one
// category per case type and one unit per department, created as new
// values appear. Only the replay's reader goroutine uses them.
type replayRefs struct {
	community, street, district string
	communityID                 int64
	parentID                    int64
	categories                  map[string]string // export's type → category code
	nextCategory                int
	units                       map[string]string // export's department → unit code
	unitCodes                   map[string]bool   // every unit code taken
	seen                        map[string]bool   // external ids replayed under this tree
}

func (s *Service) replayRefs(ctx context.Context, opt ReplayOptions) (*replayRefs, error) {
	community, err := s.replayArea(ctx, opt)
	if err != nil {
		return nil, err
	}
	r := &replayRefs{community: community.Code, communityID: community.ID, district: opt.District,
		street: opt.District + "001", categories: map[string]string{}, units: map[string]string{},
		unitCodes: map[string]bool{}, seen: map[string]bool{}}
	if r.parentID, err = s.replayParent(ctx); err != nil {
		return nil, err
	}
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
	r.nextCategory = max(r.nextCategory, 1)
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

// replayParent returns the id of the replay categories' parent, creating
// it when missing.
func (s *Service) replayParent(ctx context.Context) (int64, error) {
	var id int64
	err := s.db.Write(ctx, func(ctx context.Context) error {
		c, err := s.store.categoryByCode(ctx, ReplayCategory)
		if err == nil {
			id = c.ID
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		id, err = s.store.insertCategory(ctx, Category{Code: ReplayCategory, Kind: "event", NameZH: "历史数据",
			NameEN: "Replayed history", Urgency: "normal", Active: true}, 0, 900)
		return err
	})
	return id, err
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

// resolve sets the row's category and unit codes, creating them when new.
func (r *replayRefs) resolve(ctx context.Context, s *Service, row *replayRow) error {
	// Names are kept to 64 characters; the maps are keyed by the kept name
	// so that a second replay finds what the first created.
	name := clip(row.rawCategory, 64)
	code, ok := r.categories[name]
	if !ok {
		code = ReplayCategory + fmt.Sprintf("%03d", r.nextCategory)
		err := s.db.Write(ctx, func(ctx context.Context) error {
			_, err := s.store.insertCategory(ctx, Category{Code: code, Kind: "event", NameZH: name, NameEN: name,
				Urgency: "normal", Active: true}, r.parentID, 900+r.nextCategory)
			return err
		})
		if err != nil {
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
	base := clip(r.district+"-"+strings.Trim(b.String(), "-"), 36)
	code := base
	for n := 2; r.unitCodes[code]; n++ {
		code = base + "-" + strconv.Itoa(n)
	}
	return code
}

package area

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/geo"
)

// store is the area module's SQL.
type store struct{ db *db.DB }

const areaCols = "a.id, a.code, a.name, a.level, COALESCE(p.code, ''), a.kind, a.purpose, a.path, a.created_at"

// areaFrom joins each area to its parent, for areaCols.
const areaFrom = " FROM areas a LEFT JOIN areas p ON p.id = a.parent_id "

func scanArea(row db.Scanner) (Area, error) {
	var a Area
	err := row.Scan(&a.ID, &a.Code, &a.Name, &a.Level, &a.Parent, &a.Kind, &a.Purpose, &a.Path, &a.CreatedAt)
	return a, err
}

func (s store) byCode(ctx context.Context, code string) (Area, error) {
	a, err := scanArea(s.db.Q(ctx).QueryRowContext(ctx,
		"SELECT "+areaCols+areaFrom+"WHERE a.code = $1", code))
	if errors.Is(err, sql.ErrNoRows) {
		return Area{}, errs.E(errs.NotFound, "err.area.not_found", code)
	}
	return a, err
}

// insert adds a under parent (zero for a root) and sets its id and path.
func (s store) insert(ctx context.Context, a *Area, parent Area) error {
	q := s.db.Q(ctx)
	var parentID any
	if parent.ID != 0 {
		parentID = parent.ID
	}
	// The path holds the new id, known only after the insert.
	if err := q.QueryRowContext(ctx, `INSERT INTO areas (code, name, level, parent_id, kind, purpose, path, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, '', $7) RETURNING id`,
		a.Code, a.Name, string(a.Level), parentID, string(a.Kind), a.Purpose, a.CreatedAt).Scan(&a.ID); err != nil {
		return err
	}
	a.Path = parent.Path + strconv.FormatInt(a.ID, 10) + "/"
	if parent.ID == 0 {
		a.Path = "/" + a.Path
	}
	_, err := q.ExecContext(ctx, "UPDATE areas SET path = $1 WHERE id = $2", a.Path, a.ID)
	return err
}

func (s store) list(ctx context.Context, p *auth.Principal, q ListQuery) ([]Area, error) {
	cond, args := p.Filter(auth.AreaRead, "a.id", 1)
	sqlText := "SELECT " + areaCols + areaFrom + "WHERE " + cond
	if q.Level != "" {
		args = append(args, string(q.Level))
		sqlText += " AND a.level = $" + strconv.Itoa(len(args))
	}
	if q.Parent != "" {
		args = append(args, q.Parent)
		sqlText += " AND p.code = $" + strconv.Itoa(len(args))
	}
	if q.After != "" {
		args = append(args, q.After)
		sqlText += " AND a.code > $" + strconv.Itoa(len(args))
	}
	args = append(args, q.Limit)
	sqlText += " ORDER BY a.code LIMIT $" + strconv.Itoa(len(args))
	return db.All(ctx, s.db.Q(ctx), scanArea, sqlText, args...)
}

func (s store) countByLevel(ctx context.Context, p *auth.Principal) (map[Level]int, error) {
	cond, args := p.Filter(auth.AreaRead, "a.id", 1)
	rows, err := s.db.Q(ctx).QueryContext(ctx, "SELECT a.level, COUNT(*) FROM areas a WHERE "+cond+" GROUP BY a.level", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[Level]int{}
	for rows.Next() {
		var l Level
		var n int
		if err := rows.Scan(&l, &n); err != nil {
			return nil, err
		}
		out[l] = n
	}
	return out, rows.Err()
}

func (s store) demoteLeader(ctx context.Context, areaID int64) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE grid_members SET duty = 'member' WHERE area_id = $1 AND duty = 'leader'", areaID)
	return err
}

func (s store) upsertMember(ctx context.Context, areaID, userID int64, duty Duty, now time.Time) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO grid_members (area_id, user_id, duty, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (area_id, user_id) DO UPDATE SET duty = excluded.duty`, areaID, userID, string(duty), now)
	return err
}

func (s store) deleteMember(ctx context.Context, areaID, userID int64) (bool, error) {
	res, err := s.db.Q(ctx).ExecContext(ctx, "DELETE FROM grid_members WHERE area_id = $1 AND user_id = $2", areaID, userID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (s store) members(ctx context.Context, areaID int64) ([]Member, error) {
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (Member, error) {
		var m Member
		err := row.Scan(&m.UserID, &m.Name, &m.DisplayName, &m.Duty, &m.Since)
		return m, err
	}, `SELECT u.id, u.name, u.display_name, m.duty, m.created_at
		FROM grid_members m JOIN users u ON u.id = m.user_id WHERE m.area_id = $1
		ORDER BY CASE m.duty WHEN 'leader' THEN 0 ELSE 1 END, u.name`, areaID)
}

// closeBoundary ends the current boundary version of an area and returns
// the last version number (0 when there was none).
func (s store) closeBoundary(ctx context.Context, areaID int64, now time.Time) (int, error) {
	q := s.db.Q(ctx)
	var last int
	if err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM area_boundaries WHERE area_id = $1", areaID).Scan(&last); err != nil {
		return 0, err
	}
	_, err := q.ExecContext(ctx, "UPDATE area_boundaries SET valid_to = $1 WHERE area_id = $2 AND valid_to IS NULL", now, areaID)
	return last, err
}

func (s store) insertBoundary(ctx context.Context, areaID int64, version int, geometry string, b orb.Bound, now time.Time, source string) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO area_boundaries
		(area_id, version, geometry, min_lon, min_lat, max_lon, max_lat, valid_from, source)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		areaID, version, geometry, b.Min[0], b.Min[1], b.Max[0], b.Max[1], now, source)
	return err
}

func scanBoundary(row db.Scanner) (Boundary, error) {
	var b Boundary
	var raw string
	var validTo sql.NullTime
	if err := row.Scan(&b.AreaID, &b.Version, &raw, &b.ValidFrom, &validTo, &b.Source); err != nil {
		return b, err
	}
	if validTo.Valid {
		b.ValidTo = &validTo.Time
	}
	var err error
	b.Geometry, err = unmarshalGeometry(raw)
	return b, err
}

func (s store) boundaries(ctx context.Context, areaID int64) ([]Boundary, error) {
	return db.All(ctx, s.db.Q(ctx), scanBoundary, `SELECT area_id, version, geometry, valid_from, valid_to, source
		FROM area_boundaries WHERE area_id = $1 ORDER BY version DESC`, areaID)
}

// areaShape is an area with its current boundary, as GeoJSON text.
type areaShape struct {
	Area
	Geometry string
}

const areaShapeFrom = areaFrom + "JOIN area_boundaries b ON b.area_id = a.id AND b.valid_to IS NULL "

func scanAreaShape(row db.Scanner) (areaShape, error) {
	var x areaShape
	a := &x.Area
	err := row.Scan(&a.ID, &a.Code, &a.Name, &a.Level, &a.Parent, &a.Kind, &a.Purpose, &a.Path, &a.CreatedAt, &x.Geometry)
	return x, err
}

// currentBoundaries returns every area under rootPath (inclusive) that has
// a current boundary and that p may read, in code order.
func (s store) currentBoundaries(ctx context.Context, p *auth.Principal, rootPath string) ([]areaShape, error) {
	cond, args := p.Filter(auth.AreaRead, "a.id", 3)
	return db.All(ctx, s.db.Q(ctx), scanAreaShape, "SELECT "+areaCols+", b.geometry"+areaShapeFrom+
		"WHERE a.path >= $1 AND a.path < $2 AND "+cond+" ORDER BY a.code", append([]any{rootPath, auth.PathEnd(rootPath)}, args...)...)
}

// gridShapes loads the current boundaries of every grid, with each grid's
// location, for the lookup index.
func (s store) gridShapes(ctx context.Context) ([]geo.Shape, map[int64]Location, error) {
	q := s.db.Q(ctx)
	above, err := db.All(ctx, q, scanArea, "SELECT "+areaCols+areaFrom+"WHERE a.level <> 'grid'")
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[int64]Area, len(above))
	for _, a := range above {
		byID[a.ID] = a
	}
	grids, err := db.All(ctx, q, scanAreaShape, "SELECT "+areaCols+", b.geometry"+areaShapeFrom+"WHERE a.level = 'grid' ORDER BY a.code")
	if err != nil {
		return nil, nil, err
	}
	shapes := make([]geo.Shape, 0, len(grids))
	places := make(map[int64]Location, len(grids))
	for _, g := range grids {
		geom, err := unmarshalGeometry(g.Geometry)
		if err != nil {
			return nil, nil, err
		}
		shapes = append(shapes, geo.Shape{Key: g.ID, Geometry: geom})
		places[g.ID] = ancestry(g.Area, byID)
	}
	return shapes, places, nil
}

// currentBoundaryOf returns the current boundary of the area with code, or
// nil when it has none (or code is empty).
func (s store) currentBoundaryOf(ctx context.Context, code string) (orb.Geometry, error) {
	if code == "" {
		return nil, nil
	}
	var raw string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT b.geometry FROM area_boundaries b JOIN areas a ON a.id = b.area_id
		WHERE a.code = $1 AND b.valid_to IS NULL`, code).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return unmarshalGeometry(raw)
}

// siblingBoundaries returns the current boundaries of the children of
// parentCode other than except.
func (s store) siblingBoundaries(ctx context.Context, parentCode, except string) ([]siblingShape, error) {
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (siblingShape, error) {
		var sib siblingShape
		var raw string
		if err := row.Scan(&sib.Code, &raw); err != nil {
			return sib, err
		}
		var err error
		sib.Geometry, err = unmarshalGeometry(raw)
		return sib, err
	}, `SELECT a.code, b.geometry FROM areas a JOIN areas p ON p.id = a.parent_id
		JOIN area_boundaries b ON b.area_id = a.id AND b.valid_to IS NULL WHERE p.code = $1 AND a.code <> $2`, parentCode, except)
}

func (s store) children(ctx context.Context, parentID int64) ([]Area, error) {
	return db.All(ctx, s.db.Q(ctx), scanArea, "SELECT "+areaCols+areaFrom+"WHERE a.parent_id = $1 ORDER BY a.code", parentID)
}

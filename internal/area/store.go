package area

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// store is the area module's SQL.
type store struct{ db *db.DB }

const areaCols = "a.id, a.code, a.name, a.level, COALESCE(p.code, ''), a.path, a.created_at"

func scanArea(row interface{ Scan(...any) error }) (Area, error) {
	var a Area
	err := row.Scan(&a.ID, &a.Code, &a.Name, &a.Level, &a.Parent, &a.Path, &a.CreatedAt)
	return a, err
}

func (s store) byCode(ctx context.Context, code string) (Area, error) {
	a, err := scanArea(s.db.Q(ctx).QueryRowContext(ctx,
		"SELECT "+areaCols+" FROM areas a LEFT JOIN areas p ON p.id = a.parent_id WHERE a.code = $1", code))
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
	if err := q.QueryRowContext(ctx, `INSERT INTO areas (code, name, level, parent_id, path, created_at)
		VALUES ($1, $2, $3, $4, '', $5) RETURNING id`, a.Code, a.Name, string(a.Level), parentID, a.CreatedAt).Scan(&a.ID); err != nil {
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
	sqlText := "SELECT " + areaCols + " FROM areas a LEFT JOIN areas p ON p.id = a.parent_id WHERE " + cond
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
	rows, err := s.db.Q(ctx).QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Area
	for rows.Next() {
		a, err := scanArea(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
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

package db

import "context"

// Scanner is a row: *sql.Row or *sql.Rows.
type Scanner interface {
	Scan(dest ...any) error
}

// All runs query and returns every row, each read by scan. It is the one
// loop (close, per-row error, rows.Err) that stores would otherwise repeat.
func All[T any](ctx context.Context, q Querier, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

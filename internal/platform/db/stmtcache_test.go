package db

import (
	"slices"
	"testing"
)

func TestPositionalPlaceholders(t *testing.T) {
	for _, c := range []struct {
		in, out string
		order   []int
		ok      bool
	}{
		{"SELECT 1", "SELECT 1", nil, true},
		{"INSERT INTO t (a, b) VALUES ($1, $2)", "INSERT INTO t (a, b) VALUES (?, ?)", nil, true},
		{"UPDATE t SET a = $2, b = $2 WHERE id = $1", "UPDATE t SET a = ?, b = ? WHERE id = ?", []int{1, 1, 0}, true},
		{"SELECT '$1', \"$2\", [$3], `$4` -- $5\n, $1 /* $6 */", "SELECT '$1', \"$2\", [$3], `$4` -- $5\n, ? /* $6 */", nil, true},
		{"SELECT 'it''s $1', $1", "SELECT 'it''s $1', ?", nil, true},
		{"SELECT $1 FROM t -- trailing $2", "SELECT ? FROM t -- trailing $2", nil, true},
		{"SELECT ?", "", nil, false},
		{"SELECT :name", "", nil, false},
		{"SELECT $name", "", nil, false},
		{"SELECT 'unterminated", "", nil, false},
	} {
		out, order, ok := positional(c.in)
		if ok != c.ok || (ok && (out != c.out || !slices.Equal(order, c.order))) {
			t.Errorf("positional(%q) = %q, %v, %v; want %q, %v, %v", c.in, out, order, ok, c.out, c.order, c.ok)
		}
	}
}

package db_test

import (
	"slices"
	"testing"

	"github.com/linli/linli/internal/platform/db"
)

// Every placeholder names its own argument, however Add and In are mixed.
func TestArgsNumberPlaceholdersInOrder(t *testing.T) {
	var a db.Args
	got := a.Add("x") + " | " + db.In(&a, []int64{7, 8, 9}) + " | " + a.Add(true) + " | " + db.In(&a, []string{})
	if want := "$1 | $2, $3, $4 | $5 | "; got != want {
		t.Errorf("placeholders %q, want %q", got, want)
	}
	if want := []any{"x", int64(7), int64(8), int64(9), true}; !slices.Equal(a, want) {
		t.Errorf("args %v, want %v", a, want)
	}
}

package db

import (
	"strconv"
	"strings"
)

// Args are a statement's arguments, collected as its placeholders are
// written ($1, $2, …, which both engines take), so that a placeholder's
// number always matches its argument's position.
type Args []any

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// In appends vals and returns their placeholders, for IN (…).
func In[T any](a *Args, vals []T) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = a.Add(v)
	}
	return strings.Join(ph, ", ")
}

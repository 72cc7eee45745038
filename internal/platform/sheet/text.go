package sheet

import (
	"strings"
	"unicode"
)

// trimSpace trims Unicode white space, the ideographic space (U+3000) of
// Chinese input methods included, and the zero-width no-break space that a
// doubled BOM leaves.
func trimSpace(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' })
}

func trimBOM(s string) string { return strings.TrimPrefix(s, "\uFEFF") }

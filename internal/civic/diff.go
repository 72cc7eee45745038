package civic

import "strings"

// Change is one difference between two versions of a notice, for the
// correction's "what changed" list.
type Change struct {
	Field string     `json:"field"` // "title", "body", "period", "recipients", "attachments"
	Old   string     `json:"old,omitempty"`
	New   string     `json:"new,omitempty"`
	Lines []DiffLine `json:"lines,omitempty"` // the body's lines, for "body"
}

// DiffLine is a line of the body: kept (" "), removed ("-") or added ("+").
type DiffLine struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// Changes lists what changed from old to new.
func Changes(old, new Version) []Change {
	var out []Change
	if old.Title != new.Title {
		out = append(out, Change{Field: "title", Old: old.Title, New: new.Title})
	}
	if old.PeriodFrom != new.PeriodFrom || old.PeriodTo != new.PeriodTo {
		out = append(out, Change{Field: "period", Old: old.PeriodFrom + " ~ " + old.PeriodTo, New: new.PeriodFrom + " ~ " + new.PeriodTo})
	}
	if old.Body != new.Body {
		out = append(out, Change{Field: "body", Lines: diffLines(strings.Split(old.Body, "\n"), strings.Split(new.Body, "\n"))})
	}
	if mustJSON(old.Recipients) != mustJSON(new.Recipients) {
		out = append(out, Change{Field: "recipients", Old: itoa(int64(len(old.Recipients))), New: itoa(int64(len(new.Recipients)))})
	}
	if mustJSON(old.Attachments) != mustJSON(new.Attachments) {
		out = append(out, Change{Field: "attachments", Old: names(old.Attachments), New: names(new.Attachments)})
	}
	return out
}

func names(as []Attachment) string {
	var n []string
	for _, a := range as {
		n = append(n, a.Name)
	}
	return strings.Join(n, ", ")
}

// diffLines is a longest-common-subsequence line diff: bodies are short
// (20,000 characters at most), so the quadratic table is fine.
func diffLines(a, b []string) []DiffLine {
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []DiffLine
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, DiffLine{" ", a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, DiffLine{"-", a[i]})
			i++
		default:
			out = append(out, DiffLine{"+", b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, DiffLine{"-", a[i]})
	}
	for ; j < len(b); j++ {
		out = append(out, DiffLine{"+", b[j]})
	}
	return out
}

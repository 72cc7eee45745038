package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Datatype is the kind of answer an attribute takes (the Open311 datatypes).
type Datatype string

const (
	TypeString Datatype = "string"          // one line
	TypeNumber Datatype = "number"          // a decimal number
	TypeTime   Datatype = "datetime"        // an ISO 8601 date or time
	TypeText   Datatype = "text"            // several lines
	TypeSingle Datatype = "singlevaluelist" // one key of Values
	TypeMulti  Datatype = "multivaluelist"  // any keys of Values
)

var datatypes = []Datatype{TypeString, TypeNumber, TypeTime, TypeText, TypeSingle, TypeMulti}

// Attribute is an extra question of a category (补充信息; an Open311
// service attribute), asked when a case of the category is filed.
type Attribute struct {
	Code     string
	Datatype Datatype
	Required bool
	// Variable false makes the attribute a line of information shown to
	// the reporter, with no answer.
	Variable            bool
	Order               int // 1, 2, … within the category
	Description         string
	DatatypeDescription string
	Values              []AttributeValue // the options of the list types
}

// AttributeValue is an option of a list attribute: the key is what is
// submitted, the name what is shown.
type AttributeValue struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// Limits on attributes and answers.
const (
	MaxAttributes   = 30
	MaxAnswers      = 50   // answers kept with one case, unknown codes included
	MaxAnswerLength = 4000 // characters of one answer
)

var attributeCodeRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// ParseAttributes reads the administrators' text form of a category's
// attributes, one per line, in order:
//
//	CODE | datatype | required, optional or info | question | key=name; key=name | hint
//
// The options are for the list types; the hint (datatype_description) is
// optional. "info" is a line of information with no answer. Empty lines
// and lines starting with # are skipped.
func ParseAttributes(text string) ([]Attribute, error) {
	var out []Attribute
	var v errs.Validation
	for n, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		field := fmt.Sprintf("line %d", n+1)
		parts := strings.Split(line, "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		if len(parts) < 4 || len(parts) > 6 {
			v.Add(field, "err.attribute.line")
			continue
		}
		a := Attribute{Code: parts[0], Datatype: Datatype(strings.ToLower(parts[1])), Variable: true, Order: len(out) + 1,
			Description: parts[3]}
		switch strings.ToLower(parts[2]) {
		case "required":
			a.Required = true
		case "optional":
		case "info":
			a.Variable = false
		default:
			v.Add(field, "err.attribute.flag", parts[2])
		}
		if len(parts) > 4 && parts[4] != "" {
			for _, opt := range strings.Split(parts[4], ";") {
				if opt = strings.TrimSpace(opt); opt == "" {
					continue
				}
				key, name, ok := strings.Cut(opt, "=")
				if !ok {
					name = key
				}
				a.Values = append(a.Values, AttributeValue{Key: strings.TrimSpace(key), Name: strings.TrimSpace(name)})
			}
		}
		if len(parts) > 5 {
			a.DatatypeDescription = parts[5]
		}
		out = append(out, a)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return out, checkAttributes(out)
}

// FormatAttributes is the text form ParseAttributes reads.
func FormatAttributes(attrs []Attribute) string {
	var b strings.Builder
	for _, a := range attrs {
		flag := "optional"
		if !a.Variable {
			flag = "info"
		} else if a.Required {
			flag = "required"
		}
		var opts []string
		for _, o := range a.Values {
			opts = append(opts, o.Key+"="+o.Name)
		}
		fmt.Fprintf(&b, "%s | %s | %s | %s | %s", a.Code, a.Datatype, flag, a.Description, strings.Join(opts, "; "))
		if a.DatatypeDescription != "" {
			b.WriteString(" | " + a.DatatypeDescription)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// checkAttributes validates a category's attribute list.
func checkAttributes(attrs []Attribute) error {
	var v errs.Validation
	v.Check(len(attrs) <= MaxAttributes, "attributes", "err.attribute.too_many", MaxAttributes)
	seen := map[string]bool{}
	for i, a := range attrs {
		f := fmt.Sprintf("attributes[%d]", i+1)
		v.Check(attributeCodeRE.MatchString(a.Code), f, "err.attribute.code")
		v.Check(!seen[strings.ToLower(a.Code)], f, "err.attribute.duplicate", a.Code)
		seen[strings.ToLower(a.Code)] = true
		v.Check(slices.Contains(datatypes, a.Datatype), f, "err.attribute.datatype", string(a.Datatype))
		v.Check(a.Description != "" && utf8.RuneCountInString(a.Description) <= 500, f, "err.attribute.description")
		v.Check(utf8.RuneCountInString(a.DatatypeDescription) <= 200, f, "err.attribute.hint")
		list := a.Datatype == TypeSingle || a.Datatype == TypeMulti
		v.Check(!list || len(a.Values) > 0, f, "err.attribute.no_values", a.Code)
		v.Check(list || len(a.Values) == 0, f, "err.attribute.values_not_list", a.Code)
		v.Check(a.Variable || !a.Required, f, "err.attribute.info_required", a.Code)
		keys := map[string]bool{}
		for _, o := range a.Values {
			ok := o.Key != "" && o.Name != "" && utf8.RuneCountInString(o.Key) <= 64 && utf8.RuneCountInString(o.Name) <= 200
			v.Check(ok && !keys[o.Key], f, "err.attribute.value", o.Key)
			keys[o.Key] = true
		}
	}
	return v.Err()
}

// Attributes returns the attributes of the category with code, in order.
func (s *Service) Attributes(ctx context.Context, code string) ([]Attribute, error) {
	c, err := s.store.categoryByCode(ctx, code)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "err.category.not_found", code)
	}
	if err != nil {
		return nil, err
	}
	return s.store.attributes(ctx, c.ID)
}

// AttributedCategories returns the codes of the categories that have
// attributes (Open311's metadata flag).
func (s *Service) AttributedCategories(ctx context.Context) (map[string]bool, error) {
	codes, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (string, error) {
		var c string
		return c, row.Scan(&c)
	}, `SELECT DISTINCT c.code FROM case_category_attributes a JOIN case_categories c ON c.id = a.category_id`)
	out := map[string]bool{}
	for _, c := range codes {
		out[c] = true
	}
	return out, err
}

// SaveAttributes replaces the attributes of a leaf category
// (administrators). Cases filed before keep their answers.
func (s *Service) SaveAttributes(ctx context.Context, code string, attrs []Attribute) error {
	if err := auth.From(ctx).Require(auth.AreaManage, ""); err != nil {
		return err
	}
	for i := range attrs {
		attrs[i].Order = i + 1
	}
	if err := checkAttributes(attrs); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		c, err := s.store.categoryByCode(ctx, strings.ToUpper(strings.TrimSpace(code)))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !c.Leaf()) {
			return fieldErr("category", "err.case.category", code)
		}
		if err != nil {
			return err
		}
		q := s.db.Q(ctx)
		if _, err := q.ExecContext(ctx, "DELETE FROM case_category_attributes WHERE category_id = $1", c.ID); err != nil {
			return err
		}
		for _, a := range attrs {
			values, _ := json.Marshal(a.Values)
			if a.Values == nil {
				values = []byte("[]")
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO case_category_attributes (category_id, code, datatype, required, variable,
				sort, description, datatype_description, list_values) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				c.ID, a.Code, string(a.Datatype), a.Required, a.Variable, a.Order, a.Description, a.DatatypeDescription,
				string(values)); err != nil {
				return err
			}
		}
		s.dropRefsAfterCommit(ctx)
		return s.audit.Record(ctx, audit.Entry{Action: "category.attributes", TargetType: "category", TargetID: c.Code,
			Detail: fmt.Sprintf("%d attributes", len(attrs))})
	})
}

func (s store) attributes(ctx context.Context, categoryID int64) ([]Attribute, error) {
	rows, err := s.attributeRows(ctx, "WHERE category_id = $1", categoryID)
	out := make([]Attribute, len(rows))
	for i, r := range rows {
		out[i] = r.Attribute
	}
	return out, err
}

type attributeRow struct {
	categoryID int64
	Attribute
}

func (s store) attributeRows(ctx context.Context, where string, args ...any) ([]attributeRow, error) {
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (attributeRow, error) {
		var a attributeRow
		var values string
		err := row.Scan(&a.categoryID, &a.Code, &a.Datatype, &a.Required, &a.Variable, &a.Order, &a.Description,
			&a.DatatypeDescription, &values)
		if err == nil {
			err = json.Unmarshal([]byte(values), &a.Values)
		}
		return a, err
	}, `SELECT category_id, code, datatype, required, variable, sort, description, datatype_description, list_values
		FROM case_category_attributes `+where+` ORDER BY category_id, sort`, args...)
}

// allAttributes returns every category's attributes, from the node's
// copy when it may be used (refcache.go).
func (s *Service) allAttributes(ctx context.Context) (map[int64][]Attribute, error) {
	_, attrs, ok, err := s.currentRefs(ctx)
	if err != nil || ok {
		return attrs, err
	}
	return s.store.attributesByCategory(ctx)
}

// attributesByCategory reads every category's attributes, in order.
func (s store) attributesByCategory(ctx context.Context) (map[int64][]Attribute, error) {
	rows, err := s.attributeRows(ctx, "")
	if err != nil {
		return nil, err
	}
	byCat := map[int64][]Attribute{}
	for _, r := range rows {
		byCat[r.categoryID] = append(byCat[r.categoryID], r.Attribute)
	}
	return byCat, nil
}

// answer is one stored value of an answer.
type answer struct {
	code  string
	seq   int
	value string
}

// checkAnswers validates the answers of a report against its category's
// attributes and returns what to store: every required attribute answered,
// each value of its type, list values among the options. Answers to codes
// the category does not ask are kept as given (clients send their own, such
// as FixMyStreet's attribute[uprn]); informational attributes take none.
// An empty value counts as no answer.
func (s *Service) checkAnswers(ctx context.Context, cat Category, in map[string][]string) ([]answer, error) {
	all, err := s.allAttributes(ctx)
	attrs := all[cat.ID]
	if err != nil || (len(attrs) == 0 && len(in) == 0) {
		return nil, err
	}
	given := map[string][]string{}
	for code, vals := range in {
		for _, v := range vals {
			if v = strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n")); v != "" {
				given[code] = append(given[code], v)
			}
		}
	}
	var v errs.Validation
	var out []answer
	asked := map[string]bool{}
	for _, a := range attrs {
		asked[a.Code] = true
		vals := given[a.Code]
		field := "attribute[" + a.Code + "]"
		if !a.Variable {
			continue
		}
		if len(vals) == 0 {
			v.Check(!a.Required, field, "err.attribute.required", a.Code, cat.Code)
			continue
		}
		if a.Datatype != TypeMulti && len(vals) > 1 {
			v.Add(field, "err.attribute.one_value", a.Code)
			continue
		}
		var kept []string
		for _, val := range vals {
			if !slices.Contains(kept, val) {
				kept = append(kept, val)
			}
		}
		for i, val := range kept {
			if key := checkAnswer(a, val); key != "" {
				v.Add(field, key, a.Code, val, optionKeys(a))
				continue
			}
			out = append(out, answer{code: a.Code, seq: i + 1, value: val})
		}
	}
	var extra []string
	for code := range given {
		if !asked[code] {
			extra = append(extra, code)
		}
	}
	sort.Strings(extra)
	for _, code := range extra {
		ok := attributeCodeRE.MatchString(code)
		v.Check(ok, "attribute["+code+"]", "err.attribute.code")
		for i, val := range given[code] {
			v.Check(utf8.RuneCountInString(val) <= MaxAnswerLength, "attribute["+code+"]", "err.attribute.long", code, MaxAnswerLength)
			if ok {
				out = append(out, answer{code: code, seq: i + 1, value: val})
			}
		}
	}
	v.Check(len(out) <= MaxAnswers, "attributes", "err.attribute.too_many_answers", MaxAnswers)
	return out, v.Err()
}

// checkAnswer returns the message key of what is wrong with one value, or "".
func checkAnswer(a Attribute, val string) string {
	if utf8.RuneCountInString(val) > MaxAnswerLength {
		return "err.attribute.value_long"
	}
	switch a.Datatype {
	case TypeString:
		if strings.ContainsAny(val, "\r\n") {
			return "err.attribute.one_line"
		}
	case TypeNumber:
		if f, err := strconv.ParseFloat(val, 64); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return "err.attribute.number"
		}
	case TypeTime:
		if _, ok := ParseAnswerTime(val); !ok {
			return "err.attribute.datetime"
		}
	case TypeSingle, TypeMulti:
		if !slices.ContainsFunc(a.Values, func(o AttributeValue) bool { return o.Key == val }) {
			return "err.attribute.not_in_list"
		}
	}
	return ""
}

func optionKeys(a Attribute) string {
	keys := make([]string, len(a.Values))
	for i, o := range a.Values {
		keys[i] = o.Key
	}
	return strings.Join(keys, ", ")
}

// answerTimeLayouts are the forms a datetime answer may take: form widgets
// send dates alone and times without a zone.
var answerTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05",
	"2006-01-02 15:04", time.DateOnly}

// ParseAnswerTime reads an ISO 8601 date or time.
func ParseAnswerTime(s string) (time.Time, bool) {
	for _, l := range answerTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// storeAnswers writes a new case's answers and lets the channel keep its
// own record, inside the report's transaction.
func (s *Service) storeAnswers(ctx context.Context, caseID int64, number string, answers []answer,
	stored func(ctx context.Context, caseID int64, number string) error) error {
	for _, a := range answers {
		if _, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO case_answers (case_id, code, seq, value) VALUES ($1, $2, $3, $4)",
			caseID, a.code, a.seq, a.value); err != nil {
			return err
		}
	}
	if stored != nil {
		return stored(ctx, caseID, number)
	}
	return nil
}

// Answers returns the answers of the cases with the given ids: case id →
// attribute code → values in the order given.
func (s *Service) Answers(ctx context.Context, caseIDs []int64) (map[int64]map[string][]string, error) {
	out := map[int64]map[string][]string{}
	for start := 0; start < len(caseIDs); start += 500 {
		batch := caseIDs[start:min(start+500, len(caseIDs))]
		args := make([]any, len(batch))
		ph := make([]string, len(batch))
		for i, id := range batch {
			args[i], ph[i] = id, "$"+strconv.Itoa(i+1)
		}
		rows, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (answerRow, error) {
			var a answerRow
			return a, row.Scan(&a.caseID, &a.code, &a.value)
		}, "SELECT case_id, code, value FROM case_answers WHERE case_id IN ("+strings.Join(ph, ", ")+") ORDER BY case_id, code, seq", args...)
		if err != nil {
			return nil, err
		}
		for _, a := range rows {
			if out[a.caseID] == nil {
				out[a.caseID] = map[string][]string{}
			}
			out[a.caseID][a.code] = append(out[a.caseID][a.code], a.value)
		}
	}
	return out, nil
}

type answerRow struct {
	caseID      int64
	code, value string
}

// attributeTexts returns the text form of every category's attributes by
// category code, for the administrators' page.
func (s *Service) attributeTexts(ctx context.Context) (map[string]string, error) {
	rows, err := s.store.attributeRows(ctx, "")
	if err != nil {
		return nil, err
	}
	cats, err := s.store.categories(ctx)
	if err != nil {
		return nil, err
	}
	byCat := map[int64][]Attribute{}
	for _, r := range rows {
		byCat[r.categoryID] = append(byCat[r.categoryID], r.Attribute)
	}
	out := map[string]string{}
	for _, c := range cats {
		out[c.Code] = FormatAttributes(byCat[c.ID])
	}
	return out, nil
}

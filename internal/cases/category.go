package cases

import (
	"context"
	"database/sql"
	"errors"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
)

// Category is a node of the category tree (大类/小类). Leaves carry the
// rules: what may be filed, when it counts as done, how long it may take,
// how urgent it is, and which unit usually handles it.
type Category struct {
	ID              int64  `json:"-"`
	Code            string `json:"code"`
	Parent          string `json:"parent,omitempty"`
	Kind            string `json:"kind"` // event | component | community
	NameZH          string `json:"name_zh"`
	NameEN          string `json:"name_en"`
	FilingStandard  string `json:"filing_standard,omitempty"`
	ClosingStandard string `json:"closing_standard,omitempty"`
	TimeLimit       string `json:"time_limit,omitempty"` // "4h", "5d" (working hours / days)
	Urgency         string `json:"urgency"`
	DefaultUnit     string `json:"default_unit,omitempty"`
	Public          bool   `json:"public"`
	Active          bool   `json:"active"`
}

// Name returns the category's name in lang.
func (c Category) Name(lang i18n.Lang) string {
	if lang == i18n.EN && c.NameEN != "" {
		return c.NameEN
	}
	return c.NameZH
}

// Leaf reports whether cases may be filed under c.
func (c Category) Leaf() bool { return c.Parent != "" }

// seed is a category of the default set: (code, zh, en, time limit, urgency).
type seed struct {
	code, zh, en, limit, urgency string
}

// defaultCategories is the shipped set: the six event classes and the
// component classes of 数字城管 practice, and the classes of community
// demands. Time limits follow the published examples (哈尔滨, 太原,
// Guangdong's 12345 rules; see reference/cn-grid-governance.md §1.5, §3.4);
// administrators change them for their locality.
var defaultCategories = []struct {
	kind   string
	parent seed
	leaves []seed
}{
	{"event", seed{"E01", "市容环境", "City appearance", "", ""}, []seed{
		{"E0101", "暴露垃圾", "Exposed rubbish", "4h", ""},
		{"E0102", "道路不洁", "Dirty road", "4h", ""},
		{"E0103", "乱堆物堆料", "Materials piled in public space", "1d", ""},
		{"E0104", "道路积水", "Standing water on the road", "4h", ""},
		{"E0105", "绿地脏乱", "Untidy green space", "4h", ""},
	}},
	{"event", seed{"E02", "宣传广告", "Advertising", "", ""}, []seed{
		{"E0201", "非法小广告", "Illegal flyers and stickers", "1d", ""},
		{"E0202", "违规户外广告", "Unauthorised outdoor advertising", "5d", ""},
	}},
	{"event", seed{"E03", "施工管理", "Construction", "", ""}, []seed{
		{"E0301", "私搭乱建", "Illegal building", "7d", ""},
		{"E0302", "施工扰民", "Construction noise", "4h", ""},
		{"E0303", "建筑垃圾", "Construction waste", "4h", ""},
	}},
	{"event", seed{"E04", "突发事件", "Emergencies", "", ""}, []seed{
		{"E0401", "路面塌陷", "Road collapse", "2h", "critical"},
		{"E0402", "管道破裂", "Burst pipe", "2h", "critical"},
		{"E0403", "火灾隐患", "Fire hazard", "2h", "urgent"},
	}},
	{"event", seed{"E05", "街面秩序", "Street order", "", ""}, []seed{
		{"E0501", "占道经营", "Street vending on the roadway", "4h", ""},
		{"E0502", "机动车乱停放", "Illegal parking", "4h", ""},
		{"E0503", "露天烧烤", "Open-air barbecue", "2h", "urgent"},
	}},
	{"event", seed{"E06", "其他事件", "Other events", "", ""}, []seed{
		{"E0601", "其他事件", "Other event", "5d", ""},
	}},
	{"component", seed{"C01", "公用设施", "Public utilities", "", ""}, []seed{
		{"C0101", "井盖丢失或破损", "Manhole cover missing or broken", "2h", "urgent"},
		{"C0102", "消火栓损坏", "Damaged fire hydrant", "1d", "urgent"},
	}},
	{"component", seed{"C02", "道路交通", "Roads and traffic", "", ""}, []seed{
		{"C0201", "路灯不亮", "Street light out", "1d", ""},
		{"C0202", "交通标志损坏", "Damaged traffic sign", "2d", ""},
	}},
	{"component", seed{"C03", "市容环境设施", "Street furniture", "", ""}, []seed{
		{"C0301", "垃圾桶破损或满溢", "Bin broken or overflowing", "4h", ""},
		{"C0302", "公厕设施损坏", "Public toilet out of order", "1d", ""},
	}},
	{"component", seed{"C04", "园林绿化设施", "Parks and greenery", "", ""}, []seed{
		{"C0401", "树木倒伏或枯死", "Fallen or dead tree", "1d", ""},
		{"C0402", "绿地设施损坏", "Damaged park fixtures", "5d", ""},
	}},
	{"community", seed{"S01", "矛盾纠纷", "Disputes", "", ""}, []seed{
		{"S0101", "邻里纠纷", "Neighbour dispute", "15d", ""},
		{"S0102", "物业纠纷", "Dispute with the property manager", "15d", ""},
	}},
	{"community", seed{"S02", "民生求助", "Requests for help", "", ""}, []seed{
		{"S0201", "生活求助", "Help in daily life", "10d", ""},
		{"S0202", "老人关爱", "Care for an older person", "2d", "urgent"},
	}},
	{"community", seed{"S03", "咨询", "Questions", "", ""}, []seed{
		{"S0301", "政策咨询", "Question about a policy", "2d", ""},
	}},
	{"community", seed{"S04", "建议", "Suggestions", "", ""}, []seed{
		{"S0401", "意见建议", "Suggestion", "10d", ""},
	}},
	{"community", seed{"S05", "投诉举报", "Complaints and reports", "", ""}, []seed{
		{"S0501", "投诉举报", "Complaint or report", "15d", ""},
	}},
}

// EnsureCategories installs the default set into an empty category table.
func (s *Service) EnsureCategories(ctx context.Context) error {
	return s.db.Write(ctx, func(ctx context.Context) error {
		s.dropRefsAfterCommit(ctx)
		var n int
		if err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM case_categories").Scan(&n); err != nil || n > 0 {
			return err
		}
		sort := 0
		for _, group := range defaultCategories {
			sort++
			parentID, err := s.store.insertCategory(ctx, Category{Code: group.parent.code, Kind: group.kind,
				NameZH: group.parent.zh, NameEN: group.parent.en, Urgency: "normal", Public: true, Active: true}, 0, sort)
			if err != nil {
				return err
			}
			for _, l := range group.leaves {
				sort++
				urgency := l.urgency
				if urgency == "" {
					urgency = "normal"
				}
				if _, err := s.store.insertCategory(ctx, Category{Code: l.code, Kind: group.kind, NameZH: l.zh, NameEN: l.en,
					TimeLimit: l.limit, Urgency: urgency, Public: true, Active: true}, parentID, sort); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Categories returns the whole tree, parents before their leaves.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	return s.store.categories(ctx)
}

// category returns the active leaf with code, or a field error naming it.
func (s *Service) category(ctx context.Context, code string) (Category, error) {
	c, err := s.anyCategory(ctx, code)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (!c.Leaf() || !c.Active)) {
		return Category{}, fieldErr("category", "err.case.category", code)
	}
	return c, err
}

// anyCategory is the category with code, from the node's copy when it
// may be used, sql.ErrNoRows when there is none.
func (s *Service) anyCategory(ctx context.Context, code string) (Category, error) {
	cats, _, ok, err := s.currentRefs(ctx)
	if err != nil || !ok {
		return s.store.categoryByCode(ctx, code)
	}
	if c, found := cats[code]; found {
		return c, nil
	}
	return Category{}, sql.ErrNoRows
}

func fieldErr(field, key string, args ...any) error {
	return &errs.Error{Code: errs.Invalid, Key: "err.invalid", Fields: []errs.Field{{Field: field, Key: key, Args: args}}}
}

const categoryCols = `c.id, c.code, COALESCE(p.code, ''), c.kind, c.name_zh, c.name_en, c.filing_standard,
	c.closing_standard, c.time_limit, c.urgency, c.default_unit, c.public, c.active`

func scanCategory(row db.Scanner) (Category, error) {
	var c Category
	err := row.Scan(&c.ID, &c.Code, &c.Parent, &c.Kind, &c.NameZH, &c.NameEN, &c.FilingStandard,
		&c.ClosingStandard, &c.TimeLimit, &c.Urgency, &c.DefaultUnit, &c.Public, &c.Active)
	return c, err
}

func (s store) categories(ctx context.Context) ([]Category, error) {
	return db.All(ctx, s.db.Q(ctx), scanCategory, "SELECT "+categoryCols+
		" FROM case_categories c LEFT JOIN case_categories p ON p.id = c.parent_id ORDER BY c.sort, c.code")
}

func (s store) categoryByCode(ctx context.Context, code string) (Category, error) {
	return scanCategory(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+categoryCols+
		" FROM case_categories c LEFT JOIN case_categories p ON p.id = c.parent_id WHERE c.code = $1", code))
}

func (s store) insertCategory(ctx context.Context, c Category, parentID int64, sort int) (int64, error) {
	var parent any
	if parentID != 0 {
		parent = parentID
	}
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO case_categories (code, parent_id, kind, name_zh, name_en,
		filing_standard, closing_standard, time_limit, urgency, default_unit, public, active, sort)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		c.Code, parent, c.Kind, c.NameZH, c.NameEN, c.FilingStandard, c.ClosingStandard, c.TimeLimit, c.Urgency,
		c.DefaultUnit, c.Public, c.Active, sort).Scan(&id)
	return id, err
}

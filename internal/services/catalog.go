package services

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Material is a document an item requires (申请材料).
type Material struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Required bool   `json:"required"`
}

// Item is an entry of a community's service catalog (服务事项): 老年证,
// 高龄津贴, 居住证明, 就业登记, … with who may apply, the materials, the
// handling unit, the time limit in working days and whether it can be
// done entirely online (全程网办; otherwise the applicant finishes at the
// desk).
type Item struct {
	ID            int64      `json:"id"`
	Community     string     `json:"community"`
	CommunityName string     `json:"community_name"`
	Code          string     `json:"code"`
	Name          string     `json:"name"`
	Eligibility   string     `json:"eligibility,omitempty"`
	MinAge        int        `json:"min_age,omitempty"`
	Materials     []Material `json:"materials"`
	Unit          string     `json:"unit"`
	LimitDays     int        `json:"limit_days"`
	Online        bool       `json:"online"`
	Active        bool       `json:"active"`
	AreaID        int64      `json:"-"`
	AreaPath      string     `json:"-"`
}

// material returns the item's material with code.
func (it Item) material(code string) (Material, bool) {
	for _, m := range it.Materials {
		if m.Code == code {
			return m, true
		}
	}
	return Material{}, false
}

// ItemInput is what adding or changing a catalog item takes.
type ItemInput struct {
	Community   string     `json:"community"`
	Code        string     `json:"code"`
	Name        string     `json:"name"`
	Eligibility string     `json:"eligibility"`
	MinAge      int        `json:"min_age"`
	Materials   []Material `json:"materials"`
	Unit        string     `json:"unit"`
	LimitDays   int        `json:"limit_days"`
	Online      bool       `json:"online"`
	Active      *bool      `json:"active"`
}

var codeRE = regexp.MustCompile(`^[a-z0-9_]{1,30}$`)

func validateItem(in *ItemInput) error {
	in.Code, in.Name = strings.TrimSpace(in.Code), strings.TrimSpace(in.Name)
	in.Eligibility, in.Unit = strings.TrimSpace(in.Eligibility), strings.TrimSpace(in.Unit)
	var v errs.Validation
	v.Check(codeRE.MatchString(in.Code), "code", "err.services.item_code")
	v.Check(in.Name != "" && textOK(in.Name, 60), "name", "err.services.item_name")
	v.Check(textOK(in.Eligibility, 500), "eligibility", "err.services.eligibility")
	v.Check(in.MinAge >= 0 && in.MinAge <= 120, "min_age", "err.services.min_age")
	v.Check(in.Unit != "" && textOK(in.Unit, 60), "unit", "err.services.unit")
	v.Check(in.LimitDays >= 0 && in.LimitDays <= 60, "limit_days", "err.services.limit_days")
	v.Check(len(in.Materials) <= 20, "materials", "err.services.materials_many")
	seen := map[string]bool{}
	for i := range in.Materials {
		m := &in.Materials[i]
		m.Code, m.Name = strings.TrimSpace(m.Code), strings.TrimSpace(m.Name)
		field := fmt.Sprintf("materials.%d", i)
		v.Check(codeRE.MatchString(m.Code) && !seen[m.Code], field, "err.services.material_code", m.Code)
		v.Check(m.Name != "" && textOK(m.Name, 60), field, "err.services.material_name")
		seen[m.Code] = true
	}
	return v.Err()
}

// SaveItem adds a catalog item to a community, or changes the one with the
// same code.
func (s *Service) SaveItem(ctx context.Context, in ItemInput) (Item, error) {
	if _, err := auth.Require(ctx, auth.ServiceManage); err != nil {
		return Item{}, err
	}
	if err := validateItem(&in); err != nil {
		return Item{}, err
	}
	c, err := s.community(ctx, in.Community, auth.ServiceManage)
	if err != nil {
		return Item{}, err
	}
	if in.Materials == nil {
		in.Materials = []Material{}
	}
	mats, _ := json.Marshal(in.Materials)
	active := in.Active == nil || *in.Active
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		now := s.now().UTC()
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO service_items (area_id, area_path, code, name, eligibility, min_age,
			materials, unit, limit_days, online, active, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
			ON CONFLICT (area_id, code) DO UPDATE SET name = excluded.name, eligibility = excluded.eligibility,
				min_age = excluded.min_age, materials = excluded.materials, unit = excluded.unit, limit_days = excluded.limit_days,
				online = excluded.online, active = excluded.active, updated_at = excluded.updated_at
			RETURNING id`, c.ID, c.Path, in.Code, in.Name, in.Eligibility, in.MinAge, string(mats), in.Unit, in.LimitDays,
			in.Online, active, now).Scan(&id)
		if err != nil {
			return err
		}
		return s.record(ctx, "services.item.save", "service_item", id, in.Code)
	})
	if err != nil {
		return Item{}, err
	}
	return s.Item(ctx, id)
}

const itemCols = `i.id, a.code, a.name, i.code, i.name, i.eligibility, i.min_age, i.materials, i.unit, i.limit_days, i.online,
	i.active, i.area_id, i.area_path`

func scanItem(r db.Scanner) (Item, error) {
	var it Item
	var mats string
	err := r.Scan(&it.ID, &it.Community, &it.CommunityName, &it.Code, &it.Name, &it.Eligibility, &it.MinAge, &mats, &it.Unit,
		&it.LimitDays, &it.Online, &it.Active, &it.AreaID, &it.AreaPath)
	if err != nil {
		return it, err
	}
	return it, json.Unmarshal([]byte(mats), &it.Materials)
}

// Item returns a catalog item the caller may see (anyone with a grant
// over its community).
func (s *Service) Item(ctx context.Context, id int64) (Item, error) {
	it, err := scanItem(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+itemCols+` FROM service_items i JOIN areas a ON a.id = i.area_id
		WHERE i.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Item{}, errs.E(errs.NotFound, "err.services.item_not_found", id)
	}
	if err != nil {
		return Item{}, err
	}
	p := auth.From(ctx)
	if p == nil {
		return Item{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	if !sees(p, it.AreaPath) {
		return Item{}, errs.E(errs.NotFound, "err.services.item_not_found", id)
	}
	return it, nil
}

// Items lists the catalog of the communities the caller sees (or one),
// active items only unless all is set.
func (s *Service) Items(ctx context.Context, community string, all bool) ([]Item, error) {
	p, err := auth.Require(ctx, auth.AreaRead)
	if err != nil {
		return nil, err
	}
	where, args := seesFilter(p, "i.area_path", 1)
	if community != "" {
		cond, arg, err := codePrefix("a.code", community, len(args)+1)
		if err != nil {
			return nil, err
		}
		args = append(args, arg)
		where += " AND " + cond
	}
	if !all {
		where += " AND i.active = TRUE"
	}
	items, err := db.All(ctx, s.db.Q(ctx), scanItem, `SELECT `+itemCols+` FROM service_items i JOIN areas a ON a.id = i.area_id
		WHERE `+where+` ORDER BY i.area_path, i.code LIMIT 500`, args...)
	if items == nil {
		items = []Item{}
	}
	return items, err
}

package registry

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/errs"
)

// Places and organisations (场所/单位) with their location and contact.
var placeColumns = []importColumn{
	{"seq", "序号", nil},
	{"grid", "网格代码", []string{"网格编码"}},
	{"name", "名称", []string{"场所名称", "单位名称"}},
	{"kind", "类型", []string{"场所类型", "单位类型"}},
	{"credit_code", "统一社会信用代码", []string{"信用代码"}},
	{"address", "地址", []string{"详细地址"}},
	{"lon", "经度", []string{"经度(WGS84)"}},
	{"lat", "纬度", []string{"纬度(WGS84)"}},
	{"contact_name", "联系人", nil},
	{"contact_phone", "联系电话", []string{"手机号", "手机号码", "电话"}},
}

var placeKind = objectKind{
	sheet:    "场所",
	columns:  placeColumns,
	required: []string{"grid", "name", "kind"},
	example: []string{"1", "370613001001001", "海韵便民超市", "商铺", "91370613MA3C5K8X2P", "岱山路12号 海韵小区 底商5号",
		"121.4266", "37.4826", "王建国", "13912345678"},
	audit:  "registry.place.import",
	target: "place",
	rows:   func(b *sheetImport) objectRows { return &placeRows{sheetImport: b, at: firstRow{}} },
}

var (
	placeKindByName = map[string]PlaceKind{"商铺": Shop, "商店": Shop, "门店": Shop, "个体工商户": Shop, "企业": Company,
		"公司": Company, "学校": School, "社会组织": SocialOrg, "其他": OtherKind, "其它": OtherKind,
		"shop": Shop, "company": Company, "school": School, "social_org": SocialOrg, "other": OtherKind}
	placeKindNames = map[PlaceKind]string{Shop: "商铺", Company: "企业", School: "学校", SocialOrg: "社会组织", OtherKind: "其他"}
)

type placeRows struct {
	*sheetImport
	list []*placeRow
	at   firstRow // by natural key
}

type placeRow struct {
	line   int
	grid   int32
	in     PlaceInput
	given  placeCells
	masked string // a masked phone from an export: the stored one if it matches
	id     int64
	merged PlaceInput
	seal   string // the phone to seal; "" keeps the stored one
	act    outcome
}

// placeCells are the optional cells a file gave; an empty one keeps what
// is registered.
type placeCells struct{ credit, location, contact, phone bool }

// row checks a place with the rules of the place form.
func (r *placeRows) row(ctx context.Context, line int, get func(string) string) error {
	before := r.problems.Count()
	pl := &placeRow{line: line, in: PlaceInput{Name: get("name"), CreditCode: get("credit_code"), Address: get("address"),
		ContactName: get("contact_name"), ContactPhone: get("contact_phone")}}
	kind := get("kind")
	if k, ok := placeKindByName[strings.ToLower(kind)]; ok {
		pl.in.Kind = k
	} else {
		pl.in.Kind = PlaceKind(kind) // refused by validate, with the cell's text
	}
	if strings.Contains(pl.in.ContactPhone, "*") {
		pl.masked, pl.in.ContactPhone = pl.in.ContactPhone, ""
	}
	pl.given = placeCells{credit: pl.in.CreditCode != "", contact: pl.in.ContactName != "", phone: pl.in.ContactPhone != ""}
	pl.grid = r.gridCell(ctx, line, get("grid"))
	loc, err := r.pointCell(ctx, line, get, pl.grid)
	if err != nil {
		return err
	}
	pl.in.Location, pl.given.location = loc, loc != nil
	r.addInvalid(line, pl.in.validate(), fieldKeys{"grid": "", "location": "lon"})
	if r.problems.Count() > before {
		return nil
	}
	if r.unique(r.at, pl.key(), line, "name", "err.registry.import_place_repeated") {
		r.list = append(r.list, pl)
	}
	return nil
}

// key is the natural key: grid, name and address, spaces ignored.
func (pl *placeRow) key() string {
	return strconv.Itoa(int(pl.grid)) + "\x00" + squash(pl.in.Name) + "\x00" + squash(pl.in.Address)
}

func (r *placeRows) plan(ctx context.Context) (objectCounts, error) {
	var c objectCounts
	registered := perGrid(func(grid int32) (map[string]Place, error) { return r.registered(ctx, grid) })
	for _, pl := range r.list {
		reg, err := registered(pl.grid)
		if err != nil {
			return c, err
		}
		old, known := reg[pl.key()]
		if err := r.planPlace(pl, old, known); err != nil {
			return c, err
		}
		c.add(pl.act)
	}
	return c, nil
}

// registered reads a grid's places by natural key; of places sharing one
// (made on the form) the oldest stands for them.
func (r *placeRows) registered(ctx context.Context, grid int32) (map[string]Place, error) {
	all, err := r.svc.store.placesIn(ctx, r.grids[grid].AreaID)
	reg := map[string]Place{}
	for _, old := range all {
		k := (&placeRow{grid: grid, in: PlaceInput{Name: old.Name, Address: old.Address}}).key()
		if _, dup := reg[k]; !dup {
			reg[k] = old
		}
	}
	return reg, err
}

// planPlace decides what the row does to the place it names. A masked
// phone (from an export) keeps the stored number when it is that number
// masked; otherwise the row must give the number in full.
func (r *placeRows) planPlace(pl *placeRow, old Place, known bool) error {
	pl.id, pl.merged, pl.seal, pl.act = 0, pl.in, pl.in.ContactPhone, creates
	stored := ""
	if known {
		var err error
		if stored, err = r.svc.box.Open(fieldContactPhone, old.phoneSealed); err != nil {
			return errs.Wrap(err, "err.internal")
		}
	}
	if pl.masked != "" && crypto.MaskPhone(stored) != pl.masked {
		r.add(pl.line, "contact_phone", "err.registry.import_phone_masked", pl.masked)
		return nil
	}
	if !known {
		return nil
	}
	pl.id, pl.act = old.ID, unchanged
	m := &pl.merged
	m.Name, m.Address = old.Name, old.Address // the same but for spaces: kept as registered
	if !pl.given.credit {
		m.CreditCode = old.CreditCode
	}
	if !pl.given.location {
		m.Location = old.Location
	}
	if !pl.given.contact {
		m.ContactName = old.ContactName
	}
	if !pl.given.phone || m.ContactPhone == stored {
		pl.seal = ""
	}
	if m.Kind != old.Kind || m.CreditCode != old.CreditCode || !samePoint(m.Location, old.Location) ||
		m.ContactName != old.ContactName || pl.seal != "" {
		pl.act = updates
	}
	return nil
}

func (r *placeRows) write(ctx context.Context, now time.Time) error {
	for i, pl := range r.list {
		areaID := r.grids[pl.grid].AreaID
		var err error
		switch pl.act {
		case creates:
			pl.id, err = r.svc.store.insertPlace(ctx, areaID, pl.merged, r.svc.box.Seal(fieldContactPhone, pl.merged.ContactPhone), now)
		case updates:
			sealed := ""
			if pl.seal != "" {
				sealed = r.svc.box.Seal(fieldContactPhone, pl.seal)
			}
			err = r.svc.store.updatePlace(ctx, pl.id, areaID, pl.merged, sealed, now)
		}
		if err != nil {
			return err
		}
		if (i+1)%1000 == 0 {
			r.report(ImportProgress{Phase: "write", Read: r.n, Written: i + 1, Total: r.n})
		}
	}
	return nil
}

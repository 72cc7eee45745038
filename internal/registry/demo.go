package registry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/idcard"
)

// batchItem is one validated resident of a batch, placed in its grid, with
// an optional room link and last visit.
type batchItem struct {
	in        ResidentInput
	at        placed
	lastVisit *time.Time
}

// insertBatch seals, indexes and stores validated residents with their
// groups and room links in a few multi-row statements, inside the caller's
// transaction. It is the write path a batch import shares: validate every
// row first, then write them all in one transaction.
func (s *Service) insertBatch(ctx context.Context, items []batchItem) error {
	now := s.now().UTC()
	rows := make([]residentRow, len(items))
	for i, it := range items {
		rows[i] = residentRow{in: it.in, areaID: it.at.AreaID, areaPath: it.at.AreaPath, nameKey: nameKey(it.in.Name), lastVisit: it.lastVisit, now: now,
			idEnc: s.box.Seal(fieldIDNumber, it.in.IDNumber), idIdx: s.box.Index(fieldIDNumber, it.in.IDNumber),
			phoneEnc: s.box.Seal(fieldPhone, it.in.Phone), phoneIdx: s.box.Index(fieldPhone, it.in.Phone)}
	}
	ids, err := s.store.insertResidents(ctx, rows)
	if err != nil {
		return err
	}
	var groups, links [][]any
	for i, it := range items {
		for _, g := range it.in.Groups {
			groups = append(groups, []any{ids[i], g})
		}
		if l := it.in.Room; l != nil {
			links = append(links, []any{ids[i], l.RoomID, string(l.Role), l.From, l.To, now})
		}
	}
	if err := s.store.insertPairs(ctx, "registry_resident_groups", []string{"resident_id", "group_code"}, groups); err != nil {
		return err
	}
	return s.store.insertPairs(ctx, "registry_resident_rooms",
		[]string{"resident_id", "room_id", "role", "from_date", "to_date", "created_at"}, links)
}

// SeedDemo fills the demo grids with a register that looks like a real
// one: in every comprehensive grid one residential building of two units
// and six floors, households of one to four people with valid but
// fictitious ID numbers (region 370613, check characters right), special
// groups among the old and the young, visits done and due; shops and
// components too. The same seed gives the same register. The caller runs
// it as the system inside the seeding transaction.
func (s *Service) SeedDemo(ctx context.Context) error {
	grids, err := s.areas.List(ctx, area.ListQuery{Level: area.Grid, Limit: 500})
	if err != nil {
		return err
	}
	d := &demo{svc: s, rnd: rand.New(rand.NewPCG(2026, 4)), now: s.now().UTC(), used: map[string]bool{}}
	for i, g := range grids {
		if g.Kind == area.Dedicated {
			continue
		}
		if err := d.grid(ctx, i, g); err != nil {
			return fmt.Errorf("demo register of grid %s: %w", g.Code, err)
		}
	}
	return nil
}

type demo struct {
	svc  *Service
	rnd  *rand.Rand
	now  time.Time
	used map[string]bool // ID numbers given out
	// overdue is set at the start of each grid: its first person in care
	// is overdue, so that every worker's visit list shows something.
	overdue bool
}

var (
	demoSurnames = []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭盛邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
	demoGiven    = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰玉华建国志红梅凤海燕春林丹鹏辉波宁浩宇轩子涵欣怡梓萱浩然俊杰嘉琪雨桐")
	// Given-name characters by sex, so that the demo's 桂兰 is a woman.
	demoGivenM   = []rune("伟强磊军洋勇杰涛明超刚建国志海林鹏辉波宁浩宇轩俊德福庆")
	demoGivenF   = []rune("芳娜秀英敏静丽艳娟霞桂兰玉红梅凤燕春丹涵欣怡萱琪桐婷")
	demoRoads    = []string{"岱山路", "滨海路", "观海路", "迎春大街", "港城东大街", "清泉路", "山海路", "盛泉路"}
	demoEstates  = []string{"海韵小区", "银河花园", "金海湾", "山水龙城", "翠庭园", "东方名苑"}
	demoShops    = []string{"便民超市", "社区卫生服务站", "修鞋配钥匙", "鲜果店", "理发店", "快递驿站", "药店", "早餐店"}
	demoRelation = []string{"配偶", "子女", "子女", "父母", "孙子女"}
)

// name makes a name for someone of the given sex ("" for either).
func (d *demo) name(sex Sex) string {
	pool := demoGiven
	switch sex {
	case Male:
		pool = demoGivenM
	case Female:
		pool = demoGivenF
	}
	n := string(demoSurnames[d.rnd.IntN(len(demoSurnames))]) + string(pool[d.rnd.IntN(len(pool))])
	if d.rnd.IntN(3) > 0 {
		n += string(pool[d.rnd.IntN(len(pool))])
	}
	return n
}

// person makes a valid, unused ID number for someone of the given age
// with platform/idcard's generator: region 370613 (莱山区), right check
// character, nobody's chosen number.
func (d *demo) person(age int) (id string, sex Sex, birth string) {
	for {
		b := d.now.AddDate(-age, 0, -d.rnd.IntN(365))
		want := idcard.Female
		if d.rnd.IntN(2) == 0 {
			want = idcard.Male
		}
		gen, err := idcard.Generate(d.rnd, "370613", b, want)
		if err != nil || d.used[gen.String()] {
			continue
		}
		id = gen.String()
		d.used[id] = true
		sex = Female
		if want == idcard.Male {
			sex = Male
		}
		return id, sex, gen.Birth().Format(time.DateOnly)
	}
}

func (d *demo) phone() string {
	return fmt.Sprintf("1%d%d%08d", []int{3, 5, 8}[d.rnd.IntN(3)], d.rnd.IntN(10), d.rnd.IntN(100000000))
}

// grid seeds one grid: a building, its rooms, households and residents,
// a shop and two components.
func (d *demo) grid(ctx context.Context, i int, g area.Area) error {
	at := placed{AreaID: g.ID, AreaPath: g.Path, Grid: g.Code, GridName: g.Name}
	lon, lat := d.centre(ctx, g)
	d.overdue = true
	bin := BuildingInput{Grid: g.Code, Estate: demoEstates[i%len(demoEstates)], Road: demoRoads[i%len(demoRoads)],
		DoorNo: fmt.Sprintf("%d号", 10+2*i), Name: fmt.Sprintf("%d号楼", 1+i%9), Floors: 6, Units: 2, Location: &Point{Lon: lon, Lat: lat}}
	bid, err := d.svc.store.insertBuilding(ctx, g.ID, bin, d.now)
	if err != nil {
		return err
	}
	var items []batchItem
	for unit := 1; unit <= 2; unit++ {
		for floor := 1; floor <= 6; floor++ {
			for door := 1; door <= 2; door++ {
				usage := UsageOwn
				switch n := d.rnd.IntN(20); {
				case n < 3:
					usage = UsageRented
				case n < 4:
					usage = UsageVacant
				}
				rid, err := d.svc.store.insertRoom(ctx, bid, RoomInput{Unit: fmt.Sprint(unit), Number: fmt.Sprintf("%d0%d", floor, door),
					Floor: floor, Usage: usage}, d.now)
				if err != nil {
					return err
				}
				if usage == UsageVacant {
					continue
				}
				hid, err := d.svc.store.insertHousehold(ctx, Household{RoomID: rid, placed: at}, d.now)
				if err != nil {
					return err
				}
				items = append(items, d.household(at, hid, rid, usage)...)
			}
		}
	}
	if err := d.svc.insertBatch(ctx, items); err != nil {
		return err
	}
	return d.placesAndComponents(ctx, i, g, lon, lat)
}

// household makes the people of one household: a head with a room role,
// and one to three others.
func (d *demo) household(at placed, householdID, roomID int64, usage Usage) []batchItem {
	n := 1 + d.rnd.IntN(4)
	headAge := 25 + d.rnd.IntN(65)
	if n == 1 && d.rnd.IntN(3) == 0 {
		headAge = 78 + d.rnd.IntN(15) // people living alone are often old
	}
	pop := Registered
	role := RoleOwner
	if usage == UsageRented {
		pop, role = Floating, RoleTenant
	}
	var out []batchItem
	for k := 0; k < n; k++ {
		age, relation := headAge, "户主"
		if k > 0 {
			relation = demoRelation[d.rnd.IntN(len(demoRelation))]
			switch relation {
			case "子女":
				age = max(1, headAge-25-d.rnd.IntN(10))
			case "孙子女":
				age = max(1, headAge-50-d.rnd.IntN(10))
			case "父母":
				age = headAge + 25 + d.rnd.IntN(8)
			default:
				age = max(18, headAge-3+d.rnd.IntN(7))
			}
		}
		id, sex, birth := d.person(age)
		in := ResidentInput{HouseholdID: householdID, Relation: relation, Name: d.name(sex), Sex: sex, BirthDate: birth, IDNumber: id,
			PopType: pop, Groups: d.groups(age, n)}
		if age >= 16 {
			in.Phone = d.phone()
		}
		in.Room = &LinkInput{RoomID: roomID, Role: RoleLives, From: d.now.AddDate(-d.rnd.IntN(20)-1, 0, 0).Format(time.DateOnly)}
		if k == 0 {
			in.Room.Role = role
		}
		in.CareLevel = d.level(in.Groups)
		out = append(out, batchItem{in: in, at: at, lastVisit: d.lastVisit(in.CareLevel)})
	}
	return out
}

// groups picks special groups the way they occur: most among the old.
func (d *demo) groups(age, household int) []string {
	var gs []string
	p := d.rnd.IntN(100)
	switch {
	case age >= 75 && household == 1:
		gs = append(gs, "elderly_alone")
	case age >= 65 && p < 35:
		gs = append(gs, "empty_nest")
	case age < 14 && p < 6:
		gs = append(gs, "left_behind_child")
	case age < 16 && p < 8:
		gs = append(gs, "child_in_need")
	}
	switch q := d.rnd.IntN(100); {
	case q < 3:
		gs = append(gs, "dibao")
	case q < 5 && age >= 18:
		gs = append(gs, "disability")
	case q < 7 && age >= 40:
		gs = append(gs, "veteran")
	case q < 8 && age >= 70:
		gs = append(gs, "disabled_care")
	}
	return gs
}

// level is the closest care among the groups (the demo list's defaults).
func (d *demo) level(groups []string) string {
	rank := map[string]int{"high": 3, "priority": 2, "general": 1}
	def := map[string]string{"elderly_alone": "high", "disabled_care": "high", "tekun": "high", "child_in_need": "high",
		"empty_nest": "priority", "disability": "priority", "dibao": "priority", "left_behind_child": "priority", "veteran": "general"}
	best := ""
	for _, g := range groups {
		if rank[def[g]] > rank[best] {
			best = def[g]
		}
	}
	return best
}

// lastVisit sets the demo's visit history: about half the people in care
// were visited on time, the others are due this week or overdue.
func (d *demo) lastVisit(level string) *time.Time {
	every := map[string]int{"high": 7, "priority": 30, "general": 91}[level]
	if every == 0 {
		return nil
	}
	ago := d.rnd.IntN(every * 2)
	if d.overdue {
		ago, d.overdue = every+2, false
	}
	t := d.now.AddDate(0, 0, -ago).Add(-time.Duration(d.rnd.IntN(8)) * time.Hour)
	return &t
}

// centre is the middle of the grid's current boundary, for the demo's
// points; the demo street's centre when the grid has none.
func (d *demo) centre(ctx context.Context, g area.Area) (float64, float64) {
	var lon, lat float64
	err := d.svc.db.Q(ctx).QueryRowContext(ctx, `SELECT (min_lon + max_lon) / 2, (min_lat + max_lat) / 2 FROM area_boundaries
		WHERE area_id = $1 AND valid_to IS NULL`, g.ID).Scan(&lon, &lat)
	if err != nil {
		return 121.44, 37.48
	}
	return lon, lat
}

func (d *demo) placesAndComponents(ctx context.Context, i int, g area.Area, lon, lat float64) error {
	shop := PlaceInput{Kind: Shop, Name: demoShops[i%len(demoShops)], Address: demoRoads[i%len(demoRoads)] + fmt.Sprintf("%d号", 11+2*i),
		ContactName: d.name(""), ContactPhone: d.phone(), Location: &Point{Lon: lon + 0.0004, Lat: lat}}
	if _, err := d.svc.store.insertPlace(ctx, g.ID, shop, d.svc.box.Seal(fieldContactPhone, shop.ContactPhone), d.now); err != nil {
		return err
	}
	states := []ComponentState{Intact, Intact, Intact, Damaged, Lost, Occupied}
	for k, class := range [][2]string{{"01", "02"}, {"02", "01"}, {"03", "01"}} {
		code := fmt.Sprintf("%s%s%s%06d", g.Code[:6], class[0], class[1], 1+i*3+k)
		c := ComponentInput{Code: code, Major: class[0], Minor: class[1], State: states[d.rnd.IntN(len(states))],
			Location: &Point{Lon: lon + float64(k)*0.0002, Lat: lat - 0.0003}}
		if _, err := d.svc.store.insertComponent(ctx, g.ID, c, d.now); err != nil {
			return errs.Wrap(err, "err.internal")
		}
	}
	return nil
}

// LinkDemoAccount ties the login account named user to the first adult
// (born by 1990) heading a household in grid, for the demo.
func (s *Service) LinkDemoAccount(ctx context.Context, grid, user string) error {
	var userID, residentID int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT u.id, r.id FROM users u, registry_residents r JOIN areas g ON g.id = r.area_id
		WHERE u.name = $1 AND g.code = $2 AND r.household_id IS NOT NULL AND r.birth_date <= '1990-01-01'
		ORDER BY r.id LIMIT 1`, user, grid).Scan(&userID, &residentID)
	if err != nil {
		return fmt.Errorf("demo: no resident of grid %s to link account %s to: %w", grid, user, err)
	}
	return s.LinkUser(ctx, residentID, userID)
}

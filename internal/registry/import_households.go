package registry

import (
	"context"
	"strconv"
	"time"

	"github.com/linli/linli/internal/platform/errs"
)

// Households (户): a 户号 and where the household lives, a room named as in
// the residents' template (楼栋地址 + 单元 + 户室号, or 房屋编号), or only a
// grid for a household not yet placed.
var householdColumns = []importColumn{
	{"seq", "序号", nil},
	{"number", "户号", nil},
	{"grid", "网格代码", []string{"网格编码"}},
	{"building", "楼栋地址", []string{"楼栋"}},
	{"unit", "单元", nil},
	{"room_number", "户室号", []string{"房号"}},
	{"room_id", "房屋编号", nil},
}

var householdKind = objectKind{
	sheet:   "户",
	columns: householdColumns,
	example: []string{"1", "H0001", "370613001001001", "岱山路12号 海韵小区 3号楼", "1", "301", ""},
	audit:   "registry.household.import",
	target:  "household",
	header: func(col map[string]int, v *errs.Validation) {
		checkPlaceColumns(col, v, "err.registry.import_column_household")
	},
	rows: func(b *sheetImport) objectRows { return &householdRows{sheetImport: b, at: firstRow{}} },
}

type householdRows struct {
	*sheetImport
	list []*householdRow
	at   firstRow // by natural key
}

type householdRow struct {
	line   int
	grid   int32
	room   int64 // 0: none given
	number string
	id     int64 // registered; 0: new
	act    outcome
}

// row checks a household: its number, and its grid and room with the
// residents' rules (the room exists in the caller's grids, and agrees with
// the grid when both are given).
func (r *householdRows) row(ctx context.Context, line int, get func(string) string) error {
	before := r.problems.Count()
	h := &householdRow{line: line, number: get("number")}
	if !textOK(h.number, 30) {
		r.add(line, "number", "err.registry.household_number")
	}
	h.grid, h.room = r.place(ctx, line, get)
	if r.problems.Count() > before {
		return nil
	}
	if h.number == "" && h.room == 0 {
		r.add(line, "number", "err.registry.import_household_key")
		return nil
	}
	if r.unique(r.at, h.key(), line, "number", "err.registry.import_household_repeated") {
		r.list = append(r.list, h)
	}
	return nil
}

// key is the household's natural key: its grid and number, or, without
// a number, its room.
func (h *householdRow) key() string {
	if h.number != "" {
		return "g" + strconv.Itoa(int(h.grid)) + "\x00" + h.number
	}
	return "r" + strconv.FormatInt(h.room, 10)
}

// registeredHouseholds are a grid's households by natural key.
type registeredHouseholds map[string]Household

func (r *householdRows) plan(ctx context.Context) (objectCounts, error) {
	var c objectCounts
	registered := perGrid(func(grid int32) (registeredHouseholds, error) { return r.registered(ctx, grid) })
	for _, h := range r.list {
		reg, err := registered(h.grid)
		if err != nil {
			return c, err
		}
		h.id, h.act = 0, creates
		if old, ok := reg[h.key()]; ok {
			h.id, h.act = old.ID, unchanged
			if h.room != 0 && h.room != old.RoomID {
				h.act = updates // moved to another room
			}
		}
		c.add(h.act)
	}
	return c, nil
}

// registered reads a grid's households; where several share a key (made
// on the form) the oldest stands for them.
func (r *householdRows) registered(ctx context.Context, grid int32) (registeredHouseholds, error) {
	all, err := r.svc.store.householdsIn(ctx, r.grids[grid].AreaID)
	reg := registeredHouseholds{}
	for _, old := range all {
		k := (&householdRow{grid: grid, number: old.Number, room: old.RoomID}).key()
		if _, dup := reg[k]; !dup && (old.Number != "" || old.RoomID != 0) {
			reg[k] = old
		}
	}
	return reg, err
}

func (r *householdRows) write(ctx context.Context, now time.Time) error {
	for i, h := range r.list {
		var err error
		switch h.act {
		case creates:
			pl := r.grids[h.grid]
			h.id, err = r.svc.store.insertHousehold(ctx, Household{RoomID: h.room, Number: h.number, placed: pl}, now)
		case updates:
			err = r.svc.store.setHouseholdRoom(ctx, h.id, h.room)
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

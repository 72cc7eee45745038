package registry

import (
	"context"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
)

// Buildings with their rooms (楼栋及户室) in one sheet, one row per room as
// the street offices' 房屋信息表 have it: the building's cells repeat on
// each of its rooms' rows; a row without a 户室号 is the building alone.
var buildingColumns = []importColumn{
	{"seq", "序号", nil},
	{"grid", "网格代码", []string{"网格编码"}},
	{"estate", "小区", []string{"小区名称"}},
	{"road", "街路巷", []string{"街路巷名称", "道路"}},
	{"door_no", "门牌号", nil},
	{"name", "楼栋", []string{"楼栋名称", "楼栋号"}},
	{"floors", "层数", []string{"总层数", "楼层数"}},
	{"units", "单元数", nil},
	{"lon", "经度", []string{"经度(WGS84)"}},
	{"lat", "纬度", []string{"纬度(WGS84)"}},
	{"unit", "单元", nil},
	{"room_number", "户室号", []string{"房号"}},
	{"floor", "所在楼层", []string{"楼层"}},
	{"usage", "房屋用途", []string{"用途"}},
}

var buildingKind = objectKind{
	sheet:    "楼栋",
	columns:  buildingColumns,
	required: []string{"grid", "road", "door_no", "name"},
	example: []string{"1", "370613001001001", "海韵小区", "岱山路", "12号", "3号楼", "6", "2", "121.4265", "37.4825",
		"1", "301", "3", "自住"},
	audit:  "registry.building.import",
	target: "building",
	header: func(col map[string]int, v *errs.Validation) {
		_, number := col["room_number"]
		for _, k := range []string{"unit", "floor", "usage"} {
			if _, ok := col[k]; ok && !number {
				v.Add("header", "err.registry.import_column_room_number")
				return
			}
		}
	},
	rows: func(b *sheetImport) objectRows {
		return &buildingRows{sheetImport: b, byKey: map[string]*buildingRow{}}
	},
}

var (
	usageByName = map[string]Usage{"自住": UsageOwn, "出租": UsageRented, "空置": UsageVacant, "经营": UsageBusiness,
		"own": UsageOwn, "rented": UsageRented, "vacant": UsageVacant, "business": UsageBusiness}
	usageNames = map[Usage]string{UsageOwn: "自住", UsageRented: "出租", UsageVacant: "空置", UsageBusiness: "经营"}
)

// buildingRows are a file's buildings, each with its rooms.
type buildingRows struct {
	*sheetImport
	list  []*buildingRow
	byKey map[string]*buildingRow // by road, door number and name
	lines []buildingLine          // the good rows, for counting
}

// buildingLine is a good row: its building, and its room or nil.
type buildingLine struct {
	b     *buildingRow
	room  *roomRow
	first bool // the building's first row, which its change is counted on
}

type buildingRow struct {
	line   int
	grid   int32
	in     BuildingInput // as the file has it
	given  buildingCells
	rooms  []*roomRow
	roomAt firstRow
	// the plan
	id     int64         // registered; 0: new
	merged BuildingInput // what is written: the file over the register
	act    outcome
}

// buildingCells are the optional cells a file gave; an empty one keeps
// what is registered.
type buildingCells struct{ estate, floors, units, location bool }

type roomRow struct {
	line            int
	in              RoomInput
	floorSet, usage bool
	id              int64
	merged          RoomInput
	act             outcome
}

func (r *buildingRows) row(ctx context.Context, line int, get func(string) string) error {
	before := r.problems.Count()
	in := BuildingInput{Grid: get("grid"), Estate: get("estate"), Road: get("road"), DoorNo: get("door_no"), Name: get("name")}
	given := buildingCells{estate: in.Estate != ""}
	in.Floors, given.floors = r.intCell(line, "floors", get("floors"), "err.registry.floors")
	in.Units, given.units = r.intCell(line, "units", get("units"), "err.registry.units")
	grid := r.gridCell(ctx, line, in.Grid)
	loc, err := r.pointCell(ctx, line, get, grid)
	if err != nil {
		return err
	}
	in.Location, given.location = loc, loc != nil
	r.addInvalid(line, in.validate(), fieldKeys{"grid": "", "location": "lon"})
	var room *roomRow
	if get("room_number") != "" || get("unit") != "" || get("floor") != "" || get("usage") != "" {
		room = r.roomCells(line, get)
	}
	if r.problems.Count() == before {
		r.keep(line, grid, in, given, room)
	}
	return nil
}

// roomCells checks a row's room with the rules of the room form.
func (r *buildingRows) roomCells(line int, get func(string) string) *roomRow {
	rm := &roomRow{line: line, in: RoomInput{Unit: strings.TrimSuffix(get("unit"), "单元"), Number: get("room_number")}}
	rm.in.Floor, rm.floorSet = r.intCell(line, "floor", get("floor"), "err.registry.floor")
	if c := get("usage"); c != "" {
		u, ok := usageByName[strings.ToLower(c)]
		if !ok {
			r.add(line, "usage", "err.registry.usage", c)
		}
		rm.in.Usage, rm.usage = u, ok
	}
	r.addInvalid(line, rm.in.validate(), fieldKeys{"number": "room_number"})
	return rm
}

// keep adds a good row to its building, the first row of a building
// making it; a later row repeats the building with another room.
func (r *buildingRows) keep(line int, grid int32, in BuildingInput, given buildingCells, room *roomRow) {
	key := in.Road + "\x00" + in.DoorNo + "\x00" + in.Name
	b, first := r.byKey[key], false
	switch {
	case b == nil:
		b, first = &buildingRow{line: line, grid: grid, in: in, given: given, roomAt: firstRow{}}, true
		r.byKey[key] = b
		r.list = append(r.list, b)
	case room == nil:
		r.add(line, "name", "err.registry.import_building_repeated", b.line)
		return
	case !r.agrees(line, b, grid, in, given):
		return
	}
	if room != nil {
		if at := b.roomAt.seen(room.in.Unit+"\x00"+room.in.Number, line); at != 0 {
			r.add(line, "room_number", "err.registry.import_room_repeated", at)
			return
		}
		b.rooms = append(b.rooms, room)
	}
	r.lines = append(r.lines, buildingLine{b: b, room: room, first: first})
	r.n++
}

// agrees checks a later row of a building against what its earlier rows
// said; a cell they left empty is taken from this one.
func (r *buildingRows) agrees(line int, b *buildingRow, grid int32, in BuildingInput, given buildingCells) bool {
	ok := true
	check := func(key string, had, has, same bool) bool {
		if had && has && !same {
			r.add(line, key, "err.registry.import_building_differs", b.line)
			ok = false
		}
		return has && !had
	}
	check("grid", true, true, grid == b.grid)
	if check("estate", b.given.estate, given.estate, in.Estate == b.in.Estate) {
		b.in.Estate, b.given.estate = in.Estate, true
	}
	if check("floors", b.given.floors, given.floors, in.Floors == b.in.Floors) {
		b.in.Floors, b.given.floors = in.Floors, true
	}
	if check("units", b.given.units, given.units, in.Units == b.in.Units) {
		b.in.Units, b.given.units = in.Units, true
	}
	if check("lon", b.given.location, given.location, samePoint(in.Location, b.in.Location)) {
		b.in.Location, b.given.location = in.Location, true
	}
	return ok
}

func samePoint(a, b *Point) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func (r *buildingRows) plan(ctx context.Context) (objectCounts, error) {
	var c objectCounts
	if err := r.planBuildings(ctx); err != nil {
		return c, err
	}
	for _, l := range r.lines {
		o := unchanged
		if l.room != nil {
			o = l.room.act
		}
		if l.first {
			o = max(o, l.b.act)
		}
		c.add(o)
	}
	return c, nil
}

// planBuildings finds the file's buildings in the register by their
// standard addresses, then the rooms of those the file may change, a few
// hundred to a statement: a street's file holds thousands of buildings.
func (r *buildingRows) planBuildings(ctx context.Context) error {
	keys := make([]buildingKey, len(r.list))
	for i, b := range r.list {
		keys[i] = buildingKey{b.in.Road, b.in.DoorNo, b.in.Name}
	}
	registered, err := r.svc.store.buildingsAt(ctx, keys)
	if err != nil {
		return err
	}
	var ids []int64
	accepted := make([]bool, len(r.list))
	for i, b := range r.list {
		old, found := registered[keys[i]]
		accepted[i] = r.planBuilding(b, old, found)
		if accepted[i] && found {
			ids = append(ids, b.id)
		}
	}
	rooms, err := r.svc.store.roomsOf(ctx, ids)
	if err != nil {
		return err
	}
	for i, b := range r.list {
		if accepted[i] {
			r.planRooms(b, rooms[b.id]) // none for a new building (id 0)
		}
	}
	return nil
}

// planBuilding plans a building of the file against old, the one
// registered at its address if found, and says whether the file may
// change it. One registered in another grid is refused rather than moved:
// the file most likely names the wrong grid, and a move is done on the
// building's page.
func (r *buildingRows) planBuilding(b *buildingRow, old Building, found bool) bool {
	b.id, b.merged, b.act = 0, b.in, creates
	if !found {
		return true
	}
	switch {
	case !r.p.Can(auth.RegistryEdit, old.AreaPath):
		r.add(b.line, "name", "err.registry.import_building_scope", old.Address, old.GridName)
		return false
	case old.AreaID != r.grids[b.grid].AreaID:
		r.add(b.line, "grid", "err.registry.import_building_grid", old.Address, old.Grid)
		return false
	}
	b.id, b.act = old.ID, unchanged
	m := &b.merged
	if !b.given.estate {
		m.Estate = old.Estate
	}
	if !b.given.floors {
		m.Floors = old.Floors
	}
	if !b.given.units {
		m.Units = old.Units
	}
	if !b.given.location {
		m.Location = old.Location
	}
	if m.Estate != old.Estate || m.Floors != old.Floors || m.Units != old.Units || !samePoint(m.Location, old.Location) {
		b.act = updates
	}
	return true
}

// planRooms matches the file's rooms of a building with its registered
// ones by unit and number.
func (r *buildingRows) planRooms(b *buildingRow, registered []Room) {
	byKey := make(map[string]Room, len(registered))
	for _, rm := range registered {
		byKey[rm.Unit+"\x00"+rm.Number] = rm
	}
	for _, rm := range b.rooms {
		rm.id, rm.merged, rm.act = 0, rm.in, creates
		old, ok := byKey[rm.in.Unit+"\x00"+rm.in.Number]
		if !ok {
			continue
		}
		rm.id, rm.act = old.ID, unchanged
		if !rm.floorSet {
			rm.merged.Floor = old.Floor
		}
		if !rm.usage {
			rm.merged.Usage = old.Usage
		}
		if rm.merged.Floor != old.Floor || rm.merged.Usage != old.Usage {
			rm.act = updates
		}
	}
}

func (r *buildingRows) write(ctx context.Context, now time.Time) error {
	written := 0
	for _, b := range r.list {
		areaID := r.grids[b.grid].AreaID
		var err error
		switch b.act {
		case creates:
			b.id, err = r.svc.store.insertBuilding(ctx, areaID, b.merged, now)
		case updates:
			err = r.svc.store.updateBuilding(ctx, b.id, areaID, b.merged, now)
		}
		if err != nil {
			return err
		}
		for _, rm := range b.rooms {
			switch rm.act {
			case creates:
				rm.id, err = r.svc.store.insertRoom(ctx, b.id, rm.merged, now)
			case updates:
				err = r.svc.store.updateRoom(ctx, rm.id, rm.merged)
			}
			if err != nil {
				return err
			}
		}
		written += max(1, len(b.rooms))
		r.report(ImportProgress{Phase: "write", Read: r.n, Written: min(written, r.n), Total: r.n})
	}
	return nil
}

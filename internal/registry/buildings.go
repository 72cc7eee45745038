package registry

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Building is a 楼栋 at a standard address: 街路巷 + 门牌号, in a 小区.
type Building struct {
	ID int64 `json:"id"`
	placed
	Estate    string    `json:"estate,omitempty"` // 小区
	Road      string    `json:"road"`             // 街路巷
	DoorNo    string    `json:"door_no"`          // 门牌号
	Name      string    `json:"name"`             // 3号楼
	Address   string    `json:"address"`          // the whole standard address
	Floors    int       `json:"floors,omitempty"`
	Units     int       `json:"units,omitempty"`
	Location  *Point    `json:"location,omitempty"`
	Rooms     []Room    `json:"rooms,omitempty"` // on Building only
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// BuildingInput is what creating or changing a building takes.
type BuildingInput struct {
	Grid     string `json:"grid"`
	Estate   string `json:"estate"`
	Road     string `json:"road"`
	DoorNo   string `json:"door_no"`
	Name     string `json:"name"`
	Floors   int    `json:"floors"`
	Units    int    `json:"units"`
	Location *Point `json:"location"`
}

// Usage is how a room is used.
type Usage string

const (
	UsageOwn      Usage = "own"      // 自住
	UsageRented   Usage = "rented"   // 出租
	UsageVacant   Usage = "vacant"   // 空置
	UsageBusiness Usage = "business" // 经营
)

// Usages lists every room usage.
var Usages = []Usage{UsageOwn, UsageRented, UsageVacant, UsageBusiness}

// Room is a 户室 of a building.
type Room struct {
	ID         int64  `json:"id"`
	BuildingID int64  `json:"building_id"`
	Unit       string `json:"unit,omitempty"` // 单元
	Number     string `json:"number"`         // 户室号
	Floor      int    `json:"floor,omitempty"`
	Usage      Usage  `json:"usage"`
	Address    string `json:"address"` // the building's address with unit and room
}

// RoomInput is what adding a room takes.
type RoomInput struct {
	Unit   string `json:"unit"`
	Number string `json:"number"`
	Floor  int    `json:"floor"`
	Usage  Usage  `json:"usage"`
}

func (in *BuildingInput) validate() error {
	in.Grid, in.Estate, in.Road = strings.TrimSpace(in.Grid), strings.TrimSpace(in.Estate), strings.TrimSpace(in.Road)
	in.DoorNo, in.Name = strings.TrimSpace(in.DoorNo), strings.TrimSpace(in.Name)
	var v errs.Validation
	v.Check(in.Grid != "", "grid", "err.registry.grid_missing")
	v.Check(in.Road != "" && textOK(in.Road, 50), "road", "err.registry.road")
	v.Check(in.DoorNo != "" && textOK(in.DoorNo, 20), "door_no", "err.registry.door_no")
	v.Check(in.Name != "" && textOK(in.Name, 30), "name", "err.registry.building_name")
	v.Check(textOK(in.Estate, 50), "estate", "err.registry.estate")
	v.Check(in.Floors >= 0 && in.Floors <= 200, "floors", "err.registry.floors")
	v.Check(in.Units >= 0 && in.Units <= 50, "units", "err.registry.units")
	checkPoint(&v, "location", in.Location)
	return v.Err()
}

// address writes a standard address: 岱山路12号 海韵小区 3号楼.
func (in BuildingInput) address() string {
	parts := []string{in.Road + in.DoorNo}
	if in.Estate != "" {
		parts = append(parts, in.Estate)
	}
	return strings.Join(append(parts, in.Name), " ")
}

// CreateBuilding adds a building to a grid.
func (s *Service) CreateBuilding(ctx context.Context, in BuildingInput) (Building, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return Building{}, err
	}
	if err := in.validate(); err != nil {
		return Building{}, err
	}
	var b Building
	err := s.db.Write(ctx, func(ctx context.Context) error {
		g, err := s.grid(ctx, in.Grid, auth.RegistryEdit)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		id, err := s.store.insertBuilding(ctx, g.ID, in, now)
		if db.IsUnique(err) {
			return errs.TakenOnField("name", "err.registry.building_taken", in.address())
		}
		if err != nil {
			return err
		}
		if b, err = s.store.building(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.building.create", TargetType: "building", TargetID: strconv.FormatInt(id, 10)})
	})
	return b, err
}

// UpdateBuilding changes a building; moving it to another grid needs edit
// rights on both.
func (s *Service) UpdateBuilding(ctx context.Context, id int64, in BuildingInput) (Building, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return Building{}, err
	}
	if err := in.validate(); err != nil {
		return Building{}, err
	}
	var b Building
	err := s.db.Write(ctx, func(ctx context.Context) error {
		old, err := s.buildingFor(ctx, id, auth.RegistryEdit)
		if err != nil {
			return err
		}
		g, err := s.grid(ctx, in.Grid, auth.RegistryEdit)
		if err != nil {
			return err
		}
		err = s.store.updateBuilding(ctx, old.ID, g.ID, in, s.now().UTC())
		if db.IsUnique(err) {
			return errs.TakenOnField("name", "err.registry.building_taken", in.address())
		}
		if err != nil {
			return err
		}
		if b, err = s.store.building(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.building.update", TargetType: "building", TargetID: strconv.FormatInt(id, 10)})
	})
	return b, err
}

// buildingFor returns a building after checking perm on its grid.
func (s *Service) buildingFor(ctx context.Context, id int64, perm auth.Perm) (Building, error) {
	b, err := s.store.building(ctx, id)
	if err != nil {
		return Building{}, err
	}
	if err := auth.Allowed(auth.From(ctx), perm, b.AreaPath, outOfScope); err != nil {
		return Building{}, err
	}
	return b, nil
}

// Building returns a building with its rooms.
func (s *Service) Building(ctx context.Context, id int64) (Building, error) {
	if _, err := auth.Require(ctx, auth.RegistryRead); err != nil {
		return Building{}, err
	}
	b, err := s.buildingFor(ctx, id, auth.RegistryRead)
	if err != nil {
		return Building{}, err
	}
	b.Rooms, err = s.store.rooms(ctx, b.ID)
	for i := range b.Rooms {
		b.Rooms[i].Address = roomAddress(b.Address, b.Rooms[i])
	}
	return b, err
}

func roomAddress(building string, r Room) string {
	if r.Unit != "" {
		return building + " " + r.Unit + "单元" + r.Number
	}
	return building + " " + r.Number
}

// BuildingQuery selects buildings.
type BuildingQuery struct {
	Grid    string // "" for every grid in scope
	Address string // part of the address
	After   int64  // cursor: the last id of the previous page
	Limit   int
}

// Buildings lists the buildings in the caller's scope.
func (s *Service) Buildings(ctx context.Context, q BuildingQuery) (Page[Building], error) {
	p, err := auth.Require(ctx, auth.RegistryRead)
	if err != nil {
		return Page[Building]{}, err
	}
	q.Limit = limitOf(q.Limit)
	items, err := s.store.buildings(ctx, p, q)
	return pageOf(items, q.Limit, func(x Building) int64 { return x.ID }), err
}

func (in *RoomInput) validate() error {
	in.Unit, in.Number = strings.TrimSpace(in.Unit), strings.TrimSpace(in.Number)
	if in.Usage == "" {
		in.Usage = UsageOwn
	}
	var v errs.Validation
	v.Check(textOK(in.Unit, 10), "unit", "err.registry.unit")
	v.Check(in.Number != "" && textOK(in.Number, 10), "number", "err.registry.room_number")
	v.Check(in.Floor >= -5 && in.Floor <= 200, "floor", "err.registry.floor")
	v.Check(slices.Contains(Usages, in.Usage), "usage", "err.registry.usage", string(in.Usage))
	return v.Err()
}

// AddRoom adds a room to a building.
func (s *Service) AddRoom(ctx context.Context, buildingID int64, in RoomInput) (Room, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return Room{}, err
	}
	if err := in.validate(); err != nil {
		return Room{}, err
	}
	var r Room
	err := s.db.Write(ctx, func(ctx context.Context) error {
		b, err := s.buildingFor(ctx, buildingID, auth.RegistryEdit)
		if err != nil {
			return err
		}
		id, err := s.store.insertRoom(ctx, b.ID, in, s.now().UTC())
		if db.IsUnique(err) {
			return errs.TakenOnField("number", "err.registry.room_taken", in.Unit, in.Number)
		}
		if err != nil {
			return err
		}
		r = Room{ID: id, BuildingID: b.ID, Unit: in.Unit, Number: in.Number, Floor: in.Floor, Usage: in.Usage}
		r.Address = roomAddress(b.Address, r)
		return s.audit.Record(ctx, audit.Entry{Action: "registry.room.create", TargetType: "room", TargetID: strconv.FormatInt(id, 10)})
	})
	return r, err
}

// roomFor returns a room with its building, checking perm on its grid.
func (s *Service) roomFor(ctx context.Context, roomID int64, perm auth.Perm) (Room, Building, error) {
	r, err := s.store.room(ctx, roomID)
	if err != nil {
		return Room{}, Building{}, err
	}
	b, err := s.buildingFor(ctx, r.BuildingID, perm)
	if err != nil {
		return Room{}, Building{}, err
	}
	r.Address = roomAddress(b.Address, r)
	return r, b, nil
}

// Household is a 户: people who live together, usually in one room.
type Household struct {
	ID     int64  `json:"id"`
	RoomID int64  `json:"room_id,omitempty"`
	Number string `json:"number,omitempty"` // 户号
	placed
}

// HouseholdInput is what creating a household takes: a room, or a grid
// for a household not yet placed.
type HouseholdInput struct {
	Grid   string `json:"grid"`
	RoomID int64  `json:"room_id"`
	Number string `json:"number"`
}

// CreateHousehold adds a household, in the room's grid when a room is
// given.
func (s *Service) CreateHousehold(ctx context.Context, in HouseholdInput) (Household, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return Household{}, err
	}
	in.Number = strings.TrimSpace(in.Number)
	if !textOK(in.Number, 30) {
		return Household{}, errs.OnField("number", "err.registry.household_number")
	}
	if in.RoomID == 0 && strings.TrimSpace(in.Grid) == "" {
		return Household{}, errs.OnField("room_id", "err.registry.household_place")
	}
	var h Household
	err := s.db.Write(ctx, func(ctx context.Context) error {
		h = Household{RoomID: in.RoomID, Number: in.Number}
		if in.RoomID != 0 {
			_, b, err := s.roomFor(ctx, in.RoomID, auth.RegistryEdit)
			if errs.CodeOf(err) == errs.NotFound {
				return errs.OnField("room_id", "err.registry.room_unknown", in.RoomID)
			}
			if err != nil {
				return err
			}
			h.placed = b.placed
		} else {
			g, err := s.grid(ctx, strings.TrimSpace(in.Grid), auth.RegistryEdit)
			if err != nil {
				return err
			}
			h.placed = placed{AreaID: g.ID, AreaPath: g.Path, Grid: g.Code, GridName: g.Name}
		}
		var err error
		if h.ID, err = s.store.insertHousehold(ctx, h, s.now().UTC()); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.household.create", TargetType: "household", TargetID: strconv.FormatInt(h.ID, 10)})
	})
	return h, err
}

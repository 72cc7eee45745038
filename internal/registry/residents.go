package registry

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Sex as the ID number encodes it.
type Sex string

const (
	Male   Sex = "m"
	Female Sex = "f"
)

// PopType is a resident's population type (人口类型).
type PopType string

const (
	Registered PopType = "registered" // 户籍人口
	Floating   PopType = "floating"   // 流动人口
	Overseas   PopType = "overseas"   // 境外人员
)

// PopTypes lists every population type.
var PopTypes = []PopType{Registered, Floating, Overseas}

// Resident is one person of the register (实有人口). IDNumber and Phone
// are masked (370613********1234, 138****5678) in everything the service
// returns except Reveal.
type Resident struct {
	ID int64 `json:"id"`
	placed
	HouseholdID int64      `json:"household_id,omitempty"`
	Relation    string     `json:"relation,omitempty"` // 与户主关系
	Name        string     `json:"name"`
	Sex         Sex        `json:"sex"`
	BirthDate   string     `json:"birth_date"`
	IDNumber    string     `json:"id_number"`
	Phone       string     `json:"phone,omitempty"`
	PopType     PopType    `json:"pop_type"`
	CareLevel   string     `json:"care_level,omitempty"`
	Groups      []string   `json:"groups"`
	Note        string     `json:"note,omitempty"`
	LastVisitAt *time.Time `json:"last_visit_at,omitempty"`
	Rooms       []RoomLink `json:"rooms,omitempty"` // on Resident only
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`

	idSealed, phoneSealed string
}

// ResidentInput is what creating or changing a resident takes. On a
// change, an empty IDNumber or Phone keeps the stored one: clients only
// ever see them masked.
type ResidentInput struct {
	Grid        string   `json:"grid"`
	HouseholdID int64    `json:"household_id"`
	Relation    string   `json:"relation"`
	Name        string   `json:"name"`
	Sex         Sex      `json:"sex"`        // from the ID number when empty
	BirthDate   string   `json:"birth_date"` // from the ID number when empty
	IDNumber    string   `json:"id_number"`
	Phone       string   `json:"phone"`
	PopType     PopType  `json:"pop_type"`
	CareLevel   string   `json:"care_level"` // from the groups when empty
	Groups      []string `json:"groups"`
	Note        string   `json:"note"`
	// Room, when set, links the new resident to a room (人房关联).
	Room *LinkInput `json:"room,omitempty"`
}

// Role is how a resident is linked to a room.
type Role string

const (
	RoleOwner  Role = "owner"  // 产权人
	RoleTenant Role = "tenant" // 承租人
	RoleLives  Role = "lives"  // 居住
)

// Roles lists every link role.
var Roles = []Role{RoleOwner, RoleTenant, RoleLives}

// RoomLink is a resident's link to a room (人房关联).
type RoomLink struct {
	ID      int64  `json:"id"`
	RoomID  int64  `json:"room_id"`
	Address string `json:"address"`
	Role    Role   `json:"role"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"` // empty while it holds
}

// LinkInput links a resident to a room.
type LinkInput struct {
	RoomID int64  `json:"room_id"`
	Role   Role   `json:"role"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// validate normalises in and checks every field; creating says whether the
// ID number is required.
func (s *Service) validateResident(ctx context.Context, in *ResidentInput, creating bool) error {
	in.Grid, in.Name, in.Relation = strings.TrimSpace(in.Grid), strings.TrimSpace(in.Name), strings.TrimSpace(in.Relation)
	var phoneOK bool
	in.IDNumber, in.Note = normaliseID(in.IDNumber), strings.TrimSpace(in.Note)
	in.Phone, phoneOK = normalisePhone(in.Phone)
	in.BirthDate = strings.TrimSpace(in.BirthDate)
	if in.PopType == "" {
		in.PopType = Registered
	}
	var v errs.Validation
	v.Check(in.Name != "" && textOK(in.Name, 50), "name", "err.registry.name")
	v.Check(slices.Contains(PopTypes, in.PopType), "pop_type", "err.registry.pop_type", string(in.PopType))
	s.checkIdentity(&v, in, creating)
	v.Check(phoneOK, "phone", "err.registry.phone")
	v.Check(textOK(in.Relation, 20), "relation", "err.registry.relation")
	v.Check(textOK(in.Note, 500), "note", "err.registry.note")
	if in.Room != nil {
		checkLink(&v, in.Room)
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.checkCare(ctx, in)
}

// checkIdentity checks the ID number and that sex and birth date agree
// with it, filling them in when left empty. 境外人员 carry a passport or
// permit number instead, and give sex and birth date themselves.
func (s *Service) checkIdentity(v *errs.Validation, in *ResidentInput, creating bool) {
	switch {
	case in.IDNumber == "" && creating:
		v.Add("id_number", "err.registry.id_missing")
	case in.IDNumber == "":
	case in.PopType == Overseas && passportRE.MatchString(in.IDNumber):
	default:
		id, err := parseIDNumber(in.IDNumber, s.now())
		if err != nil {
			idFieldError(v, err)
			return
		}
		if in.Sex == "" {
			in.Sex = id.Sex
		}
		if in.BirthDate == "" {
			in.BirthDate = id.Birth
		}
		v.Check(in.Sex == id.Sex, "sex", "err.registry.sex_mismatch")
		v.Check(in.BirthDate == id.Birth, "birth_date", "err.registry.birth_mismatch", id.Birth)
	}
	v.Check(in.Sex == Male || in.Sex == Female, "sex", "err.registry.sex")
	born, err := time.Parse(time.DateOnly, in.BirthDate)
	v.Check(err == nil && born.Year() >= 1880 && !born.After(s.now()), "birth_date", "err.registry.birth_date")
}

// checkCare checks the groups against the configured list and derives the
// care level from them when none was given: the highest of the groups'.
func (s *Service) checkCare(ctx context.Context, in *ResidentInput) error {
	groups, err := s.store.groups(ctx)
	if err != nil {
		return err
	}
	levels, err := s.store.careLevels(ctx)
	if err != nil {
		return err
	}
	var v errs.Validation
	derived := ""
	slices.Sort(in.Groups)
	in.Groups = slices.Compact(in.Groups)
	for _, code := range in.Groups {
		g, ok := findGroup(groups, code)
		v.Check(ok && g.Active, "groups", "err.registry.group", code)
		if ok && rankOf(levels, g.CareLevel) > rankOf(levels, derived) {
			derived = g.CareLevel
		}
	}
	if in.CareLevel == "" {
		in.CareLevel = derived
	}
	v.Check(in.CareLevel == "" || rankOf(levels, in.CareLevel) > 0, "care_level", "err.registry.care_level", in.CareLevel)
	return v.Err()
}

func checkLink(v *errs.Validation, l *LinkInput) {
	l.From, l.To = strings.TrimSpace(l.From), strings.TrimSpace(l.To)
	if l.Role == "" {
		l.Role = RoleLives
	}
	v.Check(l.RoomID > 0, "room_id", "err.registry.room_missing")
	v.Check(slices.Contains(Roles, l.Role), "role", "err.registry.role", string(l.Role))
	v.Check(l.From == "" || validDate(l.From), "from", "err.registry.date")
	v.Check(l.To == "" || validDate(l.To), "to", "err.registry.date")
	v.Check(l.From == "" || l.To == "" || l.From <= l.To, "to", "err.registry.date_order")
}

// CreateResident registers a person. The ID number must be new to the
// register: one person, one record.
func (s *Service) CreateResident(ctx context.Context, in ResidentInput) (Resident, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return Resident{}, err
	}
	if err := s.validateResident(ctx, &in, true); err != nil {
		return Resident{}, err
	}
	var r Resident
	err := s.db.Write(ctx, func(ctx context.Context) error {
		pl, err := s.residentPlace(ctx, in)
		if err != nil {
			return err
		}
		id, err := s.insertResident(ctx, pl, in)
		if err != nil {
			return err
		}
		if in.Room != nil {
			if err := s.linkRoom(ctx, id, pl, *in.Room); err != nil {
				return err
			}
		}
		if r, err = s.store.resident(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.resident.create", TargetType: "resident", TargetID: strconv.FormatInt(id, 10)})
	})
	return s.masked(r), err
}

// insertResident seals the personal numbers and stores the row and its
// groups. It is the one insert path, which a batch import will share.
func (s *Service) insertResident(ctx context.Context, pl placed, in ResidentInput) (int64, error) {
	row := residentRow{in: in, areaID: pl.AreaID, areaPath: pl.AreaPath, nameKey: nameKey(in.Name),
		idEnc: s.box.Seal(fieldIDNumber, in.IDNumber), idIdx: s.box.Index(fieldIDNumber, in.IDNumber),
		phoneEnc: s.box.Seal(fieldPhone, in.Phone), phoneIdx: s.box.Index(fieldPhone, in.Phone), now: s.now().UTC()}
	id, err := s.store.insertResident(ctx, row)
	if db.IsUnique(err) {
		return 0, errs.TakenOnField("id_number", "err.registry.id_taken")
	}
	if err != nil {
		return 0, err
	}
	return id, s.store.setGroups(ctx, id, in.Groups)
}

// residentPlace is the grid a resident is registered in: the household's
// when one is given (they must agree), else the grid named.
func (s *Service) residentPlace(ctx context.Context, in ResidentInput) (placed, error) {
	if in.HouseholdID != 0 {
		h, err := s.store.household(ctx, in.HouseholdID)
		if errs.CodeOf(err) == errs.NotFound {
			return placed{}, errs.OnField("household_id", "err.registry.household_unknown", in.HouseholdID)
		}
		if err != nil {
			return placed{}, err
		}
		if err := auth.Allowed(auth.From(ctx), auth.RegistryEdit, h.AreaPath, outOfScope); err != nil {
			return placed{}, err
		}
		if in.Grid != "" && in.Grid != h.Grid {
			return placed{}, errs.OnField("grid", "err.registry.household_grid", h.Grid)
		}
		return h.placed, nil
	}
	g, err := s.grid(ctx, in.Grid, auth.RegistryEdit)
	if err != nil {
		return placed{}, err
	}
	return placed{AreaID: g.ID, AreaPath: g.Path, Grid: g.Code, GridName: g.Name}, nil
}

// UpdateResident changes a resident; empty ID and phone numbers keep the
// stored ones.
func (s *Service) UpdateResident(ctx context.Context, id int64, in ResidentInput) (Resident, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return Resident{}, err
	}
	in.Room = nil // links change through LinkRoom / EndLink
	// Sex and birth date left empty keep the stored ones, as the sealed
	// numbers do; a changed pair is checked against the stored ID number.
	if in.Sex == "" || strings.TrimSpace(in.BirthDate) == "" {
		old, err := s.residentFor(ctx, id, auth.RegistryEdit)
		if err != nil {
			return Resident{}, err
		}
		if in.Sex == "" {
			in.Sex = old.Sex
		}
		if strings.TrimSpace(in.BirthDate) == "" {
			in.BirthDate = old.BirthDate
		}
	}
	if err := s.validateResident(ctx, &in, false); err != nil {
		return Resident{}, err
	}
	var r Resident
	err := s.db.Write(ctx, func(ctx context.Context) error {
		old, err := s.residentFor(ctx, id, auth.RegistryEdit)
		if err != nil {
			return err
		}
		if in.Grid == "" && in.HouseholdID == 0 {
			in.Grid = old.Grid
		}
		pl, err := s.residentPlace(ctx, in)
		if err != nil {
			return err
		}
		if err := s.checkStoredIdentity(old, &in); err != nil {
			return err
		}
		// Empty sealed values keep the stored ones (see store.updateResident).
		row := residentRow{in: in, areaID: pl.AreaID, areaPath: pl.AreaPath, nameKey: nameKey(in.Name), now: s.now().UTC()}
		if in.IDNumber != "" {
			row.idEnc, row.idIdx = s.box.Seal(fieldIDNumber, in.IDNumber), s.box.Index(fieldIDNumber, in.IDNumber)
		}
		if in.Phone != "" {
			row.phoneEnc, row.phoneIdx = s.box.Seal(fieldPhone, in.Phone), s.box.Index(fieldPhone, in.Phone)
		}
		err = s.store.updateResident(ctx, id, row)
		if db.IsUnique(err) {
			return errs.TakenOnField("id_number", "err.registry.id_taken")
		}
		if err != nil {
			return err
		}
		if err := s.store.setGroups(ctx, id, in.Groups); err != nil {
			return err
		}
		if r, err = s.store.resident(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.resident.update", TargetType: "resident", TargetID: strconv.FormatInt(id, 10)})
	})
	return s.masked(r), err
}

// checkStoredIdentity checks a changed sex or birth date against the stored
// ID number when no new one was given.
func (s *Service) checkStoredIdentity(old Resident, in *ResidentInput) error {
	if in.IDNumber != "" {
		return nil
	}
	stored, err := s.box.Open(fieldIDNumber, old.idSealed)
	if err != nil {
		return errs.Wrap(err, "err.internal")
	}
	id, err := parseIDNumber(stored, s.now())
	if err != nil {
		return nil // a passport number: nothing to compare
	}
	var v errs.Validation
	v.Check(in.Sex == id.Sex, "sex", "err.registry.sex_mismatch")
	v.Check(in.BirthDate == id.Birth, "birth_date", "err.registry.birth_mismatch", id.Birth)
	return v.Err()
}

// residentFor returns a resident, with its sealed values, after checking
// perm on its grid.
func (s *Service) residentFor(ctx context.Context, id int64, perm auth.Perm) (Resident, error) {
	r, err := s.store.resident(ctx, id)
	if err != nil {
		return Resident{}, err
	}
	if err := auth.Allowed(auth.From(ctx), perm, r.AreaPath, outOfScope); err != nil {
		return Resident{}, err
	}
	return r, nil
}

// Resident returns a resident with their rooms, masked.
func (s *Service) Resident(ctx context.Context, id int64) (Resident, error) {
	if _, err := auth.Require(ctx, auth.RegistryRead); err != nil {
		return Resident{}, err
	}
	r, err := s.residentFor(ctx, id, auth.RegistryRead)
	if err != nil {
		return Resident{}, err
	}
	if r.Rooms, err = s.store.links(ctx, id); err != nil {
		return Resident{}, err
	}
	return s.masked(r), nil
}

// masked opens the sealed numbers and masks them for the screen.
func (s *Service) masked(r Resident) Resident {
	id, _ := s.box.Open(fieldIDNumber, r.idSealed)
	phone, _ := s.box.Open(fieldPhone, r.phoneSealed)
	r.IDNumber, r.Phone = crypto.MaskID(id), crypto.MaskPhone(phone)
	r.idSealed, r.phoneSealed = "", ""
	if r.Groups == nil {
		r.Groups = []string{}
	}
	return r
}

// Revealed is a resident's numbers in clear.
type Revealed struct {
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
}

// Reveal returns a resident's ID and phone numbers in clear to a caller
// with registry.reveal on the resident's grid who gives a reason. The
// reveal is audited with the reason, in the same transaction.
func (s *Service) Reveal(ctx context.Context, id int64, reason string) (Revealed, error) {
	if _, err := auth.Require(ctx, auth.RegistryReveal); err != nil {
		return Revealed{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || !textOK(reason, 200) {
		return Revealed{}, errs.OnField("reason", "err.registry.reason")
	}
	var out Revealed
	err := s.db.Write(ctx, func(ctx context.Context) error {
		r, err := s.residentFor(ctx, id, auth.RegistryReveal)
		if err != nil {
			return err
		}
		idNo, err1 := s.box.Open(fieldIDNumber, r.idSealed)
		phone, err2 := s.box.Open(fieldPhone, r.phoneSealed)
		if err := errors.Join(err1, err2); err != nil {
			return errs.Wrap(err, "err.internal")
		}
		out = Revealed{IDNumber: idNo, Phone: phone}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.resident.reveal", TargetType: "resident",
			TargetID: strconv.FormatInt(id, 10), Detail: reason})
	})
	return out, err
}

// LinkRoom links a resident to a room (人房关联). The room must lie in
// a grid the caller may edit.
func (s *Service) LinkRoom(ctx context.Context, residentID int64, in LinkInput) (RoomLink, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return RoomLink{}, err
	}
	var v errs.Validation
	checkLink(&v, &in)
	if err := v.Err(); err != nil {
		return RoomLink{}, err
	}
	var l RoomLink
	err := s.db.Write(ctx, func(ctx context.Context) error {
		r, err := s.residentFor(ctx, residentID, auth.RegistryEdit)
		if err != nil {
			return err
		}
		if err := s.linkRoom(ctx, residentID, r.placed, in); err != nil {
			return err
		}
		links, err := s.store.links(ctx, residentID)
		if err != nil || len(links) == 0 {
			return err
		}
		l = links[len(links)-1]
		return s.audit.Record(ctx, audit.Entry{Action: "registry.resident.link", TargetType: "resident",
			TargetID: strconv.FormatInt(residentID, 10), Detail: "room " + strconv.FormatInt(in.RoomID, 10) + " " + string(in.Role)})
	})
	return l, err
}

func (s *Service) linkRoom(ctx context.Context, residentID int64, _ placed, in LinkInput) error {
	if _, _, err := s.roomFor(ctx, in.RoomID, auth.RegistryEdit); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return errs.OnField("room_id", "err.registry.room_unknown", in.RoomID)
		}
		return err
	}
	return s.store.insertLink(ctx, residentID, in, s.now().UTC())
}

// EndLink closes a resident's link to a room on a date (moved out).
func (s *Service) EndLink(ctx context.Context, residentID, linkID int64, to string) error {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return err
	}
	to = strings.TrimSpace(to)
	if !validDate(to) {
		return errs.OnField("to", "err.registry.date")
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.residentFor(ctx, residentID, auth.RegistryEdit); err != nil {
			return err
		}
		ok, err := s.store.endLink(ctx, residentID, linkID, to)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.NotFound, "err.registry.link_not_found", linkID)
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.resident.unlink", TargetType: "resident",
			TargetID: strconv.FormatInt(residentID, 10), Detail: "link " + strconv.FormatInt(linkID, 10)})
	})
}

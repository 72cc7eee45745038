package registry

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// store is the register's SQL, nothing else.
type store struct{ db *db.DB }

// args collects query arguments and hands out their placeholders: a
// db.Args with the register's scope conditions.
type args []any

func (a *args) add(v any) string { return (*db.Args)(a).Add(v) }

// scope appends the caller's area filter for perm on column.
func (a *args) scope(p *auth.Principal, perm auth.Perm, column string) string {
	cond, more := p.Filter(perm, column, len(*a)+1)
	*a = append(*a, more...)
	return cond
}

// residentScope is the scope condition of a resident search. A caller
// who works a few grids or one community is filtered by area id: the
// (area_id, name_key) index serves a few short ranges, and sorting what
// they hold is cheap. A wider caller (a street, a district) is filtered on
// the resident's area_path, which (name_key, id, area_path) holds: the
// name range is read in list order, filtered inside the index, and the
// first page is found without sorting every match in the street. Both read the same
// grants as auth.Principal.Filter.
func (a *args) residentScope(p *auth.Principal, perm auth.Perm) string {
	var paths []string
	narrow := true
	for _, g := range p.Grants {
		if g.AreaID == 0 {
			if p.Can(perm, "") {
				return "1 = 1"
			}
			continue
		}
		if p.Can(perm, g.AreaPath) {
			paths = append(paths, g.AreaPath)
			narrow = narrow && len(g.AreaCode) >= 12 // a community (12 digits) or a grid (15)
		}
	}
	if len(paths) == 0 {
		return "1 = 0"
	}
	if narrow {
		return a.scope(p, perm, "r.area_id")
	}
	conds := make([]string, len(paths))
	for i, path := range paths {
		conds[i] = "(r.area_path >= " + a.add(path) + " AND r.area_path < " + a.add(auth.PathEnd(path)) + ")"
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

func nullPoint(p *Point) (any, any) {
	if p == nil {
		return nil, nil
	}
	return p.Lon, p.Lat
}

func pointOf(lon, lat sql.NullFloat64) *Point {
	if !lon.Valid || !lat.Valid {
		return nil
	}
	return &Point{Lon: lon.Float64, Lat: lat.Float64}
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func notFound(err error, key string, id int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, key, id)
	}
	return err
}

// placedCols are the grid's columns of an object joined to areas a.
const placedCols = "a.id, a.path, a.code, a.name"

func (p *placed) dest() []any { return []any{&p.AreaID, &p.AreaPath, &p.Grid, &p.GridName} }

// --- buildings and rooms ---

const buildingCols = "b.id, " + placedCols + ", b.estate, b.road, b.door_no, b.name, b.address, b.floors, b.units, b.lon, b.lat, b.created_at, b.updated_at"
const buildingFrom = " FROM registry_buildings b JOIN areas a ON a.id = b.area_id "

func scanBuilding(row db.Scanner) (Building, error) {
	var b Building
	var lon, lat sql.NullFloat64
	dest := append([]any{&b.ID}, b.placed.dest()...)
	dest = append(dest, &b.Estate, &b.Road, &b.DoorNo, &b.Name, &b.Address, &b.Floors, &b.Units, &lon, &lat, &b.CreatedAt, &b.UpdatedAt)
	err := row.Scan(dest...)
	b.Location = pointOf(lon, lat)
	return b, err
}

func (s store) insertBuilding(ctx context.Context, areaID int64, in BuildingInput, now time.Time) (int64, error) {
	lon, lat := nullPoint(in.Location)
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO registry_buildings
		(area_id, estate, road, door_no, name, address, floors, units, lon, lat, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
		areaID, in.Estate, in.Road, in.DoorNo, in.Name, in.address(), in.Floors, in.Units, lon, lat, now).Scan(&id)
	return id, err
}

func (s store) updateBuilding(ctx context.Context, id, areaID int64, in BuildingInput, now time.Time) error {
	lon, lat := nullPoint(in.Location)
	_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE registry_buildings SET area_id = $1, estate = $2, road = $3, door_no = $4,
		name = $5, address = $6, floors = $7, units = $8, lon = $9, lat = $10, updated_at = $11 WHERE id = $12`,
		areaID, in.Estate, in.Road, in.DoorNo, in.Name, in.address(), in.Floors, in.Units, lon, lat, now, id)
	return err
}

func (s store) building(ctx context.Context, id int64) (Building, error) {
	b, err := scanBuilding(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+buildingCols+buildingFrom+"WHERE b.id = $1", id))
	return b, notFound(err, "err.registry.building_not_found", id)
}

func (s store) buildings(ctx context.Context, p *auth.Principal, q BuildingQuery) ([]Building, error) {
	var a args
	where := []string{a.scope(p, auth.RegistryRead, "b.area_id")}
	if q.Grid != "" {
		where = append(where, "a.code = "+a.add(q.Grid))
	}
	if q.Address != "" {
		where = append(where, "b.address LIKE "+a.add("%"+escapeLike(q.Address)+"%")+" ESCAPE '\\'")
	}
	if q.After > 0 {
		where = append(where, "b.id > "+a.add(q.After))
	}
	query := "SELECT " + buildingCols + buildingFrom + "WHERE " + strings.Join(where, " AND ") + " ORDER BY b.id LIMIT " + a.add(q.Limit)
	return db.All(ctx, s.db.Q(ctx), scanBuilding, query, a...)
}

// escapeLike makes user text literal inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func scanRoom(row db.Scanner) (Room, error) {
	var r Room
	err := row.Scan(&r.ID, &r.BuildingID, &r.Unit, &r.Number, &r.Floor, &r.Usage)
	return r, err
}

const roomCols = "id, building_id, unit, number, floor, usage"

func (s store) rooms(ctx context.Context, buildingID int64) ([]Room, error) {
	return db.All(ctx, s.db.Q(ctx), scanRoom, "SELECT "+roomCols+" FROM registry_rooms WHERE building_id = $1 ORDER BY unit, floor, number", buildingID)
}

func (s store) room(ctx context.Context, id int64) (Room, error) {
	r, err := scanRoom(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+roomCols+" FROM registry_rooms WHERE id = $1", id))
	return r, notFound(err, "err.registry.room_unknown", id)
}

func (s store) insertRoom(ctx context.Context, buildingID int64, in RoomInput, now time.Time) (int64, error) {
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO registry_rooms (building_id, unit, number, floor, usage, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, buildingID, in.Unit, in.Number, in.Floor, string(in.Usage), now).Scan(&id)
	return id, err
}

// --- households ---

func (s store) insertHousehold(ctx context.Context, h Household, now time.Time) (int64, error) {
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO registry_households (area_id, room_id, number, created_at)
		VALUES ($1, $2, $3, $4) RETURNING id`, h.AreaID, nullID(h.RoomID), h.Number, now).Scan(&id)
	return id, err
}

func (s store) household(ctx context.Context, id int64) (Household, error) {
	var h Household
	var room sql.NullInt64
	dest := append([]any{&h.ID, &room, &h.Number}, h.placed.dest()...)
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT h.id, h.room_id, h.number, `+placedCols+`
		FROM registry_households h JOIN areas a ON a.id = h.area_id WHERE h.id = $1`, id).Scan(dest...)
	h.RoomID = room.Int64
	return h, notFound(err, "err.registry.household_unknown", id)
}

// --- configuration ---

func (s store) careLevels(ctx context.Context) ([]CareLevel, error) {
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (CareLevel, error) {
		var l CareLevel
		err := row.Scan(&l.Code, &l.Rank, &l.NameZH, &l.NameEN, &l.EveryDays)
		return l, err
	}, "SELECT code, level_rank, name_zh, name_en, every_days FROM registry_care_levels ORDER BY level_rank DESC")
}

func (s store) groups(ctx context.Context) ([]Group, error) {
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (Group, error) {
		var g Group
		err := row.Scan(&g.Code, &g.NameZH, &g.NameEN, &g.CareLevel, &g.Active)
		return g, err
	}, "SELECT code, name_zh, name_en, care_level, active FROM registry_groups ORDER BY sort, code")
}

func (s store) setInterval(ctx context.Context, level string, days int) (bool, error) {
	res, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE registry_care_levels SET every_days = $1 WHERE code = $2", days, level)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (s store) upsertGroup(ctx context.Context, g Group) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO registry_groups (code, name_zh, name_en, care_level, sort, active)
		VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(sort), 0) + 10 FROM registry_groups), $5)
		ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
		care_level = excluded.care_level, active = excluded.active`, g.Code, g.NameZH, g.NameEN, g.CareLevel, g.Active)
	return err
}

// --- residents ---

// residentRow is a resident as stored: sealed numbers and their indexes.
type residentRow struct {
	in                 ResidentInput
	areaID             int64
	areaPath           string // the grid's path, for the scope of wide searches
	nameKey            string
	idEnc, idIdx       string
	phoneEnc, phoneIdx string
	lastVisit          *time.Time // a batch may carry the last visit (demo, import)
	now                time.Time
}

const residentCols = "r.id, " + placedCols + `, r.household_id, r.relation, r.name, r.sex, r.birth_date, r.id_enc, r.phone_enc,
	r.pop_type, r.care_level, r.note, r.last_visit_at, r.created_at, r.updated_at`
const residentFrom = " FROM registry_residents r JOIN areas a ON a.id = r.area_id "

func scanResident(row db.Scanner) (Resident, error) {
	var r Resident
	var household sql.NullInt64
	var visited sql.NullTime
	dest := append([]any{&r.ID}, r.placed.dest()...)
	dest = append(dest, &household, &r.Relation, &r.Name, &r.Sex, &r.BirthDate, &r.idSealed, &r.phoneSealed,
		&r.PopType, &r.CareLevel, &r.Note, &visited, &r.CreatedAt, &r.UpdatedAt)
	err := row.Scan(dest...)
	r.HouseholdID = household.Int64
	if visited.Valid {
		t := visited.Time
		r.LastVisitAt = &t
	}
	return r, err
}

func (s store) insertResident(ctx context.Context, row residentRow) (int64, error) {
	in := row.in
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO registry_residents (area_id, area_path, household_id, relation, name, name_key,
		sex, birth_date, id_enc, id_idx, phone_enc, phone_idx, pop_type, care_level, note, created_at, updated_at)
		VALUES ($1, $16, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id`,
		row.areaID, nullID(in.HouseholdID), in.Relation, in.Name, row.nameKey, string(in.Sex), in.BirthDate,
		row.idEnc, row.idIdx, row.phoneEnc, row.phoneIdx, string(in.PopType), in.CareLevel, in.Note, row.now, row.areaPath).Scan(&id)
	return id, err
}

// updateResident stores a changed resident; empty sealed values keep the
// stored ones.
func (s store) updateResident(ctx context.Context, id int64, row residentRow) error {
	in := row.in
	_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE registry_residents SET area_id = $1, area_path = $17, household_id = $2, relation = $3,
		name = $4, name_key = $5, sex = $6, birth_date = $7,
		id_enc = CASE WHEN $8 = '' THEN id_enc ELSE $8 END, id_idx = CASE WHEN $9 = '' THEN id_idx ELSE $9 END,
		phone_enc = CASE WHEN $10 = '' THEN phone_enc ELSE $10 END, phone_idx = CASE WHEN $11 = '' THEN phone_idx ELSE $11 END,
		pop_type = $12, care_level = $13, note = $14, updated_at = $15 WHERE id = $16`,
		row.areaID, nullID(in.HouseholdID), in.Relation, in.Name, row.nameKey, string(in.Sex), in.BirthDate,
		row.idEnc, row.idIdx, row.phoneEnc, row.phoneIdx, string(in.PopType), in.CareLevel, in.Note, row.now, id, row.areaPath)
	return err
}

func (s store) setGroups(ctx context.Context, residentID int64, groups []string) error {
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, "DELETE FROM registry_resident_groups WHERE resident_id = $1", residentID); err != nil {
		return err
	}
	for _, g := range groups {
		if _, err := q.ExecContext(ctx, "INSERT INTO registry_resident_groups (resident_id, group_code) VALUES ($1, $2)", residentID, g); err != nil {
			return err
		}
	}
	return nil
}

func (s store) resident(ctx context.Context, id int64) (Resident, error) {
	r, err := scanResident(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+residentCols+residentFrom+"WHERE r.id = $1", id))
	if err != nil {
		return Resident{}, notFound(err, "err.registry.resident_not_found", id)
	}
	rs := []Resident{r}
	err = s.fillGroups(ctx, rs)
	return rs[0], err
}

// fillGroups reads the groups of a page of residents in one query.
func (s store) fillGroups(ctx context.Context, rs []Resident) error {
	if len(rs) == 0 {
		return nil
	}
	var a args
	marks := make([]string, len(rs))
	byID := make(map[int64]*Resident, len(rs))
	for i := range rs {
		marks[i] = a.add(rs[i].ID)
		byID[rs[i].ID] = &rs[i]
		rs[i].Groups = []string{}
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, "SELECT resident_id, group_code FROM registry_resident_groups WHERE resident_id IN ("+
		strings.Join(marks, ", ")+") ORDER BY group_code", a...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return err
		}
		byID[id].Groups = append(byID[id].Groups, code)
	}
	return rows.Err()
}

func (s store) residents(ctx context.Context, p *auth.Principal, f residentFilter) ([]Resident, error) {
	var a args
	where := []string{a.residentScope(p, auth.RegistryRead)}
	if f.areaID != 0 {
		where = append(where, "r.area_id = "+a.add(f.areaID))
	}
	if f.nameFrom != "" {
		where = append(where, "r.name_key >= "+a.add(f.nameFrom)+" AND r.name_key < "+a.add(f.nameTo))
	}
	if f.idIdx != "" {
		where = append(where, "r.id_idx = "+a.add(f.idIdx))
	}
	if f.phoneIdx != "" {
		where = append(where, "r.phone_idx = "+a.add(f.phoneIdx))
	}
	if f.level != "" {
		where = append(where, "r.care_level = "+a.add(f.level))
	}
	if f.group != "" {
		where = append(where, "r.id IN (SELECT resident_id FROM registry_resident_groups WHERE group_code = "+a.add(f.group)+")")
	}
	if f.address != "" {
		where = append(where, `r.id IN (SELECT rr.resident_id FROM registry_resident_rooms rr
			JOIN registry_rooms rm ON rm.id = rr.room_id JOIN registry_buildings b ON b.id = rm.building_id
			WHERE rr.to_date = '' AND b.address LIKE `+a.add("%"+escapeLike(f.address)+"%")+` ESCAPE '\')`)
	}
	if f.afterID > 0 {
		k, id := a.add(f.afterKey), a.add(f.afterID)
		where = append(where, "(r.name_key > "+k+" OR (r.name_key = "+k+" AND r.id > "+id+"))")
	}
	// The page is chosen on registry_residents alone, so that its order
	// comes from the index and the LIMIT stops the scan; only the page's
	// rows are then joined to their grids. (Joined first, PostgreSQL
	// preferred hashing every match in scope and sorting them.)
	query := "SELECT " + residentCols + " FROM (SELECT * FROM registry_residents r WHERE " + strings.Join(where, " AND ") +
		" ORDER BY r.name_key, r.id LIMIT " + a.add(f.limit) + ") r JOIN areas a ON a.id = r.area_id ORDER BY r.name_key, r.id"
	return db.All(ctx, s.db.Q(ctx), scanResident, query, a...)
}

// --- room links ---

func (s store) insertLink(ctx context.Context, residentID int64, in LinkInput, now time.Time) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO registry_resident_rooms (resident_id, room_id, role, from_date, to_date, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, residentID, in.RoomID, string(in.Role), in.From, in.To, now)
	return err
}

func (s store) endLink(ctx context.Context, residentID, linkID int64, to string) (bool, error) {
	res, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE registry_resident_rooms SET to_date = $1 WHERE id = $2 AND resident_id = $3 AND to_date = ''",
		to, linkID, residentID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (s store) links(ctx context.Context, residentID int64) ([]RoomLink, error) {
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (RoomLink, error) {
		var l RoomLink
		var rm Room
		var building string
		err := row.Scan(&l.ID, &l.RoomID, &l.Role, &l.From, &l.To, &rm.Unit, &rm.Number, &building)
		l.Address = roomAddress(building, rm)
		return l, err
	}, `SELECT rr.id, rr.room_id, rr.role, rr.from_date, rr.to_date, rm.unit, rm.number, b.address
		FROM registry_resident_rooms rr JOIN registry_rooms rm ON rm.id = rr.room_id JOIN registry_buildings b ON b.id = rm.building_id
		WHERE rr.resident_id = $1 ORDER BY rr.id`, residentID)
}

// --- places ---

const placeCols = "pl.id, " + placedCols + `, pl.kind, pl.name, pl.credit_code, pl.address, pl.lon, pl.lat, pl.contact_name,
	pl.contact_phone_enc, pl.created_at, pl.updated_at`
const placeFrom = " FROM registry_places pl JOIN areas a ON a.id = pl.area_id "

func scanPlace(row db.Scanner) (Place, error) {
	var p Place
	var lon, lat sql.NullFloat64
	dest := append([]any{&p.ID}, p.placed.dest()...)
	dest = append(dest, &p.Kind, &p.Name, &p.CreditCode, &p.Address, &lon, &lat, &p.ContactName, &p.phoneSealed, &p.CreatedAt, &p.UpdatedAt)
	err := row.Scan(dest...)
	p.Location = pointOf(lon, lat)
	return p, err
}

func (s store) insertPlace(ctx context.Context, areaID int64, in PlaceInput, phoneSealed string, now time.Time) (int64, error) {
	lon, lat := nullPoint(in.Location)
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO registry_places (area_id, kind, name, credit_code, address, lon, lat,
		contact_name, contact_phone_enc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
		areaID, string(in.Kind), in.Name, in.CreditCode, in.Address, lon, lat, in.ContactName, phoneSealed, now).Scan(&id)
	return id, err
}

func (s store) updatePlace(ctx context.Context, id, areaID int64, in PlaceInput, phoneSealed string, now time.Time) error {
	lon, lat := nullPoint(in.Location)
	_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE registry_places SET area_id = $1, kind = $2, name = $3, credit_code = $4,
		address = $5, lon = $6, lat = $7, contact_name = $8,
		contact_phone_enc = CASE WHEN $9 = '' THEN contact_phone_enc ELSE $9 END, updated_at = $10 WHERE id = $11`,
		areaID, string(in.Kind), in.Name, in.CreditCode, in.Address, lon, lat, in.ContactName, phoneSealed, now, id)
	return err
}

func (s store) place(ctx context.Context, id int64) (Place, error) {
	p, err := scanPlace(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+placeCols+placeFrom+"WHERE pl.id = $1", id))
	return p, notFound(err, "err.registry.place_not_found", id)
}

func (s store) places(ctx context.Context, p *auth.Principal, q PlaceQuery) ([]Place, error) {
	var a args
	where := []string{a.scope(p, auth.RegistryRead, "pl.area_id")}
	if q.Grid != "" {
		where = append(where, "a.code = "+a.add(q.Grid))
	}
	if q.Kind != "" {
		where = append(where, "pl.kind = "+a.add(string(q.Kind)))
	}
	if q.Name != "" {
		where = append(where, "pl.name LIKE "+a.add("%"+escapeLike(q.Name)+"%")+" ESCAPE '\\'")
	}
	if q.After > 0 {
		where = append(where, "pl.id > "+a.add(q.After))
	}
	query := "SELECT " + placeCols + placeFrom + "WHERE " + strings.Join(where, " AND ") + " ORDER BY pl.id LIMIT " + a.add(q.Limit)
	return db.All(ctx, s.db.Q(ctx), scanPlace, query, a...)
}

// --- components ---

const componentCols = "c.id, " + placedCols + `, c.code, c.major, c.minor, k.name_zh, k.name_en, c.name, c.state, c.owner,
	c.lon, c.lat, c.created_at, c.updated_at`
const componentFrom = ` FROM registry_components c JOIN areas a ON a.id = c.area_id
	JOIN registry_component_classes k ON k.major = c.major AND k.minor = c.minor `

func scanComponent(row db.Scanner) (Component, error) {
	var c Component
	var lon, lat sql.NullFloat64
	dest := append([]any{&c.ID}, c.placed.dest()...)
	dest = append(dest, &c.Code, &c.Major, &c.Minor, &c.Class, &c.ClassEN, &c.Name, &c.State, &c.Owner, &lon, &lat, &c.CreatedAt, &c.UpdatedAt)
	err := row.Scan(dest...)
	c.Location = pointOf(lon, lat)
	return c, err
}

func (s store) classExists(ctx context.Context, major, minor string) (bool, error) {
	var n int
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM registry_component_classes WHERE major = $1 AND minor = $2", major, minor).Scan(&n)
	return n > 0, err
}

// nextSerial is one more than the highest serial used under a 10-digit
// county+class prefix.
func (s store) nextSerial(ctx context.Context, prefix string) (int, error) {
	var last sql.NullString
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT MAX(code) FROM registry_components WHERE code >= $1 AND code < $2",
		prefix+"000000", prefix+"999999z").Scan(&last)
	if err != nil || !last.Valid {
		return 1, err
	}
	n, _ := strconv.Atoi(last.String[10:])
	return n + 1, nil
}

func (s store) insertComponent(ctx context.Context, areaID int64, in ComponentInput, now time.Time) (int64, error) {
	lon, lat := nullPoint(in.Location)
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO registry_components (area_id, code, major, minor, name, state, owner,
		lon, lat, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
		areaID, in.Code, in.Major, in.Minor, in.Name, string(in.State), in.Owner, lon, lat, now).Scan(&id)
	return id, err
}

func (s store) component(ctx context.Context, id int64) (Component, error) {
	c, err := scanComponent(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+componentCols+componentFrom+"WHERE c.id = $1", id))
	return c, notFound(err, "err.registry.component_not_found", id)
}

func (s store) setComponentState(ctx context.Context, id int64, state ComponentState, now time.Time) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE registry_components SET state = $1, updated_at = $2 WHERE id = $3", string(state), now, id)
	return err
}

func (s store) components(ctx context.Context, p *auth.Principal, q ComponentQuery) ([]Component, error) {
	var a args
	where := []string{a.scope(p, auth.RegistryRead, "c.area_id")}
	if q.Grid != "" {
		where = append(where, "a.code = "+a.add(q.Grid))
	}
	if q.State != "" {
		where = append(where, "c.state = "+a.add(string(q.State)))
	}
	if q.After > 0 {
		where = append(where, "c.id > "+a.add(q.After))
	}
	query := "SELECT " + componentCols + componentFrom + "WHERE " + strings.Join(where, " AND ") + " ORDER BY c.id LIMIT " + a.add(q.Limit)
	return db.All(ctx, s.db.Q(ctx), scanComponent, query, a...)
}

// --- visits ---

// due reads residents whose next visit falls before horizon: per level, a
// last visit (or, never visited, the registration) older than horizon
// minus the level's interval.
func (s store) due(ctx context.Context, p *auth.Principal, areaID int64, levels []CareLevel, horizon time.Time, limit int) ([]Resident, error) {
	var a args
	where := []string{a.scope(p, auth.RegistryVisit, "r.area_id")}
	if areaID != 0 {
		where = append(where, "r.area_id = "+a.add(areaID))
	}
	var per []string
	for _, l := range levels {
		cutoff := a.add(horizon.Add(-time.Duration(l.EveryDays) * 24 * time.Hour))
		per = append(per, "(r.care_level = "+a.add(l.Code)+" AND COALESCE(r.last_visit_at, r.created_at) < "+cutoff+")")
	}
	if len(per) == 0 {
		return nil, nil
	}
	where = append(where, "("+strings.Join(per, " OR ")+")")
	query := "SELECT " + residentCols + residentFrom + "WHERE " + strings.Join(where, " AND ") +
		" ORDER BY COALESCE(r.last_visit_at, r.created_at), r.id LIMIT " + a.add(limit)
	return db.All(ctx, s.db.Q(ctx), scanResident, query, a...)
}

func (s store) insertVisit(ctx context.Context, areaID, userID int64, v Visit, photo *Photo, now time.Time) (int64, error) {
	var ctype string
	var data []byte
	if photo != nil {
		ctype, data = photo.ContentType, photo.Data
	}
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO registry_visits (resident_id, area_id, user_id, visitor, at, mode, place,
		finding, case_number, photo_type, photo, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		v.ResidentID, areaID, nullID(userID), v.Visitor, v.At, string(v.Mode), v.Place, v.Finding, v.CaseNumber, ctype, data, now).Scan(&id)
	return id, err
}

// touchVisit moves the resident's last visit on (a visit entered late,
// older than the last one, leaves it).
func (s store) touchVisit(ctx context.Context, residentID int64, at time.Time) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE registry_residents SET last_visit_at = $1
		WHERE id = $2 AND (last_visit_at IS NULL OR last_visit_at < $1)`, at, residentID)
	return err
}

const visitCols = "id, resident_id, visitor, at, mode, place, finding, photo_type <> '', case_number"

func scanVisit(row db.Scanner) (Visit, error) {
	var v Visit
	err := row.Scan(&v.ID, &v.ResidentID, &v.Visitor, &v.At, &v.Mode, &v.Place, &v.Finding, &v.HasPhoto, &v.CaseNumber)
	return v, err
}

func (s store) visit(ctx context.Context, id int64) (Visit, error) {
	v, err := scanVisit(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+visitCols+" FROM registry_visits WHERE id = $1", id))
	return v, notFound(err, "err.registry.visit_not_found", id)
}

func (s store) visits(ctx context.Context, residentID int64) ([]Visit, error) {
	return db.All(ctx, s.db.Q(ctx), scanVisit, "SELECT "+visitCols+" FROM registry_visits WHERE resident_id = $1 ORDER BY at DESC, id DESC LIMIT 100", residentID)
}

func (s store) setVisitCase(ctx context.Context, id int64, number string) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE registry_visits SET case_number = $1 WHERE id = $2", number, id)
	return err
}

func (s store) photo(ctx context.Context, visitID int64) (Photo, error) {
	var p Photo
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT photo_type, photo FROM registry_visits WHERE id = $1 AND photo_type <> ''", visitID).
		Scan(&p.ContentType, &p.Data)
	return p, notFound(err, "err.registry.photo_not_found", visitID)
}

// --- patrols ---

const patrolCols = "pt.id, " + placedCols + ", pt.user_id, pt.patroller, pt.started_at, pt.ended_at, pt.note"
const patrolFrom = " FROM registry_patrols pt JOIN areas a ON a.id = pt.area_id "

func scanPatrol(row db.Scanner) (Patrol, error) {
	var p Patrol
	var user sql.NullInt64
	var ended sql.NullTime
	dest := append([]any{&p.ID}, p.placed.dest()...)
	dest = append(dest, &user, &p.Patroller, &p.StartedAt, &ended, &p.Note)
	err := row.Scan(dest...)
	p.userID = user.Int64
	if ended.Valid {
		t := ended.Time
		p.EndedAt = &t
	}
	return p, err
}

func (s store) insertPatrol(ctx context.Context, areaID, userID int64, p Patrol) (int64, error) {
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO registry_patrols (area_id, user_id, patroller, started_at, note)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, areaID, nullID(userID), p.Patroller, p.StartedAt, p.Note).Scan(&id)
	return id, err
}

func (s store) patrol(ctx context.Context, id int64) (Patrol, error) {
	p, err := scanPatrol(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+patrolCols+patrolFrom+"WHERE pt.id = $1", id))
	return p, notFound(err, "err.registry.patrol_not_found", id)
}

func (s store) endPatrol(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE registry_patrols SET ended_at = $1 WHERE id = $2", at, id)
	return err
}

func (s store) insertCheckPoint(ctx context.Context, patrolID int64, c CheckPoint) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO registry_patrol_points (patrol_id, at, lon, lat, note) VALUES ($1, $2, $3, $4, $5)",
		patrolID, c.At, c.Location.Lon, c.Location.Lat, c.Note)
	return err
}

func (s store) checkPoints(ctx context.Context, patrolID int64) ([]CheckPoint, error) {
	out, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (CheckPoint, error) {
		var c CheckPoint
		err := row.Scan(&c.At, &c.Location.Lon, &c.Location.Lat, &c.Note)
		return c, err
	}, "SELECT at, lon, lat, note FROM registry_patrol_points WHERE patrol_id = $1 ORDER BY at, id", patrolID)
	if out == nil {
		out = []CheckPoint{}
	}
	return out, err
}

func (s store) patrols(ctx context.Context, p *auth.Principal, limit int) ([]Patrol, error) {
	var a args
	cond := a.scope(p, auth.RegistryRead, "pt.area_id")
	return db.All(ctx, s.db.Q(ctx), scanPatrol, "SELECT "+patrolCols+patrolFrom+"WHERE "+cond+
		" ORDER BY pt.started_at DESC, pt.id DESC LIMIT "+a.add(limit), a...)
}

// --- batches ---

// batchRows is how many rows one multi-row INSERT carries: 100 residents
// are 1,700 parameters, well inside both engines' limits.
const batchRows = 100

// insertResidents stores many residents with few statements and returns
// their ids in the order of rows. Each row's ID-number index is unique, so
// the ids are matched back through it rather than trusting the order of
// RETURNING.
func (s store) insertResidents(ctx context.Context, rows []residentRow) ([]int64, error) {
	ids := make([]int64, 0, len(rows))
	for start := 0; start < len(rows); start += batchRows {
		chunk := rows[start:min(start+batchRows, len(rows))]
		var a args
		values := make([]string, len(chunk))
		for i, r := range chunk {
			in := r.in
			var visited any
			if r.lastVisit != nil {
				visited = *r.lastVisit
			}
			values[i] = "(" + strings.Join([]string{a.add(r.areaID), a.add(r.areaPath), a.add(nullID(in.HouseholdID)), a.add(in.Relation), a.add(in.Name),
				a.add(r.nameKey), a.add(string(in.Sex)), a.add(in.BirthDate), a.add(r.idEnc), a.add(r.idIdx), a.add(r.phoneEnc),
				a.add(r.phoneIdx), a.add(string(in.PopType)), a.add(in.CareLevel), a.add(in.Note), a.add(visited), a.add(r.now),
				a.add(r.now)}, ", ") + ")"
		}
		got := make(map[string]int64, len(chunk))
		rs, err := s.db.Q(ctx).QueryContext(ctx, `INSERT INTO registry_residents (area_id, area_path, household_id, relation, name, name_key,
			sex, birth_date, id_enc, id_idx, phone_enc, phone_idx, pop_type, care_level, note, last_visit_at, created_at, updated_at)
			VALUES `+strings.Join(values, ", ")+" RETURNING id, id_idx", a...)
		if err != nil {
			return nil, err
		}
		for rs.Next() {
			var id int64
			var idx string
			if err := rs.Scan(&id, &idx); err != nil {
				rs.Close()
				return nil, err
			}
			got[idx] = id
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, err
		}
		for _, r := range chunk {
			ids = append(ids, got[r.idIdx])
		}
	}
	return ids, nil
}

// insertPairs stores (resident, value…) rows into table with multi-row
// INSERTs: the groups and room links of a batch.
func (s store) insertPairs(ctx context.Context, table string, cols []string, rows [][]any) error {
	for start := 0; start < len(rows); start += batchRows {
		chunk := rows[start:min(start+batchRows, len(rows))]
		var a args
		values := make([]string, len(chunk))
		for i, r := range chunk {
			marks := make([]string, len(r))
			for j, v := range r {
				marks[j] = a.add(v)
			}
			values[i] = "(" + strings.Join(marks, ", ") + ")"
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES "+
			strings.Join(values, ", "), a...); err != nil {
			return err
		}
	}
	return nil
}

// --- imports and exports of buildings, households and places ---

// buildingKey is a building's standard address, the key of the table's
// unique constraint.
type buildingKey struct{ road, doorNo, name string }

func (b Building) key() buildingKey { return buildingKey{b.Road, b.DoorNo, b.Name} }

// lookupBatch is how many keys or ids one lookup statement takes: a few
// hundred rows a statement instead of one, well under both engines' limits
// on parameters.
const lookupBatch = 300

// buildingsAt finds the registered buildings among keys, by key.
func (s store) buildingsAt(ctx context.Context, keys []buildingKey) (map[buildingKey]Building, error) {
	out := make(map[buildingKey]Building, len(keys))
	for chunk := range slices.Chunk(keys, lookupBatch) {
		var a db.Args
		rows := make([]string, len(chunk))
		for i, k := range chunk {
			rows[i] = "(" + a.Add(k.road) + ", " + a.Add(k.doorNo) + ", " + a.Add(k.name) + ")"
		}
		found, err := db.All(ctx, s.db.Q(ctx), scanBuilding, "SELECT "+buildingCols+buildingFrom+
			"WHERE (b.road, b.door_no, b.name) IN (VALUES "+strings.Join(rows, ", ")+")", a...)
		if err != nil {
			return nil, err
		}
		for _, b := range found {
			out[b.key()] = b
		}
	}
	return out, nil
}

func (s store) updateRoom(ctx context.Context, id int64, in RoomInput) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE registry_rooms SET floor = $1, usage = $2 WHERE id = $3", in.Floor, string(in.Usage), id)
	return err
}

// roomsOf returns the rooms of the buildings, by building, in the order
// of a building's page.
func (s store) roomsOf(ctx context.Context, buildings []int64) (map[int64][]Room, error) {
	out := map[int64][]Room{}
	for chunk := range slices.Chunk(buildings, lookupBatch) {
		var a db.Args
		rooms, err := db.All(ctx, s.db.Q(ctx), scanRoom, "SELECT "+roomCols+" FROM registry_rooms WHERE building_id IN ("+
			db.In(&a, chunk)+") ORDER BY building_id, unit, floor, number", a...)
		if err != nil {
			return nil, err
		}
		for _, r := range rooms {
			out[r.BuildingID] = append(out[r.BuildingID], r)
		}
	}
	return out, nil
}

// householdsIn returns the households of a grid, oldest first.
func (s store) householdsIn(ctx context.Context, areaID int64) ([]Household, error) {
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (Household, error) {
		var h Household
		var room sql.NullInt64
		err := row.Scan(&h.ID, &room, &h.Number)
		h.RoomID = room.Int64
		return h, err
	}, "SELECT id, room_id, number FROM registry_households WHERE area_id = $1 ORDER BY id", areaID)
}

func (s store) setHouseholdRoom(ctx context.Context, id, roomID int64) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE registry_households SET room_id = $1 WHERE id = $2", roomID, id)
	return err
}

// householdLine is a household as its export shows it: its room by the
// building's standard address, unit and number.
type householdLine struct {
	ID                        int64
	Number, Grid              string
	Address, Unit, RoomNumber string
}

// households lists the households in the caller's scope by id, after a
// cursor, optionally in one grid.
func (s store) households(ctx context.Context, p *auth.Principal, grid string, after int64, limit int) ([]householdLine, error) {
	var a args
	where := []string{a.scope(p, auth.RegistryRead, "h.area_id"), "h.id > " + a.add(after)}
	if grid != "" {
		where = append(where, "a.code = "+a.add(grid))
	}
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (householdLine, error) {
		var h householdLine
		var addr, unit, number sql.NullString
		err := row.Scan(&h.ID, &h.Number, &h.Grid, &addr, &unit, &number)
		h.Address, h.Unit, h.RoomNumber = addr.String, unit.String, number.String
		return h, err
	}, `SELECT h.id, h.number, a.code, b.address, rm.unit, rm.number FROM registry_households h JOIN areas a ON a.id = h.area_id
		LEFT JOIN registry_rooms rm ON rm.id = h.room_id LEFT JOIN registry_buildings b ON b.id = rm.building_id
		WHERE `+strings.Join(where, " AND ")+" ORDER BY h.id LIMIT "+a.add(limit), a...)
}

// placesIn returns the places of a grid.
func (s store) placesIn(ctx context.Context, areaID int64) ([]Place, error) {
	return db.All(ctx, s.db.Q(ctx), scanPlace, "SELECT "+placeCols+placeFrom+"WHERE pl.area_id = $1 ORDER BY pl.id", areaID)
}

package cases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// store is the cases module's SQL.
type store struct {
	db   *db.DB
	near *openNear // the open cases' points, on SQLite (nearcache.go)
}

// row is a new case as stored.
type row struct {
	channel        Channel
	externalID     string
	categoryID     int64
	description    string
	address        string
	point          *orb.Point
	areaID         int64
	needsRouting   bool
	reporterUserID int64
	name, phone    string
	phoneIdx       string
	email          string
	state          State
	urgency        string
	trackingHash   string
	createdAt      time.Time
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

const insertCaseSQL = `INSERT INTO cases (tracking_hash, channel, external_id, category_id, description,
	address, lon, lat, near_cell, area_id, needs_routing, reporter_user_id, reporter_name_enc, reporter_phone_enc, reporter_phone_idx,
	reporter_email_enc, state, urgency, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)`

func (s store) insertCase(ctx context.Context, r row) (int64, error) {
	var lon, lat, cell any
	if r.point != nil {
		lon, lat, cell = r.point[0], r.point[1], nearCell(r.point[1], r.point[0])
	}
	return s.insertID(ctx, insertCaseSQL, r.trackingHash, string(r.channel), r.externalID, r.categoryID, r.description,
		r.address, lon, lat, cell, nullID(r.areaID), r.needsRouting, nullID(r.reporterUserID), r.name, r.phone, r.phoneIdx,
		r.email, string(r.state), r.urgency, r.createdAt)
}

// The duplicate search's cells: the globe cut into squares of cellDegrees
// of latitude and longitude (111 m north–south; 89 m east–west at Beijing's
// latitude), numbered row by row from the south-west corner, so that a row
// of adjacent cells is a range of numbers. Migration 00021 computes the
// same numbers in SQL; the two must not drift apart.
const (
	cellDegrees = 0.001
	cellColumns = 360_000 // 360° / cellDegrees
)

// nearCell is the cell of a point.
func nearCell(lat, lon float64) int64 {
	return int64(math.Floor((lat+90)/cellDegrees))*cellColumns + int64(math.Floor((lon+180)/cellDegrees))
}

// cellRanges are the ranges of cells, one per row, that cover the box of
// dLat × dLon degrees around a point.
func cellRanges(lat, lon, dLat, dLon float64) [][2]int64 {
	south, north := int64(math.Floor((lat-dLat+90)/cellDegrees)), int64(math.Floor((lat+dLat+90)/cellDegrees))
	west, east := int64(math.Floor((lon-dLon+180)/cellDegrees)), int64(math.Floor((lon+dLon+180)/cellDegrees))
	var out [][2]int64
	for row := south; row <= north; row++ {
		out = append(out, [2]int64{row*cellColumns + west, row*cellColumns + east})
	}
	return out
}

// insertID runs an INSERT of one row and returns the row's id: on SQLite
// the connection's last rowid (no result rows to make, scan and close for
// every case and every event on the single writer), on PostgreSQL with
// RETURNING id.
func (s store) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	q := s.db.Q(ctx)
	if s.db.Kind == db.SQLite {
		res, err := q.ExecContext(ctx, query, args...)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	}
	var id int64
	err := q.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// actor is who made a move.
type actor struct {
	id   int64
	name string
}

// event is a row of case_events.
type event struct {
	caseID   int64
	at       time.Time
	actor    actor
	action   Action
	from, to State
	note     string
	data     string
	key      statKey // where the case stood after the move
}

func (s store) insertEvent(ctx context.Context, e event) (int64, error) {
	return s.insertID(ctx, `INSERT INTO case_events (case_id, at, actor_id, actor, action, from_state, to_state,
		note, data, area_id, unit_id, category_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.caseID, e.at, nullID(e.actor.id), e.actor.name, string(e.action), string(e.from), string(e.to), e.note, e.data,
		e.key.areaID, e.key.unitID, e.key.categoryID)
}

func (s store) insertFile(ctx context.Context, caseID, eventID int64, f File, sum string, at time.Time) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO case_files (case_id, event_id, name, content_type, size, sha256, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, caseID, eventID, f.Name, f.ContentType, len(f.Data), sum, f.Data, at)
	return err
}

func (s store) closeSelfHandled(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE cases SET state = $1, closed_at = $2, updated_at = $2, version = version + 1 WHERE id = $3",
		string(Closed), at, id)
	return err
}

const caseCols = `c.id, c.channel, c.external_id, COALESCE(c.category_id, 0), COALESCE(k.code, ''), COALESCE(k.name_zh, ''),
	COALESCE(k.name_en, ''), c.description, c.address, c.lon, c.lat, COALESCE(c.area_id, 0), COALESCE(a.path, ''),
	COALESCE(a.code, ''), COALESCE(a.name, ''), c.needs_routing, c.reporter_name_enc, c.reporter_phone_enc,
	c.reporter_email_enc, c.state, c.version, c.urgency, COALESCE(c.unit_id, 0), COALESCE(u.name, ''),
	COALESCE(c.first_unit_id, 0), c.dispatched_at, c.due_at, c.warn_at, c.received_at, c.deferred, c.paused_at,
	c.extension_asked, c.extensions, c.reworks, c.warned, c.overdue, c.escalations, c.closed_at, c.on_time,
	COALESCE(c.merged_into, 0), c.callback_contacted, c.callback_solved, c.satisfaction, c.created_at, c.updated_at`

const caseFrom = ` FROM cases c LEFT JOIN case_categories k ON k.id = c.category_id LEFT JOIN areas a ON a.id = c.area_id
	LEFT JOIN units u ON u.id = c.unit_id `

// stored is a case row with its category names and sealed contact.
type stored struct {
	Case
	nameZH, nameEN string
}

func scanCase(row db.Scanner) (stored, error) {
	var x stored
	c := &x.Case
	var lon, lat sql.NullFloat64
	var dispatched, due, warn, received, paused, closed sql.NullTime
	var onTime, contacted, solved sql.NullBool
	err := row.Scan(&c.ID, &c.Channel, &c.ExternalID, &c.CategoryID, &c.CategoryCode, &x.nameZH, &x.nameEN, &c.Description,
		&c.Address, &lon, &lat, &c.AreaID, &c.AreaPath, &c.GridCode, &c.GridName, &c.NeedsRouting, &c.Reporter.Name,
		&c.Reporter.Phone, &c.Reporter.Email, &c.State, &c.Version, &c.Urgency, &c.UnitID, &c.Unit, &c.FirstUnitID,
		&dispatched, &due, &warn, &received, &c.Deferred, &paused, &c.AskedDays, &c.Extensions, &c.Reworks, &c.Warned,
		&c.Overdue, &c.Escalations, &closed, &onTime, &c.MergedInto, &contacted, &solved, &c.Satisfaction,
		&c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return x, err
	}
	if lon.Valid && lat.Valid {
		c.Lon, c.Lat = &lon.Float64, &lat.Float64
	}
	c.DispatchedAt, c.DueAt, c.WarnAt = timePtr(dispatched), timePtr(due), timePtr(warn)
	c.ReceivedAt, c.PausedAt, c.ClosedAt = timePtr(received), timePtr(paused), timePtr(closed)
	c.OnTime, c.Contacted, c.Solved = boolPtr(onTime), boolPtr(contacted), boolPtr(solved)
	c.Number = NumberOf(c.ID, c.CreatedAt)
	c.Category = x.nameZH
	return x, nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

func boolPtr(b sql.NullBool) *bool {
	if !b.Valid {
		return nil
	}
	return &b.Bool
}

// byNumber finds a case by the number people quote; a number whose date
// does not match the case is not found (numbers are not guessable ids).
func (s store) byNumber(ctx context.Context, number string) (Case, error) {
	id, ok := ParseNumber(number)
	if !ok {
		return Case{}, errs.E(errs.NotFound, "err.case.not_found", number)
	}
	x, err := scanCase(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+caseCols+caseFrom+"WHERE c.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && x.Number != strings.TrimSpace(number)) {
		return Case{}, errs.E(errs.NotFound, "err.case.not_found", number)
	}
	return x.Case, err
}

func (s store) byID(ctx context.Context, id int64) (Case, error) {
	x, err := scanCase(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+caseCols+caseFrom+"WHERE c.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, errs.E(errs.NotFound, "err.case.not_found", strconv.FormatInt(id, 10))
	}
	return x.Case, err
}

func (s store) byTracking(ctx context.Context, hash string) (Case, error) {
	x, err := scanCase(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+caseCols+caseFrom+"WHERE c.tracking_hash = $1", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, errs.E(errs.NotFound, "err.case.link")
	}
	return x.Case, err
}

// saveCase writes a case's new state if nobody changed it since version.
func (s store) saveCase(ctx context.Context, c Case, version int) error {
	var onTime, contacted, solved any
	if c.OnTime != nil {
		onTime = *c.OnTime
	}
	if c.Contacted != nil {
		contacted = *c.Contacted
	}
	if c.Solved != nil {
		solved = *c.Solved
	}
	res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE cases SET state = $1, version = version + 1, unit_id = $2, first_unit_id = $3,
		dispatched_at = $4, due_at = $5, warn_at = $6, received_at = $7, deferred = $8, paused_at = $9, extension_asked = $10,
		extensions = $11, reworks = $12, warned = $13, overdue = $14, escalations = $15, closed_at = $16, on_time = $17,
		merged_into = $18, callback_contacted = $19, callback_solved = $20, satisfaction = $21, area_id = $22,
		needs_routing = $23, updated_at = $24 WHERE id = $25 AND version = $26`,
		string(c.State), nullID(c.UnitID), nullID(c.FirstUnitID), c.DispatchedAt, c.DueAt, c.WarnAt, c.ReceivedAt,
		c.Deferred, c.PausedAt, c.AskedDays, c.Extensions, c.Reworks, c.Warned, c.Overdue, c.Escalations, c.ClosedAt,
		onTime, nullID(c.MergedInto), contacted, solved, string(c.Satisfaction), nullID(c.AreaID), c.NeedsRouting,
		c.UpdatedAt, c.ID, version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.Conflict, "err.case.stale", c.Number)
	}
	s.near.moved(ctx, nearChange{id: c.ID, category: c.CategoryID, point: pointOf(c), createdAt: c.CreatedAt, open: c.State.Open()})
	return nil
}

func pointOf(c Case) *orb.Point {
	if c.Lon == nil || c.Lat == nil {
		return nil
	}
	return &orb.Point{*c.Lon, *c.Lat}
}

// nearbyCase is a candidate duplicate.
type nearbyCase struct {
	id        int64
	point     orb.Point
	createdAt time.Time
}

// nearby returns open cases of the category within a box around p (the
// caller measures the real distance) reported since since. Report asks
// before it stores the new case, so the case itself is not among them.
func (s store) nearby(ctx context.Context, categoryID int64, p orb.Point, radius float64, since time.Time) ([]nearbyCase, error) {
	query, args := nearbyQuery(categoryID, p, radius, since)
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (nearbyCase, error) {
		var n nearbyCase
		err := row.Scan(&n.id, &n.point[0], &n.point[1], &n.createdAt)
		return n, err
	}, query, args...)
}

// nearbyQuery reads the open cases of the category within about radius
// metres of p, reported since since, through the partial index cases_near
// (migrations 00021, 00022): its condition on state is the index's own,
// word for word (stillOpen), so that both engines use it. Each row of
// cells around p is a seek of its own in the index (a UNION ALL: given one
// OR of ranges, SQLite seeks the category only), so the search reads the
// cases around the point, not every case in a band across the city as an
// index on latitude did. The circle is drawn on the flat map around p (a
// degree of longitude shrinks by cos φ) and 1 % wide, so that it leaves
// out the box's corners but no case that the caller's exact distance would
// keep.
func nearbyQuery(categoryID int64, p orb.Point, radius float64, since time.Time) (string, []any) {
	rLat, rLon := nearBox(p, radius)
	cos := rLat / rLon
	args := []any{categoryID, since, p[1], p[0], cos * cos, rLat * rLat}
	var parts []string
	for _, r := range cellRanges(p[1], p[0], rLat, rLon) {
		args = append(args, r[0], r[1])
		parts = append(parts, fmt.Sprintf(`SELECT id, lon, lat, created_at FROM cases WHERE category_id = $1
	AND near_cell BETWEEN $%d AND $%d AND created_at >= $2 AND `+stillOpen+`
	AND (lat - $3) * (lat - $3) + (lon - $4) * (lon - $4) * $5 <= $6`, len(args)-1, len(args)))
	}
	// No ORDER BY: SQLite would sort each row of cells in a temporary
	// table; the caller orders the few cases found.
	return strings.Join(parts, " UNION ALL ") + " LIMIT " + strconv.Itoa(nearbyLimit), args
}

// nearbyLimit bounds the duplicate search's work where open cases of one
// kind pile up on one spot; the cases offered are the oldest of those read.
const nearbyLimit = 100

// stillOpen is the condition of the partial index cases_near (migration
// 00022) as it is written there. Not "state NOT IN (...)": SQLite builds a
// temporary table for that in every statement that evaluates it.
const stillOpen = "state <> 'rejected' AND state <> 'closed' AND state <> 'merged'"

// unit is a handling unit.
type unit struct {
	id         int64
	code, name string
	areaPath   string
}

func (s store) unitByCode(ctx context.Context, code string) (unit, error) {
	var u unit
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT u.id, u.code, u.name, a.path FROM units u JOIN areas a ON a.id = u.area_id
		WHERE u.code = $1 AND u.active`, strings.TrimSpace(code)).Scan(&u.id, &u.code, &u.name, &u.areaPath)
	if errors.Is(err, sql.ErrNoRows) {
		return unit{}, fieldErr("unit", "err.case.unit", code)
	}
	return u, err
}

func (s store) isMember(ctx context.Context, unitID, userID int64) (bool, error) {
	var n int
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM unit_members WHERE unit_id = $1 AND user_id = $2", unitID, userID).Scan(&n)
	return n > 0, err
}

func (s store) categoryByID(ctx context.Context, id int64) (Category, error) {
	return scanCategory(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+categoryCols+
		" FROM case_categories c LEFT JOIN case_categories p ON p.id = c.parent_id WHERE c.id = $1", id))
}

// ListQuery selects cases for a queue.
type ListQuery struct {
	States  []State
	UnitID  int64 // only this unit's cases
	Overdue bool
	Routing bool  // only cases waiting to be routed
	Before  int64 // cursor: ids below this one
	Limit   int
}

// list returns the cases p may read, newest first, filtered in SQL.
func (s store) list(ctx context.Context, p *auth.Principal, q ListQuery) ([]Case, error) {
	cond, args := p.Filter(auth.CaseRead, "c.area_id", 1)
	where := []string{"(" + cond + ")"}
	if p.CanAnywhere(auth.CaseAccept) {
		where[0] = "(" + cond + " OR c.area_id IS NULL)" // unrouted cases reach whoever can route them
	}
	add := func(clause string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(clause, "$?", "$"+strconv.Itoa(len(args))))
	}
	if len(q.States) > 0 {
		var ph []string
		for _, st := range q.States {
			args = append(args, string(st))
			ph = append(ph, "$"+strconv.Itoa(len(args)))
		}
		where = append(where, "c.state IN ("+strings.Join(ph, ", ")+")")
	}
	if q.UnitID != 0 {
		add("c.unit_id = $?", q.UnitID)
	}
	if q.Overdue {
		add("c.overdue = $?", true)
	}
	if q.Routing {
		add("c.needs_routing = $?", true)
	}
	if q.Before > 0 {
		add("c.id < $?", q.Before)
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	args = append(args, q.Limit)
	xs, err := db.All(ctx, s.db.Q(ctx), scanCase, "SELECT "+caseCols+caseFrom+"WHERE "+strings.Join(where, " AND ")+
		" ORDER BY c.id DESC LIMIT $"+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	out := make([]Case, len(xs))
	for i, x := range xs {
		out[i] = x.Case
	}
	return out, nil
}

// Event is a row of a case's timeline.
type Event struct {
	ID       int64
	At       time.Time
	Actor    string
	Action   Action
	From, To State
	Note     string
	Data     string
	Files    []FileInfo
}

// FileInfo describes a stored file without its bytes.
type FileInfo struct {
	ID          int64
	Name        string
	ContentType string
	Size        int64
}

func (s store) events(ctx context.Context, caseID int64) ([]Event, error) {
	evs, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (Event, error) {
		var e Event
		err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.From, &e.To, &e.Note, &e.Data)
		return e, err
	}, "SELECT id, at, actor, action, from_state, to_state, note, data FROM case_events WHERE case_id = $1 ORDER BY id", caseID)
	if err != nil {
		return nil, err
	}
	files, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (struct {
		event int64
		FileInfo
	}, error) {
		var f struct {
			event int64
			FileInfo
		}
		err := row.Scan(&f.event, &f.ID, &f.Name, &f.ContentType, &f.Size)
		return f, err
	}, "SELECT COALESCE(event_id, 0), id, name, content_type, size FROM case_files WHERE case_id = $1 ORDER BY id", caseID)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		for _, f := range files {
			if f.event == evs[i].ID {
				evs[i].Files = append(evs[i].Files, f.FileInfo)
			}
		}
	}
	return evs, nil
}

func (s store) file(ctx context.Context, caseID, fileID int64) (FileInfo, []byte, error) {
	var f FileInfo
	var data []byte
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT id, name, content_type, size, data FROM case_files WHERE id = $1 AND case_id = $2",
		fileID, caseID).Scan(&f.ID, &f.Name, &f.ContentType, &f.Size, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return f, nil, errs.E(errs.NotFound, "err.case.file_not_found")
	}
	return f, data, err
}

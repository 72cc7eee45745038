package registry

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// knownBatch is how many rows one look-up in the register checks.
const knownBatch = 1000

// countingReader counts the bytes read through it, for progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// checkKnown looks the pending rows' ID numbers up in the register: a row
// of a registered person updates them, unless the register knows the
// number under another name or in a grid outside the caller's scope.
func (im *importer) checkKnown(ctx context.Context) error {
	if len(im.pending) == 0 {
		return nil
	}
	byIdx := make(map[string]int, len(im.pending))
	list := make([]string, len(im.pending))
	for i, n := range im.pending {
		h := hex.EncodeToString(im.rec(n).idx[:])
		byIdx[h] = n
		list[i] = h
	}
	im.pending = im.pending[:0]
	// One JSON array parameter rather than a thousand: SQLite looks every
	// named parameter up by a linear search, so binding n of them is O(n²).
	arr, _ := json.Marshal(list)
	elems := "SELECT value FROM json_each($1)"
	if im.svc.db.Kind == db.Postgres {
		elems = "SELECT json_array_elements_text($1::json)"
	}
	rows, err := im.svc.db.Q(ctx).QueryContext(ctx, `SELECT r.id, r.id_idx, r.name, r.area_path, a.name FROM registry_residents r
		JOIN areas a ON a.id = r.area_id WHERE r.id_idx IN (`+elems+")", string(arr))
	if err != nil {
		return err
	}
	defer rows.Close()
	var field [1]string
	for rows.Next() {
		var id int64
		var idx, name, path, gridName string
		if err := rows.Scan(&id, &idx, &name, &path, &gridName); err != nil {
			return err
		}
		rec := im.rec(byIdx[idx])
		im.text.get(rec.text, field[:])
		switch {
		case !im.p.Can(auth.RegistryEdit, path):
			im.add(int(rec.line), "id_number", "err.registry.import_id_scope", gridName)
		case nameKey(field[0]) != nameKey(name):
			im.add(int(rec.line), "id_number", "err.registry.import_id_other", crypto.MaskName(name), gridName)
		default:
			rec.known = id
			im.updates++
		}
	}
	return rows.Err()
}

// sealBatch is how many new residents one sealing job prepares: five
// multi-row INSERTs.
const sealBatch = 5 * batchRows

// sealedBatch is a batch of new residents ready to insert.
type sealedBatch struct {
	rows   []residentRow
	groups [][]string
	links  []*LinkInput
}

// writeImport writes every record in one transaction. On SQLite it runs
// on the single writer, so the sealing (AES-GCM and the blind indexes,
// a third of the work) is done by other goroutines, a few batches ahead of
// the inserts. The function may run twice (see db.Write): everything it
// needs is in the importer, and it starts over from there.
func (s *Service) writeImport(ctx context.Context, im *importer, keepIndexes bool) error {
	return s.db.Write(ctx, func(ctx context.Context) error {
		now := s.now().UTC()
		written := 0
		var known []int
		for i := 0; i < im.n; i++ {
			if im.rec(i).known != 0 {
				known = append(known, i)
			}
		}
		for _, i := range known {
			if err := s.updateImported(ctx, im, im.rec(i), now); err != nil {
				return fmt.Errorf("row %d: %w", im.rec(i).line, err)
			}
			if written++; written%sealBatch == 0 {
				im.report(ImportProgress{Phase: "write", Read: im.n, Written: written, Total: im.n})
			}
		}
		bulk := im.n - im.updates
		if keepIndexes {
			bulk = 0
		}
		restore, err := s.dropIndexes(ctx, bulk)
		if err != nil {
			return err
		}
		nextID := int64(-1) // SQLite: ids given by the import, see insertSQLite
		if s.db.Kind == db.SQLite {
			if err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) + 1 FROM registry_residents").Scan(&nextID); err != nil {
				return err
			}
		}
		err = s.sealAhead(ctx, im, now, func(b sealedBatch) error {
			var ids []int64
			var err error
			if nextID > 0 {
				ids, err = s.insertSQLite(ctx, b.rows, &nextID)
			} else {
				ids, err = s.store.insertResidents(ctx, b.rows)
			}
			if db.IsUnique(err) {
				return errs.E(errs.Conflict, "err.registry.import_raced")
			}
			if err != nil {
				return err
			}
			var groups, links [][]any
			for i, id := range ids {
				for _, g := range b.groups[i] {
					groups = append(groups, []any{id, g})
				}
				if l := b.links[i]; l != nil {
					links = append(links, []any{id, l.RoomID, string(l.Role), l.From, "", now})
				}
			}
			if err := s.insertMany(ctx, "registry_resident_groups", []string{"resident_id", "group_code"}, groups); err != nil {
				return err
			}
			if err := s.insertMany(ctx, "registry_resident_rooms",
				[]string{"resident_id", "room_id", "role", "from_date", "to_date", "created_at"}, links); err != nil {
				return err
			}
			written += len(ids)
			im.report(ImportProgress{Phase: "write", Read: im.n, Written: written, Total: im.n})
			return nil
		})
		if err != nil {
			return err
		}
		im.report(ImportProgress{Phase: "index", Read: im.n, Written: written, Total: im.n})
		if err := restore(); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.resident.import", TargetType: "resident",
			Detail: fmt.Sprintf("%d rows: %d new, %d updated", im.n, im.n-im.updates, im.updates)})
	})
}

// input rebuilds a record's ResidentInput from the arena.
func (im *importer) input(r *impRec) (ResidentInput, *LinkInput, []string) {
	t := im.text.text(r.text)
	in := ResidentInput{Name: t.name, IDNumber: t.id, Phone: t.phone, BirthDate: t.birth, Relation: t.relation, Note: t.note,
		PopType: PopTypes[r.pop], Sex: Male}
	if r.sex == 1 {
		in.Sex = Female
	}
	if r.care > 0 {
		in.CareLevel = im.levels[r.care-1].Code
	}
	var groups []string
	for i := range im.groups {
		if r.groups&(1<<i) != 0 {
			groups = append(groups, im.groups[i].Code)
		}
	}
	var link *LinkInput
	if r.room != 0 {
		link = &LinkInput{RoomID: r.room, Role: Roles[r.role], From: t.from}
	}
	return in, link, groups
}

// sealAhead seals the new records in batches on GOMAXPROCS goroutines and
// hands the batches to insert in file order.
func (s *Service) sealAhead(ctx context.Context, im *importer, now time.Time, insert func(sealedBatch) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, runtime.GOMAXPROCS(0))
	type job struct {
		first, last int
		out         chan sealedBatch
	}
	jobs := make(chan job)
	order := make(chan chan sealedBatch, 2*workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.out <- s.seal(im, j.first, j.last, now)
			}
		}()
	}
	go func() { // the feeder: batches of new records, in order
		defer close(order)
		defer close(jobs)
		first := 0
		for first < im.n {
			last, count := first, 0
			for last < im.n && count < sealBatch {
				if im.rec(last).known == 0 {
					count++
				}
				last++
			}
			out := make(chan sealedBatch, 1)
			select {
			case order <- out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{first, last, out}:
			case <-ctx.Done():
				return
			}
			first = last
		}
	}()
	var err error
	for out := range order {
		if err != nil {
			continue
		}
		select {
		case b := <-out:
			if len(b.rows) > 0 {
				err = insert(b)
			}
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			cancel()
		}
	}
	wg.Wait()
	return err
}

// seal prepares the new records among [first, last).
func (s *Service) seal(im *importer, first, last int, now time.Time) sealedBatch {
	var b sealedBatch
	for i := first; i < last; i++ {
		r := im.rec(i)
		if r.known != 0 {
			continue
		}
		in, link, groups := im.input(r)
		pl := im.grids[r.grid]
		b.rows = append(b.rows, residentRow{in: in, areaID: pl.AreaID, areaPath: pl.AreaPath, nameKey: nameKey(in.Name), now: now,
			idEnc: s.box.Seal(fieldIDNumber, in.IDNumber), idIdx: hex.EncodeToString(r.idx[:]),
			phoneEnc: s.box.Seal(fieldPhone, in.Phone), phoneIdx: s.box.Index(fieldPhone, in.Phone)})
		b.groups = append(b.groups, groups)
		b.links = append(b.links, link)
	}
	return b
}

// updateImported brings a registered resident up to the row: every field
// the template carries (an empty phone keeps the stored one), the groups
// replaced, and a link to the row's room added unless one is open.
func (s *Service) updateImported(ctx context.Context, im *importer, r *impRec, now time.Time) error {
	in, link, groups := im.input(r)
	pl := im.grids[r.grid]
	phoneEnc, phoneIdx := "", ""
	if in.Phone != "" {
		phoneEnc, phoneIdx = s.box.Seal(fieldPhone, in.Phone), s.box.Index(fieldPhone, in.Phone)
	}
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, `UPDATE registry_residents SET area_id = $1, area_path = $2, relation = $3, name = $4, name_key = $5,
		sex = $6, birth_date = $7, phone_enc = CASE WHEN $8 = '' THEN phone_enc ELSE $8 END,
		phone_idx = CASE WHEN $9 = '' THEN phone_idx ELSE $9 END, pop_type = $10, care_level = $11, note = $12, updated_at = $13
		WHERE id = $14`, pl.AreaID, pl.AreaPath, in.Relation, in.Name, nameKey(in.Name), string(in.Sex), in.BirthDate,
		phoneEnc, phoneIdx, string(in.PopType), in.CareLevel, in.Note, now, r.known); err != nil {
		return err
	}
	if err := s.store.setGroups(ctx, r.known, groups); err != nil {
		return err
	}
	if link == nil {
		return nil
	}
	var open int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM registry_resident_rooms WHERE resident_id = $1 AND room_id = $2 AND to_date = ''",
		r.known, link.RoomID).Scan(&open); err != nil {
		return err
	}
	if open > 0 {
		return nil
	}
	return s.store.insertLink(ctx, r.known, *link, now)
}

// bulkRows is the size of an import from which, on SQLite, the secondary
// indexes of the residents and their room links are dropped for the load
// and built again afterwards, in the same transaction (SQLite's DDL is
// transactional: a failed import leaves them as they were, and readers
// keep their snapshot with the indexes meanwhile). Building an index sorts
// its keys once; keeping it during the load puts every row into four
// B-trees at random places.
var bulkRows = 100_000 // a variable for the tests

// dropIndexes drops the indexes a large load would update row by row and
// returns the function that builds them again from their own definitions.
// Unique constraints stay: they are the duplicate check of last resort.
func (s *Service) dropIndexes(ctx context.Context, newRows int) (restore func() error, err error) {
	if s.db.Kind != db.SQLite || newRows < bulkRows {
		return func() error { return nil }, nil
	}
	q := s.db.Q(ctx)
	rows, err := q.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
		AND tbl_name IN ('registry_residents', 'registry_resident_rooms') ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, err := q.ExecContext(ctx, `DROP INDEX "`+name+`"`); err != nil {
			return nil, err
		}
	}
	return func() error {
		// SQLite's sorter keeps the runs it spills in temporary files,
		// which this connection keeps in memory (temp_store=MEMORY, right
		// for the small sorts of everyday queries): a million residents'
		// rebuild put about 110 MB of runs there on top of the load's
		// peak. On disk, the sorter reads each run back once, in order.
		// A small cache while sorting, too; both are set back afterwards.
		var cache int64
		if err := q.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
			return err
		}
		for _, set := range []string{"PRAGMA cache_size = -8192", "PRAGMA temp_store = FILE"} {
			if _, err := q.ExecContext(ctx, set); err != nil {
				return err
			}
		}
		defer q.ExecContext(ctx, "PRAGMA temp_store = MEMORY")
		defer q.ExecContext(ctx, "PRAGMA cache_size = "+strconv.FormatInt(cache, 10))
		for _, def := range defs {
			if _, err := q.ExecContext(ctx, def); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// insertRows is how many residents one INSERT carries on SQLite: 500 rows
// of 19 values, well within its 32,766 parameters.
const insertRows = 500

// insertSQLite stores new residents on SQLite with ids the import gives
// them, counting on from the largest: the import holds the only writer, so
// nobody else takes an id meanwhile, and the statement needs neither
// RETURNING nor matching the ids back.
func (s *Service) insertSQLite(ctx context.Context, rows []residentRow, next *int64) ([]int64, error) {
	ids := make([]int64, 0, len(rows))
	for start := 0; start < len(rows); start += insertRows {
		chunk := rows[start:min(start+insertRows, len(rows))]
		vals := make([]any, 0, 19*len(chunk))
		marks := make([]string, len(chunk))
		for i, r := range chunk {
			in := r.in
			id := *next
			*next++
			ids = append(ids, id)
			n := len(vals)
			var b strings.Builder
			b.WriteByte('(')
			for k := 1; k <= 19; k++ {
				if k > 1 {
					b.WriteString(", ")
				}
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n + k))
			}
			b.WriteByte(')')
			marks[i] = b.String()
			vals = append(vals, id, r.areaID, r.areaPath, nullID(in.HouseholdID), in.Relation, in.Name, r.nameKey, string(in.Sex), in.BirthDate,
				r.idEnc, r.idIdx, r.phoneEnc, r.phoneIdx, string(in.PopType), in.CareLevel, in.Note, nil, r.now, r.now)
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT OR FAIL INTO registry_residents (id, area_id, area_path, household_id, relation, name,
			name_key, sex, birth_date, id_enc, id_idx, phone_enc, phone_idx, pop_type, care_level, note, last_visit_at, created_at, updated_at)
			VALUES `+strings.Join(marks, ", "), vals...); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// insertMany stores rows into table with INSERTs of up to 9,000 values.
// On SQLite they are INSERT OR FAIL: a failure fails the whole import, so
// the statement need not be undone on its own. (SQLite still keeps a
// statement journal for them, because of the tables' immediate foreign
// keys: about 5 % of a large import's CPU.)
func (s *Service) insertMany(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	verb := "INSERT INTO "
	if s.db.Kind == db.SQLite {
		verb = "INSERT OR FAIL INTO "
	}
	per := max(1, 9000/len(cols))
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		vals := make([]any, 0, len(cols)*len(chunk))
		var b strings.Builder
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for k, v := range r {
				if k > 0 {
					b.WriteString(", ")
				}
				vals = append(vals, v)
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(len(vals)))
			}
			b.WriteByte(')')
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, verb+table+" ("+strings.Join(cols, ", ")+") VALUES "+b.String(), vals...); err != nil {
			return err
		}
	}
	return nil
}

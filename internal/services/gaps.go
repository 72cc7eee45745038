package services

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
	"github.com/linli/linli/internal/registry"
)

// OlderAge is the age from which a resident counts as older (老年人).
const OlderAge = 60

// GapRow is one community of the gap report.
type GapRow struct {
	Code            string  `json:"code"`
	Name            string  `json:"name"`
	Residents       int     `json:"residents"`
	Older           int     `json:"older"`
	Facilities      int     `json:"facilities"`
	Capacity        int     `json:"capacity"`
	CapacityPer1000 float64 `json:"capacity_per_1000"`       // places per 1,000 residents
	OlderPer1000    float64 `json:"capacity_per_1000_older"` // places per 1,000 older residents
	SlotsOffered    int     `json:"slots_offered"`           // seats offered in the period
	SlotsTaken      int     `json:"slots_taken"`
	Utilisation     float64 `json:"utilisation"` // taken / offered
	UnmetNeeds      int     `json:"unmet_needs"`
	path            string
}

// GapReport compares the communities of a street (资源配置不平衡).
type GapReport struct {
	Street string   `json:"street"`
	Name   string   `json:"name"`
	From   string   `json:"from"`
	To     string   `json:"to"` // exclusive
	Rows   []GapRow `json:"rows"`
	Total  GapRow   `json:"total"`
	// PopulationAt is when the residents were counted (see PopulationTTL).
	PopulationAt time.Time `json:"population_at"`
}

// Gaps builds the report for a street over [from, to) (default: the 30
// days before today). Population comes from the register's index-only
// count, kept for PopulationTTL; facilities, bookings and needs from one grouped query each, so
// the work grows with the street's communities and facilities, not with
// its residents.
func (s *Service) Gaps(ctx context.Context, street, from, to string) (GapReport, error) {
	st, err := s.areaAt(ctx, street, auth.ServiceRead, "street", area.Street)
	if err != nil {
		return GapReport{}, err
	}
	end, err := s.parseDay("to", to)
	if err != nil {
		return GapReport{}, err
	}
	start := end.AddDate(0, 0, -30)
	if from != "" {
		if start, err = s.parseDay("from", from); err != nil {
			return GapReport{}, err
		}
	}
	if !start.Before(end) || end.Sub(start) > 366*24*time.Hour {
		return GapReport{}, errs.OnField("from", "err.services.period")
	}
	comms, err := s.areas.List(ctx, area.ListQuery{Level: area.Community, Parent: st.Code, Limit: 500})
	if err != nil {
		return GapReport{}, err
	}
	rep := GapReport{Street: st.Code, Name: st.Name, From: start.Format("2006-01-02"), To: end.Format("2006-01-02"), Rows: []GapRow{}}
	rows := map[string]*GapRow{}
	for _, c := range comms {
		rep.Rows = append(rep.Rows, GapRow{Code: c.Code, Name: c.Name, path: c.Path})
	}
	for i := range rep.Rows {
		rows[rep.Rows[i].path] = &rep.Rows[i]
	}
	if rep.PopulationAt, err = s.countPopulation(ctx, st.Path, rows); err != nil {
		return rep, err
	}
	if err := s.countSupply(ctx, st.Path, start, end, rows); err != nil {
		return rep, err
	}
	if err := s.countUnmet(ctx, st.Path, rows); err != nil {
		return rep, err
	}
	for i := range rep.Rows {
		rep.Rows[i].finish()
		rep.Total.add(rep.Rows[i])
	}
	rep.Total.Name = st.Name
	rep.Total.finish()
	return rep, nil
}

// communityOf finds the row of a path below a community.
func communityOf(rows map[string]*GapRow, path string) *GapRow {
	// A community's path is the grid's path without its last segment (or
	// the path itself for objects placed on the community).
	for p := path; len(p) > 1; {
		if r, ok := rows[p]; ok {
			return r
		}
		i := strings.LastIndexByte(p[:len(p)-1], '/')
		if i < 0 {
			break
		}
		p = p[:i+1]
	}
	return nil
}

// PopulationTTL is how long the gap report's population count of a street
// is taken as fresh. Counting steps over every resident's index entry
// (about half a second for a million on SQLite); the population of a
// street changes slowly, and the report says when it was counted.
const PopulationTTL = 10 * time.Minute

func (s *Service) countPopulation(ctx context.Context, streetPath string, rows map[string]*GapRow) (time.Time, error) {
	counts, at, err := s.population(ctx, streetPath)
	if err != nil {
		return at, err
	}
	for _, c := range counts {
		if r := communityOf(rows, c.GridPath); r != nil {
			r.Residents += c.Residents
			r.Older += c.Older
		}
	}
	return at, nil
}

// population returns the street's counts per grid from the stored
// snapshot. A snapshot older than PopulationTTL (or of an earlier day's
// age cut-off) is still answered, and counted again in the background
// (stale while revalidating), so that no request but the very first of a
// street waits for the count.
func (s *Service) population(ctx context.Context, streetPath string) ([]registry.PopulationCount, time.Time, error) {
	now := s.now().UTC()
	born := now.In(local).AddDate(-OlderAge, 0, 0).Format("2006-01-02")
	var bornBy string
	var at time.Time
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT born_by, counted_at FROM service_population_runs WHERE street_path = $1`, streetPath).Scan(&bornBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return s.countAndStore(ctx, streetPath, born, now)
	}
	if err != nil {
		return nil, at, err
	}
	counts, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (registry.PopulationCount, error) {
		var c registry.PopulationCount
		return c, r.Scan(&c.GridPath, &c.Residents, &c.Older)
	}, `SELECT grid_path, residents, older FROM service_population WHERE grid_path >= $1 AND grid_path < $2`, streetPath, auth.PathEnd(streetPath))
	if err == nil && (bornBy != born || now.Sub(at) >= PopulationTTL) {
		s.recountLater(ctx, streetPath, born, now)
	}
	return counts, at.UTC(), err
}

func (s *Service) countAndStore(ctx context.Context, streetPath, born string, now time.Time) ([]registry.PopulationCount, time.Time, error) {
	counts, err := s.countParallel(ctx, streetPath, born)
	if err != nil {
		return nil, now, err
	}
	return counts, now, s.storePopulation(ctx, streetPath, born, now, counts)
}

// countParallel counts the street's communities on several read
// connections at once: the scan is CPU-bound, and one query uses one core.
func (s *Service) countParallel(ctx context.Context, streetPath, born string) ([]registry.PopulationCount, error) {
	comms, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (string, error) {
		var p string
		return p, r.Scan(&p)
	}, `SELECT path FROM areas WHERE level = 'community' AND path >= $1 AND path < $2`, streetPath, auth.PathEnd(streetPath))
	if err != nil || len(comms) == 0 {
		return nil, err
	}
	workers := min(runtime.GOMAXPROCS(0), len(comms))
	jobs := make(chan string)
	var mu sync.Mutex
	var out []registry.PopulationCount
	var firstErr error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for path := range jobs {
				cs, err := s.reg.Population(ctx, path, born)
				mu.Lock()
				out = append(out, cs...)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range comms {
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	return out, firstErr
}

// recountLater counts a street again in the background, once at a time
// per street on this node. The count runs with the caller's principal
// (who may read the street) but not its cancellation.
func (s *Service) recountLater(ctx context.Context, streetPath, born string, now time.Time) {
	if _, busy := s.recounting.LoadOrStore(streetPath, true); busy {
		return
	}
	s.recounts.Add(1)
	go func() {
		defer s.recounts.Done()
		defer s.recounting.Delete(streetPath)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		s.countAndStore(ctx, streetPath, born, now)
	}()
}

// storePopulation replaces the street's snapshot. Two nodes counting at
// once both write the same numbers; upserts keep either order valid.
func (s *Service) storePopulation(ctx context.Context, streetPath, born string, at time.Time, counts []registry.PopulationCount) error {
	return s.db.Write(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		if _, err := q.ExecContext(ctx, `DELETE FROM service_population WHERE grid_path >= $1 AND grid_path < $2`, streetPath, auth.PathEnd(streetPath)); err != nil {
			return err
		}
		for _, c := range counts {
			if _, err := q.ExecContext(ctx, `INSERT INTO service_population (grid_path, residents, older) VALUES ($1, $2, $3)
				ON CONFLICT (grid_path) DO UPDATE SET residents = excluded.residents, older = excluded.older`,
				c.GridPath, c.Residents, c.Older); err != nil {
				return err
			}
		}
		_, err := q.ExecContext(ctx, `INSERT INTO service_population_runs (street_path, born_by, counted_at) VALUES ($1, $2, $3)
			ON CONFLICT (street_path) DO UPDATE SET born_by = excluded.born_by, counted_at = excluded.counted_at`, streetPath, born, at)
		return err
	})
}

// countSupply adds facilities, capacity and seats offered and taken in
// the period.
func (s *Service) countSupply(ctx context.Context, streetPath string, start, end time.Time, rows map[string]*GapRow) error {
	q := s.db.Q(ctx)
	facs, err := db.All(ctx, q, scanFacility, `SELECT `+facilityCols+` FROM service_facilities f JOIN areas a ON a.id = f.area_id
		WHERE f.active = TRUE AND f.area_path >= $1 AND f.area_path < $2`, streetPath, auth.PathEnd(streetPath))
	if err != nil {
		return err
	}
	blocked, err := s.blockedCounts(ctx, streetPath, start, end)
	if err != nil {
		return err
	}
	byFacility := map[int64]*GapRow{}
	for _, f := range facs {
		r := communityOf(rows, f.AreaPath)
		if r == nil {
			continue
		}
		byFacility[f.ID] = r
		r.Facilities++
		r.Capacity += f.Capacity
		for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
			if !blocked[blockKey{f.ID, d.Format("2006-01-02")}] {
				r.SlotsOffered += len(f.slotsOn(d)) * f.seatsPerSlot()
			}
		}
	}
	type taken struct {
		facility int64
		places   int
	}
	ts, err := db.All(ctx, q, func(r db.Scanner) (taken, error) {
		var t taken
		return t, r.Scan(&t.facility, &t.places)
	}, `SELECT facility_id, COALESCE(SUM(places), 0) FROM service_bookings
		WHERE area_path >= $1 AND area_path < $2 AND slot_start >= $3 AND slot_start < $4 AND state NOT IN ('refused', 'cancelled')
		GROUP BY facility_id`, streetPath, auth.PathEnd(streetPath), start.UTC(), end.UTC())
	for _, t := range ts {
		if r := byFacility[t.facility]; r != nil {
			r.SlotsTaken += t.places
		}
	}
	return err
}

type blockKey struct {
	facility int64
	day      string
}

func (s *Service) blockedCounts(ctx context.Context, streetPath string, start, end time.Time) (map[blockKey]bool, error) {
	keys, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (blockKey, error) {
		var k blockKey
		return k, r.Scan(&k.facility, &k.day)
	}, `SELECT d.facility_id, d.day FROM service_facility_days d JOIN service_facilities f ON f.id = d.facility_id
		WHERE d.blocked = TRUE AND d.day >= $1 AND d.day < $2 AND f.area_path >= $3 AND f.area_path < $4`,
		start.Format("2006-01-02"), end.Format("2006-01-02"), streetPath, auth.PathEnd(streetPath))
	out := map[blockKey]bool{}
	for _, k := range keys {
		out[k] = true
	}
	return out, err
}

func (s *Service) countUnmet(ctx context.Context, streetPath string, rows map[string]*GapRow) error {
	type unmet struct {
		path string
		n    int
	}
	us, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (unmet, error) {
		var u unmet
		return u, r.Scan(&u.path, &u.n)
	}, `SELECT area_path, COUNT(*) FROM service_needs WHERE state = 'open' AND area_path >= $1 AND area_path < $2 GROUP BY area_path`,
		streetPath, auth.PathEnd(streetPath))
	for _, u := range us {
		if r := communityOf(rows, u.path); r != nil {
			r.UnmetNeeds += u.n
		}
	}
	return err
}

func (r *GapRow) add(o GapRow) {
	r.Residents += o.Residents
	r.Older += o.Older
	r.Facilities += o.Facilities
	r.Capacity += o.Capacity
	r.SlotsOffered += o.SlotsOffered
	r.SlotsTaken += o.SlotsTaken
	r.UnmetNeeds += o.UnmetNeeds
}

// finish computes the ratios (0 where there is nothing to divide by).
func (r *GapRow) finish() {
	per := func(n, of int) float64 {
		if of == 0 {
			return 0
		}
		return float64(int(float64(n)*1000/float64(of)*10+0.5)) / 10
	}
	r.CapacityPer1000 = per(r.Capacity, r.Residents)
	r.OlderPer1000 = per(r.Capacity, r.Older)
	if r.SlotsOffered > 0 {
		r.Utilisation = float64(int(float64(r.SlotsTaken)/float64(r.SlotsOffered)*1000+0.5)) / 1000
	}
}

// WriteGapsXLSX writes the report as a workbook, with the column headings
// given in the reader's language.
func WriteGapsXLSX(w io.Writer, rep GapReport, header []string) error {
	x, err := sheet.NewXLSXWriter(w, rep.Street, header)
	if err != nil {
		return err
	}
	for _, r := range append(rep.Rows, rep.Total) {
		if err := x.Write([]any{r.Code, r.Name, r.Residents, r.Older, r.Facilities, r.Capacity, r.CapacityPer1000, r.OlderPer1000,
			r.SlotsOffered, r.SlotsTaken, r.Utilisation, r.UnmetNeeds}); err != nil {
			return err
		}
	}
	return x.Close()
}

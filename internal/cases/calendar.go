package cases

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/workcal"
)

// Calendars is the working-time calendar in force: the shipped years
// (platform/workcal) with the years administrators edited on top, stored in
// work_calendars. It is the WorkTime every deadline is computed with; an
// edit on one node reaches the others through the 'calendar' counter.
type Calendars struct {
	db      *db.DB
	audit   *audit.Log
	now     func() time.Time
	cur     atomic.Pointer[workcal.Calendar]
	version atomic.Int64
}

// NewCalendars returns the shipped calendar; call Load to add the edits.
func NewCalendars(d *db.DB, log *audit.Log, now func() time.Time) *Calendars {
	c := &Calendars{db: d, audit: log, now: now}
	c.cur.Store(workcal.DefaultCalendar())
	return c
}

func (c *Calendars) AddHours(t time.Time, d time.Duration) time.Time {
	return c.cur.Load().AddHours(t, d)
}
func (c *Calendars) AddDays(t time.Time, n int) time.Time { return c.cur.Load().AddDays(t, n) }
func (c *Calendars) Between(a, b time.Time) time.Duration { return c.cur.Load().Between(a, b) }

// Current returns the calendar in force.
func (c *Calendars) Current() *workcal.Calendar { return c.cur.Load() }

// Load rebuilds the calendar from the shipped years and the stored edits.
func (c *Calendars) Load(ctx context.Context) error {
	version, err := c.db.Counter(ctx, "calendar")
	if err != nil {
		return err
	}
	stored, err := db.All(ctx, c.db.Q(ctx), func(row db.Scanner) (workcal.Year, error) {
		var raw string
		var y workcal.Year
		if err := row.Scan(&raw); err != nil {
			return y, err
		}
		return y, json.Unmarshal([]byte(raw), &y)
	}, "SELECT config FROM work_calendars ORDER BY year")
	if err != nil {
		return err
	}
	cal, err := workcal.New(merge(workcal.Default(), stored))
	if err != nil {
		return err
	}
	c.cur.Store(cal)
	c.version.Store(version)
	return nil
}

// merge puts edited years in place of the shipped ones.
func merge(cfg workcal.Config, edited []workcal.Year) workcal.Config {
	byYear := map[int]workcal.Year{}
	for _, y := range cfg.Years {
		byYear[y.Year] = y
	}
	for _, y := range edited {
		byYear[y.Year] = y
	}
	cfg.Years = cfg.Years[:0]
	for _, y := range byYear {
		cfg.Years = append(cfg.Years, y)
	}
	sort.Slice(cfg.Years, func(i, j int) bool { return cfg.Years[i].Year < cfg.Years[j].Year })
	return cfg
}

// SaveYear replaces one year's holidays and make-up days (administrators),
// for instance when the State Council publishes next year's arrangement.
// The whole calendar is validated before anything is stored. Deadlines
// already set keep their dates; new ones use the new year.
func (c *Calendars) SaveYear(ctx context.Context, y workcal.Year) error {
	if err := auth.From(ctx).Require(auth.AreaManage, ""); err != nil {
		return err
	}
	cfg := merge(c.cur.Load().Config(), []workcal.Year{y})
	if problems := cfg.Validate(); len(problems) > 0 {
		return workcal.Err(problems)
	}
	raw, err := json.Marshal(y)
	if err != nil {
		return err
	}
	return c.db.Write(ctx, func(ctx context.Context) error {
		q := c.db.Q(ctx)
		if _, err := q.ExecContext(ctx, `INSERT INTO work_calendars (year, config, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (year) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
			y.Year, string(raw), c.now().UTC()); err != nil {
			return err
		}
		if err := c.db.BumpCounter(ctx, "calendar"); err != nil {
			return err
		}
		db.AfterCommit(ctx, func() {
			// A fresh context: ctx still carries the finished transaction.
			if err := c.Load(context.Background()); err != nil {
				slog.Error("reloading the working-time calendar", "err", err)
			}
		})
		return c.audit.Record(ctx, audit.Entry{Action: "calendar.save", TargetType: "calendar", TargetID: strconv.Itoa(y.Year)})
	})
}

// Year returns one year of the calendar in force and how sure it is.
func (c *Calendars) Year(year int) (workcal.Year, workcal.Coverage, error) {
	cal := c.cur.Load()
	for _, y := range cal.Config().Years {
		if y.Year == year {
			return y, cal.Coverage(year), nil
		}
	}
	return workcal.Year{Year: year}, workcal.NoData, errs.E(errs.NotFound, "err.calendar.year", year)
}

// Watch reloads the calendar when another node saved a year.
func (c *Calendars) Watch(ctx context.Context, every time.Duration, log *slog.Logger) {
	c.db.WatchCounter(ctx, "calendar", every, log, c.version.Load, c.Load)
}

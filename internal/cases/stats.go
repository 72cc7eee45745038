package cases

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/linli/linli/internal/platform/db"
)

// statKey is a row of case_stats: a China-time day, the case's area, its
// unit and its category (0 when none).
type statKey struct {
	day                        string
	areaID, unitID, categoryID int64
}

// counters are what each transition adds to the day's row.
type counters struct {
	reported, accepted, rejected, dispatched, closed, closedOnTime, closedDeferred, feedbacks,
	reworked, extended, callbacks, contacted, solved, satisfied, basicallySatisfied, unsatisfied int64
	// closedLate counts the closures past their deadline, so that 按期结案率's
	// denominator is the closures that had one: closedOnTime + closedLate.
	// A case closed without a deadline (self-handled, or a history without
	// a target) is neither on time nor late. Last, like its column.
	closedLate int64
}

func (c counters) values() []int64 {
	return []int64{c.reported, c.accepted, c.rejected, c.dispatched, c.closed, c.closedOnTime, c.closedDeferred, c.feedbacks,
		c.reworked, c.extended, c.callbacks, c.contacted, c.solved, c.satisfied, c.basicallySatisfied, c.unsatisfied, c.closedLate}
}

// ptrs are the counters' addresses in statCols order, to Scan a row into.
func (c *counters) ptrs() []any {
	return []any{&c.reported, &c.accepted, &c.rejected, &c.dispatched, &c.closed, &c.closedOnTime, &c.closedDeferred, &c.feedbacks,
		&c.reworked, &c.extended, &c.callbacks, &c.contacted, &c.solved, &c.satisfied, &c.basicallySatisfied, &c.unsatisfied, &c.closedLate}
}

// minus returns c − o.
func (c counters) minus(o counters) counters {
	v, w := c.values(), o.values()
	for i := range v {
		v[i] -= w[i]
	}
	return countersOf(v)
}

// countersOf is the inverse of values.
func countersOf(v []int64) counters {
	return counters{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16]}
}

func (c *counters) add(o counters) {
	c.reported += o.reported
	c.accepted += o.accepted
	c.rejected += o.rejected
	c.dispatched += o.dispatched
	c.closed += o.closed
	c.closedOnTime += o.closedOnTime
	c.closedDeferred += o.closedDeferred
	c.feedbacks += o.feedbacks
	c.reworked += o.reworked
	c.extended += o.extended
	c.callbacks += o.callbacks
	c.contacted += o.contacted
	c.solved += o.solved
	c.satisfied += o.satisfied
	c.basicallySatisfied += o.basicallySatisfied
	c.unsatisfied += o.unsatisfied
	c.closedLate += o.closedLate
}

var statCols = []string{"reported", "accepted", "rejected", "dispatched", "closed", "closed_on_time", "closed_deferred", "feedbacks",
	"reworked", "extended", "callbacks", "contacted", "solved", "satisfied", "basically_satisfied", "unsatisfied", "closed_late"}

// addStats adds a transition's counters to its day's row of case_stats
// and to the rollup rows of the case's area and of every area above it
// (see kpis.go). Not at once: a transaction's additions are summed in
// memory and left, just before its commit, as one row of
// case_stats_pending, and applyPending adds the rows up into both tables
// later, in bulk (migration 00021 says why). Whatever reads the counters
// applies what is pending first (flushStats), so the figures are always
// those of every committed move. A write undone in its commit group takes
// its additions back.
func (s store) addStats(ctx context.Context, k statKey, c counters) error {
	v, inTx := db.Shared(ctx, statsPendingKey{}, func() any { return &statsPending{stats: map[statKey]counters{}} })
	if !inTx {
		return s.db.Write(ctx, func(ctx context.Context) error { return s.addStats(ctx, k, c) })
	}
	p := v.(*statsPending)
	if !p.hooked {
		p.hooked = true
		db.BeforeCommit(ctx, func(ctx context.Context) error { return s.queueStats(ctx, p.stats) })
	}
	addStat(p.stats, k, c)
	db.OnUndo(ctx, func() { addStat(p.stats, k, counters{}.minus(c)) })
	return nil
}

// statsPending is a transaction's additions to case_stats, kept in
// db.Shared under statsPendingKey until its BeforeCommit hook queues them.
type statsPending struct {
	stats  map[statKey]counters
	hooked bool
}

type statsPendingKey struct{}

func addStat(m map[statKey]counters, k statKey, c counters) {
	sum := m[k]
	sum.add(c)
	m[k] = sum
}

// queueStats stores a transaction's additions as one case_stats_pending row.
func (s store) queueStats(ctx context.Context, deltas map[statKey]counters) error {
	text := encodeDeltas(deltas)
	if text == "" {
		return nil
	}
	_, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO case_stats_pending (deltas) VALUES ($1)", text)
	return err
}

// encodeDeltas writes the rows that add something, one per line: day,
// area, unit, category, then the counters in statCols order.
func encodeDeltas(deltas map[statKey]counters) string {
	var b []byte
	for k, c := range deltas {
		if c == (counters{}) {
			continue
		}
		b = append(b, k.day...)
		for _, v := range append([]int64{k.areaID, k.unitID, k.categoryID}, c.values()...) {
			b = append(b, ' ')
			b = strconv.AppendInt(b, v, 10)
		}
		b = append(b, '\n')
	}
	return string(b)
}

// decodeDeltas adds the rows of an encodeDeltas text to into.
func decodeDeltas(text string, into map[statKey]counters) error {
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) != 4+len(statCols) {
			return fmt.Errorf("case_stats_pending: a line of %d fields, want %d", len(f), 4+len(statCols))
		}
		n := make([]int64, len(f)-1)
		for i, x := range f[1:] {
			v, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return fmt.Errorf("case_stats_pending: %w", err)
			}
			n[i] = v
		}
		addStat(into, statKey{day: f[0], areaID: n[0], unitID: n[1], categoryID: n[2]}, countersOf(n[3:]))
	}
	return nil
}

// pendingBatch is the most case_stats_pending rows one applyPending
// transaction takes: on SQLite every other write waits while it runs, and
// 256 rows take a few milliseconds.
const pendingBatch = 256

// flushStats applies what is pending, if anything is, before the counters
// are read. It costs one indexed read when nothing is.
func (s store) flushStats(ctx context.Context) error {
	var one int
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT 1 FROM case_stats_pending LIMIT 1").Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	for {
		n, err := s.applyPending(ctx)
		if err != nil || n < pendingBatch {
			return err
		}
	}
}

// applyPending adds up to pendingBatch rows of case_stats_pending into
// case_stats and case_stats_rollup and deletes them, in one transaction,
// so each row is counted exactly once. On PostgreSQL the rows are locked:
// a second node applying at the same time waits, then skips the rows this
// one deleted. Both tables are written in key order, so concurrent
// appliers never deadlock. It returns how many rows it applied.
func (s store) applyPending(ctx context.Context) (int, error) {
	var applied int
	err := s.db.Write(ctx, func(ctx context.Context) error {
		lock := ""
		if s.db.Kind == db.Postgres {
			lock = " FOR UPDATE"
		}
		type pending struct {
			id     int64
			deltas string
		}
		rows, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (pending, error) {
			var p pending
			return p, row.Scan(&p.id, &p.deltas)
		}, "SELECT id, deltas FROM case_stats_pending ORDER BY id LIMIT "+strconv.Itoa(pendingBatch)+lock)
		if err != nil || len(rows) == 0 {
			return err
		}
		stats := map[statKey]counters{}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			if err := decodeDeltas(r.deltas, stats); err != nil {
				return fmt.Errorf("row %d: %w", r.id, err)
			}
			ids[i] = r.id
		}
		if err := s.writeStats(ctx, stats); err != nil {
			return err
		}
		rollup := map[rollupKey]counters{}
		for k, c := range stats {
			up, err := s.cachedAncestors(ctx, k.areaID)
			if err != nil {
				return err
			}
			addTo(rollup, rollupKeys(up, k, rollupShard(s.db.Kind, k.areaID)), c)
		}
		if err := s.writeRollup(ctx, rollup); err != nil {
			return err
		}
		applied = len(rows)
		return s.deletePending(ctx, ids)
	})
	return applied, err
}

// deletePending deletes the applied rows. On SQLite, whose one writer read
// them in this transaction, they are every row up to the last id. On
// PostgreSQL ids are not given in commit order, so that could take a row
// committed after the read: the rows go by id.
func (s store) deletePending(ctx context.Context, ids []int64) error {
	if s.db.Kind == db.SQLite {
		_, err := s.db.Q(ctx).ExecContext(ctx, "DELETE FROM case_stats_pending WHERE id <= $1", slices.Max(ids))
		return err
	}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		ph := make([]string, n)
		args := make([]any, n)
		for i, id := range ids[:n] {
			ph[i], args[i] = "$"+strconv.Itoa(i+1), id
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, "DELETE FROM case_stats_pending WHERE id IN ("+strings.Join(ph, ", ")+")", args...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// cachedAncestors is ancestors, remembered across transactions once the
// transaction that read them has committed.
func (s store) cachedAncestors(ctx context.Context, areaID int64) ([]int64, error) {
	ck := ancestorKey{weak.Make(s.db), areaID}
	if cached, hit := ancestorCache.Load(ck); hit {
		return cached.([]int64), nil
	}
	up, err := s.ancestors(ctx, areaID)
	if err != nil {
		return nil, err
	}
	db.AfterCommit(ctx, func() { ancestorCache.Store(ck, up) })
	return up, nil
}

// writeStats adds deltas to case_stats in key order, statsChunk rows per
// upsert.
func (s store) writeStats(ctx context.Context, deltas map[statKey]counters) error {
	keys := make([]statKey, 0, len(deltas))
	for k, c := range deltas {
		if c != (counters{}) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b statKey) int {
		return cmp.Or(strings.Compare(a.day, b.day), cmp.Compare(a.areaID, b.areaID), cmp.Compare(a.unitID, b.unitID),
			cmp.Compare(a.categoryID, b.categoryID))
	})
	for len(keys) > 0 {
		n := min(len(keys), statsChunk)
		args := make([]any, 0, n*(4+len(statCols)))
		for _, k := range keys[:n] {
			args = append(args, k.day, k.areaID, k.unitID, k.categoryID)
			for _, v := range deltas[k].values() {
				args = append(args, v)
			}
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, statsSQLs[n], args...); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// statsChunk is the most rows one upsert of writeStats carries; the
// statements for 1 to statsChunk rows are made once.
const statsChunk = 64

var statsSQLs = func() (out [statsChunk + 1]string) {
	for n := 1; n <= statsChunk; n++ {
		out[n] = buildStatsSQL(n)
	}
	return out
}()

func buildStatsSQL(n int) string {
	return buildAddSQL("case_stats", []string{"day", "area_id", "unit_id", "category_id"}, n)
}

// buildAddSQL is the upsert of n rows into a counter table keyed by keys:
// each row's counters are added to what the table holds.
func buildAddSQL(table string, keys []string, n int) string {
	cols := append(append([]string(nil), keys...), statCols...)
	var vals, sets []string
	for r := range n {
		ph := make([]string, len(cols))
		for i := range cols {
			ph[i] = "$" + strconv.Itoa(r*len(cols)+i+1)
		}
		vals = append(vals, "("+strings.Join(ph, ", ")+")")
	}
	for _, c := range statCols {
		sets = append(sets, c+" = "+table+"."+c+" + excluded."+c)
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.Join(vals, ", ") +
		" ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET " + strings.Join(sets, ", ")
}

// rollupKeys are the rollup rows a case_stats row adds to, given the ids
// of the case's area and of the areas above it (the area last): by day
// ('t') for each of them, by category ('c') and by unit ('u') for those
// above it. The case's own area has no category and unit rows: those are
// its rows of case_stats, which queries add (see sumByDim). That spares
// the rows of every grid × day × category and × unit, four in five of what
// the rollup would hold, and the writes that keep them.
func rollupKeys(up []int64, k statKey, shard int64) []rollupKey {
	keys := make([]rollupKey, 0, 3*len(up))
	for i, id := range up {
		sh := shard
		if i >= shardedLevels {
			sh = 0
		}
		keys = append(keys, rollupKey{id, 't', k.day, 0, sh})
		if i < len(up)-1 {
			keys = append(keys, rollupKey{id, 'c', k.day, k.categoryID, sh}, rollupKey{id, 'u', k.day, k.unitID, sh})
		}
	}
	return keys
}

// rollupShard spreads the rows of the top of the tree (a district and its
// streets, where every transaction of the day meets) over rollupShards
// parts on PostgreSQL, by the case's area, so that concurrent transactions
// in different grids do not queue for one row (each holds the rows it
// wrote until it commits). SQLite has one writer, and one shard. A shard
// is a share of the sum: readers add shards up, and what lands in which
// shard changes no figure.
func rollupShard(kind db.Kind, areaID int64) int64 {
	if kind == db.Postgres {
		return areaID % rollupShards
	}
	return 0
}

const (
	rollupShards  = 4
	shardedLevels = 2 // the root of a path and the level under it
)

func addTo(m map[rollupKey]counters, keys []rollupKey, c counters) map[rollupKey]counters {
	for _, k := range keys {
		sum := m[k]
		sum.add(c)
		m[k] = sum
	}
	return m
}

// writeRollup adds deltas to case_stats_rollup in key order, in as few
// statements as it can: one for a transition (a dozen rows), one per
// rollupChunk rows for a commit group.
func (s store) writeRollup(ctx context.Context, deltas map[rollupKey]counters) error {
	keys := make([]rollupKey, 0, len(deltas))
	for k, c := range deltas {
		if c != (counters{}) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b rollupKey) int {
		return cmp.Or(cmp.Compare(a.areaID, b.areaID), cmp.Compare(a.dim, b.dim), strings.Compare(a.day, b.day),
			cmp.Compare(a.dimID, b.dimID), cmp.Compare(a.shard, b.shard))
	})
	for len(keys) > 0 {
		n := min(len(keys), rollupChunk)
		args := make([]any, 0, n*(5+len(statCols)))
		for _, k := range keys[:n] {
			args = append(args, k.areaID, string(k.dim), k.day, k.dimID, k.shard)
			for _, v := range deltas[k].values() {
				args = append(args, v)
			}
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, rollupSQLs[n], args...); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// rollupChunk is the most rows one upsert of writeRollup carries; the
// statements for 1 to rollupChunk rows are made once.
const rollupChunk = 64

var rollupSQLs = func() (out [rollupChunk + 1]string) {
	for n := 1; n <= rollupChunk; n++ {
		out[n] = buildRollupSQL(n)
	}
	return out
}()

func buildRollupSQL(n int) string {
	return buildAddSQL("case_stats_rollup", []string{"area_id", "dim", "day", "dim_id", "shard"}, n)
}

// ancestorCache remembers the ancestors of areas from one transaction to
// the next, per database: an area's path is written in the transaction
// that creates it and never changes. An entry is stored only once the
// transaction that read it has committed, so an area rolled back (whose id
// SQLite may give again) is never remembered; the database is held by a
// weak pointer, so that a closed one's entries never answer for another.
var ancestorCache sync.Map // ancestorKey → []int64

type ancestorKey struct {
	db     weak.Pointer[db.DB]
	areaID int64
}

// ancestors returns the ids of an area and of the areas above it, read
// from its path ("/1/5/17/"). An id that names no area (0: a case located
// nowhere) is its own and only ancestor. Paths never change once written.
func (s store) ancestors(ctx context.Context, areaID int64) ([]int64, error) {
	if areaID == 0 {
		return []int64{0}, nil
	}
	var path string
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT path FROM areas WHERE id = $1", areaID).Scan(&path)
	if errors.Is(err, sql.ErrNoRows) {
		return []int64{areaID}, nil
	}
	if err != nil {
		return nil, err
	}
	return pathIDs(path)
}

func pathIDs(path string) ([]int64, error) {
	var out []int64
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("area path %q: %w", path, err)
		}
		out = append(out, id)
	}
	return out, nil
}

// KPIs are the figures of a set of cases over a period.
type KPIs struct {
	Counts counters `json:"-"`

	// The counts behind the rates, so that anyone can check them.
	Reported           int64 `json:"reported"`
	Accepted           int64 `json:"accepted"`
	Rejected           int64 `json:"rejected"`
	Dispatched         int64 `json:"dispatched"`
	Closed             int64 `json:"closed"`
	OnTime             int64 `json:"closed_on_time"`
	Late               int64 `json:"closed_late"`
	Deferred           int64 `json:"closed_deferred"`
	Feedbacks          int64 `json:"feedbacks"`
	Reworked           int64 `json:"reworked"`
	Extended           int64 `json:"extended"`
	Callbacks          int64 `json:"callbacks"`
	Contacted          int64 `json:"contacted"`
	Solved             int64 `json:"solved"`
	Satisfied          int64 `json:"satisfied"`
	BasicallySatisfied int64 `json:"basically_satisfied"`
	Unsatisfied        int64 `json:"unsatisfied"`

	AcceptRate       float64 `json:"accept_rate"`       // 立案率 = 立案 / (立案 + 不予立案)
	CloseRate        float64 `json:"close_rate"`        // 结案率 = 结案 / 立案 (立案 are the cases to be closed, 应结案)
	OnTimeRate       float64 `json:"on_time_rate"`      // 按期结案率 = 按期结案 / (按期结案 + 超期结案): closures with a deadline, 缓办 excluded
	ReworkRate       float64 `json:"rework_rate"`       // 返工率 = 返工 / 处置反馈
	ExtensionRate    float64 `json:"extension_rate"`    // 延期率 = 延期 / 立案
	ResponseRate     float64 `json:"response_rate"`     // 响应率 = 联系 / 回访
	ResolutionRate   float64 `json:"resolution_rate"`   // 解决率 = 解决 / 回访
	SatisfactionRate float64 `json:"satisfaction_rate"` // 满意率 = (满意 + w × 基本满意) / 回访
	Combined         float64 `json:"combined"`          // 综合 = weighted three rates
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// kpis derives the rates from counters with the configured weights.
func (s *Service) kpis(c counters) KPIs {
	k := KPIs{Counts: c, Reported: c.reported, Accepted: c.accepted, Rejected: c.rejected, Dispatched: c.dispatched,
		Closed: c.closed, OnTime: c.closedOnTime, Late: c.closedLate, Deferred: c.closedDeferred, Feedbacks: c.feedbacks, Reworked: c.reworked,
		Extended: c.extended, Callbacks: c.callbacks, Contacted: c.contacted, Solved: c.solved, Satisfied: c.satisfied,
		BasicallySatisfied: c.basicallySatisfied, Unsatisfied: c.unsatisfied}
	k.AcceptRate = ratio(c.accepted, c.accepted+c.rejected)
	// The figures count events of the period, not a cohort of cases: cases
	// accepted in one month and closed in the next make a month's 结案率
	// differ from 100 % either way, as in the cities' own reports.
	k.CloseRate = ratio(c.closed, c.accepted)
	k.OnTimeRate = ratio(c.closedOnTime, c.closedOnTime+c.closedLate)
	k.ReworkRate = ratio(c.reworked, c.feedbacks)
	k.ExtensionRate = ratio(c.extended, c.accepted)
	k.ResponseRate = ratio(c.contacted, c.callbacks)
	k.ResolutionRate = ratio(c.solved, c.callbacks)
	k.SatisfactionRate = (float64(c.satisfied) + s.Config.BasicallySatisfiedWeight*float64(c.basicallySatisfied)) / max(1, float64(c.callbacks))
	if c.callbacks == 0 {
		k.SatisfactionRate = 0
	}
	k.Combined = s.Config.WeightResponse*k.ResponseRate + s.Config.WeightResolution*k.ResolutionRate +
		s.Config.WeightSatisfaction*k.SatisfactionRate
	return k
}

// countersFor says what an event adds to the figures, from the event
// alone: the independent second reading of the log that Recompute uses.
func countersFor(action Action, data string) counters {
	var d struct {
		OnTime       *bool        `json:"on_time"`
		Deferred     bool         `json:"deferred"`
		Contacted    bool         `json:"contacted"`
		Solved       bool         `json:"solved"`
		Satisfaction Satisfaction `json:"satisfaction"`
	}
	if strings.HasPrefix(data, "{") {
		json.Unmarshal([]byte(data), &d)
	}
	var c counters
	switch action {
	case ActReport:
		c.reported = 1
	case ActSelfHandle:
		c.accepted, c.closed = 1, 1
	case ActAccept:
		c.accepted = 1
	case ActReject:
		c.rejected = 1
	case ActDispatch:
		c.dispatched = 1
	case ActFeedback:
		c.feedbacks = 1
	case ActVerifyFail:
		c.reworked = 1
	case ActApproveExtension:
		c.extended = 1
	case ActVerifyPass:
		c.closed = 1
		switch {
		case d.Deferred:
			c.closedDeferred = 1
		case d.OnTime != nil && *d.OnTime:
			c.closedOnTime = 1
		case d.OnTime != nil:
			c.closedLate = 1
		}
	case ActCallback:
		c.callbacks, c.contacted, c.solved = 1, b2i(d.Contacted), b2i(d.Solved)
		switch d.Satisfaction {
		case Satisfied:
			c.satisfied = 1
		case BasicallySatisfied:
			c.basicallySatisfied = 1
		case Unsatisfied:
			c.unsatisfied = 1
		}
	}
	return c
}

// Recompute rebuilds every daily counter from the transition log, without
// touching case_stats: the proof that the kept aggregates are what the
// history says, and the way to rebuild them.
func (s *Service) Recompute(ctx context.Context) (map[statKey]counters, error) {
	type ev struct {
		key    statKey
		at     time.Time
		action Action
		data   string
	}
	evs, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (ev, error) {
		var e ev
		err := row.Scan(&e.at, &e.action, &e.data, &e.key.areaID, &e.key.unitID, &e.key.categoryID)
		e.key.day = dayOf(e.at)
		return e, err
	}, "SELECT at, action, data, area_id, unit_id, category_id FROM case_events ORDER BY id")
	if err != nil {
		return nil, err
	}
	out := map[statKey]counters{}
	for _, e := range evs {
		c := countersFor(e.action, e.data)
		if c == (counters{}) {
			continue
		}
		sum := out[e.key]
		sum.add(c)
		out[e.key] = sum
	}
	return out, nil
}

// storedStats reads case_stats as Recompute returns it, after adding in
// what is pending (and so, for VerifyStats, before the rollup is read).
func (s *Service) storedStats(ctx context.Context) (map[statKey]counters, error) {
	if err := s.store.flushStats(ctx); err != nil {
		return nil, err
	}
	type r struct {
		k statKey
		c counters
	}
	rows, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (r, error) {
		var x r
		c := &x.c
		err := row.Scan(append([]any{&x.k.day, &x.k.areaID, &x.k.unitID, &x.k.categoryID}, c.ptrs()...)...)
		return x, err
	}, "SELECT day, area_id, unit_id, category_id, "+strings.Join(statCols, ", ")+" FROM case_stats")
	if err != nil {
		return nil, err
	}
	out := map[statKey]counters{}
	for _, x := range rows {
		if x.c != (counters{}) {
			out[x.k] = x.c
		}
	}
	return out, nil
}

// rollupKey is a row of case_stats_rollup.
type rollupKey struct {
	areaID int64
	dim    byte // 't', 'c' or 'u'
	day    string
	dimID  int64
	shard  int64
}

// VerifyStats recomputes every figure from the transition log and compares
// it with what is kept: case_stats row by row, and case_stats_rollup row by
// row (the recomputation rolled up through the area tree). It returns nil
// when they agree, else an error that names the first differences. It reads
// everything, so it is for operators and tests, not for requests.
func (s *Service) VerifyStats(ctx context.Context) error {
	rebuilt, err := s.Recompute(ctx)
	if err != nil {
		return err
	}
	kept, err := s.storedStats(ctx)
	if err != nil {
		return err
	}
	var diffs []string
	diff := func(what string, k any, want, got counters) {
		if want != got && len(diffs) < 10 {
			diffs = append(diffs, fmt.Sprintf("%s %v: kept %v, log %v", what, k, got.values(), want.values()))
		}
	}
	for k := range union(rebuilt, kept) {
		diff("case_stats", k, rebuilt[k], kept[k])
	}
	paths, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) ([2]string, error) {
		var p [2]string
		return p, row.Scan(&p[0], &p[1])
	}, "SELECT id, path FROM areas")
	if err != nil {
		return err
	}
	up := map[int64][]int64{}
	for _, p := range paths {
		id, _ := strconv.ParseInt(p[0], 10, 64)
		if up[id], err = pathIDs(p[1]); err != nil {
			return err
		}
	}
	want := map[rollupKey]counters{}
	for k, c := range rebuilt {
		areas, ok := up[k.areaID]
		if !ok {
			areas = []int64{k.areaID}
		}
		addTo(want, rollupKeys(areas, k, 0), c)
	}
	got, err := s.storedRollup(ctx)
	if err != nil {
		return err
	}
	for k := range union(want, got) {
		diff("case_stats_rollup", k, want[k], got[k])
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the kept figures differ from a recomputation from the log:\n%s", strings.Join(diffs, "\n"))
	}
	return nil
}

func union[K comparable, V any](a, b map[K]V) map[K]bool {
	out := make(map[K]bool, len(a))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// storedRollup reads case_stats_rollup with its shards added up, without
// the rows that add up to nothing.
func (s *Service) storedRollup(ctx context.Context) (map[rollupKey]counters, error) {
	type r struct {
		k rollupKey
		c counters
	}
	rows, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (r, error) {
		var x r
		var dim string
		c := &x.c
		err := row.Scan(append([]any{&x.k.areaID, &dim, &x.k.day, &x.k.dimID}, c.ptrs()...)...)
		if dim != "" {
			x.k.dim = dim[0]
		}
		return x, err
	}, "SELECT area_id, dim, day, dim_id, "+strings.Join(statCols, ", ")+" FROM case_stats_rollup")
	if err != nil {
		return nil, err
	}
	out := map[rollupKey]counters{}
	for _, x := range rows {
		addTo(out, []rollupKey{x.k}, x.c)
	}
	for k, c := range out {
		if c == (counters{}) {
			delete(out, k)
		}
	}
	return out, nil
}

// RebuildRollup rebuilds case_stats_rollup from case_stats, in one
// transaction, with the statements migration 00005 fills it with (which
// puts everything in shard 0): after case_stats was restored or repaired
// by other means.
func (s *Service) RebuildRollup(ctx context.Context) error {
	if err := s.store.flushStats(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		if _, err := q.ExecContext(ctx, "DELETE FROM case_stats_rollup"); err != nil {
			return err
		}
		for _, stmt := range rollupFill(s.db.Kind) {
			if _, err := q.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
}

// rollupFill are the statements that roll case_stats up (as rollupKeys
// does row by row): by day into the case's area and every area above it,
// by category and by unit into the areas above it only, each into the
// shard of the case's area (see rollupShard). An area's ancestors are the
// areas whose path starts its path; an area_id that names no area (0) is
// its own and only one. case_stats is summed by area and day first, and
// the pairs of areas are made once (DISTINCT keeps SQLite from folding
// them into a scan of case_stats per area).
func rollupFill(kind db.Kind) []string {
	var sums, inner []string
	for _, c := range statCols {
		sums = append(sums, "SUM(s."+c+")")
		inner = append(inner, "SUM(t."+c+") AS "+c)
	}
	// shard is rollupShard's part for an ancestor, and byShard groups by
	// it: on PostgreSQL the case area's id modulo rollupShards for the top
	// shardedLevels of a path (a path "/1/5/" has their number + 1
	// slashes), 0 below; on SQLite 0.
	shard, byShard, ownShard := "0", "", "0"
	if kind == db.Postgres {
		mod := "s.area_id % " + strconv.Itoa(rollupShards)
		shard = "CASE WHEN length(x.path) - length(replace(x.path, '/', '')) <= " + strconv.Itoa(shardedLevels+1) +
			" THEN " + mod + " ELSE 0 END"
		byShard, ownShard = ", "+shard, mod
	}
	ins := "INSERT INTO case_stats_rollup (area_id, dim, day, dim_id, shard, " + strings.Join(statCols, ", ") + ") "
	pairs := func(cond string) string {
		return " JOIN (SELECT DISTINCT g.id AS area_id, a.id AS ancestor, a.path FROM areas g JOIN areas a" +
			" ON substr(g.path, 1, length(a.path)) = a.path" + cond + ") x ON x.area_id = s.area_id"
	}
	byDim := func(dim, col string) string {
		return ins + "SELECT x.ancestor, '" + dim + "', s.day, s.k, " + shard + ", " + strings.Join(sums, ", ") +
			" FROM (SELECT t.area_id, t.day, t." + col + " AS k, " + strings.Join(inner, ", ") +
			" FROM case_stats t GROUP BY t.area_id, t.day, t." + col + ") s" + pairs(" AND a.id <> g.id") +
			" GROUP BY x.ancestor, s.day, s.k" + byShard
	}
	return []string{
		ins + "SELECT x.ancestor, 't', s.day, 0, " + shard + ", " + strings.Join(sums, ", ") +
			" FROM (SELECT t.area_id, t.day, " + strings.Join(inner, ", ") + " FROM case_stats t GROUP BY t.day, t.area_id) s" +
			pairs("") + " GROUP BY x.ancestor, s.day" + byShard,
		// An area_id that names no area is a root of its own.
		ins + "SELECT s.area_id, 't', s.day, 0, " + ownShard + ", " + strings.Join(sums, ", ") +
			" FROM case_stats s WHERE s.area_id NOT IN (SELECT id FROM areas) GROUP BY s.area_id, s.day",
		byDim("c", "category_id"),
		byDim("u", "unit_id"),
	}
}

func (k rollupKey) String() string {
	return fmt.Sprintf("area %d %c %s %d", k.areaID, k.dim, k.day, k.dimID)
}

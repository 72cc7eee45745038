// Package audit keeps Linli's append-only, hash-chained audit log. Each row
// is written in the same transaction as the change it records, and its hash
// covers its fields and the previous row's hash, so that editing, removing or
// cutting off rows is detected by Verify (linli audit verify).
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/db"
)

// Outcomes of an audited action.
const (
	OK     = "ok"
	Denied = "denied"
	Failed = "failed"
)

// Actor is who acts, from where: set on the request context by the web
// layer and the CLI, read by Record.
type Actor struct {
	ID        int64  // 0 for anonymous or the system
	Name      string // login name, "anonymous" or "system"
	IP        string
	RequestID string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor on ctx, or the system.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Name: "system"}
}

// Entry is one audited action. Actor, IP and request id come from the
// context when left empty.
type Entry struct {
	Action     string // e.g. "user.login", "case.dispatch"
	TargetType string
	TargetID   string
	Outcome    string // OK when empty
	Detail     string // short, no personal data in clear
	Actor      *Actor // overrides the context's actor (a failed login names the account tried)
}

// Chains is how many independent chains the log is spread over. Rows of one
// request stay on one chain; see the migration for why there are several.
const Chains = 8

// Log writes and verifies audit rows.
type Log struct {
	db  *db.DB
	now func() time.Time
}

// New returns a Log on d with the given clock (time.Now when nil).
func New(d *db.DB, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{db: d, now: now}
}

// Record appends e to the log inside the write transaction of ctx (it
// starts one when ctx has none).
func (l *Log) Record(ctx context.Context, e Entry) error {
	return l.db.Write(ctx, func(ctx context.Context) error { return l.record(ctx, e) })
}

func (l *Log) record(ctx context.Context, e Entry) error {
	a := ActorFrom(ctx)
	if e.Actor != nil {
		a = *e.Actor
	}
	if e.Outcome == "" {
		e.Outcome = OK
	}
	r := Row{
		Chain: chainOf(a.RequestID), At: l.now().UTC().Truncate(time.Microsecond),
		ActorID: a.ID, Actor: a.Name, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID,
		Outcome: e.Outcome, IP: a.IP, RequestID: a.RequestID, Detail: e.Detail,
	}
	if l.db.Kind != db.SQLite {
		return l.recordLocked(ctx, r)
	}
	hs, err := l.txHeads(ctx)
	if err != nil {
		return err
	}
	r.Seq, r.PrevHash = hs.seq[r.Chain]+1, hs.hash[r.Chain]
	r.Hash = r.computeHash()
	if _, err := l.db.Q(ctx).ExecContext(ctx, "INSERT INTO audit_log "+insertCols, r.values()...); err != nil {
		return err
	}
	hs.advance(ctx, r)
	return nil
}

const insertCols = `(chain, seq, at, actor_id, actor, action, target_type, target_id, outcome, ip, request_id, detail, prev_hash, hash)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

func (r *Row) values() []any {
	return []any{r.Chain, r.Seq, r.At, nullID(r.ActorID), r.Actor, r.Action, r.TargetType, r.TargetID,
		r.Outcome, r.IP, r.RequestID, r.Detail, r.PrevHash, r.Hash}
}

// recordLocked appends r on PostgreSQL. Taking the chain's next seq locks
// its head row until commit, which orders the chain across concurrent
// transactions; the row and the head's new hash then go in one statement
// (a data-modifying WITH, PostgreSQL's own), to save a round trip.
func (l *Log) recordLocked(ctx context.Context, r Row) error {
	q := l.db.Q(ctx)
	if err := q.QueryRowContext(ctx,
		"UPDATE audit_heads SET seq = seq + 1 WHERE chain = $1 RETURNING seq, hash", r.Chain,
	).Scan(&r.Seq, &r.PrevHash); err != nil {
		return err
	}
	r.Hash = r.computeHash()
	_, err := q.ExecContext(ctx, "WITH head AS (UPDATE audit_heads SET hash = $14 WHERE chain = $1) INSERT INTO audit_log "+
		insertCols, r.values()...)
	return err
}

// txHeads are the chains' heads as the current transaction sees them. On
// SQLite a transaction holds the only write lock from its start, so the
// heads read at its first audit row cannot change under it: every write of
// the commit group links to them in memory, and the head rows are updated
// once, just before the commit. That saves two statements per audited
// write on the single writer, which all writes wait for.
type txHeads struct {
	loaded bool
	seq    [Chains]int64
	hash   [Chains]string
	dirty  [Chains]bool
}

type headsKey struct{}

// txHeads returns the heads of the transaction in ctx (SQLite only).
func (l *Log) txHeads(ctx context.Context) (*txHeads, error) {
	v, _ := db.Shared(ctx, headsKey{}, func() any { return &txHeads{} })
	hs := v.(*txHeads)
	if !hs.loaded {
		if err := l.loadHeads(ctx, hs); err != nil {
			return nil, err
		}
	}
	return hs, nil
}

// advance makes r, just stored, its chain's head.
func (hs *txHeads) advance(ctx context.Context, r Row) {
	c := r.Chain
	seq, hash, dirty := hs.seq[c], hs.hash[c], hs.dirty[c]
	hs.seq[c], hs.hash[c], hs.dirty[c] = r.Seq, r.Hash, true
	// If this write fails alone, its row goes: so must its link.
	db.OnUndo(ctx, func() { hs.seq[c], hs.hash[c], hs.dirty[c] = seq, hash, dirty })
}

// loadHeads reads the heads at the transaction's first audit row and
// arranges for the changed ones to be stored before it commits.
func (l *Log) loadHeads(ctx context.Context, hs *txHeads) error {
	rows, err := l.db.Q(ctx).QueryContext(ctx, "SELECT chain, seq, hash FROM audit_heads")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c int
		var seq int64
		var hash string
		if err := rows.Scan(&c, &seq, &hash); err != nil {
			return err
		}
		if c >= 0 && c < Chains {
			hs.seq[c], hs.hash[c] = seq, hash
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	hs.loaded = true
	db.BeforeCommit(ctx, func(ctx context.Context) error { return l.storeHeads(ctx, hs) })
	return nil
}

func (l *Log) storeHeads(ctx context.Context, hs *txHeads) error {
	for c := 0; c < Chains; c++ {
		if !hs.dirty[c] {
			continue
		}
		if _, err := l.db.Q(ctx).ExecContext(ctx, "UPDATE audit_heads SET seq = $1, hash = $2 WHERE chain = $3",
			hs.seq[c], hs.hash[c], c); err != nil {
			return err
		}
	}
	return nil
}

func chainOf(requestID string) int {
	if requestID == "" {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(requestID))
	return int(h.Sum32() % Chains)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Row is a stored audit row.
type Row struct {
	ID         int64
	Chain      int
	Seq        int64
	At         time.Time
	ActorID    int64
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	Outcome    string
	IP         string
	RequestID  string
	Detail     string
	PrevHash   string
	Hash       string
}

// computeHash covers every field but the id (which the database assigns)
// and the hash itself. Fields are length-prefixed so that no two different
// rows encode alike.
func (r *Row) computeHash() string {
	h := sha256.New()
	for _, f := range []string{
		r.PrevHash, strconv.Itoa(r.Chain), strconv.FormatInt(r.Seq, 10),
		r.At.UTC().Format(time.RFC3339Nano), strconv.FormatInt(r.ActorID, 10), r.Actor, r.Action,
		r.TargetType, r.TargetID, r.Outcome, r.IP, r.RequestID, r.Detail,
	} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Break describes the first place where the log is not intact.
type Break struct {
	ID     int64 // the row that fails, 0 when rows are missing from a chain's end
	Chain  int
	Seq    int64
	Reason string // "hash", "link", "gap", "truncated"
}

// Report is the result of Verify.
type Report struct {
	Rows  int64
	Break *Break // nil when the log is intact
}

// Verify re-computes every chain from a consistent snapshot and returns the
// first broken row by id.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	var rep Report
	err := l.db.Snapshot(ctx, func(ctx context.Context) error {
		heads, err := l.heads(ctx)
		if err != nil {
			return err
		}
		for chain := 0; chain < Chains; chain++ {
			n, brk, err := l.verifyChain(ctx, chain, heads[chain])
			if err != nil {
				return err
			}
			rep.Rows += n
			if brk != nil && (rep.Break == nil || earlier(brk, rep.Break)) {
				rep.Break = brk
			}
		}
		return nil
	})
	return rep, err
}

func earlier(a, b *Break) bool {
	if a.ID == 0 || b.ID == 0 {
		return b.ID == 0 && a.ID != 0
	}
	return a.ID < b.ID
}

type head struct {
	seq  int64
	hash string
}

func (l *Log) heads(ctx context.Context) (map[int]head, error) {
	rows, err := l.db.Q(ctx).QueryContext(ctx, "SELECT chain, seq, hash FROM audit_heads")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]head{}
	for rows.Next() {
		var c int
		var h head
		if err := rows.Scan(&c, &h.seq, &h.hash); err != nil {
			return nil, err
		}
		out[c] = h
	}
	return out, rows.Err()
}

func (l *Log) verifyChain(ctx context.Context, chain int, hd head) (int64, *Break, error) {
	rows, err := l.db.Q(ctx).QueryContext(ctx, `SELECT id, chain, seq, at, COALESCE(actor_id, 0), actor, action,
		target_type, target_id, outcome, ip, request_id, detail, prev_hash, hash
		FROM audit_log WHERE chain = $1 ORDER BY seq`, chain)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var n, lastSeq int64
	lastHash := ""
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.ID, &r.Chain, &r.Seq, &r.At, &r.ActorID, &r.Actor, &r.Action,
			&r.TargetType, &r.TargetID, &r.Outcome, &r.IP, &r.RequestID, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
			return n, nil, err
		}
		n++
		switch {
		case r.Seq != lastSeq+1:
			return n, &Break{ID: r.ID, Chain: chain, Seq: r.Seq, Reason: "gap"}, nil
		case r.PrevHash != lastHash:
			return n, &Break{ID: r.ID, Chain: chain, Seq: r.Seq, Reason: "link"}, nil
		case r.computeHash() != r.Hash:
			return n, &Break{ID: r.ID, Chain: chain, Seq: r.Seq, Reason: "hash"}, nil
		}
		lastSeq, lastHash = r.Seq, r.Hash
	}
	if err := rows.Err(); err != nil {
		return n, nil, err
	}
	if hd.seq != lastSeq || hd.hash != lastHash {
		return n, &Break{Chain: chain, Seq: lastSeq + 1, Reason: "truncated"}, nil
	}
	return n, nil, nil
}

// String describes a break for people.
func (b *Break) String() string {
	var s strings.Builder
	s.WriteString("chain " + strconv.Itoa(b.Chain) + ", seq " + strconv.FormatInt(b.Seq, 10))
	if b.ID != 0 {
		s.WriteString(", row id " + strconv.FormatInt(b.ID, 10))
	}
	s.WriteString(": " + b.Reason)
	return s.String()
}

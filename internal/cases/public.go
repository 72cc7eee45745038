package cases

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Public reads: what anyone may know of the cases in public categories
// (Open311's GET requests and servicerequestupdates). The reporter's
// contact never leaves through them, and of the moves only those a
// reporter is shown (publicMoves), with working notes left out.

// PublicQuery selects public cases.
type PublicQuery struct {
	Numbers    []string // when set, every other filter is ignored
	Categories []string // category codes; empty: all public ones
	// Open and Closed filter by whether the case still needs work; neither
	// set means both.
	Open, Closed                bool
	From, To                    time.Time // report time, inclusive; zero: unbounded
	UpdatedAfter, UpdatedBefore time.Time // zero: unbounded
	AreaCode                    string    // only cases located in this area's subtree
	// Near, when set, keeps the cases within a box of Radius metres
	// around it (clients look for duplicates this way).
	Near          *orb.Point
	Radius        float64
	Offset, Limit int // Limit ≤ 0 or > 1000: 1000
}

// PublicCase is a case as anyone may see it.
type PublicCase struct {
	ID             int64
	Number         string
	State          State
	Channel        Channel
	CategoryCode   string
	NameZH, NameEN string
	Description    string
	Address        string
	Lon, Lat       *float64
	Grid           string
	Unit           string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DueAt          *time.Time
	ClosedAt       *time.Time
	MergedInto     string // the number of the case this one follows
	Overdue        bool
	// Withheld is set for the community's own matters (categories of kind
	// community: disputes, requests for help, complaints): they are about
	// people, not places, so their description, address and point stay
	// out of public view; the category, state and dates remain.
	Withheld bool
}

func publicCase(x stored) PublicCase {
	c := x.Case
	return PublicCase{ID: c.ID, Number: c.Number, State: c.State, Channel: c.Channel, CategoryCode: c.CategoryCode,
		NameZH: x.nameZH, NameEN: x.nameEN, Description: c.Description, Address: c.Address, Lon: c.Lon, Lat: c.Lat,
		Grid: c.GridName, Unit: c.Unit, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, DueAt: c.DueAt, ClosedAt: c.ClosedAt,
		Overdue: c.Overdue}
}

// MaxPublicRows caps one public listing.
const MaxPublicRows = 1000

// PublicList returns public cases, oldest report first.
func (s *Service) PublicList(ctx context.Context, q PublicQuery) ([]PublicCase, error) {
	where := []string{"k.public"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	in := func(col string, vals []string) {
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = arg(v)
		}
		where = append(where, col+" IN ("+strings.Join(ph, ", ")+")")
	}
	if len(q.Numbers) > 0 {
		var ids []string
		for _, n := range q.Numbers {
			if id, ok := ParseNumber(n); ok {
				ids = append(ids, strconv.FormatInt(id, 10))
			}
		}
		if len(ids) == 0 {
			return nil, nil
		}
		ph := make([]string, len(ids))
		for i, id := range ids {
			n, _ := strconv.ParseInt(id, 10, 64)
			ph[i] = arg(n)
		}
		where = append(where, "c.id IN ("+strings.Join(ph, ", ")+")")
		q = PublicQuery{Numbers: q.Numbers, Limit: q.Limit}
	}
	if len(q.Categories) > 0 {
		in("k.code", q.Categories)
	}
	if q.Open != q.Closed {
		cond := "c.state NOT IN ('rejected', 'closed', 'merged')"
		if q.Closed {
			cond = "c.state IN ('rejected', 'closed', 'merged')"
		}
		where = append(where, cond)
	}
	for _, b := range []struct {
		col, op string
		t       time.Time
	}{{"c.created_at", ">=", q.From}, {"c.created_at", "<=", q.To}, {"c.updated_at", ">", q.UpdatedAfter},
		{"c.updated_at", "<", q.UpdatedBefore}} {
		if !b.t.IsZero() {
			where = append(where, b.col+" "+b.op+" "+arg(b.t.UTC()))
		}
	}
	if q.AreaCode != "" {
		a, err := s.areas.Get(auth.WithPrincipal(ctx, auth.System()), q.AreaCode)
		if err != nil {
			return nil, err
		}
		where = append(where, "c.area_id IN (SELECT id FROM areas WHERE path >= "+arg(a.Path)+" AND path < "+
			arg(auth.PathEnd(a.Path))+")")
	}
	if q.Near != nil {
		where = append(where, "k.kind <> 'community'") // their points are withheld; so is their presence nearby
		dLat := q.Radius / 111_000
		dLon := dLat / max(math.Cos(q.Near[1]*math.Pi/180), 0.01)
		where = append(where, "c.lat BETWEEN "+arg(q.Near[1]-dLat)+" AND "+arg(q.Near[1]+dLat)+
			" AND c.lon BETWEEN "+arg(q.Near[0]-dLon)+" AND "+arg(q.Near[0]+dLon))
	}
	if q.Limit <= 0 || q.Limit > MaxPublicRows {
		q.Limit = MaxPublicRows
	}
	limit, offset := arg(q.Limit), arg(max(q.Offset, 0))
	xs, err := db.All(ctx, s.db.Q(ctx), scanCase, "SELECT "+caseCols+caseFrom+"WHERE "+strings.Join(where, " AND ")+
		" ORDER BY c.created_at, c.id LIMIT "+limit+" OFFSET "+offset, args...)
	if err != nil {
		return nil, err
	}
	private, err := s.communityCategories(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PublicCase, 0, len(xs))
	for _, x := range xs {
		if len(q.Numbers) > 0 && !containsNumber(q.Numbers, x.Number) {
			continue // the id matched but the date part did not: not this case
		}
		pc := publicCase(x)
		if private[x.CategoryCode] {
			pc.Description, pc.Address, pc.Lon, pc.Lat, pc.Withheld = "", "", nil, nil, true
		}
		if x.MergedInto != 0 {
			if t, err := s.store.byID(ctx, x.MergedInto); err == nil {
				pc.MergedInto = t.Number
			}
		}
		out = append(out, pc)
	}
	return out, nil
}

func containsNumber(numbers []string, n string) bool {
	for _, m := range numbers {
		if strings.TrimSpace(m) == n {
			return true
		}
	}
	return false
}

// communityCategories are the codes of the categories whose cases are
// withheld from public view (see PublicCase.Withheld).
func (s *Service) communityCategories(ctx context.Context) (map[string]bool, error) {
	codes, err := db.All(ctx, s.db.Q(ctx), scanString, "SELECT code FROM case_categories WHERE kind = 'community'")
	out := make(map[string]bool, len(codes))
	for _, c := range codes {
		out[c] = true
	}
	return out, err
}

// PublicGet returns one public case, NotFound when there is none or its
// category is not public.
func (s *Service) PublicGet(ctx context.Context, number string) (PublicCase, error) {
	cs, err := s.PublicList(ctx, PublicQuery{Numbers: []string{number}})
	if err != nil {
		return PublicCase{}, err
	}
	if len(cs) == 0 {
		return PublicCase{}, errs.E(errs.NotFound, "err.case.not_found", number)
	}
	return cs[0], nil
}

// PublicEvents returns the moves a reporter is shown of the cases with the
// given ids, oldest first, by case id.
func (s *Service) PublicEvents(ctx context.Context, caseIDs []int64) (map[int64][]Event, error) {
	out := map[int64][]Event{}
	for start := 0; start < len(caseIDs); start += 500 {
		batch := caseIDs[start:min(start+500, len(caseIDs))]
		args := make([]any, len(batch))
		ph := make([]string, len(batch))
		for i, id := range batch {
			args[i], ph[i] = id, "$"+strconv.Itoa(i+1)
		}
		rows, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (struct {
			caseID int64
			Event
		}, error) {
			var e struct {
				caseID int64
				Event
			}
			err := row.Scan(&e.caseID, &e.ID, &e.At, &e.Action, &e.From, &e.To, &e.Note)
			return e, err
		}, "SELECT case_id, id, at, action, from_state, to_state, note FROM case_events WHERE case_id IN ("+
			strings.Join(ph, ", ")+") ORDER BY id", args...)
		if err != nil {
			return nil, err
		}
		for _, e := range rows {
			if ev, ok := publicEvent(e.Event); ok {
				out[e.caseID] = append(out[e.caseID], ev)
			}
		}
	}
	return out, nil
}

// publicEvent is e as a reporter sees it, or false when it is not shown.
func publicEvent(e Event) (Event, bool) {
	if !publicMoves[e.Action] {
		return e, false
	}
	if e.Action == ActDispatch || e.Action == ActReceive || e.Action == ActMediate {
		e.Note = ""
	}
	e.Actor = ""
	return e, true
}

// PublicUpdate is a public move of a public case.
type PublicUpdate struct {
	Event
	Number string
	State  State // the case's state after the move
}

// PublicUpdates returns the public moves made in [from, to] of cases in
// public categories, oldest first, at most limit of them.
func (s *Service) PublicUpdates(ctx context.Context, from, to time.Time, limit int) ([]PublicUpdate, error) {
	actions := make([]string, 0, len(publicMoves))
	args := []any{from.UTC(), to.UTC()}
	for a := range publicMoves {
		args = append(args, string(a))
		actions = append(actions, "$"+strconv.Itoa(len(args)))
	}
	args = append(args, limit)
	rows, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (PublicUpdate, error) {
		var u PublicUpdate
		var caseID int64
		var created time.Time
		err := row.Scan(&u.ID, &caseID, &created, &u.At, &u.Action, &u.From, &u.To, &u.Note)
		u.Number = NumberOf(caseID, created)
		u.State = u.To
		return u, err
	}, `SELECT e.id, c.id, c.created_at, e.at, e.action, e.from_state, e.to_state, e.note FROM case_events e
		JOIN cases c ON c.id = e.case_id JOIN case_categories k ON k.id = c.category_id
		WHERE k.public AND e.at >= $1 AND e.at <= $2 AND e.action IN (`+strings.Join(actions, ", ")+`)
		ORDER BY e.at, e.id LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		ev, _ := publicEvent(rows[i].Event)
		rows[i].Event = ev
	}
	return rows, nil
}

// AddPublicNote records a remark from another system on a public case as
// a note (staff see it on the case page); it changes no state. actor names
// the system, e.g. "open311:FixMyStreet".
func (s *Service) AddPublicNote(ctx context.Context, number, note, actor string) (int64, error) {
	if _, err := s.PublicGet(ctx, number); err != nil {
		return 0, err
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return 0, fieldErr("description", "err.case.note_required")
	}
	from := audit.ActorFrom(ctx)
	ctx = audit.WithActor(AsSystem(ctx), audit.Actor{Name: actor, IP: from.IP, RequestID: from.RequestID})
	c, err := s.Act(ctx, number, Request{Action: ActNote, Note: note})
	if err != nil {
		return 0, err
	}
	evs, err := s.store.events(ctx, c.ID)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	return evs[len(evs)-1].ID, nil
}

package cases

import (
	"context"
	"fmt"
	"sync"
	"time"
	"weak"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/notify"
)

// Who hears of a move: the unit's members when work reaches them, the
// area's staff when a decision is theirs to make.
var (
	toUnit  = map[Action]bool{ActDispatch: true, ActWarn: true, ActOverdue: true, ActVerifyFail: true, ActApproveExtension: true}
	toStaff = map[Action]bool{ActReport: true, ActReturn: true, ActAskExtension: true, ActFeedback: true, ActEscalate: true,
		ActOverdue: true, ActEscalateDispute: true}
)

// tell sends the notification of a move, in its transaction: the inbox of
// the people concerned, and the webhook (every move, for other systems).
func (s *Service) tell(ctx context.Context, c Case, a Action, eventID int64, at time.Time) error {
	users, err := s.recipients(ctx, c, a)
	if err != nil {
		return err
	}
	return s.tellTo(ctx, c, a, eventID, at, users)
}

// recipients are the users whose inbox hears of move a on c. A report
// looks them up before its write, so that SQLite's single writer does not
// run the query (reports come in bursts; other moves are rarer).
func (s *Service) recipients(ctx context.Context, c Case, a Action) ([]int64, error) {
	if s.Notify == nil {
		return nil, nil
	}
	var users []int64
	if toUnit[a] && c.UnitID != 0 {
		members, err := s.store.unitMembers(ctx, c.UnitID)
		if err != nil {
			return nil, err
		}
		users = members
	}
	if toStaff[a] {
		staff, err := s.staffOf(ctx, c.AreaID)
		if err != nil {
			return nil, err
		}
		users = append(users, staff...)
	}
	return dedupe(users), nil
}

// tellTo is tell with the recipients already known.
func (s *Service) tellTo(ctx context.Context, c Case, a Action, eventID int64, at time.Time, users []int64) error {
	if err := s.queueMail(ctx, c, a, eventID); err != nil {
		return err
	}
	if s.Notify == nil {
		return nil
	}
	return s.Notify.Send(ctx, notify.Message{
		ID: fmt.Sprintf("case-event-%d", eventID), Kind: "case." + string(a), Key: "notify.case." + string(a),
		Args: []any{c.Number}, Link: "/cases/" + c.Number, At: at, UserIDs: users,
		Data: map[string]any{"number": c.Number, "action": a, "state": c.State, "category": c.CategoryCode, "unit": c.Unit},
	})
}

func dedupe(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (s store) unitMembers(ctx context.Context, unitID int64) ([]int64, error) {
	return db.All(ctx, s.db.Q(ctx), scanID, "SELECT user_id FROM unit_members WHERE unit_id = $1", unitID)
}

// staffOf returns the community and street staff whose grant covers the
// area (all of them for a case not yet located: someone must route it):
// the staff of the area and of the areas above it, whose ids are known
// without a read once cached (paths never change). The answer is kept for
// staffTTL (see staffCache).
func (s *Service) staffOf(ctx context.Context, areaID int64) ([]int64, error) {
	ck := ancestorKey{weak.Make(s.db), areaID}
	if e, hit := staffCache.Load(ck); hit && time.Now().Before(e.(staffEntry).until) {
		return e.(staffEntry).users, nil
	}
	var up []int64 // none: a case not yet located, every area's staff
	if areaID != 0 {
		var err error
		if up, err = s.store.cachedAncestors(ctx, areaID); err != nil {
			return nil, err
		}
	}
	users, err := s.areas.Holders(ctx, []auth.Role{auth.CommunityStaff, auth.StreetStaff}, up)
	if err != nil {
		return nil, err
	}
	staffCache.Store(ck, staffEntry{users: users, until: time.Now().Add(staffTTL)})
	return users, nil
}

// staffCache remembers who the staff of an area are for staffTTL: every
// report looks them up for its inbox rows, and at thousands of reports a
// second the same few grants were read again for each, a third of a
// report's reads. A grant given or taken reaches the inboxes of new moves
// at most staffTTL later; who may open a case is decided when it is
// opened, never from here.
var staffCache sync.Map // ancestorKey → staffEntry

const staffTTL = time.Second

type staffEntry struct {
	users []int64
	until time.Time
}

func scanID(row db.Scanner) (int64, error) {
	var id int64
	err := row.Scan(&id)
	return id, err
}

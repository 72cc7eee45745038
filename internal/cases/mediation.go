package cases

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/jobs"
)

// Mediation of disputes (矛盾纠纷调解): cases of the community kind whose
// class is S01 record the parties and every mediation session; a session
// that fails moves the dispute up a level — grid → community → street —
// to be dispatched to that level's unit; an agreement can ask for a
// follow-up check, which a job flags when it is due.

// Party is someone in a dispute; contact is sealed like a reporter's.
type Party struct {
	Role  string `json:"role"` // applicant | respondent | other
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
}

// Session is one mediation meeting.
type Session struct {
	Level        string    `json:"level"`
	HeldAt       time.Time `json:"held_at"`
	Place        string    `json:"place"`
	Mediators    string    `json:"mediators"`
	Summary      string    `json:"summary"`
	Outcome      string    `json:"outcome"` // agreement | continue | failed
	Agreement    string    `json:"agreement,omitempty"`
	FollowUpDays int       `json:"follow_up_days,omitempty"` // working days until the follow-up check
}

// mediationLevels is the ladder a failed mediation climbs.
var mediationLevels = []string{"grid", "community", "street"}

func nextLevel(level string) (string, bool) {
	for i, l := range mediationLevels {
		if l == level && i+1 < len(mediationLevels) {
			return mediationLevels[i+1], true
		}
	}
	return level, false
}

// isDispute reports whether c is a case for mediation.
func isDispute(c Case) bool { return strings.HasPrefix(c.CategoryCode, "S01") }

// disputeFor loads a dispute the caller may mediate: its handling unit's
// members, or staff who may dispatch.
func (s *Service) disputeFor(ctx context.Context, number string) (Case, error) {
	c, err := s.store.byNumber(ctx, number)
	if err != nil {
		return Case{}, err
	}
	if err := s.mayAct(ctx, c, ActFeedback, transitions[ActFeedback]); err != nil {
		return Case{}, err
	}
	if !isDispute(c) {
		return Case{}, errs.E(errs.Conflict, "err.mediation.not_dispute", number)
	}
	if !c.State.Open() {
		return Case{}, errs.E(errs.Conflict, "err.case.transition", "mediate", string(c.State))
	}
	return c, nil
}

// AddParty records a party of a dispute.
func (s *Service) AddParty(ctx context.Context, number string, p Party) error {
	p.Name, p.Phone = strings.TrimSpace(p.Name), strings.ReplaceAll(strings.TrimSpace(p.Phone), " ", "")
	var v errs.Validation
	v.Check(p.Role == "applicant" || p.Role == "respondent" || p.Role == "other", "role", "err.mediation.role")
	v.Check(p.Name != "" && utf8.RuneCountInString(p.Name) <= 50, "name", "err.mediation.name")
	v.Check(p.Phone == "" || mobileRE.MatchString(p.Phone) || landlineRE.MatchString(p.Phone), "phone", "err.case.phone")
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		c, err := s.disputeFor(ctx, number)
		if err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO case_parties (case_id, role, name_enc, phone_enc, created_at)
			VALUES ($1, $2, $3, $4, $5)`, c.ID, p.Role, s.box.Seal("party.name", p.Name), s.box.Seal("party.phone", p.Phone),
			s.now().UTC()); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "case.party", TargetType: "case", TargetID: number, Detail: p.Role})
	})
}

// Parties lists a dispute's parties, masked.
func (s *Service) Parties(ctx context.Context, number string) ([]Party, error) {
	c, err := s.Get(ctx, number)
	if err != nil {
		return nil, err
	}
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (Party, error) {
		var p Party
		var name, phone string
		if err := row.Scan(&p.Role, &name, &phone); err != nil {
			return p, err
		}
		n, _ := s.box.Open("party.name", name)
		ph, _ := s.box.Open("party.phone", phone)
		p.Name, p.Phone = crypto.MaskName(n), crypto.MaskPhone(ph)
		return p, nil
	}, "SELECT role, name_enc, phone_enc FROM case_parties WHERE case_id = $1 ORDER BY id", c.ID)
}

// Mediate records a session. A failed one takes the dispute up a level:
// it goes back to be dispatched to a unit of that level. An agreement with
// a follow-up schedules the follow-up check.
func (s *Service) Mediate(ctx context.Context, number string, m Session) error {
	m.Summary, m.Agreement = strings.TrimSpace(m.Summary), strings.TrimSpace(m.Agreement)
	var v errs.Validation
	v.Check(m.Summary != "" && utf8.RuneCountInString(m.Summary) <= MaxDescription, "summary", "err.mediation.summary")
	v.Check(m.Outcome == "agreement" || m.Outcome == "continue" || m.Outcome == "failed", "outcome", "err.mediation.outcome")
	v.Check(m.Outcome != "agreement" || m.Agreement != "", "agreement", "err.mediation.agreement")
	v.Check(m.FollowUpDays >= 0 && m.FollowUpDays <= 180, "follow_up_days", "err.mediation.follow_up")
	v.Check(utf8.RuneCountInString(m.Place) <= 100 && utf8.RuneCountInString(m.Mediators) <= 200, "place", "err.mediation.place")
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		c, err := s.disputeFor(ctx, number)
		if err != nil {
			return err
		}
		level, err := s.store.mediationLevel(ctx, c.ID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if m.HeldAt.IsZero() || m.HeldAt.After(now) {
			m.HeldAt = now
		}
		m.Level = level
		var followUp *time.Time
		if m.Outcome == "agreement" && m.FollowUpDays > 0 {
			t := s.cal.AddDays(now, m.FollowUpDays)
			followUp = &t
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO mediation_sessions (case_id, level, held_at, place, mediators,
			summary, outcome, agreement, follow_up_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			c.ID, level, m.HeldAt.UTC(), m.Place, m.Mediators, m.Summary, m.Outcome, m.Agreement, followUp, now); err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"level": level, "outcome": m.Outcome})
		key := statKey{day: dayOf(now), areaID: c.AreaID, unitID: c.UnitID, categoryID: c.CategoryID}
		if _, err := s.store.insertEvent(ctx, event{caseID: c.ID, at: now, actor: actorOf(ctx), action: ActMediate,
			from: c.State, to: c.State, note: m.Summary, data: string(data), key: key}); err != nil {
			return err
		}
		if followUp != nil {
			payload, _ := json.Marshal(map[string]int64{"case": c.ID})
			if err := jobs.Enqueue(ctx, s.db, jobs.Job{Kind: "case.mediation_followup", Key: jobKey(c.ID, "followup"),
				Payload: payload, RunAt: *followUp}); err != nil {
				return err
			}
		}
		if m.Outcome == "failed" {
			if err := s.escalateDispute(ctx, c, level); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, audit.Entry{Action: "case.mediate", TargetType: "case", TargetID: number, Detail: m.Outcome})
	})
}

// escalateDispute moves a dispute whose mediation failed to the next
// level, back to dispatch so that a unit of that level takes it over.
func (s *Service) escalateDispute(ctx context.Context, c Case, level string) error {
	next, ok := nextLevel(level)
	if !ok {
		return nil // at the street: the record stands; staff refer it on (e.g. to the courts)
	}
	if err := s.store.setMediationLevel(ctx, c.ID, next); err != nil {
		return err
	}
	if c.State != Dispatched && c.State != Handling {
		return nil
	}
	_, err := s.Act(AsSystem(ctx), c.Number, Request{Action: ActEscalateDispute, Note: next})
	return err
}

// Sessions lists a dispute's mediation sessions, oldest first.
func (s *Service) Sessions(ctx context.Context, number string) ([]Session, string, error) {
	c, err := s.Get(ctx, number)
	if err != nil {
		return nil, "", err
	}
	level, err := s.store.mediationLevel(ctx, c.ID)
	if err != nil {
		return nil, "", err
	}
	sessions, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (Session, error) {
		var m Session
		err := row.Scan(&m.Level, &m.HeldAt, &m.Place, &m.Mediators, &m.Summary, &m.Outcome, &m.Agreement)
		return m, err
	}, "SELECT level, held_at, place, mediators, summary, outcome, agreement FROM mediation_sessions WHERE case_id = $1 ORDER BY id", c.ID)
	return sessions, level, err
}

func (s store) mediationLevel(ctx context.Context, caseID int64) (string, error) {
	var level string
	var gridded bool
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT c.mediation_level, COALESCE(a.level = 'grid', FALSE)
		FROM cases c LEFT JOIN areas a ON a.id = c.area_id WHERE c.id = $1`, caseID).Scan(&level, &gridded)
	if level == "" {
		level = "community"
		if gridded {
			level = "grid"
		}
	}
	return level, err
}

func (s store) setMediationLevel(ctx context.Context, caseID int64, level string) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE cases SET mediation_level = $1 WHERE id = $2", level, caseID)
	return err
}

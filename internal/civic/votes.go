package civic

import (
	"context"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/registry"
)

// Eligibility rules of a vote.
const (
	PerHousehold = "household" // one ballot per household (户代表)
	PerResident  = "resident"  // one ballot per adult resident
)

// VoteInput is what opening a vote takes.
type VoteInput struct {
	Community string    `json:"community"`
	TopicID   int64     `json:"topic_id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Options   []string  `json:"options"`
	Rule      string    `json:"rule"`
	Secret    bool      `json:"secret"`
	OpensAt   time.Time `json:"opens_at"`
	ClosesAt  time.Time `json:"closes_at"`
}

// Vote is a vote with its options; tallies and turnout only once closed.
type Vote struct {
	ID        int64     `json:"id"`
	Community string    `json:"community"`
	AreaPath  string    `json:"-"`
	TopicID   int64     `json:"topic_id,omitempty"`
	Title     string    `json:"title"`
	Body      string    `json:"body,omitempty"`
	Rule      string    `json:"rule"`
	Secret    bool      `json:"secret"`
	OpensAt   time.Time `json:"opens_at"`
	ClosesAt  time.Time `json:"closes_at"`
	Options   []Option  `json:"options"`
	Voted     int       `json:"voted"`              // ballots cast so far
	Electors  int       `json:"electors,omitempty"` // eligible households or adults, once closed
	Closed    bool      `json:"closed"`
}

// Option is one choice; Tally is shown only once the vote has closed.
type Option struct {
	Label string `json:"label"`
	Tally int64  `json:"tally"`
}

// Turnout is the share of electors who voted.
func (v Vote) Turnout() float64 {
	if v.Electors == 0 {
		return 0
	}
	return float64(v.Voted) / float64(v.Electors)
}

// Open reports whether ballots are taken at t.
func (v Vote) Open(t time.Time) bool { return !t.Before(v.OpensAt) && t.Before(v.ClosesAt) }

// CreateVote opens a vote (staff with civic.moderate).
func (s *Service) CreateVote(ctx context.Context, in VoteInput) (Vote, error) {
	p, err := auth.Require(ctx, auth.CivicModerate)
	if err != nil {
		return Vote{}, err
	}
	if err := in.validate(); err != nil {
		return Vote{}, err
	}
	c, err := s.community(ctx, in.Community)
	if err != nil {
		return Vote{}, err
	}
	if err := auth.Allowed(p, auth.CivicModerate, c.Path, outOfScope); err != nil {
		return Vote{}, err
	}
	v := Vote{Community: c.Code, AreaPath: c.Path, TopicID: in.TopicID, Title: in.Title, Body: in.Body, Rule: in.Rule, Secret: in.Secret,
		OpensAt: in.OpensAt.UTC().Truncate(time.Second), ClosesAt: in.ClosesAt.UTC().Truncate(time.Second)}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.checkTopicRef(ctx, in.TopicID, c.Path); err != nil {
			return err
		}
		if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO civic_votes (area_id, area_path, community, topic_id, title, body, rule, secret,
			opens_at, closes_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			c.ID, c.Path, c.Code, v.TopicID, v.Title, v.Body, v.Rule, v.Secret, v.OpensAt, v.ClosesAt, s.clock()).Scan(&v.ID); err != nil {
			return err
		}
		for i, label := range in.Options {
			if _, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO civic_vote_options (vote_id, idx, label) VALUES ($1, $2, $3)", v.ID, i, label); err != nil {
				return err
			}
			v.Options = append(v.Options, Option{Label: label})
		}
		return s.record(ctx, "vote.create", "vote", v.ID, v.Rule)
	})
	return v, err
}

func (in *VoteInput) validate() error {
	var v errs.Validation
	text(&v, "title", &in.Title, 100)
	optional(&v, "body", &in.Body, 5000)
	v.Check(in.Rule == PerHousehold || in.Rule == PerResident, "rule", "err.civic.rule")
	v.Check(len(in.Options) >= 2 && len(in.Options) <= 10, "options", "err.civic.options")
	seen := map[string]bool{}
	for i := range in.Options {
		field := "options[" + itoa(int64(i)) + "]"
		text(&v, field, &in.Options[i], 100)
		v.Check(!seen[in.Options[i]], field, "err.civic.option_repeated")
		seen[in.Options[i]] = true
	}
	v.Check(!in.OpensAt.IsZero(), "opens_at", "err.civic.required")
	v.Check(in.ClosesAt.After(in.OpensAt), "closes_at", "err.civic.window")
	v.Check(in.TopicID >= 0, "topic_id", "err.civic.bad_id")
	return v.Err()
}

// GetVote returns a vote. Anyone may see it; tallies and turnout appear
// once it has closed, so that a running count sways nobody and a secret
// ballot cannot be read off the tally right after someone votes.
func (s *Service) GetVote(ctx context.Context, id int64) (Vote, error) {
	var v Vote
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id, community, area_path, topic_id, title, body, rule, secret, opens_at, closes_at
		FROM civic_votes WHERE id = $1`, id).Scan(&v.ID, &v.Community, &v.AreaPath, &v.TopicID, &v.Title, &v.Body, &v.Rule, &v.Secret,
		&v.OpensAt, &v.ClosesAt)
	if isNoRows(err) {
		return Vote{}, errs.E(errs.NotFound, "err.civic.vote_not_found", id)
	}
	if err != nil {
		return Vote{}, err
	}
	v.OpensAt, v.ClosesAt = v.OpensAt.UTC(), v.ClosesAt.UTC()
	v.Closed = !s.clock().Before(v.ClosesAt)
	if err := s.loadTally(ctx, &v); err != nil {
		return Vote{}, err
	}
	if v.Closed {
		v.Electors, err = s.electors(ctx, v)
	}
	return v, err
}

func (s *Service) loadTally(ctx context.Context, v *Vote) error {
	opts, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (Option, error) {
		var o Option
		return o, r.Scan(&o.Label, &o.Tally)
	}, "SELECT label, tally FROM civic_vote_options WHERE vote_id = $1 ORDER BY idx", v.ID)
	if err != nil {
		return err
	}
	v.Options = opts
	if !v.Closed {
		for i := range v.Options {
			v.Options[i].Tally = 0
		}
	}
	return s.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM civic_vote_voters WHERE vote_id = $1", v.ID).Scan(&v.Voted)
}

// electors counts who may vote, from the register as it stands.
func (s *Service) electors(ctx context.Context, v Vote) (int, error) {
	if v.Rule == PerHousehold {
		return s.reg.CountHouseholds(ctx, v.AreaPath)
	}
	return s.reg.CountAdults(ctx, v.AreaPath, v.OpensAt)
}

// Cast records the logged-in resident's ballot.
func (s *Service) Cast(ctx context.Context, voteID int64, choice int) error {
	v, err := s.GetVote(ctx, voteID)
	if err != nil {
		return err
	}
	id, err := s.resident(ctx, v.AreaPath)
	if errs.CodeOf(err) == errs.Forbidden {
		return errs.E(errs.Forbidden, "err.civic.not_elector")
	}
	if err != nil {
		return err
	}
	return s.ballot(ctx, v, id, choice, "online", actorName(auth.From(ctx)))
}

// CastPaper records a paper ballot that staff enter for a resident.
func (s *Service) CastPaper(ctx context.Context, voteID, residentID int64, choice int) error {
	p, err := auth.Require(ctx, auth.CivicModerate)
	if err != nil {
		return err
	}
	v, err := s.GetVote(ctx, voteID)
	if err != nil {
		return err
	}
	if err := auth.Allowed(p, auth.CivicModerate, v.AreaPath, outOfScope); err != nil {
		return err
	}
	id, err := s.reg.Voter(ctx, residentID)
	if errs.CodeOf(err) == errs.NotFound {
		return errs.OnField("resident_id", "err.civic.resident_unknown", residentID)
	}
	if err != nil {
		return err
	}
	if !strings.HasPrefix(id.AreaPath, v.AreaPath) {
		return errs.OnField("resident_id", "err.civic.not_elector")
	}
	return s.ballot(ctx, v, id, choice, "paper", actorName(p))
}

// ballot checks the window and eligibility, then records the voter and
// the ballot in one transaction. The voter row's primary key refuses a
// second ballot of the same household or resident even when two arrive
// at once on two nodes; the tally moves only if that insert succeeded.
func (s *Service) ballot(ctx context.Context, v Vote, id registry.Identity, choice int, channel, by string) error {
	now := s.clock()
	if !v.Open(now) {
		return errs.E(errs.Conflict, "err.civic.vote_closed")
	}
	if choice < 0 || choice >= len(v.Options) {
		return errs.OnField("option", "err.civic.option_unknown")
	}
	key, err := voterKey(v, id)
	if err != nil {
		return err
	}
	var stored any = choice
	if v.Secret {
		stored = nil
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO civic_vote_voters (vote_id, voter_key, resident_id, name, channel, recorded_by, choice, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, v.ID, key, id.ResidentID, id.Name, channel, by, stored, now)
		if db.IsUnique(err) {
			return errs.E(errs.Conflict, "err.civic.already_voted")
		}
		if err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE civic_vote_options SET tally = tally + 1 WHERE vote_id = $1 AND idx = $2", v.ID, choice); err != nil {
			return err
		}
		// The audit row names the voter, never the choice.
		return s.record(ctx, "vote.ballot", "vote", v.ID, channel+" "+key)
	})
}

// voterKey is the unique key of the ballot under the vote's rule; a
// resident without a household, or under age, is not an elector.
func voterKey(v Vote, id registry.Identity) (string, error) {
	if v.Rule == PerHousehold {
		if id.HouseholdID == 0 {
			return "", errs.E(errs.Forbidden, "err.civic.no_household")
		}
		return "h" + itoa(id.HouseholdID), nil
	}
	if id.BirthDate == "" || id.BirthDate > registry.AdultBornBy(v.OpensAt.In(chinaTime)) {
		return "", errs.E(errs.Forbidden, "err.civic.under_age", registry.AdultAge)
	}
	return "r" + itoa(id.ResidentID), nil
}

// Voter is a line of the list of who voted: never how.
type Voter struct {
	ResidentID int64     `json:"resident_id"`
	Name       string    `json:"name"`
	Channel    string    `json:"channel"`
	RecordedBy string    `json:"recorded_by"`
	At         time.Time `json:"at"`
}

// Voters lists who voted, for staff checking the count.
func (s *Service) Voters(ctx context.Context, voteID int64) ([]Voter, error) {
	p, err := auth.Require(ctx, auth.CivicRead)
	if err != nil {
		return nil, err
	}
	v, err := s.GetVote(ctx, voteID)
	if err != nil {
		return nil, err
	}
	if err := auth.Allowed(p, auth.CivicRead, v.AreaPath, outOfScope); err != nil {
		return nil, err
	}
	return db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (Voter, error) {
		var x Voter
		err := r.Scan(&x.ResidentID, &x.Name, &x.Channel, &x.RecordedBy, &x.At)
		return x, err
	}, "SELECT resident_id, name, channel, recorded_by, at FROM civic_vote_voters WHERE vote_id = $1 ORDER BY name, resident_id", voteID)
}

// HasVoted reports whether the logged-in resident's ballot (or their
// household's) is in.
func (s *Service) HasVoted(ctx context.Context, v Vote) bool {
	p := auth.From(ctx)
	if p == nil {
		return false
	}
	id, err := s.reg.IdentityOf(ctx, p.UserID)
	if err != nil {
		return false
	}
	key, err := voterKey(v, id)
	if err != nil {
		return false
	}
	var n int
	s.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM civic_vote_voters WHERE vote_id = $1 AND voter_key = $2", v.ID, key).Scan(&n)
	return n > 0
}

// Votes lists a community's votes, newest first. Public.
func (s *Service) Votes(ctx context.Context, code string) ([]Vote, error) {
	c, err := s.community(ctx, code)
	if err != nil {
		return nil, err
	}
	ids, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, "SELECT id FROM civic_votes WHERE area_id = $1 ORDER BY opens_at DESC, id DESC LIMIT 50", c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Vote, 0, len(ids))
	for _, id := range ids {
		v, err := s.GetVote(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

package volunteer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Star levels follow the hours: a verified volunteer whose hours reach a
// level's threshold is put on public notice (公示) for NoticeDays; a
// notice not withdrawn in that time becomes the award. Thresholds are
// configurable because communities also use small internal scales.

// AwardStars opens notices for levels newly reached and awards those
// whose notice period has passed; a daily job. It returns how many
// notices it opened and how many stars it awarded.
func (s *Service) AwardStars(ctx context.Context) (noticed, awarded int, err error) {
	now := s.now().UTC()
	err = s.db.Write(ctx, func(ctx context.Context) error {
		noticed, awarded = 0, 0
		for i, hours := range s.Config.StarHours {
			res, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO volunteer_stars (volunteer_id, level, noticed_at, award_after)
				SELECT v.id, $1, $2, $3 FROM volunteers v WHERE v.status = 'verified' AND v.minutes >= $4
				AND NOT EXISTS (SELECT 1 FROM volunteer_stars st WHERE st.volunteer_id = v.id AND st.level = $1)`,
				i+1, now, now.AddDate(0, 0, s.Config.NoticeDays), hours*60)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			noticed += int(n)
		}
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE volunteer_stars SET awarded_at = $1
			WHERE awarded_at IS NULL AND withdrawn = '' AND award_after <= $1`, now)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		awarded = int(n)
		return nil
	})
	return noticed, awarded, err
}

// WithdrawStar withdraws a star during its notice (an objection upheld,
// faked hours), with the reason.
func (s *Service) WithdrawStar(ctx context.Context, volunteerID int64, level int, reason string) error {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || !textOK(reason, 200) {
		return errs.OnField("reason", "err.volunteer.reason")
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.volunteerFor(ctx, volunteerID, auth.VolunteerManage); err != nil {
			return err
		}
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE volunteer_stars SET withdrawn = $1
			WHERE volunteer_id = $2 AND level = $3 AND awarded_at IS NULL AND withdrawn = ''`, reason, volunteerID, level)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.OnField("level", "err.volunteer.no_notice")
		}
		return s.record(ctx, "star.withdraw", "volunteer", volunteerID, fmt.Sprint(level))
	})
}

// Star is one star level of a volunteer: on notice, awarded, or
// withdrawn with its reason.
type Star struct {
	Level      int        `json:"level"`
	NoticedAt  time.Time  `json:"noticed_at"`
	AwardAfter time.Time  `json:"award_after"`
	AwardedAt  *time.Time `json:"awarded_at,omitempty"`
	Withdrawn  string     `json:"withdrawn,omitempty"`
}

// OnNotice reports whether the star may still be withdrawn.
func (st Star) OnNotice() bool { return st.AwardedAt == nil && st.Withdrawn == "" }

// StarsOf lists a volunteer's star levels, lowest first.
func (s *Service) StarsOf(ctx context.Context, volunteerID int64) ([]Star, error) {
	if _, err := s.volunteerFor(ctx, volunteerID, auth.VolunteerRead); err != nil {
		return nil, err
	}
	return db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (Star, error) {
		var st Star
		var awarded sql.NullTime
		err := r.Scan(&st.Level, &st.NoticedAt, &st.AwardAfter, &awarded, &st.Withdrawn)
		if awarded.Valid {
			st.AwardedAt = &awarded.Time
		}
		return st, err
	}, "SELECT level, noticed_at, award_after, awarded_at, withdrawn FROM volunteer_stars WHERE volunteer_id = $1 ORDER BY level", volunteerID)
}

// Notice is a star on public notice: the name masked, as on a notice board.
type Notice struct {
	Name       string    `json:"name"`
	Number     string    `json:"number"`
	Level      int       `json:"level"`
	AwardAfter time.Time `json:"award_after"`
}

// Notices lists a community's stars on notice; public.
func (s *Service) Notices(ctx context.Context, community string) ([]Notice, error) {
	return db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (Notice, error) {
		var n Notice
		err := r.Scan(&n.Name, &n.Number, &n.Level, &n.AwardAfter)
		n.Name = crypto.MaskName(n.Name)
		return n, err
	}, `SELECT v.name, v.number, st.level, st.award_after FROM volunteer_stars st JOIN volunteers v ON v.id = st.volunteer_id
		WHERE v.number LIKE $1 AND st.awarded_at IS NULL AND st.withdrawn = '' ORDER BY st.award_after, v.number`, "V"+community+"%")
}

// Proof is a proof of service (志愿服务证明) with the fields the record
// rules (民政部令第67号) require. It is frozen when issued.
type Proof struct {
	Number      string    `json:"number"`
	Name        string    `json:"name"`
	IDType      string    `json:"id_type"`
	IDMasked    string    `json:"id_number"`
	VolNumber   string    `json:"volunteer_number"`
	Minutes     int       `json:"minutes"`
	Content     string    `json:"content"`
	Issuer      string    `json:"issuer"`
	Responsible string    `json:"responsible"`
	Handler     string    `json:"handler"`
	IssuedOn    string    `json:"issued_on"`
	CreatedAt   time.Time `json:"created_at"`
}

// Hours is the proof's hours.
func (p Proof) Hours() float64 { return float64(p.Minutes) / 60 }

// ProofInput names who answers for a proof. A volunteer asking for their
// own proof leaves it empty: the community's party organisation's leader
// answers for it, as the recorder (谁记录谁证明).
type ProofInput struct {
	Responsible string `json:"responsible"`
}

// IssueProof issues a proof of a volunteer's hours, free of charge, to the
// volunteer or to staff of their community.
func (s *Service) IssueProof(ctx context.Context, volunteerID int64, in ProofInput) (Proof, error) {
	v, err := s.volunteerFor(ctx, volunteerID, auth.VolunteerRead)
	if err != nil {
		return Proof{}, err
	}
	if v.Minutes == 0 {
		return Proof{}, errs.OnField("volunteer_id", "err.volunteer.no_hours")
	}
	p := auth.From(ctx)
	handler := p.DisplayName
	if handler == "" {
		handler = p.Name
	}
	pr := Proof{Name: v.Name, IDType: v.IDType, IDMasked: v.IDNumber, VolNumber: v.Number, Minutes: v.Minutes,
		Responsible: strings.TrimSpace(in.Responsible), Handler: handler, IssuedOn: s.today(), CreatedAt: s.now().UTC()}
	if !textOK(pr.Responsible, 30) {
		return Proof{}, errs.OnField("responsible", "err.volunteer.person_name")
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.proofParts(ctx, v, &pr); err != nil {
			return err
		}
		pr.Number = proofNumber(s.now())
		_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO volunteer_proofs (number, volunteer_id, name, id_type, id_masked, vol_number, minutes,
			content, issuer, responsible, handler, issued_on, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			pr.Number, v.ID, pr.Name, pr.IDType, pr.IDMasked, pr.VolNumber, pr.Minutes, pr.Content, pr.Issuer, pr.Responsible, pr.Handler,
			pr.IssuedOn, pr.CreatedAt)
		if err != nil {
			return err
		}
		return s.record(ctx, "proof.issue", "volunteer", v.ID, pr.Number)
	})
	return pr, err
}

// proofParts fills the issuer (the community's party organisation, which
// keeps the record), the responsible person when not given, and the
// content: the activities served, with their hours.
func (s *Service) proofParts(ctx context.Context, v Volunteer, pr *Proof) error {
	var leader string
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT name, leader FROM volunteer_orgs WHERE area_id = $1 AND kind = 'party'", v.communityID).
		Scan(&pr.Issuer, &leader)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.OnField("issuer", "err.volunteer.no_issuer")
	}
	if err != nil {
		return err
	}
	if pr.Responsible == "" {
		pr.Responsible = leader
	}
	if pr.Responsible == "" {
		return errs.OnField("responsible", "err.volunteer.responsible")
	}
	lines, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (string, error) {
		var title string
		var minutes int
		var at time.Time
		err := r.Scan(&title, &minutes, &at)
		return fmt.Sprintf("%s %s %.1fh", at.In(chinaTime).Format(time.DateOnly), title, float64(minutes)/60), err
	}, `SELECT COALESCE(x.title, h.reason), h.minutes, h.created_at FROM volunteer_hours h LEFT JOIN volunteer_activities x ON x.id = h.activity_id
		WHERE h.volunteer_id = $1 ORDER BY h.id DESC LIMIT 20`, v.ID)
	pr.Content = strings.Join(lines, "\n")
	return err
}

// proofNumber is "VP" + the date + 6 random characters.
func proofNumber(now time.Time) string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "VP" + now.In(chinaTime).Format("20060102") + string(b)
}

// ProofByNumber returns a proof for the public verification page.
func (s *Service) ProofByNumber(ctx context.Context, number string) (Proof, error) {
	p, _, err := s.proof(ctx, number)
	return p, err
}

// ProofFor returns a proof to print: to its volunteer or to staff of
// their community.
func (s *Service) ProofFor(ctx context.Context, number string) (Proof, error) {
	p, volunteerID, err := s.proof(ctx, number)
	if err != nil {
		return Proof{}, err
	}
	if _, err := s.volunteerFor(ctx, volunteerID, auth.VolunteerRead); err != nil {
		return Proof{}, err
	}
	return p, nil
}

func (s *Service) proof(ctx context.Context, number string) (Proof, int64, error) {
	number = strings.ToUpper(strings.TrimSpace(number))
	var p Proof
	var volunteerID int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT volunteer_id, number, name, id_type, id_masked, vol_number, minutes, content, issuer, responsible, handler, issued_on, created_at
		FROM volunteer_proofs WHERE number = $1`, number).Scan(&volunteerID, &p.Number, &p.Name, &p.IDType, &p.IDMasked, &p.VolNumber, &p.Minutes, &p.Content,
		&p.Issuer, &p.Responsible, &p.Handler, &p.IssuedOn, &p.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Proof{}, 0, errs.E(errs.NotFound, "err.volunteer.proof_not_found", number)
	}
	return p, volunteerID, err
}

// PublicProof is what the public verification page shows: the name masked
// too, since anyone with the number sees it.
func (p Proof) PublicProof() Proof {
	p.Name = crypto.MaskName(p.Name)
	return p
}

package volunteer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/idcard"
)

// Status of a volunteer's registration.
type Status string

const (
	Pending   Status = "pending"   // registered, waiting for staff to verify
	Verified  Status = "verified"  // staff checked identity and details
	Suspended Status = "suspended" // e.g. for faked hours
)

// ID types printed on proofs (证件类型).
var idTypes = []string{"resident_id", "passport", "other"}

// Volunteer is a registered volunteer (志愿者). IDNumber and Phone are
// masked. Hours is the ledger's balance in hours.
type Volunteer struct {
	ID int64 `json:"id"`
	placed
	Number       string     `json:"number"`
	ResidentID   int64      `json:"resident_id,omitempty"`
	UserID       int64      `json:"user_id,omitempty"`
	OrgID        int64      `json:"org_id,omitempty"`
	Name         string     `json:"name"`
	IDType       string     `json:"id_type"`
	IDNumber     string     `json:"id_number"`
	Phone        string     `json:"phone,omitempty"`
	Skills       []string   `json:"skills"`
	Availability string     `json:"availability,omitempty"`
	Status       Status     `json:"status"`
	VerifiedAt   *time.Time `json:"verified_at,omitempty"`
	Minutes      int        `json:"minutes"`
	Points       int        `json:"points"`
	Stars        int        `json:"stars"`
	CreatedAt    time.Time  `json:"created_at"`

	// communityID and communityPath are the community served; AreaID
	// and AreaPath may be the volunteer's grid below it.
	communityID   int64
	communityPath string
}

// Hours is the balance of the hours ledger in hours.
func (v Volunteer) Hours() float64 { return float64(v.Minutes) / 60 }

// RegisterInput is what registering a volunteer takes: identity, skills,
// availability and contact (志愿服务条例 Art. 7).
type RegisterInput struct {
	// Community, Name and ResidentID are for staff registering someone;
	// a resident registering themselves is taken from the register.
	Community    string   `json:"community"`
	Name         string   `json:"name"`
	ResidentID   int64    `json:"resident_id"`
	OrgID        int64    `json:"org_id"`
	IDType       string   `json:"id_type"`
	IDNumber     string   `json:"id_number"`
	Phone        string   `json:"phone"`
	Skills       []string `json:"skills"`
	Availability string   `json:"availability"`
}

func (in *RegisterInput) validate(now time.Time, birthDate string) error {
	in.Name, in.Availability = strings.TrimSpace(in.Name), strings.TrimSpace(in.Availability)
	in.IDNumber = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(in.IDNumber), " ", ""))
	if in.IDType == "" {
		in.IDType = "resident_id"
	}
	var v errs.Validation
	v.Check(in.Name != "" && textOK(in.Name, 30), "name", "err.volunteer.person_name")
	v.Check(slices.Contains(idTypes, in.IDType), "id_type", "err.volunteer.id_type")
	checkIDNumber(&v, in.IDType, in.IDNumber, now, birthDate)
	phone, _, err := idcard.Phone(in.Phone)
	v.Check(err == nil, "phone", "err.volunteer.phone")
	in.Phone = phone
	in.Skills = cleanList(in.Skills)
	v.Check(len(in.Skills) <= 10 && allText(in.Skills, 20), "skills", "err.volunteer.skills")
	v.Check(textOK(in.Availability, 200), "availability", "err.volunteer.availability")
	return v.Err()
}

// checkIDNumber checks a resident ID number (and that it agrees with the
// register's birth date, when known) or the shape of another document's.
func checkIDNumber(v *errs.Validation, idType, number string, now time.Time, birthDate string) {
	if number == "" {
		v.Add("id_number", "err.volunteer.id_missing")
		return
	}
	if idType != "resident_id" {
		v.Check(len(number) >= 5 && len(number) <= 20 && textOK(number, 20), "id_number", "err.volunteer.id_number")
		return
	}
	id, err := idcard.ParseAt(number, now)
	if err != nil {
		v.Add("id_number", "err.volunteer.id_number")
		return
	}
	v.Check(birthDate == "" || id.Birth().Format(time.DateOnly) == birthDate, "id_number", "err.volunteer.id_not_yours")
}

func cleanList(xs []string) []string {
	var out []string
	for _, x := range xs {
		for _, part := range strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == '，' || r == '、' }) {
			if part = strings.TrimSpace(part); part != "" && !slices.Contains(out, part) {
				out = append(out, part)
			}
		}
	}
	return out
}

func allText(xs []string, n int) bool {
	for _, x := range xs {
		if !textOK(x, n) || strings.ContainsAny(x, ",") {
			return false
		}
	}
	return true
}

// RegisterSelf registers the logged-in resident as a volunteer, pending
// verification by staff. Name and community come from the register; the
// ID number given must be the resident's (its birth date must agree).
func (s *Service) RegisterSelf(ctx context.Context, in RegisterInput) (Volunteer, error) {
	p, err := caller(ctx)
	if err != nil {
		return Volunteer{}, err
	}
	me, err := s.reg.IdentityOf(ctx, p.UserID)
	if err != nil {
		return Volunteer{}, err
	}
	in.Name, in.ResidentID, in.OrgID = me.Name, me.ResidentID, 0
	if err := in.validate(s.now(), me.BirthDate); err != nil {
		return Volunteer{}, err
	}
	home := placed{AreaID: me.AreaID, AreaPath: me.AreaPath, Community: me.Grid}
	return s.insertVolunteer(ctx, home, communityOfGrid(me.AreaPath, me.Grid), in, p.UserID, Pending)
}

// Register registers a volunteer at the desk or for an organisation
// (志愿服务组织); staff check the documents, so the registration is
// verified at once.
func (s *Service) Register(ctx context.Context, in RegisterInput) (Volunteer, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Volunteer{}, err
	}
	if err := in.validate(s.now(), ""); err != nil {
		return Volunteer{}, err
	}
	pl, err := s.community(ctx, in.Community, auth.VolunteerManage)
	if err != nil {
		return Volunteer{}, err
	}
	if in.OrgID != 0 {
		if _, err := s.orgFor(ctx, in.OrgID, auth.VolunteerManage); err != nil {
			return Volunteer{}, errs.OnField("org_id", "err.volunteer.org_unknown", in.OrgID)
		}
	}
	return s.insertVolunteer(ctx, pl, pl, in, 0, Verified)
}

// insertVolunteer stores the registration with its sealed numbers and
// gives it its volunteer number: the community code and the row id, apart
// (an 18-digit run would read as an ID number).
func (s *Service) insertVolunteer(ctx context.Context, home, pl placed, in RegisterInput, userID int64, st Status) (Volunteer, error) {
	var id int64
	err := s.db.Write(ctx, func(ctx context.Context) error {
		now := s.now().UTC()
		var verifiedAt any
		if st == Verified {
			verifiedAt = now
		}
		// The number is unique and needs the id: a placeholder first.
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO volunteers (number, area_id, area_path, resident_id, user_id, org_id, name, id_type,
			id_enc, id_idx, phone_enc, skills, availability, status, verified_by, verified_at, created_at, community_id, community_path)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id`,
			"tmp-"+s.box.Index(fieldIDNumber, in.IDNumber), home.AreaID, home.AreaPath, nullID(in.ResidentID), nullID(userID), nullID(in.OrgID),
			in.Name, in.IDType, s.box.Seal(fieldIDNumber, in.IDNumber), s.box.Index(fieldIDNumber, in.IDNumber),
			s.box.Seal(fieldPhone, in.Phone), strings.Join(in.Skills, ","), in.Availability, string(st), verifiedBy(ctx, st), verifiedAt, now, pl.AreaID, pl.AreaPath).Scan(&id)
		if db.IsUnique(err) {
			return errs.TakenOnField("id_number", "err.volunteer.already_registered")
		}
		if err != nil {
			return err
		}
		number := fmt.Sprintf("V%s-%06d", pl.Community, id)
		if _, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteers SET number = $1 WHERE id = $2", number, id); err != nil {
			return err
		}
		return s.record(ctx, "register", "volunteer", id, string(st))
	})
	if err != nil {
		return Volunteer{}, err
	}
	return s.loadVolunteer(ctx, id)
}

func verifiedBy(ctx context.Context, st Status) any {
	if st != Verified {
		return nil
	}
	return userOf(ctx)
}

const volunteerCols = `v.id, v.area_id, v.area_path, v.number, COALESCE(v.resident_id, 0), COALESCE(v.user_id, 0), COALESCE(v.org_id, 0),
	v.name, v.id_type, v.id_enc, v.phone_enc, v.skills, v.availability, v.status, v.verified_at, v.minutes, v.points,
	(SELECT COUNT(*) FROM volunteer_stars st WHERE st.volunteer_id = v.id AND st.awarded_at IS NOT NULL AND st.withdrawn = ''), v.created_at,
	v.community_id, v.community_path`

func (s *Service) scanVolunteer(r db.Scanner) (Volunteer, error) {
	var v Volunteer
	var idEnc, phoneEnc, skills string
	var verified sql.NullTime
	err := r.Scan(&v.ID, &v.AreaID, &v.AreaPath, &v.Number, &v.ResidentID, &v.UserID, &v.OrgID, &v.Name, &v.IDType, &idEnc, &phoneEnc,
		&skills, &v.Availability, &v.Status, &verified, &v.Minutes, &v.Points, &v.Stars, &v.CreatedAt, &v.communityID, &v.communityPath)
	if err != nil {
		return Volunteer{}, err
	}
	if len(v.Number) > 13 {
		v.Community = v.Number[1:13]
	}
	if verified.Valid {
		v.VerifiedAt = &verified.Time
	}
	v.Skills = cleanList([]string{skills})
	if v.Skills == nil {
		v.Skills = []string{}
	}
	id, _ := s.box.Open(fieldIDNumber, idEnc)
	v.IDNumber = crypto.MaskID(id)
	phone, _ := s.box.Open(fieldPhone, phoneEnc)
	v.Phone = crypto.MaskPhone(phone)
	return v, nil
}

// loadVolunteer reads a volunteer without checking the caller.
func (s *Service) loadVolunteer(ctx context.Context, id int64) (Volunteer, error) {
	v, err := s.scanVolunteer(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+volunteerCols+" FROM volunteers v WHERE v.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Volunteer{}, errs.E(errs.NotFound, "err.volunteer.volunteer_not_found", id)
	}
	return v, err
}

// volunteerFor loads a volunteer the caller may use perm on; a volunteer
// may always read their own record.
func (s *Service) volunteerFor(ctx context.Context, id int64, perm auth.Perm) (Volunteer, error) {
	p := auth.From(ctx)
	if p == nil {
		return Volunteer{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	v, err := s.loadVolunteer(ctx, id)
	if err != nil {
		return Volunteer{}, err
	}
	if perm == auth.VolunteerRead && p.UserID != 0 && v.UserID == p.UserID {
		return v, nil
	}
	return v, auth.Allowed(p, perm, v.AreaPath, outOfScope)
}

// Volunteer returns a volunteer (masked).
func (s *Service) Volunteer(ctx context.Context, id int64) (Volunteer, error) {
	return s.volunteerFor(ctx, id, auth.VolunteerRead)
}

// Me returns the logged-in user's volunteer record, NotFound when they
// have not registered.
func (s *Service) Me(ctx context.Context) (Volunteer, error) {
	p, err := caller(ctx)
	if err != nil {
		return Volunteer{}, err
	}
	v, err := s.scanVolunteer(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+volunteerCols+" FROM volunteers v WHERE v.user_id = $1", p.UserID))
	if errors.Is(err, sql.ErrNoRows) {
		return Volunteer{}, errs.E(errs.NotFound, "err.volunteer.not_registered")
	}
	return v, err
}

// VolunteerQuery selects volunteers.
type VolunteerQuery struct {
	Community string
	Status    Status
	Skill     string
	Limit     int
}

// Volunteers lists the volunteers the caller may see.
func (s *Service) Volunteers(ctx context.Context, q VolunteerQuery) ([]Volunteer, error) {
	p, err := auth.Require(ctx, auth.VolunteerRead)
	if err != nil {
		return nil, err
	}
	cond, args := p.Filter(auth.VolunteerRead, "v.area_id", 1)
	where := []string{cond}
	if q.Status != "" {
		args = append(args, string(q.Status))
		where = append(where, fmt.Sprintf("v.status = $%d", len(args)))
	}
	if q.Community != "" {
		args = append(args, "V"+q.Community+"%")
		where = append(where, fmt.Sprintf("v.number LIKE $%d", len(args)))
	}
	if q.Skill != "" {
		args = append(args, "%"+q.Skill+"%")
		where = append(where, fmt.Sprintf("v.skills LIKE $%d", len(args)))
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 200
	}
	return db.All(ctx, s.db.Q(ctx), s.scanVolunteer, "SELECT "+volunteerCols+" FROM volunteers v WHERE "+strings.Join(where, " AND ")+
		fmt.Sprintf(" ORDER BY v.id DESC LIMIT %d", q.Limit), args...)
}

// Verify marks a pending registration verified (or suspends one) after
// staff checked it.
func (s *Service) Verify(ctx context.Context, id int64, st Status) (Volunteer, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Volunteer{}, err
	}
	if st != Verified && st != Suspended {
		return Volunteer{}, errs.OnField("status", "err.volunteer.verify_status")
	}
	err := s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.volunteerFor(ctx, id, auth.VolunteerManage); err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteers SET status = $1, verified_by = $2, verified_at = $3 WHERE id = $4",
			string(st), userOf(ctx), s.now().UTC(), id); err != nil {
			return err
		}
		return s.record(ctx, "verify", "volunteer", id, string(st))
	})
	if err != nil {
		return Volunteer{}, err
	}
	return s.loadVolunteer(ctx, id)
}

// Team is a volunteer team, with its service brand (品牌项目) if it has one.
type Team struct {
	ID int64 `json:"id"`
	placed
	OrgID       int64  `json:"org_id,omitempty"`
	Name        string `json:"name"`
	Brand       string `json:"brand,omitempty"`
	Description string `json:"description,omitempty"`
	Members     int    `json:"members"`
}

// TeamInput creates a team.
type TeamInput struct {
	Community   string `json:"community"`
	OrgID       int64  `json:"org_id"`
	Name        string `json:"name"`
	Brand       string `json:"brand"`
	Description string `json:"description"`
}

// CreateTeam creates a team in a community.
func (s *Service) CreateTeam(ctx context.Context, in TeamInput) (Team, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Team{}, err
	}
	in.Name, in.Brand, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Brand), strings.TrimSpace(in.Description)
	var v errs.Validation
	v.Check(in.Name != "" && textOK(in.Name, 60), "name", "err.volunteer.team_name")
	v.Check(textOK(in.Brand, 60), "brand", "err.volunteer.brand")
	v.Check(textOK(in.Description, 1000), "description", "err.volunteer.description")
	if err := v.Err(); err != nil {
		return Team{}, err
	}
	t := Team{Name: in.Name, Brand: in.Brand, Description: in.Description, OrgID: in.OrgID}
	err := s.db.Write(ctx, func(ctx context.Context) error {
		pl, err := s.community(ctx, in.Community, auth.VolunteerManage)
		if err != nil {
			return err
		}
		t.placed = pl
		if in.OrgID != 0 {
			if _, err := s.orgFor(ctx, in.OrgID, auth.VolunteerManage); err != nil {
				return errs.OnField("org_id", "err.volunteer.org_unknown", in.OrgID)
			}
		}
		err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO volunteer_teams (area_id, area_path, org_id, name, brand, description, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, pl.AreaID, pl.AreaPath, nullID(in.OrgID), in.Name, in.Brand, in.Description,
			s.now().UTC()).Scan(&t.ID)
		if db.IsUnique(err) {
			return errs.TakenOnField("name", "err.volunteer.team_taken", in.Name)
		}
		if err != nil {
			return err
		}
		return s.record(ctx, "team.create", "volunteer_team", t.ID, "")
	})
	return t, err
}

// JoinTeam adds a volunteer of the team's community to the team.
func (s *Service) JoinTeam(ctx context.Context, teamID, volunteerID int64) error {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		var path string
		err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT area_path FROM volunteer_teams WHERE id = $1", teamID).Scan(&path)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "err.volunteer.team_not_found", teamID)
		}
		if err != nil {
			return err
		}
		if err := auth.Allowed(auth.From(ctx), auth.VolunteerManage, path, outOfScope); err != nil {
			return err
		}
		if _, err := s.volunteerFor(ctx, volunteerID, auth.VolunteerManage); err != nil {
			return errs.OnField("volunteer_id", "err.volunteer.volunteer_unknown", volunteerID)
		}
		_, err = s.db.Q(ctx).ExecContext(ctx, "INSERT INTO volunteer_team_members (team_id, volunteer_id, joined_at) VALUES ($1, $2, $3)",
			teamID, volunteerID, s.now().UTC())
		if db.IsUnique(err) {
			return errs.TakenOnField("volunteer_id", "err.volunteer.team_member")
		}
		if err != nil {
			return err
		}
		return s.record(ctx, "team.join", "volunteer_team", teamID, fmt.Sprint(volunteerID))
	})
}

// Teams lists the teams the caller may see.
func (s *Service) Teams(ctx context.Context) ([]Team, error) {
	p, err := auth.Require(ctx, auth.VolunteerRead)
	if err != nil {
		return nil, err
	}
	cond, args := p.Filter(auth.VolunteerRead, "t.area_id", 1)
	return db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (Team, error) {
		var t Team
		return t, r.Scan(&t.ID, &t.AreaID, &t.AreaPath, &t.Community, &t.OrgID, &t.Name, &t.Brand, &t.Description, &t.Members)
	}, `SELECT t.id, t.area_id, t.area_path, a.code, COALESCE(t.org_id, 0), t.name, t.brand, t.description,
		(SELECT COUNT(*) FROM volunteer_team_members m WHERE m.team_id = t.id)
		FROM volunteer_teams t JOIN areas a ON a.id = t.area_id WHERE `+cond+" ORDER BY a.code, t.name LIMIT 500", args...)
}

package volunteer

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/idcard"
)

// OrgKind is the kind of a community social organisation (社会组织), or the
// community party organisation (社区党组织).
type OrgKind string

const (
	PublicService OrgKind = "public_service" // 公益服务
	SocialAffairs OrgKind = "social_affairs" // 社会事务
	CultureSports OrgKind = "culture_sports" // 文体健身
	Charity       OrgKind = "charity"        // 慈善救助
	LegalRights   OrgKind = "legal_rights"   // 法律维权
	Party         OrgKind = "party"          // 社区党组织, one per community
)

// SocialKinds are the five kinds every community should have.
var SocialKinds = []OrgKind{PublicService, SocialAffairs, CultureSports, Charity, LegalRights}

// OrgStatus is how far an organisation is on its way to registration.
type OrgStatus string

const (
	Incubating OrgStatus = "incubating" // 培育中
	Filed      OrgStatus = "filed"      // 备案
	Registered OrgStatus = "registered" // 登记
)

var orgStatuses = []OrgStatus{Incubating, Filed, Registered}

// Org is an organisation. Contact is masked.
type Org struct {
	ID int64 `json:"id"`
	placed
	Name        string    `json:"name"`
	Kind        OrgKind   `json:"kind"`
	Status      OrgStatus `json:"status"`
	Leader      string    `json:"leader"`
	Contact     string    `json:"contact,omitempty"`
	Founded     string    `json:"founded,omitempty"`
	Description string    `json:"description,omitempty"`
	Members     []Member  `json:"members,omitempty"` // on Org only
	Reviews     []Review  `json:"reviews,omitempty"` // on Org only
	CreatedAt   time.Time `json:"created_at"`
}

// OrgInput creates an organisation.
type OrgInput struct {
	Community   string    `json:"community"`
	Name        string    `json:"name"`
	Kind        OrgKind   `json:"kind"`
	Status      OrgStatus `json:"status"`
	Leader      string    `json:"leader"`
	Contact     string    `json:"contact"`
	Founded     string    `json:"founded"`
	Description string    `json:"description"`
}

func (in *OrgInput) validate() error {
	in.Name, in.Leader, in.Founded = strings.TrimSpace(in.Name), strings.TrimSpace(in.Leader), strings.TrimSpace(in.Founded)
	in.Description = strings.TrimSpace(in.Description)
	if in.Status == "" {
		in.Status = Incubating
	}
	var v errs.Validation
	v.Check(in.Name != "" && textOK(in.Name, 60), "name", "err.volunteer.org_name")
	v.Check(slices.Contains(SocialKinds, in.Kind) || in.Kind == Party, "kind", "err.volunteer.org_kind", string(in.Kind))
	v.Check(slices.Contains(orgStatuses, in.Status), "status", "err.volunteer.org_status", string(in.Status))
	v.Check(textOK(in.Leader, 30), "leader", "err.volunteer.person_name")
	v.Check(in.Founded == "" || validDate(in.Founded), "founded", "err.volunteer.date")
	v.Check(textOK(in.Description, 1000), "description", "err.volunteer.description")
	if strings.TrimSpace(in.Contact) != "" {
		phone, _, err := idcard.Phone(in.Contact)
		v.Check(err == nil, "contact", "err.volunteer.phone")
		in.Contact = phone
	}
	return v.Err()
}

func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// CreateOrg registers an organisation in a community. A second party
// organisation, or a name taken in the community, is a conflict.
func (s *Service) CreateOrg(ctx context.Context, in OrgInput) (Org, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Org{}, err
	}
	if err := in.validate(); err != nil {
		return Org{}, err
	}
	var id int64
	err := s.db.Write(ctx, func(ctx context.Context) error {
		pl, err := s.community(ctx, in.Community, auth.VolunteerManage)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO volunteer_orgs (area_id, area_path, name, kind, status, leader, contact_enc, founded, description, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`, pl.AreaID, pl.AreaPath, in.Name, string(in.Kind), string(in.Status),
			in.Leader, s.box.Seal(fieldOrgContact, in.Contact), in.Founded, in.Description, now).Scan(&id)
		if db.IsUnique(err) && in.Kind == Party {
			return errs.TakenOnField("kind", "err.volunteer.party_exists")
		}
		if db.IsUnique(err) {
			return errs.TakenOnField("name", "err.volunteer.org_taken", in.Name)
		}
		if err != nil {
			return err
		}
		return s.record(ctx, "org.create", "volunteer_org", id, string(in.Kind))
	})
	if err != nil {
		return Org{}, err
	}
	return s.Org(ctx, id)
}

const orgCols = `o.id, o.area_id, o.area_path, a.code, o.name, o.kind, o.status, o.leader, o.contact_enc, o.founded, o.description, o.created_at`

func (s *Service) scanOrg(r db.Scanner) (Org, error) {
	var o Org
	var contact string
	err := r.Scan(&o.ID, &o.AreaID, &o.AreaPath, &o.Community, &o.Name, &o.Kind, &o.Status, &o.Leader, &contact, &o.Founded, &o.Description, &o.CreatedAt)
	if err != nil {
		return Org{}, err
	}
	if phone, err := s.box.Open(fieldOrgContact, contact); err == nil {
		o.Contact = crypto.MaskPhone(phone)
	}
	return o, nil
}

// Org returns an organisation with its members and reviews.
func (s *Service) Org(ctx context.Context, id int64) (Org, error) {
	o, err := s.orgFor(ctx, id, auth.VolunteerRead)
	if err != nil {
		return Org{}, err
	}
	if o.Members, err = db.All(ctx, s.db.Q(ctx), scanMember, `SELECT id, org_id, COALESCE(volunteer_id, 0), name, role, party, workplace, commitment, joined_on
		FROM volunteer_org_members WHERE org_id = $1 ORDER BY role, id`, id); err != nil {
		return Org{}, err
	}
	o.Reviews, err = db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (Review, error) {
		var v Review
		return v, r.Scan(&v.Year, &v.Result, &v.Note, &v.ReviewedAt)
	}, `SELECT year, result, note, reviewed_at FROM volunteer_org_reviews WHERE org_id = $1 ORDER BY year DESC`, id)
	return o, err
}

// orgFor loads an organisation the caller may use perm on.
func (s *Service) orgFor(ctx context.Context, id int64, perm auth.Perm) (Org, error) {
	if _, err := auth.Require(ctx, perm); err != nil {
		return Org{}, err
	}
	o, err := s.scanOrg(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+orgCols+" FROM volunteer_orgs o JOIN areas a ON a.id = o.area_id WHERE o.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Org{}, errs.E(errs.NotFound, "err.volunteer.org_not_found", id)
	}
	if err != nil {
		return Org{}, err
	}
	if err := auth.Allowed(auth.From(ctx), perm, o.AreaPath, outOfScope); err != nil {
		return Org{}, err
	}
	return o, nil
}

// Orgs lists the organisations the caller may see, by community and name.
func (s *Service) Orgs(ctx context.Context) ([]Org, error) {
	p, err := auth.Require(ctx, auth.VolunteerRead)
	if err != nil {
		return nil, err
	}
	cond, args := p.Filter(auth.VolunteerRead, "o.area_id", 1)
	return db.All(ctx, s.db.Q(ctx), s.scanOrg, "SELECT "+orgCols+" FROM volunteer_orgs o JOIN areas a ON a.id = o.area_id WHERE "+cond+
		" ORDER BY a.code, o.kind = 'party' DESC, o.name LIMIT 500", args...)
}

// Member is a member of an organisation; of the party organisation, a
// party member living in the community or registered here from work (双报到).
type Member struct {
	ID          int64  `json:"id"`
	OrgID       int64  `json:"org_id"`
	VolunteerID int64  `json:"volunteer_id,omitempty"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	Party       string `json:"party,omitempty"`
	Workplace   string `json:"workplace,omitempty"`
	Commitment  string `json:"commitment,omitempty"`
	JoinedOn    string `json:"joined_on"`
}

func scanMember(r db.Scanner) (Member, error) {
	var m Member
	return m, r.Scan(&m.ID, &m.OrgID, &m.VolunteerID, &m.Name, &m.Role, &m.Party, &m.Workplace, &m.Commitment, &m.JoinedOn)
}

// MemberInput adds a member. Party is required in the party organisation
// ("resident" or "in_service", the latter with a workplace) and not
// allowed elsewhere.
type MemberInput struct {
	VolunteerID int64  `json:"volunteer_id"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	Party       string `json:"party"`
	Workplace   string `json:"workplace"`
	Commitment  string `json:"commitment"`
	JoinedOn    string `json:"joined_on"`
}

func (in *MemberInput) validate(kind OrgKind, today string) error {
	in.Name, in.Workplace, in.Commitment = strings.TrimSpace(in.Name), strings.TrimSpace(in.Workplace), strings.TrimSpace(in.Commitment)
	if in.Role == "" {
		in.Role = "member"
	}
	if in.JoinedOn == "" {
		in.JoinedOn = today
	}
	var v errs.Validation
	v.Check(in.Name != "" && textOK(in.Name, 30), "name", "err.volunteer.person_name")
	v.Check(in.Role == "leader" || in.Role == "member", "role", "err.volunteer.member_role", in.Role)
	if kind == Party {
		v.Check(in.Party == "resident" || in.Party == "in_service", "party", "err.volunteer.party_type")
		v.Check(in.Party != "in_service" || in.Workplace != "", "workplace", "err.volunteer.workplace")
	} else {
		v.Check(in.Party == "", "party", "err.volunteer.party_only")
	}
	v.Check(textOK(in.Workplace, 60), "workplace", "err.volunteer.workplace")
	v.Check(textOK(in.Commitment, 200), "commitment", "err.volunteer.commitment")
	v.Check(validDate(in.JoinedOn) && in.JoinedOn <= today, "joined_on", "err.volunteer.date")
	return v.Err()
}

// AddMember adds a member (or a leader) to an organisation.
func (s *Service) AddMember(ctx context.Context, orgID int64, in MemberInput) (Member, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Member{}, err
	}
	var m Member
	err := s.db.Write(ctx, func(ctx context.Context) error {
		o, err := s.orgFor(ctx, orgID, auth.VolunteerManage)
		if err != nil {
			return err
		}
		if err := in.validate(o.Kind, s.today()); err != nil {
			return err
		}
		if in.VolunteerID != 0 {
			if _, err := s.volunteerFor(ctx, in.VolunteerID, auth.VolunteerRead); err != nil {
				return errs.OnField("volunteer_id", "err.volunteer.volunteer_unknown", in.VolunteerID)
			}
		}
		err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO volunteer_org_members (org_id, volunteer_id, name, role, party, workplace, commitment, joined_on, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, orgID, nullID(in.VolunteerID), in.Name, in.Role, in.Party,
			in.Workplace, in.Commitment, in.JoinedOn, s.now().UTC()).Scan(&m.ID)
		if err != nil {
			return err
		}
		m = Member{ID: m.ID, OrgID: orgID, VolunteerID: in.VolunteerID, Name: in.Name, Role: in.Role, Party: in.Party,
			Workplace: in.Workplace, Commitment: in.Commitment, JoinedOn: in.JoinedOn}
		return s.record(ctx, "org.member", "volunteer_org", orgID, in.Role)
	})
	return m, err
}

// Review is an organisation's yearly review (年度评估).
type Review struct {
	Year       int       `json:"year"`
	Result     string    `json:"result"`
	Note       string    `json:"note,omitempty"`
	ReviewedAt time.Time `json:"reviewed_at"`
}

// ReviewOrg records the review of a year, once per year, for a year that
// has begun.
func (s *Service) ReviewOrg(ctx context.Context, orgID int64, in Review) error {
	// Whoever may not review the organisation is told so before what is
	// wrong with the review; the transaction checks again.
	if _, err := s.orgFor(ctx, orgID, auth.VolunteerManage); err != nil {
		return err
	}
	in.Note = strings.TrimSpace(in.Note)
	var v errs.Validation
	v.Check(in.Year >= 2000 && in.Year <= s.now().Year(), "year", "err.volunteer.review_year", s.now().Year())
	v.Check(slices.Contains([]string{"excellent", "qualified", "unqualified"}, in.Result), "result", "err.volunteer.review_result")
	v.Check(textOK(in.Note, 500), "note", "err.volunteer.description")
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.orgFor(ctx, orgID, auth.VolunteerManage); err != nil {
			return err
		}
		_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO volunteer_org_reviews (org_id, year, result, note, reviewed_by, reviewed_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, orgID, in.Year, in.Result, in.Note, userOf(ctx), s.now().UTC())
		if db.IsUnique(err) {
			return errs.TakenOnField("year", "err.volunteer.review_taken", in.Year)
		}
		if err != nil {
			return err
		}
		return s.record(ctx, "org.review", "volunteer_org", orgID, in.Result)
	})
}

// Gap is a community and the kinds of social organisation it lacks.
type Gap struct {
	Community string    `json:"community"`
	Name      string    `json:"name"`
	Missing   []OrgKind `json:"missing"`
	HasParty  bool      `json:"has_party"`
}

// MissingKinds lists, for each community the caller may see, the kinds of
// social organisation it has none of, and whether its party organisation
// is recorded.
func (s *Service) MissingKinds(ctx context.Context) ([]Gap, error) {
	p, err := auth.Require(ctx, auth.VolunteerRead)
	if err != nil {
		return nil, err
	}
	communities, err := s.areas.List(ctx, area.ListQuery{Level: area.Community, Limit: 500})
	if err != nil {
		return nil, err
	}
	cond, args := p.Filter(auth.VolunteerRead, "area_id", 1)
	type present struct {
		areaID int64
		kind   OrgKind
	}
	rows, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (present, error) {
		var x present
		return x, r.Scan(&x.areaID, &x.kind)
	}, "SELECT DISTINCT area_id, kind FROM volunteer_orgs WHERE "+cond, args...)
	if err != nil {
		return nil, err
	}
	var out []Gap
	for _, c := range communities {
		if !p.Can(auth.VolunteerRead, c.Path) {
			continue
		}
		g := Gap{Community: c.Code, Name: c.Name, Missing: []OrgKind{}}
		for _, k := range append(slices.Clone(SocialKinds), Party) {
			has := slices.Contains(rows, present{c.ID, k})
			if k == Party {
				g.HasParty = has
			} else if !has {
				g.Missing = append(g.Missing, k)
			}
		}
		out = append(out, g)
	}
	return out, nil
}

func (s *Service) today() string {
	return s.now().In(chinaTime).Format(time.DateOnly)
}

// chinaTime is the zone dates are written in (China has one).
var chinaTime = time.FixedZone("CST", 8*3600)

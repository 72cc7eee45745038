package assess

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Certificate is an entry of the certificate list (证明事项清单): one a
// community may issue, or one it must not, with why and where to go.
type Certificate struct {
	Code     string `json:"code"`
	Street   string `json:"street,omitempty"` // "" for the national / default list
	Allowed  bool   `json:"allowed"`
	NameZh   string `json:"name_zh"`
	NameEn   string `json:"name_en"`
	ReasonZh string `json:"reason_zh,omitempty"`
	ReasonEn string `json:"reason_en,omitempty"`
	OfficeZh string `json:"office_zh,omitempty"` // the office that issues it instead
	OfficeEn string `json:"office_en,omitempty"`
	path     string
}

// Verdict is the answer to "may this community issue this certificate?".
// Anything not on an allowed list is refused: proofs need a legal basis
// (民发〔2020〕20号), so the list is a whitelist.
type Verdict struct {
	Allowed     bool         `json:"allowed"`
	Certificate *Certificate `json:"certificate,omitempty"` // the entry that decided, if any
	Key         string       `json:"key"`                   // message key of the verdict
}

const certCols = `SELECT c.code, COALESCE(a.code, ''), c.allowed, c.name_zh, c.name_en, c.reason_zh, c.reason_en, c.office_zh, c.office_en, c.area_path
	FROM assess_certificates c LEFT JOIN areas a ON c.area_path <> '' AND a.path = c.area_path `

func scanCert(r db.Scanner) (Certificate, error) {
	var c Certificate
	err := r.Scan(&c.Code, &c.Street, &c.Allowed, &c.NameZh, &c.NameEn, &c.ReasonZh, &c.ReasonEn, &c.OfficeZh, &c.OfficeEn, &c.path)
	return c, err
}

// CheckCertificate says whether a community (its area path) may issue a
// certificate, named by code or by its Chinese or English name. The
// national "must not" list wins over any local entry; a local entry
// (the street's, the district's) wins over the default list. It checks
// no permission: it reads public rules, for the service catalog, the desk
// and other modules.
func (s *Service) CheckCertificate(ctx context.Context, communityPath, name string) (Verdict, error) {
	name = strings.TrimSpace(name)
	paths := append([]string{""}, ancestors(communityPath)...)
	paths = append(paths, communityPath)
	args := []any{name}
	in := ""
	for i, p := range paths {
		args = append(args, p)
		if i > 0 {
			in += ", "
		}
		in += "$" + strconv.Itoa(len(args))
	}
	rows, err := db.All(ctx, s.db.Q(ctx), scanCert, certCols+`WHERE (c.code = $1 OR c.name_zh = $1 OR lower(c.name_en) = lower($1))
		AND c.area_path IN (`+in+`) ORDER BY length(c.area_path) DESC`, args...)
	if err != nil {
		return Verdict{}, err
	}
	for _, c := range rows {
		if !c.Allowed && c.path == "" {
			return Verdict{Allowed: false, Certificate: &c, Key: "assess.cert.refused"}, nil
		}
	}
	if len(rows) == 0 {
		return Verdict{Allowed: false, Key: "assess.cert.not_listed"}, nil
	}
	c := rows[0]
	if c.Allowed {
		return Verdict{Allowed: true, Certificate: &c, Key: "assess.cert.allowed"}, nil
	}
	return Verdict{Allowed: false, Certificate: &c, Key: "assess.cert.refused"}, nil
}

// Certificates lists the entries that apply under the caller's areas.
func (s *Service) Certificates(ctx context.Context) ([]Certificate, error) {
	p, err := auth.Require(ctx, auth.AssessRead)
	if err != nil {
		return nil, err
	}
	cond, args := relatedFilter(p, "c.area_path", 1, auth.AssessRead)
	return db.All(ctx, s.db.Q(ctx), scanCert, certCols+"WHERE c.area_path = '' OR "+cond+" ORDER BY c.allowed DESC, c.area_path, c.code", args...)
}

// CertificateInput is a street's own entry.
type CertificateInput struct {
	Street   string `json:"street"`
	Code     string `json:"code"`
	Allowed  bool   `json:"allowed"`
	NameZh   string `json:"name_zh"`
	NameEn   string `json:"name_en"`
	ReasonZh string `json:"reason_zh"`
	ReasonEn string `json:"reason_en"`
	OfficeZh string `json:"office_zh"`
	OfficeEn string `json:"office_en"`
}

var certCode = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// SaveCertificate adds or replaces a street's entry. A certificate on the
// national "must not" list cannot be allowed locally. Errors: Invalid,
// Forbidden.
func (s *Service) SaveCertificate(ctx context.Context, in CertificateInput) (Certificate, error) {
	if _, err := auth.Require(ctx, auth.AssessManage); err != nil {
		return Certificate{}, err
	}
	var v errs.Validation
	in.Code = strings.TrimSpace(in.Code)
	v.Check(certCode.MatchString(in.Code), "code", "err.assess.cert_code")
	text(&v, "name_zh", &in.NameZh, 100)
	text(&v, "name_en", &in.NameEn, 200)
	for field, p := range map[string]*string{"reason_zh": &in.ReasonZh, "reason_en": &in.ReasonEn, "office_zh": &in.OfficeZh, "office_en": &in.OfficeEn} {
		optional(&v, field, p, 500)
	}
	if !in.Allowed {
		text(&v, "office_zh", &in.OfficeZh, 500)
	}
	if err := v.Err(); err != nil {
		return Certificate{}, err
	}
	st, err := s.areaAt(ctx, in.Street, "street", auth.AssessManage, area.Street, area.District)
	if err != nil {
		return Certificate{}, err
	}
	if in.Allowed {
		if verdict, err := s.CheckCertificate(ctx, st.Path, in.Code); err != nil {
			return Certificate{}, err
		} else if verdict.Certificate != nil && !verdict.Certificate.Allowed && verdict.Certificate.path == "" {
			return Certificate{}, errs.OnField("code", "err.assess.cert_national", in.Code)
		}
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO assess_certificates (code, area_path, allowed, name_zh, name_en, reason_zh, reason_en, office_zh, office_en)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (area_path, code) DO UPDATE SET allowed = excluded.allowed, name_zh = excluded.name_zh, name_en = excluded.name_en,
			reason_zh = excluded.reason_zh, reason_en = excluded.reason_en, office_zh = excluded.office_zh, office_en = excluded.office_en`,
			in.Code, st.Path, in.Allowed, in.NameZh, in.NameEn, in.ReasonZh, in.ReasonEn, in.OfficeZh, in.OfficeEn)
		if err != nil {
			return err
		}
		return s.record(ctx, "assess.certificate.save", "assess_certificate", st.ID, in.Code)
	})
	if err != nil {
		return Certificate{}, errs.Wrap(err, "err.internal")
	}
	c, err := scanCert(s.db.Q(ctx).QueryRowContext(ctx, certCols+"WHERE c.area_path = $1 AND c.code = $2", st.Path, in.Code))
	if errors.Is(err, sql.ErrNoRows) {
		return Certificate{}, errs.E(errs.NotFound, "err.assess.not_found")
	}
	return c, err
}

// CheckCommunityCertificate is CheckCertificate for a community named by
// its code, for any logged-in caller: the rules are public. Errors:
// Invalid (no such community, no name), Unauthenticated.
func (s *Service) CheckCommunityCertificate(ctx context.Context, community, name string) (Verdict, error) {
	if auth.From(ctx) == nil {
		return Verdict{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	var v errs.Validation
	text(&v, "name", &name, 100)
	if err := v.Err(); err != nil {
		return Verdict{}, err
	}
	c, err := s.areaAt(authSystem(ctx), community, "community", auth.AreaRead, area.Community)
	if err != nil {
		return Verdict{}, err
	}
	return s.CheckCertificate(ctx, c.Path, name)
}

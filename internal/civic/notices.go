package civic

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/errs"
)

// Categories of disclosure (公开类别), after 村民委员会组织法 Art. 30 and
// residents' committee practice.
var Categories = []string{"finances", "subsidies", "decisions", "services", "work_plans", "evaluations"}

// Limits of a notice's attachments.
const (
	MaxAttachments     = 5
	MaxAttachmentBytes = 2 << 20
	maxRecipients      = 500
)

// attachmentTypes are what a notice board shows: scans and PDFs.
var attachmentTypes = []string{"application/pdf", "image/jpeg", "image/png"}

// NoticeInput is what publishing or correcting a notice takes.
type NoticeInput struct {
	Community   string            `json:"community"`
	Category    string            `json:"category"`
	Title       string            `json:"title"`
	Body        string            `json:"body"`
	PeriodFrom  string            `json:"period_from"`
	PeriodTo    string            `json:"period_to"`
	TopicID     int64             `json:"topic_id"`
	Recipients  []RecipientInput  `json:"recipients"`
	Attachments []AttachmentInput `json:"attachments"`
	Reason      string            `json:"reason"` // corrections only: what was wrong
}

// RecipientInput is one line of a subsidy list as staff enter it; only its
// masked form is stored.
type RecipientInput struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	People   int    `json:"people"`
	Amount   string `json:"amount"`
}

// Recipient is a line of a subsidy list as published: name and ID masked
// (民政部 低保审核确认办法: publish without exposing personal data).
type Recipient struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	People   int    `json:"people"`
	Amount   string `json:"amount"`
}

// AttachmentInput is a file sent with a notice (JSON carries it in base64).
type AttachmentInput struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// Attachment is a stored file's description; its bytes are served apart.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	SHA256      string `json:"sha256"`
}

// Version is one version of a notice, as stored and chained.
type Version struct {
	ID          int64        `json:"id"`
	Community   string       `json:"community"`
	AreaPath    string       `json:"-"`
	Seq         int64        `json:"seq"`
	NoticeNo    int64        `json:"notice_no"`
	Version     int          `json:"version"`
	Category    string       `json:"category"`
	Title       string       `json:"title"`
	Body        string       `json:"body"`
	PeriodFrom  string       `json:"period_from,omitempty"`
	PeriodTo    string       `json:"period_to,omitempty"`
	TopicID     int64        `json:"topic_id,omitempty"`
	Recipients  []Recipient  `json:"recipients,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Publisher   string       `json:"publisher"`
	PublishedAt time.Time    `json:"published_at"`
	PrevHash    string       `json:"prev_hash"`
	Hash        string       `json:"hash"`

	recipientsJSON, attachmentsJSON string
}

var (
	dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	// What looks like an ID or mobile number in free text: personal data
	// belongs in the recipients list, which masks it.
	idInTextRE    = regexp.MustCompile(`\d{17}[\dXx]`)
	phoneInTextRE = regexp.MustCompile(`(^|\D)1[3-9]\d{9}($|\D)`)
	amountRE      = regexp.MustCompile(`^\d{1,9}(\.\d{1,2})?$`)
)

// validate checks a notice's fields and returns its recipients masked and
// its attachments described.
func (in *NoticeInput) validate(correction bool) ([]Recipient, []Attachment, error) {
	var v errs.Validation
	if !correction {
		v.Check(slices.Contains(Categories, in.Category), "category", "err.civic.category", in.Category)
	}
	text(&v, "title", &in.Title, 100)
	text(&v, "body", &in.Body, 20000)
	v.Check(!idInTextRE.MatchString(in.Body) && !phoneInTextRE.MatchString(in.Body), "body", "err.civic.personal_data")
	checkPeriod(&v, in.PeriodFrom, in.PeriodTo)
	v.Check(in.TopicID >= 0, "topic_id", "err.civic.bad_id")
	if correction {
		text(&v, "reason", &in.Reason, 500)
	}
	recips := in.recipients(&v)
	atts := in.attachments(&v)
	return recips, atts, v.Err()
}

func checkPeriod(v *errs.Validation, from, to string) {
	okDate := func(s string) bool {
		if s == "" {
			return true
		}
		_, err := time.Parse("2006-01-02", s)
		return dateRE.MatchString(s) && err == nil
	}
	v.Check(okDate(from), "period_from", "err.civic.date")
	v.Check(okDate(to), "period_to", "err.civic.date")
	v.Check(from == "" || to == "" || from <= to, "period_to", "err.civic.period_order")
}

func (in *NoticeInput) recipients(v *errs.Validation) []Recipient {
	v.Check(len(in.Recipients) <= maxRecipients, "recipients", "err.civic.too_many_rows", maxRecipients)
	v.Check(len(in.Recipients) == 0 || in.Category == "subsidies" || in.Category == "", "recipients", "err.civic.recipients_category")
	out := make([]Recipient, 0, len(in.Recipients))
	for i, r := range in.Recipients {
		field := "recipients[" + itoa(int64(i)) + "]"
		name, id := strings.TrimSpace(r.Name), strings.ToUpper(strings.TrimSpace(r.IDNumber))
		v.Check(name != "" && utf8.RuneCountInString(name) <= 32, field+".name", "err.civic.required")
		v.Check(id == "" || idInTextRE.MatchString(id) && len(id) == 18, field+".id_number", "err.civic.id_number")
		v.Check(r.People >= 0 && r.People <= 50, field+".people", "err.civic.people")
		v.Check(r.Amount == "" || amountRE.MatchString(r.Amount), field+".amount", "err.civic.amount")
		out = append(out, Recipient{Name: crypto.MaskName(name), IDNumber: crypto.MaskID(id), People: r.People, Amount: r.Amount})
	}
	return out
}

func (in *NoticeInput) attachments(v *errs.Validation) []Attachment {
	v.Check(len(in.Attachments) <= MaxAttachments, "attachments", "err.civic.attachment_count", MaxAttachments)
	out := make([]Attachment, 0, len(in.Attachments))
	for i, a := range in.Attachments {
		field := "attachments[" + itoa(int64(i)) + "]"
		name := strings.TrimSpace(a.Name)
		ctype := http.DetectContentType(a.Data)
		v.Check(name != "" && utf8.RuneCountInString(name) <= 100 && !strings.ContainsAny(name, `/\`), field+".name", "err.civic.attachment_name")
		v.Check(len(a.Data) > 0, field+".data", "err.civic.attachment_empty")
		v.Check(len(a.Data) <= MaxAttachmentBytes, field+".data", "err.civic.attachment_size", MaxAttachmentBytes>>20)
		v.Check(len(a.Data) == 0 || slices.Contains(attachmentTypes, ctype), field+".data", "err.civic.attachment_type")
		sum := sha256.Sum256(a.Data)
		out = append(out, Attachment{Name: name, ContentType: ctype, Size: len(a.Data), SHA256: hex.EncodeToString(sum[:])})
	}
	return out
}

// Publish stores version 1 of a new notice and appends it to the
// community's chain.
func (s *Service) Publish(ctx context.Context, in NoticeInput) (Version, error) {
	p, err := auth.Require(ctx, auth.CivicPublish)
	if err != nil {
		return Version{}, err
	}
	recips, atts, err := in.validate(false)
	if err != nil {
		return Version{}, err
	}
	c, err := s.community(ctx, in.Community)
	if err != nil {
		return Version{}, err
	}
	if err := auth.Allowed(p, auth.CivicPublish, c.Path, outOfScope); err != nil {
		return Version{}, err
	}
	v := Version{Community: c.Code, AreaPath: c.Path, Version: 1, Category: in.Category, Title: in.Title, Body: in.Body,
		PeriodFrom: in.PeriodFrom, PeriodTo: in.PeriodTo, TopicID: in.TopicID, Recipients: recips, Attachments: atts, Publisher: actorName(p)}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.checkTopicRef(ctx, in.TopicID, c.Path); err != nil {
			return err
		}
		if err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT COALESCE(MAX(notice_no), 0) + 1 FROM civic_notice_versions WHERE area_id = $1",
			c.ID).Scan(&v.NoticeNo); err != nil {
			return err
		}
		return s.append(ctx, c.ID, &v, in.Attachments)
	})
	return v, err
}

// Correct publishes a new version of the notice whose version id is given;
// the category and notice number stay, the rest is the corrected content.
func (s *Service) Correct(ctx context.Context, versionID int64, in NoticeInput) (Version, error) {
	p, err := auth.Require(ctx, auth.CivicPublish)
	if err != nil {
		return Version{}, err
	}
	old, err := s.Version(ctx, versionID)
	if err != nil {
		return Version{}, err
	}
	in.Category = old.Category
	recips, atts, err := in.validate(true)
	if err != nil {
		return Version{}, err
	}
	if err := auth.Allowed(p, auth.CivicPublish, old.AreaPath, outOfScope); err != nil {
		return Version{}, err
	}
	c, err := s.community(ctx, old.Community)
	if err != nil {
		return Version{}, err
	}
	v := Version{Community: c.Code, AreaPath: c.Path, NoticeNo: old.NoticeNo, Category: old.Category, Title: in.Title, Body: in.Body,
		PeriodFrom: in.PeriodFrom, PeriodTo: in.PeriodTo, TopicID: in.TopicID, Recipients: recips, Attachments: atts,
		Reason: in.Reason, Publisher: actorName(p)}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.checkTopicRef(ctx, in.TopicID, c.Path); err != nil {
			return err
		}
		if err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT MAX(version) + 1 FROM civic_notice_versions WHERE area_id = $1 AND notice_no = $2",
			c.ID, old.NoticeNo).Scan(&v.Version); err != nil {
			return err
		}
		return s.append(ctx, c.ID, &v, in.Attachments)
	})
	return v, err
}

// append links v into the chain and stores it with its attachments and
// the audit row, in the caller's transaction.
func (s *Service) append(ctx context.Context, areaID int64, v *Version, files []AttachmentInput) error {
	seq, prev, err := s.nextLink(ctx, areaID)
	if err != nil {
		return err
	}
	v.Seq, v.PrevHash, v.PublishedAt = seq, prev, s.clock()
	v.recipientsJSON, v.attachmentsJSON = mustJSON(v.Recipients), mustJSON(v.Attachments)
	v.Hash = v.computeHash()
	err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO civic_notice_versions (area_id, area_path, community, seq, notice_no, version,
		category, title, body, period_from, period_to, topic_id, recipients, attachments, reason, publisher, published_at, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id`,
		areaID, v.AreaPath, v.Community, v.Seq, v.NoticeNo, v.Version, v.Category, v.Title, v.Body, v.PeriodFrom, v.PeriodTo,
		v.TopicID, v.recipientsJSON, v.attachmentsJSON, v.Reason, v.Publisher, v.PublishedAt, v.PrevHash, v.Hash).Scan(&v.ID)
	if err != nil {
		return err
	}
	for i, a := range v.Attachments {
		if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO civic_attachments (version_id, idx, name, content_type, size, sha256, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, v.ID, i, a.Name, a.ContentType, a.Size, a.SHA256, files[i].Data); err != nil {
			return err
		}
	}
	if err := s.setHead(ctx, areaID, v.Hash); err != nil {
		return err
	}
	return s.record(ctx, "notice.publish", "notice", v.ID, v.Community+" #"+itoa(v.NoticeNo)+" v"+itoa(int64(v.Version)))
}

// checkTopicRef checks that a notice's topic is one of its community's.
func (s *Service) checkTopicRef(ctx context.Context, topicID int64, path string) error {
	if topicID == 0 {
		return nil
	}
	var n int
	if err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM civic_topics WHERE id = $1 AND area_path = $2", topicID, path).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.OnField("topic_id", "err.civic.topic_unknown", topicID)
	}
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only slices of plain structs are marshalled
	}
	return string(b)
}

const versionCols = `SELECT v.id, v.community, v.area_path, v.seq, v.notice_no, v.version, v.category, v.title, v.body, v.period_from,
	v.period_to, v.topic_id, v.recipients, v.attachments, v.reason, v.publisher, v.published_at, v.prev_hash, v.hash
	FROM civic_notice_versions v `

func scanVersion(r interface{ Scan(...any) error }) (Version, error) {
	var v Version
	err := r.Scan(&v.ID, &v.Community, &v.AreaPath, &v.Seq, &v.NoticeNo, &v.Version, &v.Category, &v.Title, &v.Body, &v.PeriodFrom,
		&v.PeriodTo, &v.TopicID, &v.recipientsJSON, &v.attachmentsJSON, &v.Reason, &v.Publisher, &v.PublishedAt, &v.PrevHash, &v.Hash)
	if err != nil {
		return v, err
	}
	v.PublishedAt = v.PublishedAt.UTC()
	// A row edited into bad JSON still shows, and fails its hash.
	_ = json.Unmarshal([]byte(v.recipientsJSON), &v.Recipients)
	_ = json.Unmarshal([]byte(v.attachmentsJSON), &v.Attachments)
	return v, nil
}

func (s *Service) versions(ctx context.Context, where string, args ...any) ([]Version, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, versionCols+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Version returns one version of a notice. Notices are public.
func (s *Service) Version(ctx context.Context, id int64) (Version, error) {
	v, err := scanVersion(s.db.Q(ctx).QueryRowContext(ctx, versionCols+"WHERE v.id = $1", id))
	if isNoRows(err) {
		return Version{}, errs.E(errs.NotFound, "err.civic.notice_not_found", id)
	}
	return v, err
}

// History returns every version of the notice that version id belongs
// to, oldest first.
func (s *Service) History(ctx context.Context, id int64) ([]Version, error) {
	v, err := s.Version(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.versions(ctx, "WHERE v.community = $1 AND v.notice_no = $2 ORDER BY v.version", v.Community, v.NoticeNo)
}

// Notices returns the latest version of each notice of a community, newest
// first. Public.
func (s *Service) Notices(ctx context.Context, code string) ([]Version, error) {
	c, err := s.community(ctx, code)
	if err != nil {
		return nil, err
	}
	return s.versions(ctx, `WHERE v.area_id = $1 AND v.version = (SELECT MAX(l.version) FROM civic_notice_versions l
		WHERE l.area_id = v.area_id AND l.notice_no = v.notice_no) ORDER BY v.published_at DESC, v.id DESC`, c.ID)
}

// Current reports whether the notice's period has not ended at t.
func (v Version) Current(t time.Time) bool {
	return v.PeriodTo == "" || v.PeriodTo >= t.In(chinaTime).Format("2006-01-02")
}

// AttachmentData returns file idx of a notice version. Public, as its
// notice is.
func (s *Service) AttachmentData(ctx context.Context, versionID int64, idx int) (Attachment, []byte, error) {
	var a Attachment
	var data []byte
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT name, content_type, size, sha256, data FROM civic_attachments WHERE version_id = $1 AND idx = $2",
		versionID, idx).Scan(&a.Name, &a.ContentType, &a.Size, &a.SHA256, &data)
	if isNoRows(err) {
		return a, nil, errs.E(errs.NotFound, "err.civic.attachment_not_found", idx)
	}
	return a, data, err
}

// attachmentsIntact checks the stored files of v against the digests its
// hash covers: a swapped or removed file is a break too.
func (s *Service) attachmentsIntact(ctx context.Context, v Version) bool {
	rows, err := s.db.Q(ctx).QueryContext(ctx, "SELECT idx, data FROM civic_attachments WHERE version_id = $1 ORDER BY idx", v.ID)
	if err != nil {
		return false
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var idx int
		var data []byte
		if err := rows.Scan(&idx, &data); err != nil || idx != n || n >= len(v.Attachments) {
			return false
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != v.Attachments[n].SHA256 {
			return false
		}
		n++
	}
	return rows.Err() == nil && n == len(v.Attachments)
}

// China Standard Time, for dates people read and calendar periods.
var chinaTime = time.FixedZone("CST", 8*3600)

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// BodyLines is the body split into its lines, for pages to show as
// paragraphs (escaped, never as HTML).
func (v Version) BodyLines() []string { return lines(v.Body) }

// BodyLines is the topic's text in lines.
func (t Topic) BodyLines() []string { return lines(t.Body) }

// BodyLines is the vote's text in lines.
func (v Vote) BodyLines() []string { return lines(v.Body) }

func lines(s string) []string {
	return slices.DeleteFunc(strings.Split(s, "\n"), func(l string) bool { return strings.TrimSpace(l) == "" })
}

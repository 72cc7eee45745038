package open311

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/i18n"
)

// Status is how a case's state reads in Open311: open or closed, and the
// extended status of mySociety's list.
type Status struct {
	Open     string // open | closed
	Extended string
}

// statuses maps the loop's states (docs/open311.md).
var statuses = map[cases.State]Status{
	cases.Reported:   {"open", "open"},
	cases.Accepted:   {"open", "investigating"},
	cases.Dispatched: {"open", "action_scheduled"},
	cases.Handling:   {"open", "in_progress"},
	cases.Feedback:   {"open", "in_progress"},
	cases.Closed:     {"closed", "fixed"},
	cases.Rejected:   {"closed", "no_further_action"},
	cases.Merged:     {"closed", "duplicate"},
}

// StatusOf returns the Open311 status of a state.
func StatusOf(st cases.State) Status {
	if s, ok := statuses[st]; ok {
		return s
	}
	return Status{"open", "open"}
}

// Limits of a posted request.
const (
	maxMediaURLs   = 10
	maxMediaURLLen = 2000
	maxIDLen       = 200 // address_id, device_id, account_id, zipcode
)

// record is what the Open311 channel keeps of a request it filed.
type record struct {
	caseID                                  int64
	number, token                           string
	keyID                                   int64
	addressID, zipcode, deviceID, accountID string
	mediaURLs                               []string
	source, remoteID                        string // pulled from another server
	clientRef                               string // the client's id of the report
}

// newToken makes the token a batch key is answered with. Tokens are
// ordered by time, so that their unique index takes each request at its
// end (see crypto.OrderedToken).
func newToken(now time.Time) string { return crypto.OrderedToken(now, 12) }

var (
	mobileRE   = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	landlineRE = regexp.MustCompile(`^(0[0-9]{2,3}-?)?[0-9]{7,8}$`)
	emailRE    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// chinesePhone returns phone as Linli keeps it, or false when it is not a
// Chinese mobile or landline number.
func chinesePhone(phone string) (string, bool) {
	p := strings.NewReplacer(" ", "", "(", "", ")", "", "-", "").Replace(phone)
	p = strings.TrimPrefix(strings.TrimPrefix(p, "+86"), "0086")
	if mobileRE.MatchString(p) || landlineRE.MatchString(p) {
		return p, true
	}
	return "", false
}

// postRequest files a case: POST requests.{fmt}.
func (s *Server) postRequest(c *call) error {
	ctx := c.r.Context()
	f := c.form
	key, err := s.poster(c)
	if err != nil {
		return err
	}
	if _, err := s.jurisdiction(c); err != nil {
		return err
	}
	code := f.get("service_code")
	if code == "" {
		return fail(http.StatusBadRequest, "service_missing")
	}
	cat, _, err := s.service(ctx, code)
	if err != nil {
		return err
	}
	nc, rec, notices, p := s.newCase(c, cat)
	if p != nil {
		return p
	}
	rec.keyID = key.ID
	if refs := f.attrs["fixmystreet_id"]; len(refs) > 0 && len(refs[0]) <= maxIDLen {
		rec.clientRef = strings.TrimSpace(refs[0])
	}
	if rec.clientRef != "" {
		// FixMyStreet resends a report until it gets its id: a resend is
		// answered as the first time, with nothing stored.
		prior, err := db.All(ctx, s.db.Q(ctx), scanRecord, resentSQL, key.ID, rec.clientRef)
		if err != nil {
			return err
		}
		if len(prior) == 1 {
			out := posted{Notice: nstr(s.catalg.T(c.lang, "open311.notice.resent")), AccountID: nstr(prior[0].accountID)}
			if key.Batch {
				out.Token = prior[0].token
			} else {
				out.ID = prior[0].number
			}
			write(c.w, c.f, http.StatusOK, requestsXML{Requests: []any{out}}, []posted{out})
			return nil
		}
	}
	if key.Batch {
		rec.token = newToken(s.now())
	}
	nc.Stored = func(ctx context.Context, caseID int64, number string) error {
		rec.caseID, rec.number = caseID, number
		if rec.token == "" {
			rec.token = newToken(s.now())
		}
		return s.store(ctx, rec)
	}
	// The key is who files the case: its name is the actor of the audit row.
	a := audit.ActorFrom(ctx)
	a.Name = "open311:" + key.Name
	ctx = audit.WithActor(ctx, a)
	rc, err := s.cases.Report(ctx, nc)
	if err != nil {
		return err
	}
	if n := len(rc.Duplicates); n > 0 {
		notices = append(notices, s.catalg.T(c.lang, "cases.reported.duplicates", n))
	}
	if rc.Routing {
		notices = append(notices, s.catalg.T(c.lang, "cases.reported.routing"))
	}
	out := posted{Notice: nstr(strings.Join(notices, " ")), AccountID: nstr(rec.accountID)}
	if key.Batch {
		out.Token = rec.token
	} else {
		out.ID = rc.Number
	}
	write(c.w, c.f, http.StatusOK, requestsXML{Requests: []any{out}}, []posted{out})
	return nil
}

// newCase reads a posted request into a case for the intake, with what the
// channel keeps besides and notices for the client.
func (s *Server) newCase(c *call, cat cases.Category) (cases.NewCase, *record, []string, *problem) {
	f := c.form
	p := &problem{status: http.StatusBadRequest}
	bad := p.add
	// A street given as jurisdiction scopes what the client reads; a case
	// without a point is routed by staff like any other.
	nc := cases.NewCase{Channel: cases.ChannelOpen311, Category: cat.Code, Answers: f.attrs, Files: f.files}
	rec := &record{addressID: f.get("address_id"), zipcode: f.get("zipcode"), accountID: f.get("account_id"),
		deviceID: f.get("device_id")}
	if rec.deviceID == "" {
		rec.deviceID = f.get("deviceid") // FixMyStreet's spelling
	}
	for name, v := range map[string]string{"address_id": rec.addressID, "zipcode": rec.zipcode, "account_id": rec.accountID,
		"device_id": rec.deviceID} {
		if utf8.RuneCountInString(v) > maxIDLen {
			bad("id_long", name, maxIDLen)
		}
	}
	lat, long := f.get("lat"), f.get("long")
	address := strings.Join(strings.Fields(f.get("address_string")), " ")
	switch {
	case lat != "" || long != "":
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(long, 64)
		switch {
		case lat == "" || long == "":
			bad("latlong_pair")
		case err1 != nil || math.IsNaN(la) || la < -90 || la > 90:
			bad("lat", lat)
		case err2 != nil || math.IsNaN(lo) || lo < -180 || lo > 180:
			bad("long", long)
		default:
			nc.Point = &orb.Point{lo, la}
		}
	case address == "" && rec.addressID == "":
		bad("location")
	}
	if utf8.RuneCountInString(address) > 200 {
		bad("address_long")
	}
	nc.Address = address
	if nc.Address == "" && rec.addressID != "" && rec.addressID != "#NOTPINPOINTED#" {
		nc.Address = rec.addressID
	}
	desc := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(f.get("description"), "\r\n", "\n"), "\r", "\n"))
	if n := utf8.RuneCountInString(desc); n > cases.MaxDescription {
		bad("description_long", cases.MaxDescription, n)
	}
	if desc == "" {
		desc = cat.Name(c.lang) // the spec makes the description optional; Linli's cases need one
	}
	nc.Description = desc
	nc.Name = strings.TrimSpace(f.get("first_name") + " " + strings.Trim(f.get("last_name"), "-"))
	if utf8.RuneCountInString(nc.Name) > 50 {
		nc.Name = string([]rune(nc.Name)[:50])
	}
	var notices []string
	if phone := f.get("phone"); phone != "" {
		if p, ok := chinesePhone(phone); ok {
			nc.Phone = p
		} else {
			notices = append(notices, s.catalg.T(c.lang, "open311.notice.phone"))
		}
	}
	if email := f.get("email"); email != "" {
		if emailRE.MatchString(email) && len(email) <= 200 {
			nc.Email = email
		} else {
			bad("email", email)
		}
	}
	media := f.all("media_url")
	if len(media) > maxMediaURLs {
		bad("media_count", maxMediaURLs)
	}
	for _, m := range media {
		u, err := url.Parse(m)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(m) > maxMediaURLLen {
			bad("media_url", trimForError(m), maxMediaURLLen)
		}
	}
	rec.mediaURLs = media
	if len(p.faults) > 0 {
		return nc, nil, nil, p
	}
	return nc, rec, notices, nil
}

func trimForError(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func (s *Server) store(ctx context.Context, r *record) error {
	var keyID any
	if r.keyID != 0 {
		keyID = r.keyID
	}
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO open311_requests (case_id, number, token, key_id, address_id, zipcode,
		device_id, account_id, media_urls, source, remote_id, client_ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		r.caseID, r.number, r.token, keyID, r.addressID, r.zipcode, r.deviceID, r.accountID, strings.Join(r.mediaURLs, "\n"),
		r.source, r.remoteID, r.clientRef)
	return err
}

// records returns what the channel kept of the cases with these ids.
func (s *Server) records(ctx context.Context, ids []int64) (map[int64]record, error) {
	out := map[int64]record{}
	for start := 0; start < len(ids); start += 500 {
		batch := ids[start:min(start+500, len(ids))]
		args := make([]any, len(batch))
		ph := make([]string, len(batch))
		for i, id := range batch {
			args[i], ph[i] = id, "$"+strconv.Itoa(i+1)
		}
		rows, err := db.All(ctx, s.db.Q(ctx), scanRecord, "SELECT "+recordCols+" FROM open311_requests WHERE case_id IN ("+
			strings.Join(ph, ", ")+")", args...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.caseID] = r
		}
	}
	return out, nil
}

const recordCols = "case_id, number, token, COALESCE(key_id, 0), address_id, zipcode, device_id, account_id, media_urls"

// resentSQL finds the first request a client posted under its own id for
// the report (FixMyStreet's fixmystreet_id, never empty here). It repeats
// the condition of the partial index open311_requests_client.
const resentSQL = "SELECT " + recordCols +
	" FROM open311_requests WHERE key_id = $1 AND client_ref = $2 AND client_ref <> '' ORDER BY case_id LIMIT 1"

func scanRecord(row db.Scanner) (record, error) {
	var r record
	var media string
	err := row.Scan(&r.caseID, &r.number, &r.token, &r.keyID, &r.addressID, &r.zipcode, &r.deviceID, &r.accountID, &media)
	if media != "" {
		r.mediaURLs = strings.Split(media, "\n")
	}
	return r, err
}

// getToken answers GET tokens/{token}.{fmt}.
func (s *Server) getToken(c *call) error {
	if _, err := s.jurisdiction(c); err != nil {
		return err
	}
	rows, err := db.All(c.r.Context(), s.db.Q(c.r.Context()), scanRecord, "SELECT "+recordCols+
		" FROM open311_requests WHERE token = $1", c.name)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fail(http.StatusNotFound, "token", trimForError(c.name))
	}
	out := tokenAnswer{ID: rows[0].number, Token: rows[0].token}
	write(c.w, c.f, http.StatusOK, requestsXML{Requests: []any{out}}, []tokenAnswer{out})
	return nil
}

// Date windows and the area of GET requests.
const (
	maxWindow     = 90 * 24 * time.Hour
	maxPage       = cases.MaxPublicRows
	defaultRadius = 750 // metres around lat/long, as SeeClickFix does
	maxRadius     = 5000
)

// parseTime reads a W3C datetime, which must carry its zone; fractions of
// a second are accepted.
func parseTime(name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, fail(http.StatusBadRequest, "datetime", name, trimForError(v))
	}
	return t, nil
}

// window reads start_date and end_date: a missing end is 90 days after the
// start (or now), a missing start 90 days before the end; a longer range
// is refused.
func (s *Server) window(f form, defaultSpan time.Duration) (time.Time, time.Time, error) {
	var from, to time.Time
	var err error
	if v := f.get("start_date"); v != "" {
		if from, err = parseTime("start_date", v); err != nil {
			return from, to, err
		}
	}
	if v := f.get("end_date"); v != "" {
		if to, err = parseTime("end_date", v); err != nil {
			return from, to, err
		}
	}
	switch {
	case from.IsZero() && to.IsZero():
		to = s.now()
		from = to.Add(-defaultSpan)
	case to.IsZero():
		to = from.Add(maxWindow)
	case from.IsZero():
		from = to.Add(-maxWindow)
	}
	if to.Before(from) {
		return from, to, fail(http.StatusBadRequest, "range_order")
	}
	if to.Sub(from) > maxWindow {
		return from, to, fail(http.StatusBadRequest, "range_long", int(to.Sub(from).Hours()/24))
	}
	return from, to, nil
}

// listRequests answers GET requests.{fmt}.
func (s *Server) listRequests(c *call) error {
	areaCode, err := s.jurisdiction(c)
	if err != nil {
		return err
	}
	f := c.form
	q := cases.PublicQuery{AreaCode: areaCode, Numbers: f.list("service_request_id"), Categories: f.list("service_code")}
	if len(q.Numbers) > maxPage {
		return fail(http.StatusBadRequest, "ids", maxPage)
	}
	for _, st := range f.list("status") {
		switch strings.ToLower(st) {
		case "open":
			q.Open = true
		case "closed":
			q.Closed = true
		default:
			return fail(http.StatusBadRequest, "status", trimForError(st))
		}
	}
	for _, b := range []struct {
		name string
		t    *time.Time
	}{{"updated_after", &q.UpdatedAfter}, {"updated_before", &q.UpdatedBefore}} {
		if v := f.get(b.name); v != "" {
			if *b.t, err = parseTime(b.name, v); err != nil {
				return err
			}
		}
	}
	// The 90-day window on requested_datetime applies unless the client
	// syncs by updated_after/updated_before, which reach older requests.
	if f.get("start_date") != "" || f.get("end_date") != "" || (q.UpdatedAfter.IsZero() && q.UpdatedBefore.IsZero()) {
		if q.From, q.To, err = s.window(f, maxWindow); err != nil {
			return err
		}
	}
	if lat, long := f.get("lat"), f.get("long"); lat != "" || long != "" {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(long, 64)
		switch {
		case lat == "" || long == "":
			return fail(http.StatusBadRequest, "latlong_pair")
		case err1 != nil || math.IsNaN(la) || la < -90 || la > 90:
			return fail(http.StatusBadRequest, "lat", trimForError(lat))
		case err2 != nil || math.IsNaN(lo) || lo < -180 || lo > 180:
			return fail(http.StatusBadRequest, "long", trimForError(long))
		}
		q.Near, q.Radius = &orb.Point{lo, la}, defaultRadius
		if v := f.get("radius"); v != "" {
			if q.Radius, err = strconv.ParseFloat(v, 64); err != nil || !(q.Radius >= 1 && q.Radius <= maxRadius) {
				return fail(http.StatusBadRequest, "radius", trimForError(v), maxRadius)
			}
		}
	}
	page, size := 1, maxPage
	if v := f.get("page_size"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > maxPage {
			return fail(http.StatusBadRequest, "page_size", trimForError(v), maxPage)
		}
	}
	if v := f.get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 || page > 1_000_000 {
			return fail(http.StatusBadRequest, "page", trimForError(v))
		}
	}
	q.Offset, q.Limit = (page-1)*size, size
	if len(q.Numbers) > 0 {
		q = cases.PublicQuery{Numbers: q.Numbers, AreaCode: areaCode}
	}
	list, err := s.cases.PublicList(c.r.Context(), q)
	if err != nil {
		return err
	}
	return s.answerRequests(c, list)
}

// getRequest answers GET requests/{id}.{fmt}.
func (s *Server) getRequest(c *call) error {
	areaCode, err := s.jurisdiction(c)
	if err != nil {
		return err
	}
	list, err := s.cases.PublicList(c.r.Context(), cases.PublicQuery{Numbers: []string{c.name}, AreaCode: areaCode})
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fail(http.StatusNotFound, "request", trimForError(c.name))
	}
	return s.answerRequests(c, list)
}

func (s *Server) answerRequests(c *call, list []cases.PublicCase) error {
	ctx := c.r.Context()
	ids := make([]int64, len(list))
	for i, pc := range list {
		ids[i] = pc.ID
	}
	recs, err := s.records(ctx, ids)
	if err != nil {
		return err
	}
	events, err := s.cases.PublicEvents(ctx, ids)
	if err != nil {
		return err
	}
	ext := strings.EqualFold(c.form.get("extensions"), "true")
	var answers map[int64]map[string][]string
	if ext {
		if answers, err = s.cases.Answers(ctx, ids); err != nil {
			return err
		}
	}
	out := make([]request, len(list))
	for i, pc := range list {
		out[i] = s.request(c, pc, recs[pc.ID], events[pc.ID])
		if ext {
			out[i].requestExtensions = s.extensions(c, pc, recs[pc.ID], events[pc.ID], answers[pc.ID])
		}
	}
	items := make([]any, len(out))
	for i := range out {
		items[i] = out[i]
	}
	write(c.w, c.f, http.StatusOK, requestsXML{Requests: items}, out)
	return nil
}

func (s *Server) request(c *call, pc cases.PublicCase, rec record, evs []cases.Event) request {
	st := StatusOf(pc.State)
	r := request{ID: pc.Number, Status: st.Open, ServiceCode: pc.CategoryCode, Description: nstr(pc.Description),
		AgencyResponsible: nstr(pc.Unit), Requested: w3c(pc.CreatedAt), Updated: w3c(pc.UpdatedAt),
		Expected: w3cPtr(pc.DueAt), Address: nstr(pc.Address), AddressID: nstr(rec.addressID), Zipcode: nstr(rec.zipcode),
		Lat: num(pc.Lat), Long: num(pc.Lon)}
	r.ServiceName = pc.NameZH
	if c.lang == i18n.EN && pc.NameEN != "" {
		r.ServiceName = pc.NameEN
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Note != "" {
			r.StatusNotes = nstr(evs[i].Note)
			break
		}
	}
	if pc.MergedInto != "" && r.StatusNotes == "" {
		r.StatusNotes = nstr(s.catalg.T(c.lang, "open311.merged", pc.MergedInto))
	}
	if len(rec.mediaURLs) > 0 {
		r.MediaURL = nstr(rec.mediaURLs[0])
	}
	return r
}

func (s *Server) extensions(c *call, pc cases.PublicCase, rec record, evs []cases.Event, ans map[string][]string) *requestExtensions {
	st := StatusOf(pc.State)
	x := &requestExtensions{Attributes: answers(ans), Extended: extended{Status: st.Extended, ExternalStatusCode: string(pc.State),
		Channel: string(pc.Channel), Grid: nstr(pc.Grid), Duplicate: pc.MergedInto != "", Parent: nstr(pc.MergedInto),
		Overdue: pc.Overdue, MediaURLs: rec.mediaURLs}}
	if x.Attributes == nil {
		x.Attributes = answers{}
	}
	if x.Extended.MediaURLs == nil {
		x.Extended.MediaURLs = []string{}
	}
	for _, e := range evs {
		x.Notes.Items = append(x.Notes.Items, note{Datetime: w3c(e.At), Type: noteType(e.Action),
			Summary: s.catalg.T(c.lang, "cases.action."+string(e.Action)), Description: nstr(e.Note)})
	}
	return x
}

// noteType is the kind of a history note, as Chicago names them.
func noteType(a cases.Action) string {
	switch a {
	case cases.ActReport:
		return "submitted"
	case cases.ActAccept:
		return "opened"
	case cases.ActVerifyPass, cases.ActSelfHandle, cases.ActReject, cases.ActMerge:
		return "closed"
	}
	return "activity"
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

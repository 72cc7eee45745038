package open311

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/errs"
)

// Pulling: a city moving to Linli imports the requests of its old GeoReport
// v2 server (linli open311 pull). Each remote request becomes a case
// through the same intake as every channel, dated at its requested time;
// a request closed upstream gets a note saying so, for staff to close it
// in the loop. A request pulled before (same endpoint, same id) is not
// pulled again.

// PullOptions says what to pull.
type PullOptions struct {
	Endpoint     string // the root, e.g. https://311.example.gov/open311/v2/
	Jurisdiction string
	APIKey       string
	Format       string    // json (default) or xml
	From, To     time.Time // requested_datetime; zero To: now, zero From: To − 90 days
	// Map turns remote service codes into Linli category codes; codes not
	// in it are used as they are, and Default (if set) takes those that
	// are no Linli category.
	Map      map[string]string
	Default  string
	PageSize int // requests per page (default 500)
	HTTP     *http.Client
}

// PullReport is what a pull did.
type PullReport struct {
	Seen, Imported, Known, Closed, Failed int
	Failures                              []string // "id: reason", at most 50
}

// remote is a request as another server sends it; ids and numbers may
// come as JSON numbers from servers that do not quote them.
type remote struct {
	ID          flex   `json:"service_request_id" xml:"service_request_id"`
	Status      string `json:"status" xml:"status"`
	StatusNotes string `json:"status_notes" xml:"status_notes"`
	ServiceCode flex   `json:"service_code" xml:"service_code"`
	ServiceName string `json:"service_name" xml:"service_name"`
	Description string `json:"description" xml:"description"`
	Requested   string `json:"requested_datetime" xml:"requested_datetime"`
	Updated     string `json:"updated_datetime" xml:"updated_datetime"`
	Address     string `json:"address" xml:"address"`
	AddressID   flex   `json:"address_id" xml:"address_id"`
	Zipcode     flex   `json:"zipcode" xml:"zipcode"`
	Lat         flex   `json:"lat" xml:"lat"`
	Long        flex   `json:"long" xml:"long"`
	MediaURL    string `json:"media_url" xml:"media_url"`
}

// flex is a scalar read as text, whether JSON sent a string, a number or null.
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flex(s)
		return nil
	}
	*f = flex(strings.TrimSpace(string(b)))
	return nil
}

// Pull imports the requests of another GeoReport v2 server.
func (s *Server) Pull(ctx context.Context, opt PullOptions) (PullReport, error) {
	var rep PullReport
	if opt.Format == "" {
		opt.Format = "json"
	}
	if opt.Format != "json" && opt.Format != "xml" {
		return rep, errs.E(errs.Invalid, "err.open311.pull_format")
	}
	base, err := url.Parse(strings.TrimSpace(opt.Endpoint))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return rep, errs.E(errs.Invalid, "err.open311.pull_endpoint", opt.Endpoint)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	source := base.String()
	if opt.To.IsZero() {
		opt.To = ceilSecond(s.now())
	}
	if opt.From.IsZero() {
		opt.From = opt.To.Add(-maxWindow)
	}
	if opt.PageSize <= 0 || opt.PageSize > maxPage {
		opt.PageSize = 500
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: time.Minute}
	}
	ctx = audit.WithActor(ctx, audit.Actor{Name: "open311-pull"})
	// The spec allows at most 90 days a call: walk the range window by
	// window, and each window page by page while pages come full.
	for from := opt.From; from.Before(opt.To); from = from.Add(maxWindow) {
		to := from.Add(maxWindow)
		if to.After(opt.To) {
			to = opt.To
		}
		seen := map[string]bool{}
		for page := 1; ; page++ {
			list, err := s.fetch(ctx, opt, base, from, to, page)
			if err != nil {
				return rep, err
			}
			fresh := 0
			for _, r := range list {
				if r.ID == "" || seen[string(r.ID)] {
					continue // rows without an id yet (Chicago) and a server that ignores page
				}
				seen[string(r.ID)] = true
				fresh++
				rep.Seen++
				s.pullOne(ctx, opt, source, r, &rep)
			}
			if len(list) < opt.PageSize || fresh == 0 {
				break
			}
		}
	}
	return rep, nil
}

// ceilSecond rounds t up to a whole second. The window's end goes out with
// whole seconds (servers differ on fractions): truncated, "now" left out the
// requests made earlier in the same second.
func ceilSecond(t time.Time) time.Time {
	if s := t.Truncate(time.Second); !s.Equal(t) {
		return s.Add(time.Second)
	}
	return t
}

func (s *Server) fetch(ctx context.Context, opt PullOptions, base *url.URL, from, to time.Time, page int) ([]remote, error) {
	q := url.Values{"start_date": {from.UTC().Format(time.RFC3339)}, "end_date": {to.UTC().Format(time.RFC3339)},
		"page": {strconv.Itoa(page)}, "page_size": {strconv.Itoa(opt.PageSize)}}
	if opt.Jurisdiction != "" {
		q.Set("jurisdiction_id", opt.Jurisdiction)
	}
	if opt.APIKey != "" {
		q.Set("api_key", opt.APIKey)
	}
	u := base.JoinPath("requests." + opt.Format)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, errs.Wrap(err, "err.internal")
	}
	res, err := opt.HTTP.Do(req)
	if err != nil {
		return nil, errs.E(errs.Unavailable, "err.open311.pull_http", u.Redacted(), err.Error())
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return nil, errs.E(errs.Unavailable, "err.open311.pull_http", u.Redacted(), err.Error())
	}
	if res.StatusCode != http.StatusOK {
		return nil, errs.E(errs.Unavailable, "err.open311.pull_http", u.Redacted(),
			fmt.Sprintf("HTTP %d: %s", res.StatusCode, trimForError(string(bytes.TrimSpace(body)))))
	}
	var list []remote
	if opt.Format == "json" {
		err = json.Unmarshal(body, &list)
	} else {
		var x struct {
			Requests []remote `xml:"request"`
		}
		err = xml.Unmarshal(body, &x)
		list = x.Requests
	}
	if err != nil {
		return nil, errs.E(errs.Unavailable, "err.open311.pull_http", u.Redacted(), "not a list of requests: "+err.Error())
	}
	return list, nil
}

// countPulledSQL counts the requests pulled before from a source with a
// remote id (never empty: the pull passes over rows without one). It
// repeats the condition of the partial index open311_requests_remote.
const countPulledSQL = "SELECT COUNT(*) FROM open311_requests WHERE source = $1 AND remote_id = $2 AND remote_id <> ''"

// pullOne imports one remote request, counting what happened.
func (s *Server) pullOne(ctx context.Context, opt PullOptions, source string, r remote, rep *PullReport) {
	failed := func(why string) {
		rep.Failed++
		if len(rep.Failures) < 50 {
			rep.Failures = append(rep.Failures, string(r.ID)+": "+why)
		}
	}
	var n int
	if err := s.db.Q(ctx).QueryRowContext(ctx, countPulledSQL, source, string(r.ID)).Scan(&n); err != nil {
		failed(err.Error())
		return
	}
	if n > 0 {
		rep.Known++
		return
	}
	code := string(r.ServiceCode)
	if m, ok := opt.Map[code]; ok {
		code = m
	}
	if _, _, err := s.service(ctx, code); err != nil && opt.Default != "" {
		code = opt.Default
	}
	nc := cases.NewCase{Channel: cases.ChannelOpen311, Category: code, Address: strings.TrimSpace(r.Address),
		ExternalID: string(r.ID), Description: strings.TrimSpace(r.Description)}
	if nc.Description == "" {
		nc.Description = strings.TrimSpace(r.ServiceName + " " + string(r.ServiceCode))
	}
	if at, err := time.Parse(time.RFC3339Nano, r.Requested); err == nil {
		nc.At = at
	}
	if r.Lat != "" && r.Long != "" {
		la, err1 := strconv.ParseFloat(string(r.Lat), 64)
		lo, err2 := strconv.ParseFloat(string(r.Long), 64)
		if err1 == nil && err2 == nil {
			nc.Point = &orb.Point{lo, la}
		}
	}
	rec := &record{source: source, remoteID: string(r.ID), addressID: string(r.AddressID), zipcode: string(r.Zipcode)}
	if r.MediaURL != "" {
		rec.mediaURLs = []string{r.MediaURL}
	}
	nc.Stored = func(ctx context.Context, caseID int64, number string) error {
		rec.caseID, rec.number, rec.token = caseID, number, newToken(s.now())
		return s.store(ctx, rec)
	}
	rc, err := s.cases.Report(ctx, nc)
	if err != nil {
		failed(errs.As(err).Error())
		return
	}
	rep.Imported++
	if strings.EqualFold(r.Status, "closed") {
		rep.Closed++
		note := "Closed upstream (" + source + ")"
		if r.Updated != "" {
			note += " at " + r.Updated
		}
		if r.StatusNotes != "" {
			note += ": " + r.StatusNotes
		}
		if _, err := s.cases.Act(cases.AsSystem(ctx), rc.Number, cases.Request{Action: cases.ActNote, Note: note}); err != nil {
			failed("the closing note: " + err.Error())
		}
	}
}

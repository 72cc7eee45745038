// Package open311 is Linli's Open311 GeoReport v2 endpoint, an adapter on
// the cases module: services are the public case categories with their
// attributes, a posted request is a case filed through the same intake as
// every other channel, and requests are read back with their state mapped
// to open/closed and the extended statuses. It speaks XML and JSON, the
// common extensions (paging, extensions=true, multipart media) and
// mySociety's servicerequestupdates, as the clients in the wild use them;
// see docs/open311.md.
package open311

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
	"github.com/linli/linli/internal/platform/web"
)

// Locales is the package's message catalog.
//
//go:embed locales/*.json
var Locales embed.FS

// Templates are the package's pages (the administrators' key page).
//
//go:embed templates/*.html
var Templates embed.FS

// Specification is the discovery token of GeoReport v2.
const Specification = "http://wiki.open311.org/GeoReport_v2"

// Root is where the endpoint is served.
const Root = "/open311/v2/"

// Config is the endpoint's settings.
type Config struct {
	// Jurisdiction is this deployment's jurisdiction_id until an
	// administrator sets one (linli open311 jurisdiction --set); default
	// "linli". Area codes are jurisdictions too: a street's code scopes
	// what a client lists to that street.
	Jurisdiction string
	Contact      string // discovery: how to reach the maintainers
	KeyService   string // discovery: how to get a key
}

// Server answers Open311 clients.
type Server struct {
	db     *db.DB
	audit  *audit.Log
	cases  *cases.Service
	areas  cases.Areas
	now    func() time.Time
	log    *slog.Logger
	cfg    Config
	keys   keyCache
	cats   categoryCache
	juris  jurisdictionCache
	start  time.Time
	catalg *i18n.Catalog
}

// New returns the Open311 server.
func New(d *db.DB, log *audit.Log, cs *cases.Service, areas cases.Areas, now func() time.Time, cfg Config) *Server {
	if now == nil {
		now = time.Now
	}
	if cfg.Jurisdiction == "" {
		cfg.Jurisdiction = "linli"
	}
	if cfg.Contact == "" {
		cfg.Contact = "The administrators of this Linli deployment"
	}
	if cfg.KeyService == "" {
		cfg.KeyService = "Ask the administrators for a key (linli open311 key create)"
	}
	return &Server{db: d, audit: log, cases: cs, areas: areas, now: now, cfg: cfg, log: slog.Default(),
		start: now().UTC().Truncate(time.Second)}
}

// maxPostBody bounds a POST with all its photos.
const maxPostBody = cases.MaxFiles*cases.MaxFileBytes + 1<<20

// Routes registers the endpoint. Every route is public: GETs need no key
// and POSTs check theirs. Errors are answered in the spec's format by the
// handlers themselves.
func (s *Server) Routes(srv *web.Server) {
	s.catalg = srv.Catalog()
	srv.Handle(web.Route{Pattern: "GET /open311/{file}", Access: web.Public}, s.handle(s.discovery))
	srv.Handle(web.Route{Pattern: "GET /open311/v2/{file}", Access: web.Public}, s.handle(s.getResource))
	srv.Handle(web.Route{Pattern: "GET /open311/v2/services/{file}", Access: web.Public}, s.handle(s.serviceDefinition))
	srv.Handle(web.Route{Pattern: "GET /open311/v2/requests/{file}", Access: web.Public}, s.handle(s.getRequest))
	srv.Handle(web.Route{Pattern: "GET /open311/v2/tokens/{file}", Access: web.Public}, s.handle(s.getToken))
	srv.Handle(web.Route{Pattern: "POST /open311/v2/{file}", Access: web.Public, MaxBody: maxPostBody}, s.handle(s.postResource))
	s.adminRoutes(srv)
}

// call is one request being answered.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	f    format
	name string // the resource's name without its suffix
	form form
	lang i18n.Lang
}

// problem is a failure to answer in the spec's error format: one or more
// faults, each a message key of the catalog (open311.err.*) with its
// arguments, or a text already in the client's language.
type problem struct {
	status int
	faults []fault
}

type fault struct {
	key  string
	args []any
	text string
}

func (p *problem) Error() string { return fmt.Sprint(p.status, p.faults) }

func fail(status int, key string, args ...any) *problem {
	return &problem{status: status, faults: []fault{{key: "open311.err." + key, args: args}}}
}

// add records one more fault.
func (p *problem) add(key string, args ...any) {
	p.faults = append(p.faults, fault{key: "open311.err." + key, args: args})
}

// handle wraps an Open311 handler: it picks the format from the suffix,
// reads the parameters, and answers every failure as an errors list.
func (s *Server) handle(h func(c *call) error) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c := &call{w: w, r: r, f: formatXML, lang: langOf(r)}
		name, suffix, ok := cutSuffix(r.PathValue("file"))
		switch {
		case !ok:
			s.answerError(c, fail(http.StatusNotFound, "suffix_missing", r.URL.Path))
			return nil
		case suffix == "json":
			c.f = formatJSON
		case suffix != "xml":
			s.answerError(c, fail(http.StatusNotFound, "suffix", r.URL.Path, suffix))
			return nil
		}
		if !utf8.ValidString(name) { // no code, id or token is: PostgreSQL would refuse it as text
			s.answerError(c, fail(http.StatusNotFound, "resource", strings.ToValidUTF8(name, "\uFFFD")))
			return nil
		}
		c.name = name
		var body = r.Body
		if r.Method == http.MethodGet {
			body = nil
		}
		f, err := parseForm(r.URL.RawQuery, r.Header.Get("Content-Type"), body)
		if err != nil {
			s.answerError(c, s.problemOf(c, err))
			return nil
		}
		c.form = f
		if err := h(c); err != nil {
			s.answerError(c, s.problemOf(c, err))
		}
		return nil
	}
}

// cutSuffix splits "services.xml" into "services" and "xml".
func cutSuffix(file string) (string, string, bool) {
	i := strings.LastIndexByte(file, '.')
	if i <= 0 {
		return file, "", false
	}
	return file[:i], strings.ToLower(file[i+1:]), true
}

// langOf is the language of the descriptions: the client's choice when it
// makes one (Accept-Language, ?lang=), else English, the language of the
// protocol and of its clients' operators.
func langOf(r *http.Request) i18n.Lang {
	if r.Header.Get("Accept-Language") == "" && r.URL.Query().Get("lang") == "" {
		return i18n.EN
	}
	return web.Ctx(r.Context()).Lang
}

func (s *Server) answerError(c *call, p *problem) {
	if p.status == http.StatusTooManyRequests {
		c.w.Header().Set("Retry-After", "1")
	}
	list := make([]apiError, len(p.faults))
	for i, f := range p.faults {
		list[i] = apiError{Code: p.status, Description: f.text}
		if f.key != "" {
			list[i].Description = s.catalg.T(c.lang, f.key, f.args...)
		}
	}
	write(c.w, c.f, p.status, errorsXML{Errors: list}, list)
}

// problemOf turns an error of Linli's into the spec's errors: one per bad
// field, described in the client's language; the status as the spec says
// (400, 403, 404), with 413 for a body over the limit, 429 for a key over
// its rate and 5xx for Linli's own failures.
func (s *Server) problemOf(c *call, err error) *problem {
	var p *problem
	if errors.As(err, &p) {
		return p
	}
	var fe formError
	if errors.As(err, &fe) {
		return fail(http.StatusBadRequest, fe.key, fe.args...)
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return fail(http.StatusRequestEntityTooLarge, "too_large", tooLarge.Limit>>20)
	}
	e := errs.As(err)
	status := map[errs.Code]int{errs.Invalid: 400, errs.NotFound: 404, errs.Forbidden: 403, errs.Unauthenticated: 403,
		errs.Conflict: 400, errs.TooLarge: 413, errs.TooMany: 429, errs.Unavailable: 503}[e.Code]
	if status == 0 {
		status = http.StatusInternalServerError
		rc := web.Ctx(c.r.Context())
		s.log.Error("open311 request failed", "request_id", rc.RequestID, "path", c.r.URL.Path, "err", err)
		return fail(status, "internal", rc.RequestID)
	}
	msg, fields := web.Message(s.catalg, c.lang, err)
	if len(fields) == 0 {
		return &problem{status: status, faults: []fault{{text: msg}}}
	}
	p = &problem{status: status}
	for _, f := range fields {
		name := openField(f.Field)
		d := f.Message
		if !strings.Contains(d, name) {
			d = name + ": " + d
		}
		p.faults = append(p.faults, fault{text: d})
	}
	return p
}

// openField is the Open311 name of one of Linli's fields.
func openField(f string) string {
	switch f {
	case "category":
		return "service_code"
	case "location":
		return "lat/long"
	case "address":
		return "address_string"
	}
	return f
}

// jurisdiction checks jurisdiction_id and returns the area it scopes to
// ("" for the whole deployment). An unknown one is 404; none is the
// deployment.
func (s *Server) jurisdiction(c *call) (string, error) {
	id := c.form.get("jurisdiction_id")
	ours, err := s.Jurisdiction(c.r.Context())
	if err != nil {
		return "", err
	}
	if id == "" || strings.EqualFold(id, ours) {
		return "", nil
	}
	if len(id) <= 20 {
		if _, err := s.areas.Get(auth.WithPrincipal(c.r.Context(), auth.System()), id); err == nil {
			return id, nil
		}
	}
	return "", fail(http.StatusNotFound, "jurisdiction", id, ours)
}

// --- discovery and services ---

func (s *Server) discovery(c *call) error {
	if c.name != "discovery" {
		return fail(http.StatusNotFound, "discovery", c.name)
	}
	scheme := "http"
	if c.r.TLS != nil || c.r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	stamp := w3c(s.start)
	d := discovery{Changeset: stamp, Contact: s.cfg.Contact, KeyService: s.cfg.KeyService,
		Endpoints: []endpoint{{Specification: Specification, URL: scheme + "://" + c.r.Host + strings.TrimSuffix(Root, "/"),
			Changeset: stamp, Type: "production", Formats: []string{"text/xml", "application/json"}}}}
	write(c.w, c.f, http.StatusOK, d, d)
	return nil
}

// categoryCache keeps the category tree for a moment: every POST needs it.
type categoryCache struct {
	mu   sync.Mutex
	at   time.Time
	cats []cases.Category
}

const categoryCacheFor = 5 * time.Second

func (s *Server) categories(ctx context.Context) ([]cases.Category, error) {
	s.cats.mu.Lock()
	defer s.cats.mu.Unlock()
	if s.cats.cats != nil && time.Since(s.cats.at) < categoryCacheFor {
		return s.cats.cats, nil
	}
	cats, err := s.cases.Categories(ctx)
	if err != nil {
		return nil, err
	}
	s.cats.cats, s.cats.at = cats, time.Now()
	return cats, nil
}

// service returns the public, active leaf category with code; unknown is 404.
func (s *Server) service(ctx context.Context, code string) (cases.Category, []cases.Category, error) {
	cats, err := s.categories(ctx)
	if err != nil {
		return cases.Category{}, nil, err
	}
	for _, k := range cats {
		if k.Code == code && k.Leaf() && k.Public && k.Active {
			return k, cats, nil
		}
	}
	return cases.Category{}, nil, fail(http.StatusNotFound, "service", code)
}

func (s *Server) getResource(c *call) error {
	switch c.name {
	case "services":
		return s.services(c)
	case "requests":
		return s.listRequests(c)
	case "servicerequestupdates":
		return s.listUpdates(c)
	}
	return fail(http.StatusNotFound, "resource", c.name)
}

func (s *Server) postResource(c *call) error {
	switch c.name {
	case "requests":
		return s.postRequest(c)
	case "servicerequestupdates":
		return s.postUpdate(c)
	}
	return fail(http.StatusNotFound, "post_resource", c.name)
}

func (s *Server) services(c *call) error {
	if _, err := s.jurisdiction(c); err != nil {
		return err
	}
	ctx := c.r.Context()
	cats, err := s.categories(ctx)
	if err != nil {
		return err
	}
	withAttrs, err := s.cases.AttributedCategories(ctx)
	if err != nil {
		return err
	}
	typ := "realtime"
	if k := c.form.get("api_key"); k != "" {
		if key, _, err := s.authenticate(ctx, k); err == nil && key.Batch {
			typ = "batch"
		}
	}
	parents := map[string]cases.Category{}
	for _, k := range cats {
		if !k.Leaf() {
			parents[k.Code] = k
		}
	}
	out := []service{}
	for _, k := range cats {
		if !k.Leaf() || !k.Public || !k.Active {
			continue
		}
		p := parents[k.Parent]
		desc := k.FilingStandard
		if desc == "" {
			desc = k.Name(c.lang)
		}
		out = append(out, service{Code: k.Code, Name: k.Name(c.lang), Description: desc, Metadata: withAttrs[k.Code], Type: typ,
			Keywords: strings.Join([]string{k.NameZH, k.NameEN, k.Kind}, ", "), Group: p.Name(c.lang)})
	}
	write(c.w, c.f, http.StatusOK, servicesXML{Services: out}, out)
	return nil
}

func (s *Server) serviceDefinition(c *call) error {
	if _, err := s.jurisdiction(c); err != nil {
		return err
	}
	k, _, err := s.service(c.r.Context(), c.name)
	if err != nil {
		return err
	}
	attrs, err := s.cases.Attributes(c.r.Context(), k.Code)
	if err != nil {
		return err
	}
	d := serviceDefinition{Code: k.Code}
	for _, a := range attrs {
		out := attribute{Variable: a.Variable, Code: a.Code, Datatype: string(a.Datatype), Required: a.Required,
			DatatypeDescription: nstr(a.DatatypeDescription), Order: a.Order, Description: a.Description}
		for _, v := range a.Values {
			out.Values.Items = append(out.Values.Items, value{Key: v.Key, Name: v.Name})
		}
		d.Attributes.Items = append(d.Attributes.Items, out)
	}
	write(c.w, c.f, http.StatusOK, d, d)
	return nil
}

// isNoRows reports a missing row.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Package web is Linli's HTTP layer: one ServeMux with an explicit route
// table, the middleware every request passes, rendering of pages and JSON,
// and the one place where errors become HTTP answers.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
)

// Cookie names.
const (
	SessionCookie = "linli_session"
	LangCookie    = "linli_lang"
	LargeCookie   = "linli_large"
)

// Access says who may reach a route.
type Access int

const (
	LoggedIn Access = iota // a session or a token; the services check the rest
	Public                 // anyone
)

// HandlerFunc is a handler that returns its failure instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one entry of the route table.
type Route struct {
	Pattern string // "GET /admin/users"
	Access  Access
	MaxBody int64 // 0: DefaultMaxBody
}

// DefaultMaxBody bounds request bodies unless a route allows more.
const DefaultMaxBody = 1 << 20

// Authenticator turns cookies and bearer tokens into principals.
type Authenticator interface {
	Authenticate(ctx context.Context, cookie string) (*auth.Principal, error)
	AuthenticateToken(ctx context.Context, token string) (*auth.Principal, error)
	// SetPreferences saves the language and large-text choice of the
	// principal on ctx.
	SetPreferences(ctx context.Context, locale string, largeText bool) error
}

// Server holds the mux and what every handler needs.
type Server struct {
	mux     *http.ServeMux
	routes  []Route
	catalog *i18n.Catalog
	render  *Renderer
	auth    Authenticator
	log     *slog.Logger
	metrics *prometheus.HistogramVec
	// SecureCookies marks cookies Secure (set when serving TLS, or behind
	// a proxy that does).
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed for the client's address.
	TrustedProxies []netip.Prefix
	// ImageOrigins may serve images besides this site (map tiles).
	ImageOrigins []string
	// Limits bound concurrent requests and per-client write rates; set
	// before the first request.
	Limits Limits

	shed, throttled prometheus.Counter
	build           sync.Once
	chain           http.Handler
}

// NewServer returns a server with no routes.
func NewServer(c *i18n.Catalog, r *Renderer, a Authenticator, log *slog.Logger, reg prometheus.Registerer) *Server {
	s := &Server{mux: http.NewServeMux(), catalog: c, render: r, auth: a, log: log, Limits: DefaultLimits()}
	s.shed = prometheus.NewCounter(prometheus.CounterOpts{Name: "linli_http_shed_total",
		Help: "Requests answered 503 because the node was at its limit of concurrent requests."})
	s.throttled = prometheus.NewCounter(prometheus.CounterOpts{Name: "linli_http_throttled_total",
		Help: "Writes answered 429 because their client was over its rate."})
	s.metrics = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "linli_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by route pattern and status.",
		Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "code"})
	if reg != nil {
		reg.MustRegister(s.metrics, s.shed, s.throttled)
	}
	return s
}

// Catalog returns the message catalog.
func (s *Server) Catalog() *i18n.Catalog { return s.catalog }

// Routes returns the route table, in registration order.
func (s *Server) Routes() []Route { return s.routes }

// Handle adds a route. Handlers of LoggedIn routes run only with a principal.
func (s *Server) Handle(rt Route, h HandlerFunc) {
	s.routes = append(s.routes, rt)
	limit := rt.MaxBody
	if limit == 0 {
		limit = DefaultMaxBody
	}
	s.mux.HandleFunc(rt.Pattern, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		// The mux sets r.Pattern on this request only, a copy of the one
		// withRequestContext holds (every middleware's WithContext copies
		// it); without this, every request was measured as "unmatched".
		Ctx(r.Context()).Route = rt.Pattern
		if rt.Access == LoggedIn && auth.From(r.Context()) == nil {
			s.Error(w, r, errs.E(errs.Unauthenticated, "err.auth.required"))
			return
		}
		if err := h(w, r); err != nil {
			s.Error(w, r, err)
		}
	})
}

// ServeHTTP runs the middleware chain, outermost first.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Handler().ServeHTTP(w, r)
}

// Handler returns the server wrapped in its middleware, built once: the
// admission control and the rate buckets are state shared by all requests.
func (s *Server) Handler() http.Handler {
	s.build.Do(func() { s.chain = s.handler() })
	return s.chain
}

func (s *Server) handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, errs.E(errs.Forbidden, "err.csrf"))
	}))
	var h http.Handler = s.mux
	h = s.withWriteLimits(h)
	h = s.withPrincipal(h)
	h = cop.Handler(h)
	h = s.withAdmission(h)
	h = s.withLang(h)
	h = s.withRecover(h)
	h = securityHeaders(h, s.ImageOrigins)
	h = s.withRequestContext(h)
	return h
}

// RequestContext is what the middleware learns about a request.
type RequestContext struct {
	RequestID string
	Lang      i18n.Lang
	LargeText bool
	Start     time.Time
	Route     string // the matched route's pattern, for the metrics
	ClientIP  string // the client's address (see Server.clientIP)
}

type rcKey struct{}

// Ctx returns the request context, or an empty one outside a request.
func Ctx(ctx context.Context) *RequestContext {
	if rc, ok := ctx.Value(rcKey{}).(*RequestContext); ok {
		return rc
	}
	return &RequestContext{Lang: i18n.Default}
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withRequestContext assigns the request id, logs the request when it is
// done and records its duration. Only the path is logged: query strings can
// hold personal data.
func (s *Server) withRequestContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(id) {
			b := make([]byte, 8)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		rc := &RequestContext{RequestID: id, Lang: i18n.Default, Start: time.Now(), ClientIP: s.clientIP(r)}
		ctx := context.WithValue(r.Context(), rcKey{}, rc)
		ctx = audit.WithActor(ctx, audit.Actor{Name: "anonymous", IP: rc.ClientIP, RequestID: id})
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(rc.Start)
		route := rc.Route
		if route == "" {
			route = "unmatched"
		}
		s.metrics.WithLabelValues(route, strconv.Itoa(sw.status)).Observe(d.Seconds())
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", d))
	})
}

// clientIP is the address of the client: the peer, or, when the peer is a
// trusted reverse proxy, the last address in X-Forwarded-For that is not
// itself a trusted proxy. Walking from the right matters: the left end of
// the header is whatever the client chose to send, only the entries the
// trusted proxies appended can be believed. The audit log and the per-IP
// write rate use it.
func (s *Server) clientIP(r *http.Request) string {
	peer := hostOf(r.RemoteAddr)
	if !s.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			return peer // a malformed chain proves nothing beyond the proxy
		}
		if !s.trusted(hop) {
			return hop
		}
		peer = hop
	}
	return peer
}

func (s *Server) trusted(addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// hostOf strips the port from host:port ([v6]:port included).
func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil && p != http.ErrAbortHandler {
				s.Error(w, r, errs.Wrap(panicError{p}, "err.internal"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type panicError struct{ v any }

func (p panicError) Error() string { return "panic: " + strings.TrimSpace(fmt.Sprint(p.v)) }

// securityHeaders applies a strict policy: no inline script, no framing.
// imageOrigins are the only other places images may come from (the map
// tile server, when one is configured).
func securityHeaders(next http.Handler, imageOrigins []string) http.Handler {
	img := strings.TrimSpace("'self' data: blob: " + strings.Join(imageOrigins, " "))
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img + "; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// withLang picks the language and display mode: ?lang= (remembered in a
// cookie), then the cookie, then Accept-Language; the user's saved choice
// takes over in withPrincipal. An unsupported ?lang= is refused clearly.
func (s *Server) withLang(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := Ctx(r.Context())
		rc.Lang = i18n.Match(r.Header.Get("Accept-Language"))
		if c, err := r.Cookie(LangCookie); err == nil {
			if l, ok := i18n.Parse(c.Value); ok {
				rc.Lang = l
			}
		}
		if c, err := r.Cookie(LargeCookie); err == nil {
			rc.LargeText = c.Value == "1"
		}
		if q := r.URL.Query().Get("lang"); q != "" {
			l, ok := i18n.Parse(q)
			if !ok {
				s.Error(w, r, &errs.Error{Code: errs.Invalid, Key: "err.invalid",
					Fields: []errs.Field{{Field: "lang", Key: "err.lang.unknown", Args: []any{q}}}})
				return
			}
			rc.Lang = l
			s.SetPrefCookie(w, LangCookie, string(l))
			r = r.WithContext(context.WithValue(r.Context(), langChosenKey{}, true))
		}
		next.ServeHTTP(w, r)
	})
}

type langChosenKey struct{}

// SetPrefCookie remembers a display preference for a year.
func (s *Server) SetPrefCookie(w http.ResponseWriter, name, value string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// withPrincipal finds who is asking: a bearer token (API clients), else the
// session cookie. A bad token is an error; a stale cookie is dropped.
func (s *Server) withPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var p *auth.Principal
		var err error
		if h := r.Header.Get("Authorization"); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				s.Error(w, r, errs.E(errs.Unauthenticated, "err.auth.bad_token"))
				return
			}
			if p, err = s.auth.AuthenticateToken(ctx, strings.TrimSpace(token)); err != nil {
				s.Error(w, r, err)
				return
			}
		} else if c, cerr := r.Cookie(SessionCookie); cerr == nil && c.Value != "" {
			p, err = s.auth.Authenticate(ctx, c.Value)
			if errs.CodeOf(err) == errs.Unauthenticated {
				s.ClearSession(w)
				p, err = nil, nil
			}
			if err != nil {
				s.Error(w, r, err)
				return
			}
		}
		if p != nil {
			rc := Ctx(ctx)
			if l, ok := i18n.Parse(p.Locale); ok && ctx.Value(langChosenKey{}) == nil {
				rc.Lang = l
			}
			// Large text saved on the account turns it on; otherwise this
			// device's cookie decides. (The account's false is also the
			// default of an account that never chose, and used to switch off
			// the large text someone had chosen on the login page.)
			if p.SessionID != "" && p.LargeText {
				rc.LargeText = true
			}
			a := audit.ActorFrom(ctx)
			a.ID, a.Name = p.UserID, p.Name
			ctx = auth.WithPrincipal(audit.WithActor(ctx, a), p)
			// A ?lang= choice made while logged in is the account's choice
			// from now on, on every device.
			if chosen := ctx.Value(langChosenKey{}) != nil; chosen && p.SessionID != "" && p.Locale != string(rc.Lang) {
				if err := s.auth.SetPreferences(ctx, string(rc.Lang), p.LargeText); err != nil {
					s.log.Warn("saving the language choice", "request_id", rc.RequestID, "err", err)
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// SetSession stores the session cookie.
func (s *Server) SetSession(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// ClearSession removes the session cookie.
func (s *Server) ClearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

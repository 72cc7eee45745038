// Package app builds Linli from its configuration: the database, the
// platform services, the modules and the HTTP server. The command line and
// the end-to-end tests both start the program through it.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/assess"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/civic"
	"github.com/linli/linli/internal/open311"
	"github.com/linli/linli/internal/platform/account"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/i18n"
	"github.com/linli/linli/internal/platform/jobs"
	"github.com/linli/linli/internal/platform/notify"
	"github.com/linli/linli/internal/platform/web"
	"github.com/linli/linli/internal/platform/workcal"
	"github.com/linli/linli/internal/registry"
	"github.com/linli/linli/internal/services"
	"github.com/linli/linli/internal/volunteer"
	webassets "github.com/linli/linli/web"
)

// App is a running Linli.
type App struct {
	Cfg     config.Config
	Log     *slog.Logger
	DB      *db.DB
	Catalog *i18n.Catalog
	Audit   *audit.Log
	Auth    *auth.Service
	Areas   *area.Service
	Cases   *cases.Service
	// Registry is the register of people, houses, places and components.
	Registry *registry.Service
	// Open311 is the GeoReport v2 endpoint and its client keys.
	Open311 *open311.Server
	// Services is the one-stop service desk: catalog, facilities, providers.
	Services *services.Service
	// Civic is open community affairs and participation.
	Civic *civic.Service
	// Volunteers is social organisations, volunteers and their ledgers.
	Volunteers *volunteer.Service
	// Assess is surveys, scorecards, the task admission registry and the
	// certificate whitelist.
	Assess *assess.Service
	// Calendars is the working-time calendar, editable per year.
	Calendars *cases.Calendars
	Notify    *notify.Notifier
	Jobs      *jobs.Runner
	Server    *web.Server
	Metrics   *prometheus.Registry
	Crypto    *crypto.Box
	Now       func() time.Time
}

// NewLogger builds the program's logger.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Open connects to the database (migrating it) and builds the services,
// without the web server: what CLI commands need.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, db.Options{DSN: cfg.DB, Sync: cfg.SQLiteSync, Migrate: true, Logger: log})
	if err != nil {
		return nil, err
	}
	cat, err := Catalog()
	if err != nil {
		d.Close()
		return nil, err
	}
	box, err := openKey(ctx, cfg, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	a := &App{Cfg: cfg, Log: log, DB: d, Catalog: cat, Now: time.Now, Crypto: box}
	a.Audit = audit.New(d, a.Now)
	a.Auth = auth.NewService(d, a.Audit, a.Now)
	a.Areas = area.NewService(d, a.Audit, a.Auth, a.Now)
	a.Calendars = cases.NewCalendars(d, a.Audit, a.Now)
	if err := a.Calendars.Load(ctx); err != nil {
		d.Close()
		return nil, err
	}
	a.Cases = cases.NewService(d, a.Audit, box, a.Areas, a.Calendars, a.Now)
	a.Notify = notify.New(d, cfg.WebhookURL, cfg.WebhookSecret)
	a.Cases.Notify = a.Notify
	if a.Cases.Mailer, err = notify.NewMailer(cfg.SMTP, cfg.SMTPFrom); err != nil {
		d.Close()
		return nil, err
	}
	if err := a.Cases.EnsureCategories(ctx); err != nil {
		d.Close()
		return nil, err
	}
	host, _ := os.Hostname()
	a.Jobs = jobs.NewRunner(d, fmt.Sprintf("%s:%d", host, os.Getpid()), a.Now, log)
	a.Cases.Jobs(a.Jobs)
	a.Notify.Jobs(a.Jobs)
	a.Cases.MailJobs(a.Jobs, cat)
	a.Registry = registry.NewService(d, a.Audit, box, a.Areas, a.Now)
	a.Registry.Cases = a.Cases
	a.Open311 = open311.New(d, a.Audit, a.Cases, a.Areas, a.Now, open311.Config{})
	a.Services = services.NewService(d, a.Audit, box, a.Areas, a.Registry, a.Now)
	a.Services.Calendar = a.Calendars // application deadlines in working days
	a.Civic = civic.NewService(d, a.Audit, box, a.Areas, a.Registry, a.Now)
	a.Volunteers = volunteer.NewService(d, a.Audit, box, a.Areas, a.Registry, a.Now)
	a.Volunteers.Notify = a.Notify
	a.Volunteers.Jobs(a.Jobs) // stars after their notice period, expired points written off: daily
	a.Assess = assess.NewService(d, a.Audit, box, a.Areas, a.Registry, a.Now)
	a.Assess.Cases, a.Assess.Services, a.Assess.Civic, a.Assess.Volunteers = a.Cases, a.Services, a.Civic, a.Volunteers
	return a, nil
}

// New builds the whole program, web server included. Templates and
// translations are checked here, so a broken one stops the start.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	a, err := Open(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := a.buildServer(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) buildServer() error {
	render, err := web.NewRenderer(a.Catalog, webassets.Static(),
		web.TemplateSet{FS: webassets.Templates, Dir: "templates"},
		web.TemplateSet{FS: area.Templates, Dir: "templates"},
		web.TemplateSet{FS: cases.Templates, Dir: "templates"},
		web.TemplateSet{FS: registry.Templates, Dir: "templates"},
		web.TemplateSet{FS: open311.Templates, Dir: "templates"},
		web.TemplateSet{FS: services.Templates, Dir: "templates"},
		web.TemplateSet{FS: civic.Templates, Dir: "templates"},
		web.TemplateSet{FS: volunteer.Templates, Dir: "templates"},
		web.TemplateSet{FS: assess.Templates, Dir: "templates"})
	if err != nil {
		return err
	}
	a.Metrics = prometheus.NewRegistry()
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		jobs.NewCollector(a.DB, a.Now), cases.NewCollector(a.DB))
	a.Metrics.MustRegister(a.DB.Collectors()...)
	s := web.NewServer(a.Catalog, render, a.Auth, a.Log, a.Metrics)
	s.Limits.MaxInFlight, s.Limits.UserWrites, s.Limits.PublicWrites = a.Cfg.MaxInFlight, a.Cfg.UserWriteRate, a.Cfg.PublicWriteRate
	s.SecureCookies = a.Cfg.SecureCookies || a.Cfg.TLS()
	if s.TrustedProxies, err = a.Cfg.Proxies(); err != nil {
		return err
	}
	if a.Cfg.MapTiles != "" {
		origin, err := config.TileOrigin(a.Cfg.MapTiles)
		if err != nil {
			return err
		}
		s.ImageOrigins = []string{origin}
	}
	a.Server = s
	a.routes()
	return nil
}

// routes is the route table of the whole program, module by module.
func (a *App) routes() {
	s := a.Server
	s.Handle(web.Route{Pattern: "GET /static/", Access: web.Public}, s.Static())
	s.Handle(web.Route{Pattern: "GET /healthz", Access: web.Public}, a.healthz)
	s.Handle(web.Route{Pattern: "GET /readyz", Access: web.Public}, a.readyz)
	s.Handle(web.Route{Pattern: "GET /metrics"}, a.metrics)
	s.Handle(web.Route{Pattern: "GET /{$}"}, a.home)
	s.Handle(web.Route{Pattern: "GET /inbox"}, a.inbox)
	s.Handle(web.Route{Pattern: "POST /inbox/read"}, a.inboxRead)
	s.Handle(web.Route{Pattern: "GET /", Access: web.Public}, a.notFound)
	account.Routes(s, a.Auth)
	area.Routes(s, a.Areas, area.MapConfig{TileURL: a.Cfg.MapTiles, Attribution: a.Cfg.MapAttribution})
	cases.Routes(s, a.Cases)
	cases.CalendarRoutes(s, a.Calendars)
	registry.Routes(s, a.Registry)
	a.Open311.Routes(s)
	services.Routes(s, a.Services)
	civic.Routes(s, a.Civic)
	volunteer.Routes(s, a.Volunteers)
	assess.Routes(s, a.Assess)
}

// Listen opens the configured address (":0" picks a free port). With TLS
// configured, the certificate is loaded here, so that a missing or
// mismatched file stops the start with its name.
func (a *App) Listen() (net.Listener, error) {
	if a.Cfg.TLS() {
		if _, err := tls.LoadX509KeyPair(a.Cfg.TLSCert, a.Cfg.TLSKey); err != nil {
			return nil, fmt.Errorf("--tls-cert %s / --tls-key %s: %w", a.Cfg.TLSCert, a.Cfg.TLSKey, err)
		}
	}
	return net.Listen("tcp", a.Cfg.Addr)
}

// Serve answers HTTP on l until ctx ends, then lets running requests finish.
func (a *App) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           a.Server.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	go a.housekeeping(ctx)
	// Other nodes' boundary changes reach this node's grid index within
	// a couple of seconds.
	go a.Areas.Watch(ctx, 2*time.Second, a.Log)
	// Deadline warnings, overdue flags and escalations: each fires once
	// however many nodes run.
	go a.Jobs.Run(ctx)
	go a.Cases.FlushStats(ctx, a.Log)
	go a.Calendars.Watch(ctx, 5*time.Second, a.Log)
	errc := make(chan error, 1)
	go func() {
		if a.Cfg.TLS() {
			errc <- srv.ServeTLS(l, a.Cfg.TLSCert, a.Cfg.TLSKey)
			return
		}
		errc <- srv.Serve(l)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), a.Cfg.Shutdown)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(<-errc, http.ErrServerClosed) {
		return err
	}
	return err
}

// housekeeping purges expired sessions once an hour.
func (a *App) housekeeping(ctx context.Context) {
	jobs.Repeat(ctx, time.Hour, func(ctx context.Context) {
		if err := a.Auth.PurgeExpired(ctx); err != nil {
			a.Log.Warn("purging sessions", "err", err)
		}
	})
}

// Close releases the database; queued writes are answered first.
func (a *App) Close() error {
	if a.Services != nil {
		a.Services.Wait() // a population recount in the background
	}
	return a.DB.Close()
}

// Catalog loads the message catalogs of the platform and every module.
func Catalog() (*i18n.Catalog, error) {
	return i18n.Load(i18n.Platform, area.Locales, cases.Locales, workcal.Locales, registry.Locales, open311.Locales,
		services.Locales, civic.Locales, volunteer.Locales, assess.Locales)
}

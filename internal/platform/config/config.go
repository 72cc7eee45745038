// Package config reads Linli's settings from flags, each with a LINLI_*
// environment equivalent (the flag wins), and checks them before anything
// starts.
package config

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything the program can be told.
type Config struct {
	DB         string // sqlite:PATH | postgres://…
	Addr       string
	Demo       bool
	LogFormat  string // text | json
	LogLevel   string // debug | info | warn | error
	SQLiteSync string // FULL | NORMAL
	Shutdown   time.Duration
	// MapTiles is a tile URL template ({z}/{x}/{y}, optional {s}) for the
	// maps, e.g. 天地图 with its key; empty draws outlines on a plain
	// background.
	MapTiles       string
	MapAttribution string
	// Key is the master key for personal data (hex or base64); when empty
	// it is read from KeyFile, which is created on first start.
	Key     string
	KeyFile string // default: linli.key beside the SQLite file, or ./linli-data/linli.key
	// WebhookURL receives every case move as signed JSON (e.g. the city's
	// 12345 platform); WebhookSecret signs it.
	WebhookURL    string
	WebhookSecret string
	// SMTP relays e-mail to reporters who left an address.
	SMTP     string // smtp://user:password@host:port; empty: no e-mail
	SMTPFrom string
	// TLSCert and TLSKey serve HTTPS directly (PEM files); empty: HTTP,
	// e.g. behind a reverse proxy that terminates TLS.
	TLSCert, TLSKey string
	// SecureCookies marks cookies Secure behind a proxy that serves HTTPS
	// (always on with TLSCert).
	SecureCookies bool
	// TrustedProxies lists the reverse proxies (IPs or CIDRs, comma
	// separated) whose X-Forwarded-For gives the client's address.
	TrustedProxies string
	// MaxInFlight bounds the requests a node runs at once; more wait
	// briefly, then get 503 (0: no bound).
	MaxInFlight int
	// UserWriteRate and PublicWriteRate limit writes per second per account
	// and per IP without a login (0: no limit).
	UserWriteRate, PublicWriteRate float64
}

// Default is the configuration of a fresh checkout.
func Default() Config {
	return Config{DB: "sqlite:./linli-data/linli.db", Addr: "127.0.0.1:8080", LogFormat: "text",
		LogLevel: "info", SQLiteSync: "FULL", Shutdown: 15 * time.Second,
		MaxInFlight: 256, UserWriteRate: 10, PublicWriteRate: 5}
}

// Env names the environment variable of a flag: --db → LINLI_DB.
func Env(flagName string) string {
	return "LINLI_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Register adds the flags that every database-using command shares.
func (c *Config) Register(fs *flag.FlagSet) {
	str(fs, &c.DB, "db", "database: sqlite:PATH or postgres://USER@HOST/DB")
	str(fs, &c.LogFormat, "log-format", "log format: text or json")
	str(fs, &c.LogLevel, "log-level", "log level: debug, info, warn or error")
	str(fs, &c.SQLiteSync, "sqlite-sync", "SQLite synchronous: FULL (survives power loss) or NORMAL")
	str(fs, &c.Key, "key", "master key for personal data, hex or base64 (every node of a deployment needs the same)")
	str(fs, &c.KeyFile, "key-file", "file holding the master key, created on first start (default: beside the database)")
}

// RegisterServe adds the flags of `linli serve`.
func (c *Config) RegisterServe(fs *flag.FlagSet) {
	c.Register(fs)
	str(fs, &c.Addr, "addr", "address to listen on")
	boolean(fs, &c.Demo, "demo", "fill an empty database with demo areas and accounts")
	dur(fs, &c.Shutdown, "shutdown-timeout", "how long to wait for requests at shutdown")
	str(fs, &c.MapTiles, "map-tiles", "map tile URL template, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (empty: no tiles)")
	str(fs, &c.MapAttribution, "map-attribution", "attribution shown for the map tiles")
	str(fs, &c.WebhookURL, "webhook-url", "URL that receives every case move as JSON signed with X-Linli-Signature (empty: none)")
	str(fs, &c.WebhookSecret, "webhook-secret", "shared secret that signs the webhook (at least 16 characters)")
	str(fs, &c.SMTP, "smtp", "SMTP relay for e-mail to reporters: smtp://user:password@host:port (empty: no e-mail)")
	str(fs, &c.SMTPFrom, "smtp-from", "sender address of that e-mail")
	str(fs, &c.TLSCert, "tls-cert", "PEM certificate chain to serve HTTPS directly (with --tls-key)")
	str(fs, &c.TLSKey, "tls-key", "PEM private key of --tls-cert")
	boolean(fs, &c.SecureCookies, "secure-cookies", "mark cookies Secure: set it behind a proxy that serves HTTPS (on with --tls-cert)")
	str(fs, &c.TrustedProxies, "trusted-proxies", "reverse proxies whose X-Forwarded-For is believed, comma-separated IPs or CIDRs, e.g. 127.0.0.1,10.0.0.0/8")
	num(fs, &c.MaxInFlight, "max-inflight", "requests run at once; more wait up to 0.2 s, then get 503 (0: no bound)")
	num(fs, &c.UserWriteRate, "user-write-rate", "writes per second per account, bursts of 5 s allowed (0: no limit)")
	num(fs, &c.PublicWriteRate, "public-write-rate", "writes per second per IP without a login, e.g. reports and logins (0: no limit)")
}

func str(fs *flag.FlagSet, p *string, name, usage string) {
	if v, ok := os.LookupEnv(Env(name)); ok {
		*p = v
	}
	fs.StringVar(p, name, *p, usage+" ["+Env(name)+"]")
}

func boolean(fs *flag.FlagSet, p *bool, name, usage string) {
	if v, ok := os.LookupEnv(Env(name)); ok {
		b, err := strconv.ParseBool(v)
		*p = err == nil && b
	}
	fs.BoolVar(p, name, *p, usage+" ["+Env(name)+"]")
}

// num registers an int or float64 flag.
func num[T int | float64](fs *flag.FlagSet, p *T, name, usage string) {
	if v, ok := os.LookupEnv(Env(name)); ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			*p = T(f)
		}
	}
	fs.Var(&numFlag[T]{p}, name, usage+" ["+Env(name)+"]")
}

type numFlag[T int | float64] struct{ p *T }

func (f *numFlag[T]) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.FormatFloat(float64(*f.p), 'g', -1, 64)
}

func (f *numFlag[T]) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("want a number ≥ 0, got %q", s)
	}
	*f.p = T(v)
	return nil
}

func dur(fs *flag.FlagSet, p *time.Duration, name, usage string) {
	if v, ok := os.LookupEnv(Env(name)); ok {
		if d, err := time.ParseDuration(v); err == nil {
			*p = d
		}
	}
	fs.DurationVar(p, name, *p, usage+" ["+Env(name)+"]")
}

// Check reports the first setting that cannot work, naming it.
func (c *Config) Check() error {
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: use text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: use debug, info, warn or error", c.LogLevel)
	}
	if s := strings.ToUpper(c.SQLiteSync); s != "FULL" && s != "NORMAL" {
		return fmt.Errorf("--sqlite-sync %q: use FULL or NORMAL", c.SQLiteSync)
	}
	if c.MapTiles != "" {
		if _, err := TileOrigin(c.MapTiles); err != nil {
			return err
		}
	}
	if c.WebhookURL != "" {
		if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("--webhook-url %q: want an http(s) URL", c.WebhookURL)
		}
		if len(c.WebhookSecret) < 16 {
			return fmt.Errorf("--webhook-secret: at least 16 characters are needed to sign the webhook")
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if _, err := c.Proxies(); err != nil {
		return err
	}
	if c.MaxInFlight < 0 || c.UserWriteRate < 0 || c.PublicWriteRate < 0 {
		return fmt.Errorf("--max-inflight, --user-write-rate and --public-write-rate must be 0 (off) or more")
	}
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			return fmt.Errorf("--addr %q: want HOST:PORT, e.g. 127.0.0.1:8080", c.Addr)
		}
	}
	return nil
}

// Proxies parses TrustedProxies: a bare address is a one-address prefix.
func (c *Config) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("--trusted-proxies: %q is not an IP address or CIDR", f)
			}
			f = netip.PrefixFrom(a, a.BitLen()).String()
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not an IP address or CIDR", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// TLS reports whether the server serves HTTPS itself.
func (c *Config) TLS() bool { return c.TLSCert != "" }

// TileOrigin returns the scheme and host of a tile URL template, for the
// content security policy ("https://*.tianditu.gov.cn" when the host has a
// {s} subdomain placeholder).
func TileOrigin(template string) (string, error) {
	u, err := url.Parse(strings.ReplaceAll(template, "{s}", "s"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		!strings.Contains(template, "{z}") || !strings.Contains(template, "{x}") || !strings.Contains(template, "{y}") {
		return "", fmt.Errorf("--map-tiles %q: want an http(s) URL template with {z}, {x} and {y}", template)
	}
	host := u.Host
	if strings.Contains(template, "{s}") { // t{s}.example.cn → *.example.cn
		_, rest, _ := strings.Cut(host, ".")
		host = "*." + rest
	}
	return u.Scheme + "://" + host, nil
}

// KeyPath is where the key file lives when no --key-file is given: beside
// the SQLite database, or in ./linli-data for PostgreSQL.
func (c *Config) KeyPath() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	if path, ok := strings.CutPrefix(c.DB, "sqlite:"); ok {
		return filepath.Join(filepath.Dir(path), "linli.key")
	}
	return filepath.Join("linli-data", "linli.key")
}

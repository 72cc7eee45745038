package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/i18n"
)

// PageData is what a handler gives a page.
type PageData struct {
	Title string // message key
	Data  any
}

// Page is what templates see as dot.
type Page struct {
	PageData
	Lang      i18n.Lang
	LargeText bool
	User      *auth.Principal
	Path      string
	RequestID string
	catalog   *i18n.Catalog
}

// T translates a key in the page's language.
func (p *Page) T(key string, args ...any) string { return p.catalog.T(p.Lang, key, args...) }

// Langs lists the languages to offer.
func (p *Page) Langs() []i18n.Lang { return i18n.Langs }

// Renderer holds the parsed templates and the static assets.
type Renderer struct {
	pages   map[string]func() (*template.Template, error)
	catalog *i18n.Catalog
	static  map[string]asset // by hashed name
	hashed  map[string]string
}

// asset is a static file, served from the embedded files themselves: a
// copy on the heap would double the 1.3 MB they take (ECharts, Leaflet).
type asset struct {
	fsys      fs.FS
	path      string
	ctype     string
	immutable bool // served under its content hash
}

// TemplateSet is a module's templates: pages under Dir, each file one page
// named Prefix + file name without ".html".
type TemplateSet struct {
	FS     fs.FS
	Dir    string
	Prefix string
}

// NewRenderer parses the layout (layout.html and partials named _*.html in
// base) and checks every page of every set: it fails at start-up on a
// template's syntax error or on a translation key the catalog lacks.
//
// A page's template, the layout's copy with the page parsed into it, is
// built when the page is first shown: html/template copies the layout's
// parse trees into every page, which made the pages of all modules 4 MB
// of the 60 MB an idle server may hold, most of them pages a given
// server rarely or never shows.
func NewRenderer(c *i18n.Catalog, static fs.FS, base TemplateSet, sets ...TemplateSet) (*Renderer, error) {
	r := &Renderer{pages: map[string]func() (*template.Template, error){}, catalog: c, static: map[string]asset{}, hashed: map[string]string{}}
	if err := r.loadStatic(static); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"asset":    r.Asset,
		"date":     func(t time.Time) string { return t.In(chinaTime).Format("2006-01-02") },
		"datetime": func(t time.Time) string { return t.In(chinaTime).Format("2006-01-02 15:04") },
		"roleKey":  func(role auth.Role) string { return "role." + string(role) },
		"deref":    func(b *bool) bool { return b != nil && *b },
		"pct":      func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" },
		"dict":     dict,
		"list":     func(xs ...any) []any { return xs },
	}
	layout := template.New("layout").Funcs(funcs)
	files, err := fs.Glob(base.FS, path.Join(base.Dir, "*.html"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := path.Base(f)
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			if err := parseInto(layout, base.FS, f, c); err != nil {
				return nil, err
			}
		}
	}
	for i, set := range append([]TemplateSet{base}, sets...) {
		files, err := fs.Glob(set.FS, path.Join(set.Dir, "*.html"))
		if err != nil {
			return nil, err
		}
		// A module's own partials (_*.html) serve its pages only; the base
		// set's are in the layout already.
		setLayout := layout
		if i > 0 {
			if setLayout, err = withPartials(layout, set.FS, files, c); err != nil {
				return nil, err
			}
		}
		for _, f := range files {
			name := path.Base(f)
			if name == "layout.html" || strings.HasPrefix(name, "_") {
				continue
			}
			// Parsed alone, the page's syntax, functions and keys are
			// checked now; what only the layout's company can show (an
			// undefined template, an escaping context) shows at the first
			// rendering, as it always did, and every page is rendered by the
			// tests.
			if err := parseInto(template.New("check").Funcs(funcs), set.FS, f, c); err != nil {
				return nil, err
			}
			r.pages[set.Prefix+strings.TrimSuffix(name, ".html")] = sync.OnceValues(func() (*template.Template, error) {
				return pageTemplate(setLayout, set.FS, f, c)
			})
		}
	}
	return r, nil
}

// pageTemplate is a copy of layout with the page in file parsed into it.
func pageTemplate(layout *template.Template, fsys fs.FS, file string, c *i18n.Catalog) (*template.Template, error) {
	t, err := layout.Clone()
	if err != nil {
		return nil, err
	}
	if err := parseInto(t, fsys, file, c); err != nil {
		return nil, err
	}
	return t, nil
}

// withPartials is a copy of layout with the partials (_*.html) among files.
func withPartials(layout *template.Template, fsys fs.FS, files []string, c *i18n.Catalog) (*template.Template, error) {
	t, err := layout.Clone()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if strings.HasPrefix(path.Base(f), "_") {
			if err := parseInto(t, fsys, f, c); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// China Standard Time has no daylight saving; a fixed zone avoids needing
// the tz database on the server.
var chinaTime = time.FixedZone("CST", 8*3600)

var tKeyRE = regexp.MustCompile(`\.T\s+"([^"]+)"`)

func parseInto(t *template.Template, fsys fs.FS, file string, c *i18n.Catalog) error {
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		return err
	}
	for _, m := range tKeyRE.FindAllStringSubmatch(string(b), -1) {
		if !c.Has(m[1]) {
			return fmt.Errorf("template %s: translation key %q is missing from the catalog", file, m[1])
		}
	}
	if _, err := t.New(path.Base(file)).Parse(string(b)); err != nil {
		return fmt.Errorf("template %s: %w", file, err)
	}
	return nil
}

func (r *Renderer) loadStatic(static fs.FS) error {
	return fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		sum, err := hashFile(static, p)
		if err != nil {
			return err
		}
		ext := path.Ext(p)
		hashed := strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		r.static[hashed] = asset{fsys: static, path: p, ctype: mime.TypeByExtension(ext), immutable: true}
		// The plain name is served too, uncached, for files that other
		// static files reference relatively (Leaflet's CSS → its images).
		r.static[p] = asset{fsys: static, path: p, ctype: mime.TypeByExtension(ext)}
		r.hashed[p] = "/static/" + hashed
		return nil
	})
}

// hashFile is the SHA-256 of a file, read through without a copy of it.
func hashFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// Asset returns the content-hashed URL of a static file; it panics at the
// first render of a template naming a file that does not exist, which the
// page tests catch.
func (r *Renderer) Asset(name string) string {
	u, ok := r.hashed[name]
	if !ok {
		panic("unknown asset " + name)
	}
	return u
}

// ServeStatic serves /static/{name}, cached for a year: the name changes
// with the content.
func (r *Renderer) ServeStatic(w http.ResponseWriter, req *http.Request) {
	a, ok := r.static[strings.TrimPrefix(req.URL.Path, "/static/")]
	if !ok {
		http.NotFound(w, req)
		return
	}
	f, err := a.fsys.Open(a.path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", a.ctype)
	if st, err := f.Stat(); err == nil {
		w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	}
	if a.immutable {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=3600")
	}
	io.Copy(w, f)
}

// Page renders the named page inside the layout.
func (r *Renderer) Page(w http.ResponseWriter, req *http.Request, status int, name string, d PageData) error {
	page, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	t, err := page()
	if err != nil {
		return err
	}
	rc := Ctx(req.Context())
	p := &Page{PageData: d, Lang: rc.Lang, LargeText: rc.LargeText, User: auth.From(req.Context()),
		Path: req.URL.Path, RequestID: rc.RequestID, catalog: r.catalog}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(buf.Bytes())
	return err
}

// Render renders a page with status 200.
func (s *Server) Render(w http.ResponseWriter, r *http.Request, name string, d PageData) error {
	return s.render.Page(w, r, http.StatusOK, name, d)
}

// Static is the handler for /static/.
func (s *Server) Static() HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		s.render.ServeStatic(w, r)
		return nil
	}
}

// RenderStatus renders a page with the given status (a form shown again
// with its errors).
func (s *Server) RenderStatus(w http.ResponseWriter, r *http.Request, status int, name string, d PageData) error {
	return s.render.Page(w, r, status, name, d)
}

// dict builds a map from key, value pairs, to pass several values to a
// template: {{template "row" (dict "Name" .Name "KPIs" .K)}}.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

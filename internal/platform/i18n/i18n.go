// Package i18n holds Linli's message catalogs. Chinese (zh-CN) is the
// default; English is complete. Loading fails when a key exists in one
// language and not the other, so a missing translation stops the program
// at start-up (and the tests) instead of showing a raw key to a user.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a supported language tag.
type Lang string

const (
	ZH Lang = "zh-CN"
	EN Lang = "en"
)

// Default is the language of a request that expresses no preference.
const Default = ZH

// Langs lists the supported languages, default first.
var Langs = []Lang{ZH, EN}

// Parse accepts a user's choice ("zh", "zh-CN", "en", "en-GB", …) and
// reports false for anything unsupported.
func Parse(s string) (Lang, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", false
	}
	base, _ := tag.Base()
	switch base.String() {
	case "zh":
		return ZH, true
	case "en":
		return EN, true
	}
	return "", false
}

// Match picks a language from an Accept-Language header: the first tag,
// by preference, whose language Linli speaks. Any Chinese (zh-TW too) gets
// Simplified Chinese, which its readers read, rather than English.
func Match(acceptLanguage string) Lang {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil {
		return Default
	}
	for _, t := range tags {
		if l, ok := Parse(t.String()); ok {
			return l
		}
	}
	return Default
}

// Catalog maps keys to messages per language.
type Catalog struct {
	msgs map[Lang]map[string]string
}

// Load reads "<lang>.json" files (flat objects of key → message) from the
// "locales" directory of each fsys and merges them. A key defined twice, or
// missing in a language, is an error that names the keys.
func Load(fsyss ...fs.FS) (*Catalog, error) {
	c := &Catalog{msgs: map[Lang]map[string]string{}}
	for _, l := range Langs {
		c.msgs[l] = map[string]string{}
	}
	for _, fsys := range fsyss {
		for _, l := range Langs {
			b, err := fs.ReadFile(fsys, path.Join("locales", string(l)+".json"))
			if err != nil {
				return nil, fmt.Errorf("i18n: %w", err)
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("i18n: locales/%s.json: %w", l, err)
			}
			for k, v := range m {
				if _, dup := c.msgs[l][k]; dup {
					return nil, fmt.Errorf("i18n: key %q defined twice in %s", k, l)
				}
				c.msgs[l][k] = v
			}
		}
	}
	if missing := c.Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("i18n: missing translations: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// Missing lists "lang:key" for every key some language lacks.
func (c *Catalog) Missing() []string {
	var out []string
	for _, l := range Langs {
		for _, other := range Langs {
			for k := range c.msgs[other] {
				if _, ok := c.msgs[l][k]; !ok {
					out = append(out, string(l)+":"+k)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// Has reports whether key exists (in every language, as Load guarantees).
func (c *Catalog) Has(key string) bool {
	_, ok := c.msgs[Default][key]
	return ok
}

// T returns the message for key in lang, formatted with args (fmt verbs,
// with explicit indexes such as %[2]s where word order differs). An unknown
// key comes back as itself, so that a bug is visible but not fatal.
func (c *Catalog) T(lang Lang, key string, args ...any) string {
	m, ok := c.msgs[lang][key]
	if !ok {
		m, ok = c.msgs[Default][key]
	}
	if !ok {
		return key
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// Keys returns every key, sorted.
func (c *Catalog) Keys() []string {
	out := make([]string, 0, len(c.msgs[Default]))
	for k := range c.msgs[Default] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package i18n_test

import (
	"testing"
	"testing/fstest"

	"github.com/linli/linli/internal/platform/i18n"
)

func TestPlatformCatalogIsComplete(t *testing.T) {
	c, err := i18n.Load(i18n.Platform)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T(i18n.EN, "err.auth.throttled", 3); got != "Too many failed logins; try again in 3 minutes." {
		t.Fatalf("got %q", got)
	}
	if got := c.T(i18n.ZH, "err.auth.throttled", 3); got != "登录失败次数过多，请 3 分钟后再试。" {
		t.Fatalf("got %q", got)
	}
}

func TestMissingTranslationFailsLoading(t *testing.T) {
	fs := fstest.MapFS{
		"locales/zh-CN.json": {Data: []byte(`{"a": "甲", "b": "乙"}`)},
		"locales/en.json":    {Data: []byte(`{"a": "A"}`)},
	}
	if _, err := i18n.Load(fs); err == nil {
		t.Fatal("a key missing in English was accepted")
	}
	dup := fstest.MapFS{
		"locales/zh-CN.json": {Data: []byte(`{"a": "甲"}`)},
		"locales/en.json":    {Data: []byte(`{"a": "A"}`)},
	}
	if _, err := i18n.Load(dup, dup); err == nil {
		t.Fatal("a key defined twice was accepted")
	}
}

func TestLanguageChoice(t *testing.T) {
	for in, want := range map[string]i18n.Lang{"zh": i18n.ZH, "zh-CN": i18n.ZH, "zh-Hans": i18n.ZH, "en": i18n.EN, "en-GB": i18n.EN} {
		if got, ok := i18n.Parse(in); !ok || got != want {
			t.Errorf("Parse(%q) = %q %v", in, got, ok)
		}
	}
	for _, in := range []string{"fr", "", "klingon!", "de-DE"} {
		if _, ok := i18n.Parse(in); ok {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
	for header, want := range map[string]i18n.Lang{"": i18n.ZH, "en-US,en;q=0.9": i18n.EN, "fr-FR": i18n.ZH, "zh-TW,en;q=0.5": i18n.ZH, "de,en;q=0.8": i18n.EN} {
		if got := i18n.Match(header); got != want {
			t.Errorf("Match(%q) = %q, want %q", header, got, want)
		}
	}
}

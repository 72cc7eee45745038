package config

import (
	"flag"
	"testing"
)

func TestEnvironmentAndFlags(t *testing.T) {
	t.Setenv("LINLI_DB", "postgres://env@db/linli")
	t.Setenv("LINLI_DEMO", "true")
	t.Setenv("LINLI_ADDR", "0.0.0.0:9000")
	c := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.RegisterServe(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:7000"}); err != nil {
		t.Fatal(err)
	}
	if c.DB != "postgres://env@db/linli" || !c.Demo {
		t.Fatalf("environment ignored: %+v", c)
	}
	if c.Addr != "127.0.0.1:7000" {
		t.Fatalf("the flag must win over LINLI_ADDR: %q", c.Addr)
	}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckNamesTheBadSetting(t *testing.T) {
	for _, bad := range []func(*Config){
		func(c *Config) { c.LogFormat = "xml" },
		func(c *Config) { c.LogLevel = "loud" },
		func(c *Config) { c.SQLiteSync = "OFF" },
		func(c *Config) { c.Addr = "8080" },
	} {
		c := Default()
		bad(&c)
		if err := c.Check(); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}

func TestTileOrigin(t *testing.T) {
	for tpl, want := range map[string]string{
		"https://tile.openstreetmap.org/{z}/{x}/{y}.png":                                      "https://tile.openstreetmap.org",
		"https://t{s}.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=K": "https://*.tianditu.gov.cn",
	} {
		if got, err := TileOrigin(tpl); err != nil || got != want {
			t.Errorf("TileOrigin(%q) = %q, %v; want %q", tpl, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://x/{z}/{x}/{y}", "https://x/tiles.png", "javascript:alert(1)"} {
		if _, err := TileOrigin(bad); err == nil {
			t.Errorf("TileOrigin(%q) accepted", bad)
		}
	}
}

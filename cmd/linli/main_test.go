package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
	"github.com/linli/linli/internal/platform/db"
)

type result struct {
	code           int
	stdout, stderr string
}

func linli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// newDB returns a --db flag for a fresh SQLite file holding one street
// with two communities.
func newDB(t *testing.T) (flag, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "linli.db")
	cfg := config.Default()
	cfg.DB = "sqlite:" + path
	a, err := app.Open(context.Background(), cfg, app.NewLogger(cfg, &bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := auth.WithPrincipal(context.Background(), auth.System())
	for _, na := range []area.NewArea{
		{Code: "370613", Name: "莱山区", Level: area.District},
		{Code: "370613001", Name: "黄海路街道", Level: area.Street, Parent: "370613"},
		{Code: "370613001001", Name: "岱山社区", Level: area.Community, Parent: "370613001"},
		{Code: "370613001002", Name: "黄海社区", Level: area.Community, Parent: "370613001"},
	} {
		if _, err := a.Areas.Create(ctx, na); err != nil {
			t.Fatal(err)
		}
	}
	return "--db=sqlite:" + path, path
}

func expect(t *testing.T, r result, code int, fragments ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(r.stdout+r.stderr, f) {
			t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", f, r.stdout, r.stderr)
		}
	}
}

func TestUsage(t *testing.T) {
	expect(t, linli(t, ""), exitOK, "serve", "user", "audit")
	expect(t, linli(t, "", "frobnicate"), exitUsage, "unknown command")
	expect(t, linli(t, "", "user"), exitUsage, "linli user create")
}

func TestUserLifecycle(t *testing.T) {
	dbFlag, _ := newDB(t)
	expect(t, linli(t, "correct horse battery\n", "user", "create", dbFlag, "--name", "wangfang", "--role", "community_staff",
		"--area", "370613001001", "--display-name", "王芳", "--password-stdin"), exitOK, "wangfang")
	expect(t, linli(t, "", "user", "list", dbFlag), exitOK, "wangfang", "王芳", "community_staff@370613001001")
	expect(t, linli(t, "", "user", "grant", dbFlag, "--name", "wangfang", "--role", "grid_worker", "--area", "370613001002"), exitOK)
	expect(t, linli(t, "", "user", "list", dbFlag), exitOK, "grid_worker@370613001002")
	expect(t, linli(t, "", "user", "revoke", dbFlag, "--name", "wangfang", "--role", "grid_worker", "--area", "370613001002"), exitOK)
	if r := linli(t, "", "user", "list", dbFlag); strings.Contains(r.stdout, "grid_worker") {
		t.Fatalf("revoked grant still listed:\n%s", r.stdout)
	}
	expect(t, linli(t, "another good password\n", "user", "set-password", dbFlag, "--name", "wangfang", "--password-stdin"), exitOK)
}

// Bad input: a clear message in both languages, a usage exit code, and
// nothing written.
func TestUserBadInput(t *testing.T) {
	dbFlag, _ := newDB(t)
	create := func(stdin string, extra ...string) result {
		return linli(t, stdin, append([]string{"user", "create", dbFlag}, extra...)...)
	}
	expect(t, create("correct horse battery\n", "--name", "li", "--role", "grid_worker", "--area", "370613001001", "--password-stdin"), exitOK)
	expect(t, create("correct horse battery\n", "--name", "li", "--role", "grid_worker", "--area", "370613001001", "--password-stdin"),
		exitUsage, "已被使用", "is taken")
	expect(t, create("short\n", "--name", "zhao", "--role", "grid_worker", "--area", "370613001001", "--password-stdin"),
		exitUsage, "密码至少 10 位", "at least 10 characters")
	expect(t, create("correct horse battery\n", "--name", "zhao", "--role", "mayor", "--area", "370613001001", "--password-stdin"),
		exitUsage, "mayor")
	expect(t, create("correct horse battery\n", "--name", "zhao", "--role", "grid_worker", "--area", "999999999999", "--password-stdin"),
		exitUsage, "999999999999")
	expect(t, create("", "--name", "zhao", "--role", "grid_worker", "--area", "370613001001"), exitUsage, "--password-stdin")
	expect(t, create("", "--name", "zhao", "--role", "grid_worker", "--area", "370613001001", "--password-stdin"), exitUsage, "no password")
	if r := linli(t, "", "user", "list", dbFlag); strings.Contains(r.stdout, "zhao") {
		t.Fatalf("a refused account was created:\n%s", r.stdout)
	}
	expect(t, linli(t, "", "user", "revoke", dbFlag, "--name", "li", "--role", "grid_worker", "--area", "370613001002"),
		exitUsage, "没有这个授权", "does not hold")
	expect(t, linli(t, "", "user", "grant", dbFlag, "--name", "nobody", "--role", "grid_worker", "--area", "370613001002"),
		exitUsage, "nobody")
}

func TestTokenCreate(t *testing.T) {
	dbFlag, _ := newDB(t)
	expect(t, linli(t, "correct horse battery\n", "user", "create", dbFlag, "--name", "ops", "--role", "admin", "--password-stdin"), exitOK)
	r := linli(t, "", "token", "create", dbFlag, "--user", "ops", "--scope", "read,metrics", "--expires", "720h")
	expect(t, r, exitOK)
	if tok := strings.TrimSpace(r.stdout); !strings.HasPrefix(tok, "lnl_") || strings.Contains(tok, " ") {
		t.Fatalf("stdout should hold the token alone, got %q", r.stdout)
	}
	expect(t, linli(t, "", "token", "create", dbFlag, "--user", "ops", "--scope", "root"), exitUsage, "root")
	expect(t, linli(t, "", "token", "create", dbFlag, "--user", "ghost"), exitUsage, "ghost")
	expect(t, linli(t, "", "token", "create", dbFlag, "--user", "ops", "--expires", "soon"), exitUsage)
}

// Someone edits the audit log with a SQL tool: verify names the row.
func TestAuditVerifyNamesTheEditedRow(t *testing.T) {
	dbFlag, path := newDB(t)
	expect(t, linli(t, "correct horse battery\n", "user", "create", dbFlag, "--name", "li", "--role", "grid_worker",
		"--area", "370613001001", "--password-stdin"), exitOK)
	expect(t, linli(t, "", "audit", "verify", dbFlag), exitOK, "intact")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var id int64
	if err := raw.QueryRow("SELECT id FROM audit_log WHERE action = 'user.create'").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("UPDATE audit_log SET target_id = 'someone-else' WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	r := linli(t, "", "audit", "verify", dbFlag)
	expect(t, r, exitBroken, "NOT intact", "row id "+itoa(id))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestBadDatabaseFlags(t *testing.T) {
	expect(t, linli(t, "", "migrate", "--db", "mysql://localhost/x"), exitUsage, "sqlite:", "postgres://")
	r := linli(t, "", "migrate", "--db", "postgres://linli:hunter2@127.0.0.1:1/linli?connect_timeout=2")
	expect(t, r, exitFailed, "无法连接数据库", "Cannot connect to the database")
	if strings.Contains(r.stderr, "hunter2") {
		t.Fatalf("the password was printed: %s", r.stderr)
	}
	expect(t, linli(t, "", "serve", "--addr", "nonsense"), exitUsage, "--addr")
	expect(t, linli(t, "", "serve", "--log-format", "xml"), exitUsage, "--log-format")
}

func TestMigrateReportsTheVersion(t *testing.T) {
	dbFlag, _ := newDB(t)
	expect(t, linli(t, "", "migrate", dbFlag), exitOK, "version "+itoa(db.LatestVersion()))
}

func TestAreaAndImportCommands(t *testing.T) {
	dbFlag, dir := newDB(t)
	expect(t, linli(t, "", "area", "create", dbFlag, "--level", "grid", "--code", "370613001001001", "--name", "一网格",
		"--parent", "370613001001"), exitOK, "370613001001001")
	expect(t, linli(t, "", "area", "create", dbFlag, "--level", "grid", "--code", "370613001001002", "--name", "学校",
		"--parent", "370613001001", "--kind", "dedicated"), exitUsage, "专属网格须注明用途", "dedicated grid needs its purpose")
	expect(t, linli(t, "", "area", "create", dbFlag, "--level", "community", "--code", "37061300100", "--name", "x",
		"--parent", "370613001"), exitUsage, "12 位数字", "12 digits")

	file := filepath.Join(filepath.Dir(dir), "grids.geojson")
	write := func(content string) {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"name":"东"},"geometry":{"type":"Polygon","coordinates":[[[121.441,37.46],[121.442,37.46],[121.442,37.461],[121.441,37.461],[121.441,37.46]]]}},
		{"type":"Feature","properties":{"name":"西"},"geometry":{"type":"Polygon","coordinates":[[[121.440,37.46],[121.441,37.46],[121.441,37.461],[121.440,37.461],[121.440,37.46]]]}}]}`)
	expect(t, linli(t, "", "import", "areas", dbFlag, "--file", file, "--parent", "370613001002", "--dry-run"),
		exitOK, "370613001002001  西", "370613001002002  东", "--dry-run")
	expect(t, linli(t, "", "import", "areas", dbFlag, "--file", file, "--parent", "370613001002"), exitOK, "imported: 2")
	expect(t, linli(t, "", "import", "areas", dbFlag, "--file", file, "--parent", "370613001002"), exitOK, "new version")

	write(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"name":"坏"},"geometry":{"type":"Polygon","coordinates":[[[121.45,37.46],[121.451,37.46],[121.451,37.461]]]}}]}`)
	expect(t, linli(t, "", "import", "areas", dbFlag, "--file", file, "--parent", "370613001002"),
		exitUsage, "#1 «坏»", "导入未执行", "Nothing was imported")
	expect(t, linli(t, "", "import", "areas", dbFlag, "--file", file, "--parent", "999999999999"), exitUsage, "999999999999")
	expect(t, linli(t, "", "import", "areas", dbFlag, "--file", filepath.Join(dir, "missing.geojson"), "--parent", "370613001002"),
		exitUsage, "missing.geojson")
}

func TestBenchLocateChecksItsFlags(t *testing.T) {
	expect(t, linli(t, "", "bench", "locate"), exitUsage, "--polygons")
	r := linli(t, "", "bench", "locate", "--hex", "50", "--points", "2000")
	expect(t, r, exitOK, `"workload":"hex50"`, `"points":2000`)
}

// A deployment started with another key stops with a clear message: the
// personal data in the database was encrypted with the first one.
func TestWrongKeyStopsTheStart(t *testing.T) {
	dbFlag, _ := newDB(t)
	other := strings.Repeat("ab", 32)
	r := linli(t, "", "migrate", dbFlag, "--key", other)
	expect(t, r, exitFailed, "密钥与数据库不匹配", "does not match the database")
	expect(t, linli(t, "", "migrate", dbFlag, "--key", "tooshort"), exitUsage, "--key")
	expect(t, linli(t, "", "migrate", dbFlag), exitOK) // the key file beside the database still works
}

// linli import hotline takes a 12345 export whole, once; a file with a
// bad row changes nothing and names the row.
func TestImportHotline(t *testing.T) {
	dbFlag, _ := newDB(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "12345.csv")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("工单编号,来电时间,诉求分类,诉求内容,所属社区\nSD1,2026-11-25 09:30,政策咨询,咨询低保办理,岱山社区\n")
	expect(t, linli(t, "", "import", "hotline", dbFlag, "--file", file, "--check"), exitOK, "checked, nothing imported", "1 件新案件")
	expect(t, linli(t, "", "import", "hotline", dbFlag, "--file", file), exitOK, "已导入 / imported: 1 条工单", "1 件新案件")
	expect(t, linli(t, "", "import", "hotline", dbFlag, "--file", file), exitOK, "0 件新案件", "1 条已导入过")
	write("工单编号,来电时间,诉求分类,诉求内容\nSD2,2026-11-25 09:30,政策咨询,\n")
	expect(t, linli(t, "", "import", "hotline", dbFlag, "--file", file), exitUsage, "第 2 行 / row 2 · 诉求内容", "row 2")
	expect(t, linli(t, "", "import", "hotline", dbFlag, "--file", filepath.Join(dir, "missing.csv")), exitUsage, "missing.csv")
	expect(t, linli(t, "", "import", "nothing"), exitUsage, "import hotline")
}

// linli import places (as buildings, households and residents) takes the
// template's file whole, once: again, it changes nothing; a bad row changes
// nothing and is named with its column.
func TestImportRegisterKinds(t *testing.T) {
	dbFlag, _ := newDB(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"name":"西"},"geometry":{"type":"Polygon","coordinates":[[[121.440,37.46],[121.441,37.46],[121.441,37.461],[121.440,37.461],[121.440,37.46]]]}}]}`)
	expect(t, linli(t, "", "import", "areas", dbFlag, "--file", file, "--parent", "370613001002"), exitOK, "imported: 1")
	header := "序号,网格代码,名称,类型,统一社会信用代码,地址,经度,纬度,联系人,联系电话\n"
	write(header + "1,370613001002001,海韵便民超市,商铺,91370613MA3C5K8X2P,岱山路12号,121.4405,37.4605,王建国,13912345678\n")
	expect(t, linli(t, "", "import", "places", dbFlag, "--file", file, "--check"), exitOK, "checked, nothing imported", "1 新增")
	expect(t, linli(t, "", "import", "places", dbFlag, "--file", file), exitOK, "已导入 / imported: 1 行 / rows, 1 新增")
	expect(t, linli(t, "", "import", "places", dbFlag, "--file", file), exitOK, "0 新增 / new, 0 更新 / updated, 1 未变")
	write(header + "1,370613001002001,海韵便民超市,商铺,91370613MA3C5K8X2P,岱山路12号,121.4405,37.4605,王建国,13912345678\n" +
		"2,370613001002001,鲁东饭店,饭店啊,,岱山路14号,121.4405,37.4605,,\n")
	expect(t, linli(t, "", "import", "places", dbFlag, "--file", file), exitUsage, "第 3 行 / row 3 · 类型")
	expect(t, linli(t, "", "import", "places", dbFlag, "--file", file, "--check"), exitUsage, "row 3")
	expect(t, linli(t, "", "import", "residents", dbFlag, "--file", file), exitUsage)
}

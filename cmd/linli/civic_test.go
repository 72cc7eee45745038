package main

import (
	"bytes"
	"context"
	"database/sql"
	"testing"

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/civic"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
)

// publishNotices publishes n notices in 岱山社区 through the service and
// returns their version ids.
func publishNotices(t *testing.T, path string, n int) []int64 {
	t.Helper()
	cfg := config.Default()
	cfg.DB = "sqlite:" + path
	a, err := app.Open(context.Background(), cfg, app.NewLogger(cfg, &bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := auth.WithPrincipal(context.Background(), auth.System())
	var ids []int64
	for i := range n {
		v, err := a.Civic.Publish(ctx, civic.NoticeInput{Community: "370613001001", Category: "finances",
			Title: "财务收支 " + itoa(int64(i+1)), Body: "收入 1000 元，支出 800 元。"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
	}
	return ids
}

// Someone edits, then deletes, a stored notice with a SQL tool: linli
// civic verify exits 3 and names the entry.
func TestCivicVerifyDetectsEditsAndDeletions(t *testing.T) {
	dbFlag, path := newDB(t)
	expect(t, linli(t, "", "civic"), exitUsage, "linli civic verify")
	expect(t, linli(t, "", "civic", "verify", dbFlag), exitOK, "intact", "0 versions")
	ids := publishNotices(t, path, 3)
	expect(t, linli(t, "", "civic", "verify", dbFlag), exitOK, "intact", "3 versions", "370613001001\t3\t")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	var body string
	raw.QueryRow("SELECT body FROM civic_notice_versions WHERE id = ?", ids[1]).Scan(&body)
	exec("UPDATE civic_notice_versions SET body = '收入 1000 元，支出 80 元。' WHERE id = ?", ids[1])
	expect(t, linli(t, "", "civic", "verify", dbFlag), exitBroken, "NOT intact", "notice version id "+itoa(ids[1])+": hash")
	exec("UPDATE civic_notice_versions SET body = ? WHERE id = ?", body, ids[1])
	expect(t, linli(t, "", "civic", "verify", dbFlag), exitOK, "intact")
	exec("DELETE FROM civic_notice_versions WHERE id = ?", ids[1])
	expect(t, linli(t, "", "civic", "verify", dbFlag), exitBroken, "NOT intact", "notice version id "+itoa(ids[2])+": gap")
	exec("DELETE FROM civic_notice_versions WHERE id = ?", ids[2])
	expect(t, linli(t, "", "civic", "verify", dbFlag), exitBroken, "seq 2: truncated")
}

package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/sheet"
)

// The register's import and export over HTTP: the template, an upload that
// becomes a background job whose page shows its progress and then its
// report, a refused file listing every bad row, the API's synchronous and
// asynchronous imports, and the masked xlsx export.

var importJobRE = regexp.MustCompile(`/registry/import\?job=([0-9a-f]+)`)

// residentsCSV is an import file for the demo grid worker's grid: the
// template's header and rows for n fictitious people.
func residentsCSV(t *testing.T, staff *client, n int, grid string) []byte {
	t.Helper()
	tmpl := staff.get("/registry/import/template.csv")
	if tmpl.Status != http.StatusOK || !strings.HasPrefix(tmpl.Body, "\ufeff序号,姓名,证件号码,性别") {
		t.Fatalf("template: %d %q", tmpl.Status, snippet(tmpl.Body))
	}
	lines := []string{strings.SplitN(tmpl.Body, "\r\n", 2)[0]}
	for i := 0; i < n; i++ {
		// 序号 姓名 证件号码 性别 出生日期 联系电话 人口类型 网格代码 楼栋地址 单元 户室号 房屋编号 人房关系 入住日期 与户主关系 特殊人群 关爱等级 备注
		lines = append(lines, fmt.Sprintf("%d,导入测试%d,%s,,,1380000%04d,户籍,%s,,,,,,,,,,", i+1, i, testID("19700101", 300+i), i, grid))
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// waitJob reloads the job's page until it is done and returns it.
func waitJob(t *testing.T, c *client, loc string) response {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := c.get(loc)
		if r.Status != http.StatusOK {
			t.Fatalf("job page: %d %s", r.Status, snippet(r.Body))
		}
		if strings.Contains(r.Body, `data-done="true"`) {
			if r.Header.Get("Refresh") != "" {
				t.Fatal("a finished job's page still reloads itself")
			}
			return r
		}
		if r.Header.Get("Refresh") == "" || !strings.Contains(r.Body, `id="import-progress"`) {
			t.Fatalf("a running job's page neither reloads nor shows progress: %s", snippet(r.Body))
		}
		if time.Now().After(deadline) {
			t.Fatal("the import did not finish")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestE2ERegistryImportAndExport(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		w := s.login(t, auth.GridWorker)
		if r := w.get("/registry/import"); r.Status != http.StatusOK || !strings.Contains(r.Text(), "导入居民") {
			t.Fatalf("import page: %d %s", r.Status, snippet(r.Body))
		}
		if r := w.get("/registry/import/template.xlsx"); r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "PK") {
			t.Fatalf("xlsx template: %d", r.Status)
		}
		file := residentsCSV(t, w, 300, workerGrid)

		// The page: upload, follow the job to its report.
		r := w.postUploads("/registry/import", nil, upload{"file", "居民.csv", file})
		m := importJobRE.FindStringSubmatch(r.Location())
		if r.Status != http.StatusSeeOther || m == nil {
			t.Fatalf("upload: %d %q %s", r.Status, r.Location(), snippet(r.Body))
		}
		done := waitJob(t, w, "/registry/import?job="+m[1])
		if !strings.Contains(done.Text(), "导入完成：共 300 人，新登记 300 人，更新 0 人") {
			t.Fatalf("report: %s", snippet(done.Body))
		}
		if id := firstID(t, w.get("/api/v1/registry/residents?id_number="+testID("19700101", 300))); id == 0 {
			t.Fatal("imported resident not found")
		}
		// Someone else cannot look at the job.
		if r := s.login(t, auth.CommunityStaff).get("/api/v1/registry/import/" + m[1]); r.Status != http.StatusNotFound {
			t.Fatalf("another user's job: %d", r.Status)
		}

		// The same file through the API, at once: nobody twice.
		r = w.postUploads("/api/v1/registry/import", nil, upload{"file", "居民.csv", file})
		var rep struct{ Rows, Created, Updated int }
		if err := json.Unmarshal([]byte(r.Body), &rep); err != nil || r.Status != http.StatusOK || rep.Created != 0 || rep.Updated != 300 {
			t.Fatalf("re-import: %d %s", r.Status, snippet(r.Body))
		}

		// Into another grid: refused whole, every row listed, on the page
		// and in the asynchronous API.
		bad := residentsCSV(t, w, 3, otherGrid)
		r = w.postUploads("/registry/import", nil, upload{"file", "bad.csv", bad})
		page := waitJob(t, w, r.Location())
		if !strings.Contains(page.Text(), "文件有误，未导入任何数据") || strings.Count(page.Text(), "不在您负责的范围内，不能导入到该网格") != 3 ||
			!strings.Contains(page.Text(), "第 4 行 / row 4 · 网格代码") {
			t.Fatalf("refused file: %s", snippet(page.Body))
		}
		r = w.postUploads("/api/v1/registry/import?async=1", map[string]string{"check": "1"}, upload{"file", "bad.csv", bad})
		if r.Status != http.StatusAccepted || !strings.HasPrefix(r.Location(), "/api/v1/registry/import/") {
			t.Fatalf("async: %d %s", r.Status, snippet(r.Body))
		}
		var st struct {
			Done  bool
			Error struct {
				Code   string
				Fields []struct{ Field, Message string }
			}
		}
		for deadline := time.Now().Add(30 * time.Second); !st.Done && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			json.Unmarshal([]byte(w.get(r.Location()).Body), &st)
		}
		if !st.Done || st.Error.Code != "invalid" || len(st.Error.Fields) != 3 {
			t.Fatalf("async status: %+v", st)
		}

		// Not a spreadsheet, and no file at all.
		r = w.postUploads("/api/v1/registry/import", nil, upload{"file", "x.xlsx", []byte("PK\x03\x04not a zip")})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "xlsx") {
			t.Fatalf("not a workbook: %d %s", r.Status, snippet(r.Body))
		}
		if r := w.postUploads("/api/v1/registry/import", map[string]string{"check": "1"}); r.Status != http.StatusBadRequest {
			t.Fatalf("no file: %d %s", r.Status, snippet(r.Body))
		}
		// Residents may not import.
		if r := s.login(t, auth.Resident).postUploads("/api/v1/registry/import", nil, upload{"file", "a.csv", file}); r.Status != http.StatusForbidden {
			t.Fatalf("a resident imports: %d", r.Status)
		}

		// The export: xlsx, masked; in clear only with a reason.
		x := w.get("/api/v1/registry/export/residents.xlsx?grid=" + workerGrid)
		if x.Status != http.StatusOK || !strings.HasPrefix(x.Body, "PK") {
			t.Fatalf("export: %d %s", x.Status, snippet(x.Body))
		}
		rows := readXLSX(t, []byte(x.Body))
		clear := regexp.MustCompile(`^` + clearIDText + `$`)
		masked := 0
		for _, row := range rows {
			if clear.MatchString(row[5]) {
				t.Fatalf("a clear ID number in the masked export: %q", row)
			}
			if maskedIDRE.MatchString(row[5]) {
				masked++
			}
		}
		if masked < 300 {
			t.Fatalf("%d masked rows of %d", masked, len(rows))
		}
		if r := w.get("/api/v1/registry/export/residents.xlsx?reveal=1"); r.Status != http.StatusBadRequest {
			t.Fatalf("reveal without a reason: %d", r.Status)
		}
		x = w.get("/api/v1/registry/export/residents.xlsx?reveal=1&reason=%E6%A0%B8%E5%AF%B9&grid=" + workerGrid)
		if rows := readXLSX(t, []byte(x.Body)); x.Status != http.StatusOK || !clear.MatchString(rows[0][5]) {
			t.Fatalf("revealed export: %d", x.Status)
		}
		if r := s.login(t, auth.StreetStaff).get("/api/v1/registry/export/residents.xlsx?reveal=1&reason=x"); r.Status != http.StatusForbidden {
			t.Fatalf("reveal without registry.reveal: %d", r.Status)
		}
	})
}

func readXLSX(t *testing.T, b []byte) [][]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.xlsx")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := sheet.Open(path, sheet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out [][]string
	for {
		row, err := r.Next()
		if err != nil {
			return out
		}
		out = append(out, row.Cells)
	}
}

// importProbes are the import and export routes for the role walk of
// TestE2ERegistryEndpointsByRole (which takes them with
// append(registryProbes(ids), importProbes()...)); the test below walks
// them on their own. Plain forms carry no file, so allowed roles get 400.
func importProbes() []probe {
	form := func(kv ...string) func(int) url.Values {
		return func(int) url.Values {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}
	}
	return []probe{
		{"GET", "/registry/import", nil, 200, editors, nil},
		{"POST", "/registry/import", nil, 400, editors, form()},
		{"GET", "/registry/import/template.csv", nil, 200, readers, nil},
		{"GET", "/registry/import/template.xlsx", nil, 200, readers, nil},
		{"POST", "/api/v1/registry/import", nil, 400, editors, nil},
		{"GET", "/api/v1/registry/import/0123456789abcdef", nil, 404, editors, nil},
		{"GET", "/registry/export/residents.xlsx", nil, 200, readers, nil},
		{"POST", "/registry/export/residents.xlsx", nil, 200, editors, form("reveal", "1", "reason", "核对名单")},
		{"GET", "/api/v1/registry/export/residents.xlsx", nil, 200, readers, nil},
	}
}

func TestE2ERegistryImportEndpointsByRole(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		admin := s.login(t, auth.Admin)
		for _, role := range auth.Roles {
			c := admin
			if role != auth.Admin {
				c = s.login(t, role)
			}
			for n, p := range importProbes() {
				r := p.send(c, n)
				allowed := slices.Contains(p.allowed, role)
				switch {
				case !allowed && r.Status != http.StatusForbidden:
					t.Errorf("%s %s %s: %d, want 403: %s", role, p.method, p.path, r.Status, snippet(r.Body))
				case allowed && r.Status != p.ok:
					t.Errorf("%s %s %s: %d, want %d: %s", role, p.method, p.path, r.Status, p.ok, snippet(r.Body))
				}
				if !allowed && strings.HasPrefix(p.path, "/api/") && !strings.Contains(r.Body, `"code":"forbidden"`) {
					t.Errorf("%s %s %s: the refusal is not the forbidden envelope: %s", role, p.method, p.path, snippet(r.Body))
				}
			}
		}
	})
}

package app

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/auth"
)

// upload is a file field of a multipart form.
type upload struct {
	field, name string
	data        []byte
}

// postUploads sends a multipart form with files, as the import pages do.
func (c *client) postUploads(path string, fields map[string]string, files ...upload) response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		fw, _ := mw.CreateFormFile(f.field, f.name)
		fw.Write(f.data)
	}
	mw.Close()
	return c.do(c.request(http.MethodPost, path, &body, http.Header{"Content-Type": {mw.FormDataContentType()}}), false)
}

var caseLinkRE = regexp.MustCompile(`href="/cases/(\d+)"`)

// Community staff download the template, fill it in and upload it; the
// ticket becomes a case; the same file again creates nothing; a file saved
// by Chinese Excel with a bad row is refused whole, every bad row named.
func TestE2EHotlineImport(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		staff := s.login(t, auth.CommunityStaff)
		if r := staff.get("/cases/import"); r.Status != http.StatusOK || !strings.Contains(r.Text(), "导入 12345 工单") {
			t.Fatalf("import page: %d %s", r.Status, snippet(r.Body))
		}
		tmpl := staff.get("/cases/import/template.csv")
		if tmpl.Status != http.StatusOK || !strings.HasPrefix(tmpl.Body, "\ufeff工单编号,来电时间,诉求分类,诉求内容") {
			t.Fatalf("template: %d %q", tmpl.Status, tmpl.Body)
		}
		file := upload{"file", "12345.csv", []byte(tmpl.Body)}
		r := staff.postUploads("/cases/import", nil, file)
		links := caseLinkRE.FindAllStringSubmatch(r.Body, -1)
		if r.Status != http.StatusOK || !strings.Contains(r.Text(), "新建案件 1 件") || len(links) != 1 {
			t.Fatalf("importing the template: %d %s", r.Status, snippet(r.Body))
		}
		c, err := s.App.Cases.Get(auth.WithPrincipal(t.Context(), auth.System()), links[0][1])
		if err != nil || c.Channel != cases.Channel12345 || c.ExternalID != "SD2026112700001" || c.NeedsRouting {
			t.Fatalf("the imported case: %+v %v", c, err)
		}
		if r := staff.postUploads("/cases/import", nil, file); !strings.Contains(r.Text(), "已导入过而跳过 1 条") {
			t.Fatalf("the same file again: %s", snippet(r.Body))
		}

		bad, _ := simplifiedchinese.GBK.NewEncoder().String("工单编号,来电时间,诉求分类,诉求内容\n" +
			"SD9,2026-11-26 08:00:00,生活求助,独居老人家里停水\n" +
			"SD10,2026-11-26 08:00:00,没有这个分类,占道经营\n")
		r = staff.postUploads("/cases/import", nil, upload{"file", "gbk.csv", []byte(bad)})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "没有导入任何工单") ||
			!strings.Contains(r.Text(), "第 3 行 / row 3 · 诉求分类") || !strings.Contains(r.Text(), "未知分类“没有这个分类”") {
			t.Fatalf("a bad GBK file: %d %s", r.Status, snippet(r.Body))
		}
		r = staff.postUploads("/api/v1/cases/import", map[string]string{"check": "1"}, upload{"file", "t.csv", []byte(tmpl.Body)})
		var rep cases.HotlineReport
		if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &rep) != nil || !rep.Checked || rep.Known != 1 {
			t.Fatalf("API check: %d %s", r.Status, r.Body)
		}
		r = staff.postUploads("/api/v1/cases/import", nil, upload{"file", "bomb.xlsx", []byte("PK\x03\x04 not really a zip")})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "xlsx") {
			t.Fatalf("a broken xlsx: %d %s", r.Status, r.Body)
		}
		// A request that is not an upload at all is told to choose a file.
		if r := staff.jsonCall("POST", "/api/v1/cases/import", `{"file":"12345.csv"}`); r.Status != http.StatusBadRequest ||
			!strings.Contains(r.Body, `"file"`) || !strings.Contains(r.Body, "请选择要导入的 CSV 或 Excel 文件") {
			t.Fatalf("a JSON body instead of an upload: %d %s", r.Status, r.Body)
		}
		if r := s.login(t, auth.GridWorker).postUploads("/cases/import", nil, file); r.Status != http.StatusForbidden {
			t.Fatalf("a grid worker imports: %d", r.Status)
		}
	})
}

package civic

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

var pdf = []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")

func (f *fixture) publish(t *testing.T, title, category string) Version {
	t.Helper()
	v, err := f.svc.Publish(f.staff, NoticeInput{Community: f.community.Code, Category: category, Title: title,
		Body: "第一行\n第二行", PeriodFrom: "2026-03-01", PeriodTo: "2026-03-31"})
	if err != nil {
		t.Fatalf("publish %s: %v", title, err)
	}
	return v
}

// A correction is a new version that says what changed; the first stays.
func TestCorrectionIsANewVersionWithItsChanges(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		v1 := f.publish(t, "2月财务收支", "finances")
		f.now = f.now.Add(time.Hour)
		v2, err := f.svc.Correct(f.staff, v1.ID, NoticeInput{Title: "2月财务收支", Body: "第一行\n第二行（更正）\n第三行",
			PeriodFrom: "2026-03-01", PeriodTo: "2026-03-31", Reason: "金额笔误"})
		if err != nil {
			t.Fatal(err)
		}
		if v2.NoticeNo != v1.NoticeNo || v2.Version != 2 || v2.PrevHash != v1.Hash || v2.Category != "finances" {
			t.Fatalf("v2 = %+v", v2)
		}
		hist, err := f.svc.History(context.Background(), v1.ID)
		if err != nil || len(hist) != 2 || hist[0].Body != "第一行\n第二行" {
			t.Fatalf("history %v %+v", err, hist)
		}
		ch := Changes(hist[0], hist[1])
		if len(ch) != 1 || ch[0].Field != "body" {
			t.Fatalf("changes %+v", ch)
		}
		var ops string
		for _, l := range ch[0].Lines {
			ops += l.Op
		}
		if ops != " -++" {
			t.Errorf("diff ops %q, want \" -++\"", ops)
		}
		_, err = f.svc.Correct(f.staff, v1.ID, NoticeInput{Title: "x", Body: "y"})
		wantCode(t, "correction without reason", err, errs.Invalid, "reason:err.civic.required")
		list, _ := f.svc.Notices(context.Background(), f.community.Code)
		if len(list) != 1 || list[0].Version != 2 {
			t.Errorf("the board lists %+v, want the notice once, at version 2", list)
		}
	})
}

// A subsidy list is stored masked: the clear ID never reaches the table.
func TestSubsidyListIsMasked(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		v, err := f.svc.Publish(f.staff, NoticeInput{Community: f.community.Code, Category: "subsidies", Title: "3月低保名单",
			Body: "以下家庭享受最低生活保障。", Recipients: []RecipientInput{{Name: "张桂兰", IDNumber: "370613195001011234", People: 2, Amount: "1230.00"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Recipients[0]; got.Name != "张**" || got.IDNumber != "370613********1234" {
			t.Errorf("published %+v", got)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM civic_notice_versions WHERE recipients LIKE '%19500101%' OR recipients LIKE '%桂兰%'"); n != 0 {
			t.Errorf("clear personal data stored in %d rows", n)
		}
	})
}

// Bad notices are refused with the field named, and nothing is stored.
func TestBadNoticesStoreNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		good := func() NoticeInput {
			return NoticeInput{Community: f.community.Code, Category: "finances", Title: "t", Body: "b"}
		}
		cases := []struct {
			name  string
			edit  func(*NoticeInput)
			field string
		}{
			{"empty title", func(in *NoticeInput) { in.Title = "  " }, "title:err.civic.required"},
			{"unknown category", func(in *NoticeInput) { in.Category = "gossip" }, "category:err.civic.category"},
			{"ID number in text", func(in *NoticeInput) { in.Body = "张三 370613195001011234" }, "body:err.civic.personal_data"},
			{"phone in text", func(in *NoticeInput) { in.Body = "联系 13812345678" }, "body:err.civic.personal_data"},
			{"period backwards", func(in *NoticeInput) { in.PeriodFrom, in.PeriodTo = "2026-03-31", "2026-03-01" }, "period_to:err.civic.period_order"},
			{"bad date", func(in *NoticeInput) { in.PeriodFrom = "2026-02-30" }, "period_from:err.civic.date"},
			{"oversized attachment", func(in *NoticeInput) {
				in.Attachments = []AttachmentInput{{Name: "big.pdf", Data: append(bytes.Clone(pdf), make([]byte, MaxAttachmentBytes)...)}}
			}, "attachments[0].data:err.civic.attachment_size"},
			{"executable attachment", func(in *NoticeInput) {
				in.Attachments = []AttachmentInput{{Name: "x.html", Data: []byte("<html><script>alert(1)</script>")}}
			}, "attachments[0].data:err.civic.attachment_type"},
			{"list on a finance notice", func(in *NoticeInput) { in.Recipients = []RecipientInput{{Name: "张三"}} }, "recipients:err.civic.recipients_category"},
		}
		for _, c := range cases {
			in := good()
			c.edit(&in)
			_, err := f.svc.Publish(f.staff, in)
			if errs.CodeOf(err) != errs.Invalid || !strings.Contains(fieldsOf(err), c.field) {
				t.Errorf("%s: %v, want %s", c.name, err, c.field)
			}
		}
		_, err := f.svc.Publish(f.outsider, good())
		wantCode(t, "staff of another community", err, errs.Forbidden, "err.civic.out_of_scope")
		_, err = f.svc.Publish(f.overseer, good())
		wantCode(t, "overseer publishing", err, errs.Forbidden, "err.auth.forbidden")
		if n := f.count(t, "SELECT COUNT(*) FROM civic_notice_versions") + f.count(t, "SELECT COUNT(*) FROM civic_chain_heads WHERE seq > 0"); n != 0 {
			t.Errorf("%d rows stored by refused notices", n)
		}
		v, err := f.svc.Publish(f.staff, NoticeInput{Community: f.community.Code, Category: "finances", Title: "t", Body: "b",
			Attachments: []AttachmentInput{{Name: "账目.pdf", Data: pdf}}})
		if err != nil || len(v.Attachments) != 1 || v.Attachments[0].ContentType != "application/pdf" {
			t.Fatalf("a good attachment: %v %+v", err, v.Attachments)
		}
	})
}

// Editing or deleting any stored notice row, or an attachment, breaks the
// chain, and verification names the first broken entry.
func TestChainDetectsEditsAndDeletions(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tamper := func(t *testing.T, f *fixture, sql string, args ...any) {
			t.Helper()
			if err := d.Write(ctx, func(ctx context.Context) error {
				_, err := d.Q(ctx).ExecContext(ctx, sql, args...)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		shared := newFixture(t, d)
		setup := func(t *testing.T) (*fixture, []Version) {
			f := shared
			tamper(t, f, "DELETE FROM civic_attachments")
			tamper(t, f, "DELETE FROM civic_notice_versions")
			tamper(t, f, "DELETE FROM civic_chain_heads")
			var vs []Version
			for _, title := range []string{"一月", "二月", "三月"} {
				vs = append(vs, f.publish(t, title, "finances"))
			}
			rep, err := f.svc.VerifyChain(ctx)
			if err != nil || rep.Break != nil || rep.Versions != 3 {
				t.Fatalf("fresh chain: %v %+v", err, rep)
			}
			return f, vs
		}
		expect := func(t *testing.T, f *fixture, reason string, id int64) {
			t.Helper()
			rep, err := f.svc.VerifyChain(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Break == nil || rep.Break.Reason != reason || rep.Break.ID != id {
				t.Fatalf("break %+v, want %s at id %d", rep.Break, reason, id)
			}
			if c, _ := f.svc.Check(ctx, f.community.Code); c.Break == nil {
				t.Errorf("the public check finds nothing")
			}
		}
		t.Run("edit", func(t *testing.T) {
			f, vs := setup(t)
			tamper(t, f, "UPDATE civic_notice_versions SET body = 'changed' WHERE id = $1", vs[1].ID)
			expect(t, f, "hash", vs[1].ID)
		})
		t.Run("delete middle", func(t *testing.T) {
			f, vs := setup(t)
			tamper(t, f, "DELETE FROM civic_notice_versions WHERE id = $1", vs[1].ID)
			expect(t, f, "gap", vs[2].ID)
		})
		t.Run("delete last", func(t *testing.T) {
			f, vs := setup(t)
			tamper(t, f, "DELETE FROM civic_notice_versions WHERE id = $1", vs[2].ID)
			expect(t, f, "truncated", 0)
		})
		t.Run("attachment swapped", func(t *testing.T) {
			f, _ := setup(t)
			v, err := f.svc.Publish(f.staff, NoticeInput{Community: f.community.Code, Category: "finances", Title: "附件", Body: "b",
				Attachments: []AttachmentInput{{Name: "a.pdf", Data: pdf}}})
			if err != nil {
				t.Fatal(err)
			}
			tamper(t, f, "UPDATE civic_attachments SET data = $1 WHERE version_id = $2", append(bytes.Clone(pdf), ' '), v.ID)
			expect(t, f, "attachment", v.ID)
		})
	})
}

// The plan flags a category with no notice in the last period, and a
// decision not disclosed within its days.
func TestPlanFlagsOverdueDisclosures(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.publish(t, "2月财务", "finances") // 2 March (China time 09:00)
		due := func(at time.Time) map[string]DueItem {
			t.Helper()
			items, err := f.svc.Due(f.staff, f.community.Code, at)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]DueItem{}
			for _, it := range items {
				out[it.Category] = it
			}
			return out
		}
		if it, ok := due(f.now.AddDate(0, 0, 10))["finances"]; ok {
			t.Errorf("finances flagged in March after a March notice: %+v", it)
		}
		april := due(time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC))["finances"]
		if april.Overdue || april.DueBy.IsZero() {
			t.Errorf("in April the next finance notice is due, not overdue: %+v", april)
		}
		may := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
		if !due(may)["finances"].Overdue {
			t.Errorf("in May, April's finance notice is overdue")
		}
		over, err := f.svc.Overdue(f.staff, f.community.Code, may)
		if err != nil || len(over) == 0 {
			t.Fatalf("Overdue: %v %+v", err, over)
		}
		for _, o := range over {
			if !o.Overdue {
				t.Errorf("Overdue lists %+v", o)
			}
		}
		if err := f.svc.SetPlan(f.staff, f.community.Code, "finances", "weekly", 0); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("weekly cadence: %v", err)
		}
		if _, err := f.svc.Due(f.outsider, f.community.Code, may); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("other community's staff: %v", err)
		}
	})
}

package services

import (
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

var (
	pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	pdfBytes = []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n")
	exeBytes = []byte("MZ\x90\x00\x03\x00\x00\x00")
)

func (f *fixture) elderCard(t *testing.T) Item {
	t.Helper()
	it, err := f.svc.SaveItem(f.staff, ItemInput{Community: f.comm.Code, Code: "elder_card", Name: "老年证办理", MinAge: 60,
		Eligibility: "本社区60周岁以上居民", Unit: "社区服务站", LimitDays: 5,
		Materials: []Material{{Code: "id_card", Name: "身份证复印件", Required: true}, {Code: "photo", Name: "一寸照片", Required: true},
			{Code: "hukou", Name: "户口簿", Required: false}}})
	if err != nil {
		t.Fatalf("item: %v", err)
	}
	return it
}

// TestApplicationsAndProviders runs the catalog, applications, providers
// and matching on one fixture per engine.
func TestApplicationsAndProviders(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		t.Run("applications", func(t *testing.T) { applicationLifecycle(t, f) })
		t.Run("providers", func(t *testing.T) { providersNeedsAndMatches(t, f) })
	})
}

func applicationLifecycle(t *testing.T, f *fixture) {
	d := f.db
	{
		it := f.elderCard(t)
		// Bad input: missing materials, wrong type, over the limit, a bad phone.
		_, err := f.svc.Apply(f.resident, ApplyInput{Item: it.ID, Name: "张桂兰", Phone: "12345",
			Files: []Upload{{Material: "id_card", Data: exeBytes}, {Material: "hukou", Data: make([]byte, MaxUploadBytes+1)}}})
		want := "phone:err.services.phone"
		if fieldsOf(err) != want {
			t.Fatalf("got %q want %q", fieldsOf(err), want)
		}
		_, err = f.svc.Apply(f.resident, ApplyInput{Item: it.ID, Name: "张桂兰", Phone: "13812345678",
			Files: []Upload{{Material: "id_card", Data: exeBytes}, {Material: "hukou", Data: make([]byte, MaxUploadBytes+1)}}})
		want = "files.0:err.services.file_type files.1:err.services.file_size material.id_card:err.services.material_missing material.photo:err.services.material_missing"
		if fieldsOf(err) != want {
			t.Fatalf("got %q\nwant %q", fieldsOf(err), want)
		}
		var n int
		d.Q(f.admin).QueryRowContext(f.admin, `SELECT COUNT(*) FROM service_applications`).Scan(&n)
		if n != 0 {
			t.Fatalf("%d applications kept after refusals", n)
		}
		a, err := f.svc.Apply(f.resident, ApplyInput{Item: it.ID, Name: "张桂兰", Phone: "13812345678",
			Files: []Upload{{Material: "id_card", Data: pdfBytes}, {Material: "photo", Data: pngBytes}}})
		if err != nil {
			t.Fatal(err)
		}
		// Submitted Monday 09:00 with 5 working days: due Monday next week at 17:30.
		if a.State != Submitted || a.Phone != "138****5678" || len(a.Files) != 2 || a.DueAt.In(local).Format("2006-01-02 15:04") != "2026-03-09 17:30" {
			t.Fatalf("application: %+v", a)
		}
		// The desk asks for a clearer photo; the applicant is told exactly what.
		if _, err := f.svc.Step(f.staff, a.ID, AskMaterials, StepInput{Materials: []string{"photo"}}); fieldsOf(err) != "note:err.services.ask_note" {
			t.Fatalf("ask without note: %v", err)
		}
		if _, err := f.svc.Step(f.resident, a.ID, Approve, StepInput{}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("applicant approving: %v", err)
		}
		a, err = f.svc.Step(f.staff, a.ID, AskMaterials, StepInput{Materials: []string{"photo"}, Note: "照片需为近期白底免冠"})
		if err != nil || a.State != Missing || len(a.Missing) != 1 || a.Missing[0].Name != "一寸照片" {
			t.Fatalf("ask: %v %+v", err, a)
		}
		tr, err := f.svc.Track(f.neighbor, strings.ToLower(a.Number))
		if err != nil || tr.State != Missing || tr.MissingNote != "照片需为近期白底免冠" || tr.Applicant == "张桂兰" || tr.Files != nil {
			t.Fatalf("track: %v %+v", err, tr)
		}
		if _, err := f.svc.Step(f.staff, a.ID, Approve, StepInput{}); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("approve while materials are missing: %v", err)
		}
		if _, err := f.svc.Step(f.resident, a.ID, Supply, StepInput{Files: []Upload{{Material: "id_card", Data: pdfBytes}}}); fieldsOf(err) != "material.photo:err.services.material_missing" {
			t.Fatalf("supplying the wrong material: %v", err)
		}
		a, err = f.svc.Step(f.resident, a.ID, Supply, StepInput{Files: []Upload{{Material: "photo", Data: pngBytes}}})
		if err != nil || a.State != Submitted || len(a.Files) != 3 {
			t.Fatalf("supply: %v %+v", err, a)
		}
		a, err = f.svc.Step(f.staff, a.ID, Forward, StepInput{Department: "区民政局"})
		if err != nil || a.State != Forwarded {
			t.Fatal(err)
		}
		if _, err := f.svc.Step(f.staff, a.ID, Refuse, StepInput{}); fieldsOf(err) != "note:err.services.reason" {
			t.Fatalf("refuse without reason: %v", err)
		}
		a, err = f.svc.Step(f.staff, a.ID, Approve, StepInput{Note: "已制证，请到社区领取"})
		if err != nil || a.State != Approved || len(a.Log) != 5 {
			t.Fatalf("approve: %v %+v", err, a.Log)
		}
		if _, err := f.svc.Application(f.neighbor, a.ID); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("neighbour reading the application: %v", err)
		}
		mine, _ := f.svc.Applications(f.resident, AppQuery{Mine: true})
		if len(mine.Items) != 1 {
			t.Fatalf("mine: %+v", mine)
		}
		// 代办: staff apply for residents of the register; eligibility is checked.
		addResidents(t, d, f.grid, 1, 1950)
		addResidents(t, d, f.grid, 1, 1990)
		var elder, young int64
		d.Q(f.admin).QueryRowContext(f.admin, `SELECT MIN(id), MAX(id) FROM registry_residents`).Scan(&elder, &young)
		files := []Upload{{Material: "id_card", Data: pdfBytes}, {Material: "photo", Data: pngBytes}}
		if _, err := f.svc.Apply(f.resident, ApplyInput{Item: it.ID, ResidentID: elder, Files: files}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("resident applying for someone else: %v", err)
		}
		if _, err := f.svc.Apply(f.worker, ApplyInput{Item: it.ID, ResidentID: young, Files: files}); fieldsOf(err) != "item:err.services.too_young" {
			t.Fatalf("too young: %v", err)
		}
		p, err := f.svc.Apply(f.worker, ApplyInput{Item: it.ID, ResidentID: elder, Files: files})
		if err != nil || !p.Proxy || p.ResidentID != elder || p.Applicant != "居民" {
			t.Fatalf("代办: %v %+v", err, p)
		}
		if _, err := f.svc.Apply(f.outsider, ApplyInput{Item: it.ID, ResidentID: elder, Files: files}); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("staff of another community: %v", err)
		}
	}
}

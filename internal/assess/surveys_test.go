package assess

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

func satisfaction(areaCode string, per Per, anonymous bool) SurveyInput {
	return SurveyInput{Area: areaCode, Title: "2026 年一季度居民满意度测评", Per: per, Anonymous: anonymous, Opens: "2026-03-01", Closes: "2026-03-31",
		Questions: []QuestionInput{
			{Kind: Rating, Prompt: "您对社区工作总体满意吗？"},
			{Kind: Single, Prompt: "您最常去的设施", Options: []string{"活动室", "日间照料中心", "食堂"}},
			{Kind: Multiple, Prompt: "希望增加的服务", Options: []string{"助餐", "助浴", "代办"}, Optional: true},
			{Kind: Text, Prompt: "意见和建议", Optional: true},
		}}
}

// answers gives the survey's rating question the rating, and picks the
// first option of the single-choice one.
func answers(v Survey, rating int) []AnswerInput {
	return []AnswerInput{{Question: v.Questions[0].ID, Rating: rating}, {Question: v.Questions[1].ID, Choices: []int{0}}}
}

func TestSurveyBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	f := newFixture(t, d)
	in := satisfaction(f.street.Code, "family", false)
	in.Closes = "2026-02-01"
	in.Questions = append(in.Questions, QuestionInput{Kind: Single, Prompt: "只有一个选项", Options: []string{"是"}},
		QuestionInput{Kind: Rating, Prompt: "评分", Options: []string{"x"}})
	_, err := f.svc.CreateSurvey(f.streeter, in)
	want := "per:err.assess.per closes:err.assess.to_before_from questions[4].options:err.assess.options questions[5].options:err.assess.no_options"
	if fieldsOf(err) != want {
		t.Fatalf("fields %q, want %q", fieldsOf(err), want)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM assess_surveys"); n != 0 {
		t.Fatalf("%d surveys stored", n)
	}
	// A community's staff cannot survey the whole street (nor a
	// neighbouring community): to them it is not there.
	_, err = f.svc.CreateSurvey(f.staff, satisfaction(f.street.Code, PerResident, false))
	if fieldsOf(err) != "area:err.assess.area_unknown" {
		t.Fatalf("out of scope: %v", err)
	}
	v, err := f.svc.CreateSurvey(f.streeter, satisfaction(f.street.Code, PerResident, false))
	if err != nil {
		t.Fatal(err)
	}
	ctx, _ := f.resident(t, f.grids[0], 0)
	err = f.svc.Answer(ctx, v.ID, []AnswerInput{{Question: v.Questions[0].ID, Rating: 6}, {Question: v.Questions[1].ID, Choices: []int{0, 1}}})
	if got := fieldsOf(err); got != "answers[0]:err.assess.rating answers[1]:err.assess.choice" {
		t.Fatalf("bad answers: %q", got)
	}
	err = f.svc.Answer(ctx, v.ID, []AnswerInput{{Question: v.Questions[1].ID, Choices: []int{2}}})
	if !strings.Contains(fieldsOf(err), "err.assess.answer_required") {
		t.Fatalf("missing answer: %v", err)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM assess_voters") + f.count(t, "SELECT COUNT(*) FROM assess_responses"); n != 0 {
		t.Fatalf("%d rows stored from bad answers", n)
	}
}

// TestOneAnswerUnderConcurrency sends the same resident's answer from many
// goroutines at once, and a household's members one after the other:
// exactly one answer each is kept, the rest refused.
func TestOneAnswerUnderConcurrency(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for _, anonymous := range []bool{false, true} {
			v, err := f.svc.CreateSurvey(f.streeter, satisfaction(f.comms[0].Code, PerResident, anonymous))
			if err != nil {
				t.Fatal(err)
			}
			ctx, _ := f.resident(t, f.grids[0], 0)
			const n = 8
			results := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { results[i] = f.svc.Answer(ctx, v.ID, answers(v, 4)) })
			}
			wg.Wait()
			ok := 0
			for _, err := range results {
				switch errs.CodeOf(err) {
				case "":
					ok++
				case errs.Conflict:
				default:
					t.Fatalf("anonymous %v: %v", anonymous, err)
				}
			}
			if ok != 1 || f.count(t, "SELECT COUNT(*) FROM assess_responses WHERE survey_id = $1", v.ID) != 1 {
				t.Fatalf("anonymous %v: %d accepted", anonymous, ok)
			}
		}
		hv, err := f.svc.CreateSurvey(f.streeter, satisfaction(f.comms[0].Code, PerHousehold, false))
		if err != nil {
			t.Fatal(err)
		}
		hh := f.household(t, f.grids[0])
		a, _ := f.resident(t, f.grids[0], hh)
		b, _ := f.resident(t, f.grids[0], hh)
		if err := f.svc.Answer(a, hv.ID, answers(hv, 5)); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Answer(b, hv.ID, answers(hv, 1)); errs.As(err).Key != "err.assess.already_answered" {
			t.Fatalf("second member of the household: %v", err)
		}
	})
}

func TestAnonymousAnswersNameNobody(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	f := newFixture(t, d)
	v, err := f.svc.CreateSurvey(f.streeter, satisfaction(f.comms[0].Code, PerResident, true))
	if err != nil {
		t.Fatal(err)
	}
	ctx, rid := f.resident(t, f.grids[0], 0)
	if err := f.svc.Answer(ctx, v.ID, answers(v, 5)); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM assess_responses WHERE resident_id IS NOT NULL"); n != 0 {
		t.Fatal("an anonymous response names its resident")
	}
	if n := f.count(t, "SELECT COUNT(*) FROM assess_voters WHERE voter = $1 OR voter LIKE 'r%'", "r"+itoa(rid)); n != 0 {
		t.Fatal("the voter key shows the resident id")
	}
	if n := f.count(t, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'assess.survey.answer%' AND actor = 'anonymous' AND actor_id IS NULL"); n != 1 {
		t.Fatalf("%d audit rows", n)
	}
}

func TestPaperAnswersAndResults(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	f := newFixture(t, d)
	v, err := f.svc.CreateSurvey(f.streeter, satisfaction(f.street.Code, PerResident, false))
	if err != nil {
		t.Fatal(err)
	}
	ctxA, _ := f.resident(t, f.grids[0], 0)
	_, ridB := f.resident(t, f.grids[1], 0)
	f.resident(t, f.grids[1], 0) // one who does not answer
	if err := f.svc.Answer(ctxA, v.ID, answers(v, 5)); err != nil {
		t.Fatal(err)
	}
	// Staff enter a named sheet and an unnamed one; each counts once.
	if err := f.svc.EnterPaper(f.streeter, v.ID, PaperInput{Resident: ridB, Answers: answers(v, 2)}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.EnterPaper(f.streeter, v.ID, PaperInput{Resident: ridB, Answers: answers(v, 3)}); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("named sheet twice: %v", err)
	}
	if err := f.svc.EnterPaper(f.streeter, v.ID, PaperInput{Sheet: "0007", Grid: f.grids[1].Code, Answers: answers(v, 3)}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.EnterPaper(f.streeter, v.ID, PaperInput{Sheet: "0007", Grid: f.grids[1].Code, Answers: answers(v, 3)}); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("sheet twice: %v", err)
	}
	// A community's staff enter sheets of their own community only.
	if err := f.svc.EnterPaper(f.staff, v.ID, PaperInput{Sheet: "0008", Grid: f.grids[1].Code, Answers: answers(v, 3)}); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("other community's sheet: %v", err)
	}
	res, err := f.svc.Results(f.super, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Responses != 3 || res.Questions[0].Answers != 3 || res.Questions[0].Mean != 10.0/3 || res.Questions[1].Counts[0] != 3 {
		t.Fatalf("results %+v", res)
	}
	byCode := map[string]AreaResult{}
	for _, a := range res.Areas {
		byCode[a.Code] = a
	}
	a, b := byCode[f.comms[0].Code], byCode[f.comms[1].Code]
	if a.Responses != 1 || a.Eligible != 1 || a.Rate != 1 || b.Responses != 2 || b.Eligible != 2 || b.Mean != 2.5 {
		t.Fatalf("by area: %+v / %+v", a, b)
	}
	// The resident sees the survey; outside its area it does not exist.
	if _, err := f.svc.Survey(ctxA, v.ID); err != nil {
		t.Fatal(err)
	}
	cv, err := f.svc.CreateSurvey(f.streeter, satisfaction(f.comms[2].Code, PerResident, false))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Answer(ctxA, cv.ID, answers(cv, 5)); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("answering another community's survey: %v", err)
	}
	open, err := f.svc.OpenSurveys(ctxA)
	if err != nil || len(open) != 1 || open[0].ID != v.ID {
		t.Fatalf("open surveys: %+v %v", open, err)
	}
	// Closed after its last day.
	f.now = f.now.AddDate(0, 1, 0)
	ctxC, _ := f.resident(t, f.grids[0], 0)
	if err := f.svc.Answer(ctxC, v.ID, answers(v, 5)); errs.As(err).Key != "err.assess.survey_closed" {
		t.Fatalf("closed: %v", err)
	}
	_ = context.Background()
}

func TestCertificates(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	f := newFixture(t, d)
	ctx := context.Background()
	path := f.comms[0].Path
	for name, allowed := range map[string]bool{"居住证明": true, "residence": true, "无犯罪记录证明": false, "Proof of marital status": false, "宠物免疫证明": false} {
		v, err := f.svc.CheckCertificate(ctx, path, name)
		if err != nil || v.Allowed != allowed {
			t.Errorf("%s: %+v %v", name, v, err)
		}
	}
	v, _ := f.svc.CheckCertificate(ctx, path, "无犯罪记录证明")
	if v.Certificate == nil || v.Certificate.OfficeZh != "公安派出所" || !strings.Contains(v.Certificate.ReasonZh, "民发〔2020〕20号") {
		t.Fatalf("refusal without reason and office: %+v", v.Certificate)
	}
	// The street may add its own, but never allow a nationally refused one.
	_, err := f.svc.SaveCertificate(f.streeter, CertificateInput{Street: f.street.Code, Code: "no_crime", Allowed: true, NameZh: "无犯罪记录证明", NameEn: "x"})
	if fieldsOf(err) != "code:err.assess.cert_national" {
		t.Fatalf("allowing a national refusal: %v", err)
	}
	_, err = f.svc.SaveCertificate(f.staff, CertificateInput{Street: f.street.Code, Code: "pet", Allowed: true, NameZh: "宠物免疫证明", NameEn: "Pet vaccination"})
	wantCode(t, err, errs.Forbidden)
	if _, err := f.svc.SaveCertificate(f.streeter, CertificateInput{Street: f.street.Code, Code: "pet", Allowed: true, NameZh: "宠物免疫证明", NameEn: "Pet vaccination"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := f.svc.CheckCertificate(ctx, path, "宠物免疫证明"); !v.Allowed {
		t.Fatal("the street's own entry is not applied")
	}
	if v, err := f.svc.CheckCommunityCertificate(f.staff, f.comms[1].Code, "pet"); err != nil || !v.Allowed {
		t.Fatalf("check by community code: %+v %v", v, err)
	}
}

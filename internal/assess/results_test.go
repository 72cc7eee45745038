package assess

import (
	"testing"

	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// TestHouseholdResponseRate: a survey answered once per household shows,
// by community, the households that answered out of the register's
// households; staff of one community see the rate of their own.
func TestHouseholdResponseRate(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	f := newFixture(t, d)
	v, err := f.svc.CreateSurvey(f.streeter, satisfaction(f.street.Code, PerHousehold, false))
	if err != nil {
		t.Fatal(err)
	}
	family, single := f.household(t, f.grids[0]), f.household(t, f.grids[0])
	f.household(t, f.grids[0]) // a household that does not answer
	f.household(t, f.grids[1])
	mother, _ := f.resident(t, f.grids[0], family)
	son, _ := f.resident(t, f.grids[0], family)
	_, alone := f.resident(t, f.grids[0], single)
	if err := f.svc.Answer(mother, v.ID, answers(v, 4)); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Answer(son, v.ID, answers(v, 2)); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("second member of the household: %v", err)
	}
	if err := f.svc.EnterPaper(f.streeter, v.ID, PaperInput{Resident: alone, Answers: answers(v, 5)}); err != nil {
		t.Fatal(err)
	}
	byCode := func(res Results) map[string]AreaResult {
		m := map[string]AreaResult{}
		for _, a := range res.Areas {
			m[a.Code] = a
		}
		return m
	}
	res, err := f.svc.Results(f.super, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	all := byCode(res)
	a, b, c := all[f.comms[0].Code], all[f.comms[1].Code], all[f.comms[2].Code]
	if a.Responses != 2 || a.Eligible != 3 || !near(a.Rate, 2.0/3) || b.Responses != 0 || b.Eligible != 1 || b.Rate != 0 || c.Eligible != 0 {
		t.Fatalf("by area: %+v / %+v / %+v", a, b, c)
	}
	res, err = f.svc.Results(f.staff, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	own := byCode(res)
	if own[f.comms[0].Code].Eligible != 3 || own[f.comms[1].Code].Eligible != 0 {
		t.Fatalf("community staff: %+v", res.Areas)
	}
}

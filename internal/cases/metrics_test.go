package cases_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// The gauge counts the open cases that were flagged overdue (督办): not a
// case still within its time, not one closed late.
func TestOverdueGauge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		gauge := func() float64 {
			t.Helper()
			reg := prometheus.NewRegistry()
			reg.MustRegister(cases.NewCollector(d))
			families, err := reg.Gather()
			if err != nil || len(families) != 1 {
				t.Fatalf("gather: %v %v", families, err)
			}
			return families[0].GetMetric()[0].GetGauge().GetValue()
		}
		var numbers []string
		for _, desc := range []string{"路灯不亮", "井盖破损", "占道经营"} {
			n := f.report(t, desc).Number
			f.act(t, "staff", n, cases.Request{Action: cases.ActAccept})
			f.act(t, "staff", n, cases.Request{Action: cases.ActDispatch, Unit: "cgk"})
			numbers = append(numbers, n)
		}
		if g := gauge(); g != 0 {
			t.Fatalf("before any deadline: %v overdue", g)
		}
		f.now = f.now.Add(5 * time.Hour) // past the 4 working hours of all three
		for _, n := range numbers[:2] {  // the job has flagged two so far
			if _, err := f.svc.Act(cases.AsSystem(system), n, cases.Request{Action: cases.ActOverdue, At: f.now}); err != nil {
				t.Fatal(err)
			}
		}
		if g := gauge(); g != 2 {
			t.Fatalf("two flagged: gauge %v", g)
		}
		late := numbers[0]
		f.act(t, "handler", late, cases.Request{Action: cases.ActReceive})
		f.act(t, "handler", late, cases.Request{Action: cases.ActFeedback, Note: "已修复"})
		f.act(t, "worker", late, cases.Request{Action: cases.ActVerifyPass})
		if g := gauge(); g != 1 {
			t.Fatalf("one of the two closed late: gauge %v", g)
		}
	})
}

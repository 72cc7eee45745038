package assess

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
)

// lateData is what arrives after January: callbacks logged for a January
// day, and the first community's subsidies list, which was overdue at
// January's end, published at last.
func (f *fixture) lateData(t testing.TB) {
	t.Helper()
	f.caseDay(t, f.grids[0], "2026-01-28", 20, 2, 1, 1, 0, 0, 9)
	if err := f.cases.RebuildRollup(f.admin); err != nil {
		t.Fatal(err)
	}
	f.publish(t, f.staff, f.comms[0], "2026-03-02 11:00", "subsidies")
}

// TestClosedPeriodIsFrozen: the street closes January; data that arrive
// later move the card of an open period over the same days, and leave the
// closed one — figures, ranks, export — exactly as it was at the close.
// Reopening needs a reason, is audited, and brings the card back to life.
func TestClosedPeriodIsFrozen(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.seedRaw(t)
		jan, twin := f.january(t, "2026-01"), f.january(t, "2026-01-复核")
		before := f.scorecard(t, jan.ID)

		// Only the street closes, once.
		_, err := f.svc.ClosePeriod(f.staff, jan.ID)
		wantCode(t, err, errs.Forbidden)
		_, err = f.svc.ClosePeriod(f.dept, jan.ID)
		wantCode(t, err, errs.Forbidden)
		closed, err := f.svc.ClosePeriod(f.streeter, jan.ID)
		if err != nil || closed.Closed == nil {
			t.Fatalf("close: %+v %v", closed, err)
		}
		_, err = f.svc.ClosePeriod(f.super, jan.ID)
		if errs.CodeOf(err) != errs.Conflict || fieldsOf(err) != "state:err.assess.period_closed" {
			t.Fatalf("closing twice: %v", err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'assess.period.close' AND target_id = $1`, itoa(jan.ID)); n != 1 {
			t.Fatalf("%d audit rows for the close", n)
		}
		_, err = f.svc.SetWeights(f.super, jan.ID, Weights{FigSurvey: 100})
		wantCode(t, err, errs.Conflict)

		f.lateData(t)

		// The open twin moves…
		live := f.scorecard(t, twin.ID)
		was, now := figureOf(before, f.comms[0].Code, FigDisclosure), figureOf(live, f.comms[0].Code, FigDisclosure)
		if !near(was.Value, 2.0/3) || now.Value != 1 {
			t.Fatalf("late notice: disclosure %v → %v", was.Value, now.Value)
		}
		if reflect.DeepEqual(figureOf(before, f.comms[0].Code, FigCaseResponse), figureOf(live, f.comms[0].Code, FigCaseResponse)) {
			t.Fatal("late callbacks did not move the open card")
		}
		// …the closed card does not: figures, ranks, worst figures, export.
		after := f.scorecard(t, jan.ID)
		if !reflect.DeepEqual(before.Rows, after.Rows) || !reflect.DeepEqual(before.Worst, after.Worst) {
			t.Fatalf("closed card moved:\n%+v\n%+v", before.Rows, after.Rows)
		}
		if frozen := xlsx(t, after); frozen != xlsx(t, before) || frozen == xlsx(t, live) {
			t.Fatal("closed card's export moved, or does not show the card")
		}
		tr, err := f.svc.Trend(f.super, f.street.Code)
		if err != nil || len(tr.Series) != 3 {
			t.Fatalf("trend: %+v %v", tr, err)
		}

		// Reopening: not without the right, not without a reason, not twice.
		_, err = f.svc.ReopenPeriod(f.staff, jan.ID, "补录")
		wantCode(t, err, errs.Forbidden)
		_, err = f.svc.ReopenPeriod(f.streeter, jan.ID, "  ")
		if fieldsOf(err) != "reason:err.assess.required" {
			t.Fatalf("reopen without a reason: %v", err)
		}
		_, err = f.svc.ReopenPeriod(f.streeter, twin.ID, "误操作")
		wantCode(t, err, errs.Conflict)
		if after := f.scorecard(t, jan.ID); !reflect.DeepEqual(before.Rows, after.Rows) {
			t.Fatal("a refused reopening unfroze the card")
		}
		open, err := f.svc.ReopenPeriod(f.streeter, jan.ID, "区民政局补录一月回访")
		if err != nil || open.Closed != nil || open.ReopenReason != "区民政局补录一月回访" || open.ReopenedAt == nil {
			t.Fatalf("reopen: %+v %v", open, err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'assess.period.reopen' AND target_id = $1 AND detail LIKE $2`,
			itoa(jan.ID), "%区民政局补录一月回访%"); n != 1 {
			t.Fatalf("%d audit rows for the reopening", n)
		}
		if reopened := f.scorecard(t, jan.ID); !reflect.DeepEqual(reopened.Rows, live.Rows) {
			t.Fatalf("reopened card is not the live one:\n%+v\n%+v", reopened.Rows, live.Rows)
		}
		// Closed again, it freezes what is there now.
		if _, err := f.svc.ClosePeriod(f.super, jan.ID); err != nil {
			t.Fatal(err)
		}
		if again := f.scorecard(t, jan.ID); !reflect.DeepEqual(again.Rows, live.Rows) {
			t.Fatal("second close froze something else")
		}
	})
}

// january opens a period of January 2026 for the street.
func (f *fixture) january(t testing.TB, code string) Period {
	t.Helper()
	per, err := f.svc.CreatePeriod(f.streeter, PeriodInput{Street: f.street.Code, Code: code, From: "2026-01-01", To: "2026-01-31"})
	if err != nil {
		t.Fatal(err)
	}
	return per
}

func (f *fixture) scorecard(t testing.TB, periodID int64) Scorecard {
	t.Helper()
	card, err := f.svc.Scorecard(f.super, periodID)
	if err != nil {
		t.Fatal(err)
	}
	return card
}

func figureOf(card Scorecard, community string, key FigureKey) Figure {
	for _, r := range card.Rows {
		if r.Community == community {
			return *r.figure(key)
		}
	}
	return Figure{}
}

// xlsx is what the card's export holds, read back cell by cell.
func xlsx(t testing.TB, card Scorecard) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteScorecardXLSX(&buf, card, func(k string) string { return k }); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "card.xlsx")
	if err := os.WriteFile(name, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := sheet.Open(name, sheet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := fmt.Sprint(r.Header())
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out += "\n" + fmt.Sprint(row.Cells)
	}
}

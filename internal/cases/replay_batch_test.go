package cases_test

import (
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// The copy of a just-reported case that a replay batch keeps instead of
// reading the case back must be what the read returns, field for field.
func TestReplayBatchKeepsWhatAReadReturns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		r := newReplayer(t, d)
		ctx := cases.AsSystem(system)
		for _, na := range []area.NewArea{{Code: "990100", Name: "D", Level: area.District},
			{Code: "990100001", Name: "S", Level: area.Street, Parent: "990100"},
			{Code: "990100001001", Name: "C", Level: area.Community, Parent: "990100001"}} {
			if _, err := r.areas.Create(ctx, na); err != nil {
				t.Fatal(err)
			}
		}
		cats, err := r.svc.Categories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var leaf string
		for _, c := range cats {
			if c.Leaf() && c.Active {
				leaf = c.Code
				break
			}
		}
		p := orb.Point{-71.06, 42.36} // outside every grid: filed under the area code
		for _, nc := range []cases.NewCase{
			{Channel: cases.ChannelReplay, Category: leaf, Description: "pothole", AreaCode: "990100001001",
				At: time.Date(2015, 3, 1, 12, 30, 0, 0, time.UTC), ExternalID: "X1", Address: " 1 Main St "},
			{Channel: cases.ChannelReplay, Category: leaf, Description: strings.Repeat("长", 30), AreaCode: "990100001001",
				At: time.Date(2015, 3, 2, 23, 59, 59, 0, time.UTC), Point: &p, Name: "A", Phone: "13800138000", Email: "a@b.cn"},
		} {
			diff, err := cases.ReportedCopyDiff(ctx, r.svc, nc)
			if err != nil {
				t.Fatal(err)
			}
			if diff != "" {
				t.Fatal(diff)
			}
		}
	})
}

package cases_test

import (
	"context"
	"testing"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// What anyone may read of a case: the street's problems in full, but of a
// community matter (a neighbour dispute, a request for help) only its
// category, state and dates — not what was said, nor where.
func TestPublicListWithholdsCommunityMatters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		p := orb.Point{121.445, 37.465}
		street := f.report(t, "垃圾堆在路口")
		dispute, err := f.svc.Report(context.Background(), cases.NewCase{Category: "S0101", Point: &p, Address: "岱山社区 3 号楼 201",
			Description: "楼上 301 的老人天天半夜敲地板"})
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.svc.PublicList(context.Background(), cases.PublicQuery{})
		if err != nil || len(list) != 2 {
			t.Fatalf("public list: %d cases, %v", len(list), err)
		}
		for _, c := range list {
			switch c.Number {
			case street.Number:
				if c.Withheld || c.Description != "垃圾堆在路口" || c.Lat == nil {
					t.Errorf("a street problem should be public in full: %+v", c)
				}
			case dispute.Number:
				if !c.Withheld || c.Description != "" || c.Address != "" || c.Lat != nil || c.Lon != nil || c.CategoryCode != "S0101" {
					t.Errorf("a neighbour dispute shows what was said or where: %+v", c)
				}
			}
		}
		near, err := f.svc.PublicList(context.Background(), cases.PublicQuery{Near: &p, Radius: 100})
		if err != nil || len(near) != 1 || near[0].Number != street.Number {
			t.Errorf("a search near the point finds %+v (%v); want only the street problem", near, err)
		}
	})
}

package services

import (
	"testing"

	"github.com/linli/linli/internal/platform/errs"
)

func providersNeedsAndMatches(t *testing.T, f *fixture) {
	{
		_, err := f.svc.CreateProvider(f.staff, ProviderInput{Area: f.comm.Code, Name: "幸福家政", Kind: Business, Services: []string{"home_care"}, Capacity: 5})
		if fieldsOf(err) != "service_area:err.services.no_service_area" {
			t.Fatalf("provider without an area: %v", err)
		}
		near, err := f.svc.CreateProvider(f.staff, ProviderInput{Area: f.comm.Code, Name: "助餐点", Kind: CommunityP, Services: []string{"meal_delivery"},
			Location: &Point{121.4265, 37.4825}, RadiusM: 1000, Capacity: 1})
		if err != nil {
			t.Fatal(err)
		}
		far, err := f.svc.CreateProvider(f.staff, ProviderInput{Area: f.comm.Code, Name: "街道长者餐厅", Kind: SocialOrg, Services: []string{"meal_delivery", "day_care"},
			Polygon: [][][2]float64{{{121.40, 37.46}, {121.45, 37.46}, {121.45, 37.50}, {121.40, 37.50}, {121.40, 37.46}}}, Location: &Point{121.41, 37.47}, Capacity: 10})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateProvider(f.staff, ProviderInput{Area: f.comm.Code, Name: "律所", Kind: Business, Services: []string{"legal_advice"},
			Location: &Point{121.0, 37.0}, RadiusM: 500, Capacity: 3}); err != nil {
			t.Fatal(err)
		}
		need, err := f.svc.RecordNeed(f.worker, NeedInput{Grid: f.grid.Code, Person: "王秀英", Service: "meal_delivery", Location: &Point{121.4270, 37.4830}, Note: "独居，行动不便"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RecordNeed(f.worker, NeedInput{Grid: f.grid.Code, Person: "", Service: "massage"}); fieldsOf(err) != "person:err.services.person service:err.services.service_type location:err.services.location" {
			t.Fatalf("bad need: %v", err)
		}
		props, err := f.svc.Propose(f.worker, need.ID)
		if err != nil || len(props) != 2 || props[0].Provider.ID != near.ID || props[1].Provider.ID != far.ID {
			t.Fatalf("proposals: %v %+v", err, props)
		}
		m, err := f.svc.Match(f.worker, need.ID, near.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The near provider is now full: another need goes to the far one.
		need2, _ := f.svc.RecordNeed(f.worker, NeedInput{Grid: f.grid.Code, Person: "李大爷", Service: "meal_delivery", Location: &Point{121.4270, 37.4830}})
		if _, err := f.svc.Match(f.worker, need2.ID, near.ID); fieldsOf(err) != "provider:err.services.not_proposed" {
			t.Fatalf("matching a full provider: %v", err)
		}
		if err := f.svc.CloseMatch(f.worker, m, false, "老人拒绝上门"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CloseMatch(f.worker, m, true, "again"); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("closing twice: %v", err)
		}
		open, _ := f.svc.Needs(f.staff, NeedOpen)
		if len(open) != 2 {
			t.Fatalf("unmet needs: %+v", open)
		}
		if _, err := f.svc.Needs(f.resident, ""); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("resident listing needs: %v", err)
		}
	}
}

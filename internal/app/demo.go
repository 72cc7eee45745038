package app

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/paulmach/orb"
	"strings"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/auth"
)

// laishan.json holds a real street of 烟台市莱山区 and its communities, with
// the statistical codes of 2021.
//
//go:embed demo/laishan.json
var laishanJSON []byte

type demoDivision struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type demoData struct {
	District    demoDivision   `json:"district"`
	Street      demoDivision   `json:"street"`
	Communities []demoDivision `json:"communities"`
}

// DemoAccount is a demo login, printed once at the first start.
type DemoAccount struct {
	Name, Password string
	Role           auth.Role
	Area           string
}

// SeedDemo fills an empty database with the demo street and one account per
// role. It returns nil accounts, and changes nothing, when the database
// already holds areas or accounts: the demo never touches real data.
func (a *App) SeedDemo(ctx context.Context) ([]DemoAccount, error) {
	var n int
	if err := a.DB.Q(ctx).QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM areas)").Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, nil
	}
	var d demoData
	if err := json.Unmarshal(laishanJSON, &d); err != nil {
		return nil, err
	}
	ctx = auth.WithPrincipal(ctx, auth.System())
	first := d.Communities[0].Code
	firstGrid := first + "001"
	accounts := []DemoAccount{
		{Name: "admin", Role: auth.Admin},
		{Name: "supervisor", Role: auth.Supervisor, Area: d.District.Code},
		{Name: "street", Role: auth.StreetStaff, Area: d.Street.Code},
		{Name: "department", Role: auth.DepartmentHandler, Area: d.Street.Code},
		{Name: "community", Role: auth.CommunityStaff, Area: first},
		{Name: "gridworker", Role: auth.GridWorker, Area: firstGrid},
		{Name: "resident", Role: auth.Resident, Area: first},
		{Name: "overseer", Role: auth.Overseer, Area: first},
	}
	displayNames := map[auth.Role]string{
		auth.Admin: "系统管理员", auth.Supervisor: "考核监督员 周敏", auth.StreetStaff: "街道干部 孙立",
		auth.DepartmentHandler: "城管科 赵刚", auth.CommunityStaff: "社区书记 王芳",
		auth.GridWorker: "网格员 李强", auth.Resident: "居民 张桂兰", auth.Overseer: "监委会委员 陈洁",
	}
	// One transaction: a failed seeding leaves the database empty, so the
	// next start seeds again and prints the accounts. (Hashing the eight
	// passwords inside it holds the writer for ~0.2 s, once, at first start.)
	err := a.DB.Write(ctx, func(ctx context.Context) error {
		if err := a.createDemoAreas(ctx, d); err != nil {
			return err
		}
		if err := a.createDemoGrids(ctx, d); err != nil {
			return err
		}
		for i, acc := range accounts {
			accounts[i].Password = randomPassword()
			if _, err := a.Auth.CreateUser(ctx, auth.NewUser{Name: acc.Name, DisplayName: displayNames[acc.Role],
				Password: accounts[i].Password, Role: acc.Role, AreaCode: acc.Area}); err != nil {
				return err
			}
		}
		if err := a.Areas.AssignWorker(ctx, firstGrid, "gridworker", area.DutyLeader); err != nil {
			return err
		}
		if err := a.createDemoCases(ctx, d); err != nil {
			return err
		}
		// The register of the demo grids: a few thousand residents.
		if err := a.Registry.SeedDemo(ctx); err != nil {
			return err
		}
		// The demo resident's account is an adult heading a household of the
		// first grid, so that the demo can vote and volunteer as a real,
		// linked resident would.
		if err := a.Registry.LinkDemoAccount(ctx, firstGrid, "resident"); err != nil {
			return err
		}
		// Organisations, a team, two coming activities and a reward shelf.
		if err := a.Volunteers.SeedDemo(ctx, first); err != nil {
			return err
		}
		if err := a.Services.SeedDemo(ctx); err != nil {
			return err
		}
		// This quarter's period, an open survey, an admitted task and a
		// hand-down the community can refuse.
		return a.Assess.SeedDemo(ctx, d.Street.Code, first)
	})
	if err != nil {
		return nil, err
	}
	return accounts, nil
}

func (a *App) createDemoAreas(ctx context.Context, d demoData) error {
	if _, err := a.Areas.Create(ctx, area.NewArea{Code: d.District.Code, Name: d.District.Name, Level: area.District}); err != nil {
		return err
	}
	if _, err := a.Areas.Create(ctx, area.NewArea{Code: d.Street.Code, Name: d.Street.Name, Level: area.Street, Parent: d.District.Code}); err != nil {
		return err
	}
	for _, c := range d.Communities {
		if _, err := a.Areas.Create(ctx, area.NewArea{Code: c.Code, Name: c.Name, Level: area.Community, Parent: d.Street.Code}); err != nil {
			return err
		}
	}
	return nil
}

// randomPassword avoids look-alike characters: it is read off a terminal.
func randomPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 14)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

// The demo street lies around 烟台大学 in 莱山区. The communities' real
// boundaries are not public, so the demo lays them out as blocks of about
// 700 × 650 m in a plausible arrangement around that point, each cut into
// 3–6 grids: true to scale, not to the street plan.
const (
	demoWest, demoNorth = 121.425, 37.485 // north-west corner of the demo street
	blockLon, blockLat  = 0.008, 0.006    // one community block, in degrees
	demoColumns         = 5
)

// createDemoGrids gives every demo community a boundary and its grids,
// through the same import path as an administrator's GeoJSON file. The last
// strip of the second community is a dedicated grid for a school.
func (a *App) createDemoGrids(ctx context.Context, d demoData) error {
	var blocks []string
	for i, c := range d.Communities {
		west := demoWest + float64(i%demoColumns)*blockLon
		north := demoNorth - float64(i/demoColumns)*blockLat
		blocks = append(blocks, demoFeature(c.Name, west, north-blockLat, blockLon, blockLat))
	}
	if _, err := a.Areas.Import(ctx, area.ImportRequest{File: strings.NewReader(demoCollection(blocks)),
		Level: area.Community, Parent: d.Street.Code, Source: "demo"}); err != nil {
		return err
	}
	for i, c := range d.Communities {
		west := demoWest + float64(i%demoColumns)*blockLon
		south := demoNorth - float64(i/demoColumns+1)*blockLat
		n := 3 + (i*7)%4 // 3–6 grids
		strip := blockLon / float64(n)
		var grids, dedicated []string
		for g := 0; g < n; g++ {
			f := demoFeature(fmt.Sprintf("%s第%s网格", shortName(c.Name), chineseNumbers[g]), west+float64(g)*strip, south, strip, blockLat)
			if i == 1 && g == n-1 {
				f = demoFeature("烟台大学附属中学专属网格", west+float64(g)*strip, south, strip, blockLat)
				dedicated = append(dedicated, f)
				continue
			}
			grids = append(grids, f)
		}
		if _, err := a.Areas.Import(ctx, area.ImportRequest{File: strings.NewReader(demoCollection(grids)),
			Level: area.Grid, Parent: c.Code, Source: "demo"}); err != nil {
			return err
		}
		if len(dedicated) > 0 {
			if _, err := a.Areas.Import(ctx, area.ImportRequest{File: strings.NewReader(demoCollection(dedicated)),
				Level: area.Grid, Parent: c.Code, Kind: area.Dedicated, Purpose: "school", Source: "demo"}); err != nil {
				return err
			}
		}
	}
	return nil
}

var chineseNumbers = []string{"一", "二", "三", "四", "五", "六"}

// shortName drops the 居委会 suffix: 岱山社区居委会 → 岱山社区.
func shortName(name string) string { return strings.TrimSuffix(name, "居委会") }

func demoFeature(name string, west, south, w, h float64) string {
	e, n := west+w, south+h
	return fmt.Sprintf(`{"type":"Feature","properties":{"name":%q},"geometry":{"type":"Polygon","coordinates":`+
		`[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f]]]}}`, name, west, south, e, south, e, n, west, n, west, south)
}

func demoCollection(features []string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

// createDemoCases sets up the handling units and a few cases at different
// steps of the loop, so that the queues, a case page and the dashboard
// show something true to life on the first visit.
func (a *App) createDemoCases(ctx context.Context, d demoData) error {
	first := d.Communities[0].Code
	units := []struct{ code, name, area, member string }{
		{"hhl-cgk", "黄海路街道城管科", d.Street.Code, "department"},
		{"ds-jwh", shortName(d.Communities[0].Name) + "居委会", first, "community"},
	}
	for _, u := range units {
		if err := a.Cases.CreateUnit(ctx, u.code, u.name, u.area); err != nil {
			return err
		}
		member, err := a.Auth.Lookup(ctx, u.member)
		if err != nil {
			return err
		}
		if err := a.Cases.AddUnitMember(ctx, u.code, member.ID); err != nil {
			return err
		}
	}
	sys := cases.AsSystem(ctx)
	// Points inside the first community's grids (see createDemoGrids).
	reports := []struct {
		category, text string
		lon, lat       float64
		moves          []cases.Request
	}{
		{"E0101", "小区北门外垃圾堆放两天了，有异味。", 121.4262, 37.4830, nil},
		{"C0201", "岱山路与滨海路路口的路灯晚上不亮。", 121.4280, 37.4815, []cases.Request{{Action: cases.ActAccept}}},
		{"E0502", "消防通道被私家车堵住。", 121.4300, 37.4805, []cases.Request{{Action: cases.ActAccept},
			{Action: cases.ActDispatch, Unit: "hhl-cgk"}}},
		{"S0101", "楼上漏水到我家，协商不成。", 121.4270, 37.4840, []cases.Request{{Action: cases.ActAccept},
			{Action: cases.ActDispatch, Unit: "ds-jwh"}, {Action: cases.ActReceive}, {Action: cases.ActFeedback, Note: "已组织双方调解，楼上已修复防水。"}}},
		{"C0301", "垃圾桶满溢。", 121.4310, 37.4825, []cases.Request{{Action: cases.ActAccept},
			{Action: cases.ActDispatch, Unit: "hhl-cgk"}, {Action: cases.ActReceive}, {Action: cases.ActFeedback, Note: "已清运并加密清运频次。"},
			{Action: cases.ActVerifyPass}, {Action: cases.ActCallback, Contacted: ptr(true), Solved: ptr(true), Satisfaction: cases.Satisfied}}},
	}
	for _, r := range reports {
		p := orb.Point{r.lon, r.lat}
		rc, err := a.Cases.Report(ctx, cases.NewCase{Category: r.category, Description: r.text, Point: &p,
			Name: "居民", Phone: "13800000000"})
		if err != nil {
			return err
		}
		for _, m := range r.moves {
			if _, err := a.Cases.Act(sys, rc.Number, m); err != nil {
				return err
			}
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

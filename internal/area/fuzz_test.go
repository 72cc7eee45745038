package area_test

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/geo"
)

// FuzzImportGeoJSON imports arbitrary bytes as the grids of a community
// (a dry run, so that every input meets the same database). The import
// either names its problems (an Invalid or TooLarge *errs.Error with a
// message key, never an internal error) or accepts every feature of the
// file, each a polygon that passes geo.ValidateIn for the service's
// region, with a distinct 15-digit grid code under the community.
//
//	go test -run '^$' -fuzz FuzzImportGeoJSON -fuzztime 60s ./internal/area/
func FuzzImportGeoJSON(f *testing.F) {
	for _, s := range []string{
		collection(polygonFeature("西北", square(121.440, 37.4612, 0.001, 0.001)), polygonFeature("东北", square(121.441, 37.461, 0.001, 0.001))),
		collection(polygonFeature("一网格", square(121.440, 37.460, 0.002, 0.002)), polygonFeature("二网格", square(121.441, 37.461, 0.002, 0.002))),
		collection(polygonFeature("蝴蝶", "[[[121.44,37.46],[121.45,37.47],[121.45,37.46],[121.44,37.47],[121.44,37.46]]]")),
		collection(polygonFeature("反了", square(37.46, 121.44, 0.001, 0.001))),
		collection(polygonFeature("", square(121.440, 37.460, 0.001, 0.001))),
		collection(polygonFeature("重名", square(121.440, 37.460, 0.001, 0.001)), polygonFeature("重名", square(121.442, 37.460, 0.001, 0.001))),
		`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"多面"},"geometry":{"type":"MultiPolygon","coordinates":[` +
			square(121.440, 37.460, 0.001, 0.001) + `,` + square(121.443, 37.460, 0.001, 0.001) + `]}}]}`,
		`{"type":"Feature","properties":{"name":"点"},"geometry":{"type":"Point","coordinates":[121.44,37.46]}}`,
		`{"type":"FeatureCollection","features":[]}`,
		`{"type":"Polygon","coordinates":[[[121.44,37.46],[121.441,37.46],[121.441,37.461],[121.44,37.46]]]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":1e999},"geometry":null}]}`,
		`not json`,
	} {
		f.Add([]byte(s))
	}
	d := dbtest.Open(f, "sqlite:"+f.TempDir()+"/linli.db")
	svc := area.NewService(d, audit.New(d, nil), auth.NewService(d, audit.New(d, nil), nil), nil)
	ctx := auth.WithPrincipal(context.Background(), auth.System())
	for _, na := range []area.NewArea{
		{Code: "370613", Name: "莱山区", Level: area.District},
		{Code: "370613001", Name: "黄海路街道", Level: area.Street, Parent: "370613"},
		{Code: "370613001002", Name: "黄海社区", Level: area.Community, Parent: "370613001"},
	} {
		if _, err := svc.Create(ctx, na); err != nil {
			f.Fatalf("%s: %v", na.Code, err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := svc.Import(ctx, area.ImportRequest{File: bytes.NewReader(data), Level: area.Grid, Parent: "370613001002",
			CodeProp: "", Source: "fuzz", DryRun: true})
		if err != nil {
			e, ok := err.(*errs.Error)
			if !ok || (e.Code != errs.Invalid && e.Code != errs.TooLarge) || e.Key == "" {
				t.Fatalf("Import(%q): %#v names no problem", data, err)
			}
			return
		}
		features, err := geo.ReadFeatures(bytes.NewReader(data), area.MaxImportBytes)
		if err != nil {
			t.Fatalf("Import accepted %q, which geo.ReadFeatures refuses: %v", data, err)
		}
		if len(rep.Items) != len(features) || len(features) == 0 {
			t.Fatalf("Import(%q) reports %d items for %d features", data, len(rep.Items), len(features))
		}
		codes := map[string]bool{}
		for i, it := range rep.Items {
			if len(it.Code) != 15 || !strings.HasPrefix(it.Code, "370613001002") || codes[it.Code] || it.Name == "" || it.Feature != i+1 {
				t.Fatalf("Import(%q): item %+v", data, it)
			}
			codes[it.Code] = true
			g := features[i].Geometry
			switch g.(type) {
			case orb.Polygon, orb.MultiPolygon:
			default:
				t.Fatalf("Import(%q) accepted a %T", data, g)
			}
			if ps := geo.ValidateIn(g, svc.Region); len(ps) > 0 {
				t.Fatalf("Import(%q) accepted feature %d with problems %+v", data, i+1, ps)
			}
		}
	})
}

// FuzzParsePoint feeds the lat/lon/coord parameters of a locate request
// to ParsePoint: a point it accepts is finite and on the globe (within the
// few hundred metres a datum shift may add at the poles and the date
// line); a refusal is an Invalid error.
//
//	go test -run '^$' -fuzz FuzzParsePoint -fuzztime 60s ./internal/area/
func FuzzParsePoint(f *testing.F) {
	for _, c := range [][3]string{{"37.4605", "121.4405", ""}, {"37.466921", "121.447368", "gcj02"}, {"37.4725", "121.4539", "bd09"},
		{"90", "180", "bd09"}, {"-90", "-180", "gcj02"}, {"NaN", "121", "wgs84"}, {"1e999", "0", ""}, {"0x1p-2", "+121", "WGS84"}} {
		f.Add(c[0], c[1], c[2])
	}
	f.Fuzz(func(t *testing.T, lat, lon, coord string) {
		p, err := area.ParsePoint(lat, lon, coord)
		if err != nil {
			if e, ok := err.(*errs.Error); !ok || e.Code != errs.Invalid {
				t.Fatalf("ParsePoint(%q, %q, %q): %#v", lat, lon, coord, err)
			}
			return
		}
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.Abs(p[0]) > 180.01 || math.Abs(p[1]) > 90.01 {
			t.Fatalf("ParsePoint(%q, %q, %q) accepted %v", lat, lon, coord, p)
		}
	})
}

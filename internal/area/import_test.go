package area_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

func newService(d *db.DB) *area.Service {
	return area.NewService(d, audit.New(d, nil), auth.NewService(d, audit.New(d, nil), nil), nil)
}

var system = auth.WithPrincipal(context.Background(), auth.System())

// square is a closed ring of a w×h box with its south-west corner at (x, y).
func square(x, y, w, h float64) string {
	return fmt.Sprintf("[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]", x, y, x+w, y, x+w, y+h, x, y+h, x, y)
}

func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func polygonFeature(name, coords string) string {
	return fmt.Sprintf(`{"type":"Feature","properties":{"name":%q},"geometry":{"type":"Polygon","coordinates":%s}}`, name, coords)
}

func importGrids(svc *area.Service, parent, file string) (area.ImportReport, error) {
	return svc.Import(system, area.ImportRequest{File: strings.NewReader(file), Level: area.Grid, Parent: parent, Source: "test"})
}

// Four grids in two rows get their codes west→east, then north→south.
func TestImportNumbersGridsWestToEastNorthToSouth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc := newService(d)
		seed(t, svc)
		file := collection(
			polygonFeature("东南", square(121.441, 37.460, 0.001, 0.001)),
			polygonFeature("西北", square(121.440, 37.4612, 0.001, 0.001)),
			polygonFeature("西南", square(121.440, 37.4601, 0.001, 0.001)),
			polygonFeature("东北", square(121.441, 37.461, 0.001, 0.001)),
		)
		rep, err := importGrids(svc, "370613001002", file)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"西北": "370613001002001", "东北": "370613001002002", "西南": "370613001002003", "东南": "370613001002004"}
		for _, it := range rep.Items {
			if it.Code != want[it.Name] || !it.New || it.Version != 1 {
				t.Errorf("%s: %+v, want code %s", it.Name, it, want[it.Name])
			}
		}
		loc, ok, err := svc.Locate(context.Background(), orb.Point{121.4405, 37.4605})
		if err != nil || !ok || loc.Grid.Name != "西南" || loc.Grid.Code != "370613001002003" {
			t.Fatalf("locate: %+v %v %v", loc, ok, err)
		}
		if loc.Community.Code != "370613001002" || loc.Street.Code != "370613001" || loc.District.Code != "370613" {
			t.Fatalf("location chain: %+v", loc)
		}
		if _, ok, _ := svc.Locate(context.Background(), orb.Point{121.5, 37.5}); ok {
			t.Fatal("a point outside every grid was located")
		}
	})
}

// Every bad feature is reported, and nothing is written.
func TestImportIsAllOrNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc := newService(d)
		seed(t, svc)
		bowtie := "[[[121.44,37.46],[121.441,37.461],[121.441,37.46],[121.44,37.461],[121.44,37.46]]]"
		file := collection(
			polygonFeature("好网格", square(121.450, 37.46, 0.001, 0.001)),
			polygonFeature("自相交", bowtie),
			polygonFeature("重叠", square(121.4505, 37.4605, 0.001, 0.001)),
			polygonFeature("反了", "[[[37.46,121.44],[37.461,121.44],[37.461,121.441],[37.46,121.44]]]"),
		)
		_, err := importGrids(svc, "370613001002", file)
		e := errs.As(err)
		if e.Code != errs.Invalid || e.Key != "err.import.rejected" {
			t.Fatalf("got %v", err)
		}
		named := map[string]string{}
		for _, f := range e.Fields {
			named[f.Field] = f.Key
		}
		for field, key := range map[string]string{"#2 «自相交»": "err.geo.self_intersection", "#3 «重叠»": "err.area.overlap",
			"#4 «反了»": "err.geo.swapped_lat_lon"} {
			if named[field] != key {
				t.Errorf("%s: got %q, want %q (all: %v)", field, named[field], key, named)
			}
		}
		n, _ := svc.Count(system)
		if n[area.Grid] != 1 { // the one grid seeded before
			t.Fatalf("a rejected import left %d grids", n[area.Grid])
		}
		for _, bad := range []struct{ name, file, key string }{
			{"not JSON", "{nope", "err.import.geojson"},
			{"no features", collection(), "err.import.empty"},
			{"a point", `{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}`, "err.invalid"},
		} {
			if _, err := importGrids(svc, "370613001002", bad.file); errs.As(err).Key != bad.key {
				t.Errorf("%s: %v, want %s", bad.name, err, bad.key)
			}
		}
		huge := io.MultiReader(strings.NewReader(strings.Repeat(" ", area.MaxImportBytes+1)), strings.NewReader(collection()))
		_, err = svc.Import(system, area.ImportRequest{File: huge, Parent: "370613001002"})
		if errs.CodeOf(err) != errs.TooLarge {
			t.Fatalf("an oversized file: %v", err)
		}
	})
}

// A parent with a polygon keeps its children inside it; re-importing keeps
// the old boundary with its dates.
func TestBoundariesAreVersionedAndNested(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc := newService(d)
		seed(t, svc)
		if _, err := svc.Import(system, area.ImportRequest{File: strings.NewReader(collection(
			polygonFeature("黄海社区", square(121.44, 37.46, 0.01, 0.01)))), Level: area.Community, Parent: "370613001", CodeProp: "",
		}); err != nil {
			t.Fatal(err)
		}
		_, err := importGrids(svc, "370613001002", collection(polygonFeature("出界", square(121.455, 37.465, 0.01, 0.01))))
		if e := errs.As(err); len(e.Fields) != 1 || e.Fields[0].Key != "err.area.outside_parent" {
			t.Fatalf("grid outside its community: %v", err)
		}
		if _, err := importGrids(svc, "370613001002", collection(polygonFeature("一网格", square(121.441, 37.461, 0.002, 0.002)))); err != nil {
			t.Fatal(err)
		}
		before := time.Now()
		time.Sleep(2 * time.Millisecond)
		rep, err := importGrids(svc, "370613001002", collection(polygonFeature("一网格", square(121.442, 37.462, 0.003, 0.003))))
		if err != nil {
			t.Fatal(err)
		}
		if it := rep.Items[0]; it.New || it.Version != 2 || it.Code != "370613001002001" {
			t.Fatalf("re-import: %+v", it)
		}
		old, err := svc.BoundaryAt(system, "370613001002001", before)
		if err != nil || old.Version != 1 || old.ValidTo == nil {
			t.Fatalf("boundary last time: %+v %v", old, err)
		}
		if loc, ok, _ := svc.Locate(context.Background(), orb.Point{121.4445, 37.4645}); !ok || loc.Grid.Code != "370613001002001" {
			t.Fatalf("the new boundary is not the one located: %+v", loc)
		}
	})
}

// The city's own answer: after importing NYC's community districts, the
// district located for each 311 request agrees with its Community Board.
func TestLocateAgreesWithNYC311(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the NYC data set")
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc := newService(d)
		svc.Region = orb.Bound{} // New York, not China
		for _, na := range []area.NewArea{
			{Code: "990000", Name: "New York City", Level: area.District},
			{Code: "990000001", Name: "Five boroughs", Level: area.Street, Parent: "990000"},
			{Code: "990000001001", Name: "Community districts", Level: area.Community, Parent: "990000001"},
		} {
			if _, err := svc.Create(system, na); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.Open("../../../shared/data/nyc/nyc_community_districts.geojson")
		if err != nil {
			t.Skipf("NYC data not here: %v", err)
		}
		defer f.Close()
		// The city's own file has districts 210 and 228 overlapping by about
		// 3,600 m² (digitising); accept slivers up to 5,000 m² here.
		rep, err := svc.Import(system, area.ImportRequest{File: bufio.NewReader(f), Parent: "990000001001", NameProp: "BoroCD",
			OverlapTolerance: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Items) != 71 {
			t.Fatalf("imported %d districts", len(rep.Items))
		}
		located, agree := 0, 0
		for _, file := range []string{"nyc311_2024-04-15_1000rows.csv.gz", "nyc311_illegal_animals_2010-2025.csv.gz"} {
			for _, r := range readNYC(t, "../../../shared/data/nyc/"+file) {
				loc, ok, err := svc.Locate(context.Background(), r.point)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					continue
				}
				located++
				if loc.Grid.Name == r.boroCD {
					agree++
				}
			}
		}
		share := float64(agree) / float64(located)
		t.Logf("%d of %d located requests agree with their Community Board (%.2f%%)", agree, located, 100*share)
		if located < 5000 || share < 0.99 {
			t.Fatalf("agreement %.4f over %d located requests, want at least 0.99", share, located)
		}
	})
}

type nycRequest struct {
	point  orb.Point
	boroCD string
}

var boroughs = map[string]int{"MANHATTAN": 1, "BRONX": 2, "BROOKLYN": 3, "QUEENS": 4, "STATEN ISLAND": 5}

// readNYC returns the requests that have coordinates and a real Community
// Board ("13 QUEENS" → BoroCD 413).
func readNYC(t *testing.T, path string) []nycRequest {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("NYC data not here: %v", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	rd := csv.NewReader(gz)
	rd.FieldsPerRecord = -1
	header, err := rd.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.ReplaceAll(h, " ", "_"))] = i
	}
	var out []nycRequest
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lat, err1 := strconv.ParseFloat(rec[col["latitude"]], 64)
		lon, err2 := strconv.ParseFloat(rec[col["longitude"]], 64)
		num, boro, ok := strings.Cut(rec[col["community_board"]], " ")
		n, err3 := strconv.Atoi(num)
		b, known := boroughs[boro]
		if err1 != nil || err2 != nil || err3 != nil || !ok || !known || n == 0 {
			continue
		}
		out = append(out, nycRequest{point: orb.Point{lon, lat}, boroCD: strconv.Itoa(b*100 + n)})
	}
	return out
}

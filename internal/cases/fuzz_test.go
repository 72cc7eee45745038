package cases

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/errs"
)

// FuzzHotlineMapping feeds arbitrary mapping files to ParseHotlineMapping.
// A refused file is an Invalid *errs.Error naming the mapping or one of
// its keys. An accepted mapping has its required keys, a known datum and
// a zone that loads; written out as JSON and parsed again it is the same
// mapping.
//
//	go test -run '^$' -fuzz FuzzHotlineMapping -fuzztime 60s ./internal/cases/
func FuzzHotlineMapping(f *testing.F) {
	def, _ := json.Marshal(DefaultHotlineMapping())
	f.Add(def)
	for _, s := range []string{
		`{"external_id":"工单编号","description":"诉求内容","default_category":"S0201"}`,
		`{"external_id":"编号","description":"内容","category":"分类","categories":{"市容环境":"S0101"},"lat":"纬度","lon":"经度","coordinates":"bd09","time_zone":"Asia/Urumqi","time_layouts":["2006/01/02 15:04"]}`,
		`{"external_id":"编号","description":"内容","category":"分类","lat":"纬度"}`,
		`{"external_id":"编号","description":"内容","category":"分类","coordinates":"cgcs2000"}`,
		`{"external_id":"编号","description":"内容","category":"分类","time_zone":"../../etc/passwd"}`,
		`{"external_id":"编号","descripton":"内容"}`,
		`{"external_id":"a","description":"b","category":"c"} trailing`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseHotlineMapping(bytes.NewReader(data))
		if err != nil {
			e, ok := err.(*errs.Error)
			if !ok || e.Code != errs.Invalid || len(e.Fields) == 0 {
				t.Fatalf("ParseHotlineMapping(%q): %#v is no Invalid error naming a field", data, err)
			}
			for _, fe := range e.Fields {
				if fe.Field != "mapping" && !strings.HasPrefix(fe.Field, "mapping.") {
					t.Fatalf("ParseHotlineMapping(%q): field %q", data, fe.Field)
				}
			}
			return
		}
		if m.ExternalID == "" || m.Description == "" || (m.Category == "" && m.DefaultCategory == "") ||
			(m.Lat == "") != (m.Lon == "") || len(m.TimeLayouts) == 0 {
			t.Fatalf("ParseHotlineMapping(%q) accepted %+v", data, m)
		}
		switch m.Coordinates {
		case "wgs84", "gcj02", "bd09":
		default:
			t.Fatalf("ParseHotlineMapping(%q) accepted datum %q", data, m.Coordinates)
		}
		if _, err := time.LoadLocation(m.TimeZone); err != nil {
			t.Fatalf("ParseHotlineMapping(%q) accepted zone %q: %v", data, m.TimeZone, err)
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseHotlineMapping(bytes.NewReader(out))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("ParseHotlineMapping(%q) = %+v; written as %s and parsed again: %+v, %v", data, m, out, again, err)
		}
	})
}

// FuzzHotlinePoint feeds the latitude and longitude cells of a hotline
// export, in each datum, to the row reader. A point it accepts is finite
// and on the globe; one it refuses is reported against the row.
//
//	go test -run '^$' -fuzz FuzzHotlinePoint -fuzztime 60s ./internal/cases/
func FuzzHotlinePoint(f *testing.F) {
	for _, c := range [][2]string{{"37.4605", "121.4405"}, {"37.466921", "121.447368"}, {"", ""}, {"91", "0"},
		{"-90", "-180"}, {"0x1p-2", "1_0"}, {"3.7e1", "+121"}, {"37.4605", ""}, {"Inf", "0"}, {" 37 ", "121"},
		{"NaN", "121.44"}, {"37.46", "nan"}} { // NaN was accepted once: ParseFloat reads it
		for datum := range uint8(3) {
			f.Add(c[0], c[1], datum)
		}
	}
	f.Fuzz(func(t *testing.T, lat, lon string, datum uint8) {
		m := DefaultHotlineMapping()
		m.Coordinates = []string{"wgs84", "gcj02", "bd09"}[datum%3]
		rd := &hotlineReader{m: m}
		p := rd.point(7, lat, lon)
		switch {
		case p == nil && lat == "" && lon == "":
			if rd.problems.Count() != 0 {
				t.Fatalf("no point reported as a problem")
			}
		case p == nil:
			if rd.problems.Count() != 1 {
				t.Fatalf("point(%q, %q) refused without a problem", lat, lon)
			}
		default:
			x, y := p[0], p[1]
			if rd.problems.Count() != 0 || math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) ||
				math.Abs(y) > 90.01 || math.Abs(x) > 180.01 {
				t.Fatalf("point(%q, %q) in %s accepted as %v", lat, lon, m.Coordinates, *p)
			}
		}
	})
}

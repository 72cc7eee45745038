package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Chinese map SDKs publish coordinates in one of three systems:
//
//   - WGS84: GPS, OpenStreetMap, 天地图 (CGCS2000, equal to WGS84 at this
//     precision). Linli stores WGS84.
//   - GCJ-02 (国测局坐标, "Mars coordinates"): 高德/AMap, Tencent, Google
//     China. WGS84 shifted by a published, deliberately irregular offset of a
//     few hundred metres inside China and not at all outside it.
//   - BD-09 (百度坐标): Baidu, GCJ-02 shifted once more.
//
// The formulas are the widely published ones (as in the coordtransform
// libraries); "China" is their rectangular approximation.

// Krasovsky 1940 ellipsoid, which the GCJ-02 formula uses.
const (
	gcjSemiMajor = 6378245.0
	gcjEccSq     = 0.00669342162296594323
	bdXPi        = math.Pi * 3000.0 / 180.0
)

// OutOfChina reports whether p (lon, lat) lies outside the rectangle in
// which the GCJ-02 offset applies.
func OutOfChina(p orb.Point) bool {
	lon, lat := p[0], p[1]
	return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271)
}

// WGS84ToGCJ02 converts a WGS84 point to GCJ-02.
func WGS84ToGCJ02(p orb.Point) orb.Point {
	if OutOfChina(p) {
		return p
	}
	dLon, dLat := gcjOffset(p[0], p[1])
	return orb.Point{p[0] + dLon, p[1] + dLat}
}

// GCJ02ToWGS84 inverts WGS84ToGCJ02 by fixed-point iteration until the
// forward conversion of the result is within 1e-9 degrees (about 0.1 mm) of
// p; it converges in a handful of steps because the offset varies slowly.
func GCJ02ToWGS84(p orb.Point) orb.Point {
	if OutOfChina(p) {
		return p
	}
	w := p
	for range 30 {
		g := WGS84ToGCJ02(w)
		dLon, dLat := g[0]-p[0], g[1]-p[1]
		w = orb.Point{w[0] - dLon, w[1] - dLat}
		if math.Abs(dLon) < 1e-9 && math.Abs(dLat) < 1e-9 {
			break
		}
	}
	return w
}

// GCJ02ToBD09 converts a GCJ-02 point to BD-09.
func GCJ02ToBD09(p orb.Point) orb.Point {
	x, y := p[0], p[1]
	z := math.Sqrt(x*x+y*y) + 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) + 0.000003*math.Cos(x*bdXPi)
	return orb.Point{z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006}
}

// BD09ToGCJ02 converts a BD-09 point to GCJ-02 with the published
// approximate inverse: a round trip through GCJ02ToBD09 is off by up to
// about 2e-6 degrees (0.2 m). It is kept as published so that Linli agrees
// with the other tools that use it.
func BD09ToGCJ02(p orb.Point) orb.Point {
	x, y := p[0]-0.0065, p[1]-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdXPi)
	return orb.Point{z * math.Cos(theta), z * math.Sin(theta)}
}

// BD09ToWGS84 converts a BD-09 point to WGS84.
func BD09ToWGS84(p orb.Point) orb.Point {
	return GCJ02ToWGS84(BD09ToGCJ02(p))
}

// WGS84ToBD09 converts a WGS84 point to BD-09.
func WGS84ToBD09(p orb.Point) orb.Point {
	return GCJ02ToBD09(WGS84ToGCJ02(p))
}

// gcjOffset is the GCJ-02 shift in degrees at a WGS84 point.
func gcjOffset(lon, lat float64) (dLon, dLat float64) {
	x, y := lon-105.0, lat-35.0
	dLat = gcjTransformLat(x, y)
	dLon = gcjTransformLon(x, y)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - gcjEccSq*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((gcjSemiMajor * (1 - gcjEccSq)) / (magic * sqrtMagic) * math.Pi)
	dLon = (dLon * 180.0) / (gcjSemiMajor / sqrtMagic * math.Cos(radLat) * math.Pi)
	return dLon, dLat
}

func gcjTransformLat(x, y float64) float64 {
	ret := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	ret += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return ret
}

func gcjTransformLon(x, y float64) float64 {
	ret := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	ret += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return ret
}

// Distance returns the great-circle distance in metres between two lon/lat
// points (haversine on a sphere of radius 6,371,008.8 m).
func Distance(a, b orb.Point) float64 {
	const r = 6371008.8
	φ1, φ2 := a[1]*math.Pi/180, b[1]*math.Pi/180
	dφ, dλ := φ2-φ1, (b[0]-a[0])*math.Pi/180
	h := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Package geo is Linli's spatial core: it answers "which grid (网格) is this
// point in?" exactly and fast, converts between the coordinate systems used by
// Chinese map SDKs, checks polygons before they are imported, and reads
// GeoJSON.
//
// # Point location
//
// [Build] turns a slice of [Shape] (a key and a Polygon or MultiPolygon, with
// holes) into an [Index]; [Index.Locate] returns the key of the shape that
// contains a point. Coordinates are plain planar numbers: for lon/lat data, X
// is longitude and Y is latitude, as in orb.Point.
//
// # The boundary rule
//
// Every point belongs to at most one shape, including points exactly on a
// shared edge or on a vertex shared by several shapes. The rule is the
// crossing-number test with edges half-open in y, evaluated with exact
// arithmetic:
//
//	point p is inside a shape when a ray from p towards +x crosses an odd
//	number of the shape's edges, where an edge from a to b is crossed when
//	min(a.y, b.y) <= p.y < max(a.y, b.y) and p.x < x(edge at p.y), exactly.
//
// Horizontal edges are never crossed. Equivalently: a point is classified as
// the point displaced an infinitesimal step to the right and an even smaller
// step up, (p.x+ε, p.y+δ) with 0 < δ ≪ ε. That displaced point never lies on
// an edge, so on a boundary:
//
//   - a point on a vertical or sloping edge belongs to the shape to its right;
//   - a point on a horizontal edge belongs to the shape above it;
//   - a vertex belongs to the shape that contains the region just to its right
//     (and, where that is a horizontal edge, just above it);
//   - the right-hand and top boundaries of the whole tessellation therefore
//     belong to no shape.
//
// In a tessellation (shapes without gaps or overlaps) every point of the
// covered region belongs to exactly one shape. Rings are combined by the
// even-odd rule, so holes need no special treatment. When shapes overlap, the
// first one in the slice given to Build wins.
//
// The predicates are exact: a floating-point orientation test with a proven
// error bound (Shewchuk's filter) decides almost every case, and the rare
// near-degenerate case falls back to exact rational arithmetic. A point that
// is exactly on an edge is therefore always classified by the rule above, not
// by rounding.
//
// # Coordinate systems
//
// [WGS84ToGCJ02], [GCJ02ToWGS84], [GCJ02ToBD09], [BD09ToGCJ02],
// [BD09ToWGS84] and [WGS84ToBD09] implement the published GCJ-02 (国测局,
// "Mars") and BD-09 (百度) formulas. Linli stores WGS84.
//
// # Validation and import
//
// [ValidateIn] and [Validate] report structured [Problem] values (kind,
// polygon, ring, vertex, point) that callers turn into bilingual messages.
// [OverlapArea], [Within] and [Area] measure polygons in square metres, to
// refuse overlapping grids and grids outside their community.
// [ReadFeatures] reads GeoJSON with a size limit.
//
// # Benchmarks
//
// [HexCity] generates a synthetic tessellated city and [RunLocateBench]
// measures Build and Locate on any shapes; `linli bench locate` uses both.
package geo

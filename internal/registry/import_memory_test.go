package registry

import (
	"runtime/debug"
	"testing"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// Overlapping imports keep the tight target until the last one ends, and
// the setting found before the first comes back; a lower setting of the
// operator's is never raised.
func TestTightGCIsSetBackAfterTheLastImport(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	first := tightGC()
	second := tightGC()
	if p := gcPercent(); p != importGCPercent {
		t.Fatalf("during the imports: GOGC %d", p)
	}
	first()
	if p := gcPercent(); p != importGCPercent {
		t.Fatalf("one import still running: GOGC %d", p)
	}
	second()
	if p := gcPercent(); p != 150 {
		t.Fatalf("after both: GOGC %d, want 150 back", p)
	}
	debug.SetGCPercent(10)
	restore := tightGC()
	if p := gcPercent(); p != 10 {
		t.Fatalf("the operator's GOGC=10 was raised to %d", p)
	}
	restore()
	debug.SetGCPercent(-1)
	restore = tightGC()
	if p := gcPercent(); p != -1 {
		t.Fatalf("GOGC=off was overridden: %d", p)
	}
	restore()
}

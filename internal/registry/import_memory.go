package registry

import (
	"runtime/debug"
	"sync"
)

// importGCPercent is the collector's target while an import runs: the heap
// may grow 25 % over what is live between collections instead of Go's
// default 100 %. A million-row import keeps about 150 MB of checked rows
// alive from the first pass to the commit, and with the default the heap
// grew to twice that before each collection, beside SQLite's caches. The
// rows hold no pointers, so the extra collections have almost nothing to
// mark: they cost little CPU.
const importGCPercent = 25

var importGC struct {
	sync.Mutex
	running int // imports in progress in this process
	before  int // the setting they found
}

// tightGC lowers the collector's target for the duration of an import and
// returns the function that sets it back once the last import running in
// the process ends. An operator's lower setting, or GOGC=off, stands.
func tightGC() (restore func()) {
	importGC.Lock()
	defer importGC.Unlock()
	if importGC.running == 0 {
		importGC.before = debug.SetGCPercent(importGCPercent)
		if importGC.before < importGCPercent {
			debug.SetGCPercent(importGC.before)
		}
	}
	importGC.running++
	return func() {
		importGC.Lock()
		defer importGC.Unlock()
		if importGC.running--; importGC.running == 0 {
			debug.SetGCPercent(importGC.before)
		}
	}
}

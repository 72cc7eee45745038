package area_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/db/dbtest"
)

// Two nodes on one database: a grid imported on one is located on the
// other within seconds, through the boundaries counter each node watches.
func TestGridChangesReachTheOtherNode(t *testing.T) {
	for kind, dsn := range dbtest.Engines(t) {
		t.Run(string(kind), func(t *testing.T) {
			nodeA, nodeB := newService(dbtest.Open(t, dsn)), newService(dbtest.Open(t, dsn))
			seed(t, nodeA)
			p := orb.Point{121.4605, 37.4705}
			if _, ok, err := nodeB.Locate(context.Background(), p); err != nil || ok {
				t.Fatalf("before the import: ok=%v err=%v", ok, err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go nodeB.Watch(ctx, 20*time.Millisecond, slog.Default())
			if _, err := importGrids(nodeA, "370613001002", collection(polygonFeature("新网格", square(121.46, 37.47, 0.001, 0.001)))); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				loc, ok, err := nodeB.Locate(context.Background(), p)
				if err != nil {
					t.Fatal(err)
				}
				if ok && loc.Grid.Code == "370613001002001" {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("node B never saw node A's grid (index version %d)", nodeB.IndexVersion())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

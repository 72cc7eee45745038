package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/linli/linli/internal/platform/config"
)

// TestMain lets a test run this test binary as the linli program: started
// with LINLI_TEST_AS_LINLI=1, it is `linli`, which is how the crash test's
// server child (`linli serve`) runs under go test.
func TestMain(m *testing.M) {
	if os.Getenv("LINLI_TEST_AS_LINLI") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// The server is killed with SIGKILL 20 times under load; every
// acknowledged case must be stored whole, on each engine. The check is then
// shown to fail on a ledger that names a case the database lacks and on one
// whose report differs from what is stored.
func TestCrashKeepsAcknowledgedCases(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server 21 times")
	}
	t.Setenv("LINLI_TEST_AS_LINLI", "1")
	engines := map[string]string{"sqlite": ""}
	if pg := os.Getenv("LINLI_TEST_POSTGRES"); pg != "" {
		engines["postgres"] = pg
	}
	for name, pg := range engines {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			cfg := config.Default()
			cfg.DB, cfg.KeyFile = "sqlite:"+filepath.Join(dir, "linli.db"), filepath.Join(dir, "linli.key")
			if pg != "" {
				dsn, drop, err := freshSchema(ctx, pg)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(drop)
				cfg.DB = dsn
			}
			o := crashOptions{kills: 20, clients: 4, minRun: 100e6, maxRun: 600e6, seed: 7}
			r, led, err := runCrash(ctx, o, cfg, dir, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", r)
			if r.Acked < 100 || r.Lost != 0 || r.Damaged != 0 || r.Stored < r.Acked {
				t.Fatalf("after 20 kills: %+v", r)
			}

			var first string
			for number := range led.sent {
				first = number
				break
			}
			led.sent[first] = []byte(`{"category":"E0101","description":"不是这条","lat":37.48,"lon":121.43,"phone":"13800000000"}`)
			led.sent["209901019999999"] = led.sent[first]
			got, err := checkCrash(ctx, cfg, led)
			if err != nil {
				t.Fatal(err)
			}
			if got.Lost != 1 || got.Damaged != 1 {
				t.Fatalf("a doctored ledger: lost %d, damaged %d; want 1 and 1", got.Lost, got.Damaged)
			}
		})
	}
}

package internal_test

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/linli/linli/"

// layer names where a package sits in DESIGN.md's one-way order:
// cmd → app → modules → platform.
func layer(pkg string) string {
	p := strings.TrimPrefix(pkg, mod)
	switch {
	case strings.HasPrefix(p, "cmd/"):
		return "cmd"
	case p == "internal/app" || strings.HasPrefix(p, "internal/app/"):
		return "app"
	case strings.HasPrefix(p, "internal/platform/"):
		return "platform"
	case p == "web":
		return "assets"
	case strings.HasPrefix(p, "internal/"):
		return "module"
	}
	return "other"
}

// allowed lists which layers each layer may import.
var allowed = map[string][]string{
	"cmd":      {"app", "module", "platform"},
	"app":      {"module", "platform", "assets"},
	"module":   {"module", "platform"},
	"platform": {"platform"},
	"assets":   {},
}

// TestImportsPointOneWay fails when a package imports against the
// direction in DESIGN.md, e.g. a platform package importing a module.
func TestImportsPointOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		from := layer(f[0])
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, mod) && imp != strings.TrimSuffix(mod, "/") {
				continue
			}
			checked++
			to := layer(imp)
			ok := false
			for _, a := range allowed[from] {
				ok = ok || a == to
			}
			if !ok {
				t.Errorf("%s (%s) imports %s (%s): dependencies must point cmd → app → modules → platform",
					f[0], from, imp, to)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no internal imports seen: the check itself is broken")
	}
}

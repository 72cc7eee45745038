package main

import (
	"strings"
	"testing"
)

// linli open311 key create|list|revoke: the key alone on stdout, bad input
// refused in both languages, a revoked key listed as such.
func TestOpen311Keys(t *testing.T) {
	dbFlag, _ := newDB(t)
	r := linli(t, "", "open311", "key", "create", dbFlag, "--name", "FixMyStreet", "--rate", "5")
	expect(t, r, exitOK, "shown only this once")
	if k := strings.TrimSpace(r.stdout); !strings.HasPrefix(k, "o311_") || strings.ContainsAny(k, " \n") {
		t.Fatalf("stdout should hold the key alone, got %q", r.stdout)
	}
	expect(t, linli(t, "", "open311", "key", "create", dbFlag, "--name", "batch client", "--batch"), exitOK)
	expect(t, linli(t, "", "open311", "key", "list", dbFlag), exitOK, "FixMyStreet\t5\tfalse", "batch client\t0\ttrue")
	expect(t, linli(t, "", "open311", "key", "create", dbFlag), exitUsage, "--name is required")
	expect(t, linli(t, "", "open311", "key", "create", dbFlag, "--name", "x", "--rate", "-1"), exitUsage, "速率", "rate is requests per second")
	expect(t, linli(t, "", "open311", "key", "revoke", "FixMyStreet", dbFlag), exitOK, "revoked key 1 (FixMyStreet)")
	expect(t, linli(t, "", "open311", "key", "revoke", "FixMyStreet", dbFlag), exitUsage, "no active Open311 key")
	if r := linli(t, "", "open311", "key", "list", dbFlag); !strings.Contains(r.stdout, "FixMyStreet\t5\tfalse") ||
		strings.Count(r.stdout, "\t-\n") != 1 {
		t.Errorf("after revoking: %s", r.stdout)
	}
	expect(t, linli(t, "", "open311"), exitUsage, "linli open311 key create")
	expect(t, linli(t, "", "open311", "jurisdiction", dbFlag), exitOK, "linli")
	expect(t, linli(t, "", "open311", "jurisdiction", dbFlag, "--set", "yantai.example.gov"), exitOK, "yantai.example.gov")
	expect(t, linli(t, "", "open311", "jurisdiction", dbFlag), exitOK, "yantai.example.gov")
	expect(t, linli(t, "", "open311", "jurisdiction", dbFlag, "--set", "a b"), exitUsage, "jurisdiction_id")
	expect(t, linli(t, "", "open311", "pull", dbFlag), exitUsage, "--endpoint is required")
	expect(t, linli(t, "", "open311", "pull", dbFlag, "--endpoint", "ftp://x"), exitUsage, "not an http or https URL")
	expect(t, linli(t, "", "open311", "pull", dbFlag, "--endpoint", "http://127.0.0.1:1/open311/v2", "--since", "yesterday"),
		exitUsage, "--since")
	expect(t, linli(t, "", "open311", "pull", dbFlag, "--endpoint", "http://127.0.0.1:1/open311/v2"), exitFailed, "127.0.0.1:1")
	expect(t, linli(t, "", "open311", "bench", "--rate", "0"), exitUsage, "--rate")
}

package crypto

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestOrderedTokensSortByTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var times []time.Time
	for range 2000 {
		times = append(times, start.Add(time.Duration(rng.Int64N(int64(50*365*24*time.Hour)))).Truncate(time.Millisecond))
	}
	slices.SortFunc(times, time.Time.Compare)
	times = slices.Compact(times)
	tokens := make([]string, len(times))
	for i, at := range times {
		tokens[i] = OrderedToken(at, 16)
	}
	if !slices.IsSorted(tokens) {
		t.Fatal("tokens made later sort before earlier ones")
	}
	for i := 1; i < len(tokens); i++ {
		if tokens[i-1][:OrderedTokenTimeChars-1] > tokens[i][:OrderedTokenTimeChars-1] {
			t.Fatalf("the time part of %q sorts after that of %q", tokens[i-1], tokens[i])
		}
	}
}

func TestOrderedTokensOfOneMillisecondDiffer(t *testing.T) {
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for range 1000 {
		tok := OrderedToken(at, 16)
		if len(tok) != 36 { // (6 + 16) bytes × 8 / 5 bits, rounded up
			t.Fatalf("token %q is %d characters, want 36", tok, len(tok))
		}
		if seen[tok] {
			t.Fatalf("token %q made twice", tok)
		}
		seen[tok] = true
	}
	if tok := OrderedToken(at, 16); !IsTokenText(tok) || IsTokenText(tok+"w") || IsTokenText("路"+tok[3:]) {
		t.Fatalf("IsTokenText is wrong about %q", tok)
	}
	if a, b := OrderedToken(at, 12), OrderedToken(at, 12); a[:OrderedTokenTimeChars-1] != b[:OrderedTokenTimeChars-1] || len(a) != 29 {
		t.Fatalf("tokens of one millisecond %q and %q should share their time", a, b)
	}
}

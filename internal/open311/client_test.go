package open311

import (
	"testing"
	"time"
)

// A pull's window ends at now rounded up to a whole second, the precision
// it is sent with: a request made earlier in the same second is inside.
func TestPullWindowEndsAfterNow(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 43, 32, 250_000_000, time.UTC)
	made := now.Add(-100 * time.Millisecond) // a request of this second
	end := ceilSecond(now)
	sent, err := time.Parse(time.RFC3339, end.Format(time.RFC3339))
	if err != nil || !made.Before(sent) || !sent.Equal(time.Date(2026, 11, 27, 10, 43, 33, 0, time.UTC)) {
		t.Fatalf("end %v sent as %v (%v): a request made at %v is outside", end, sent, err, made)
	}
	if whole := now.Truncate(time.Second); !ceilSecond(whole).Equal(whole) {
		t.Fatalf("a whole second moved to %v", ceilSecond(whole))
	}
}

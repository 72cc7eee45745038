package web

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/errs"
)

// A client spends a burst of five seconds of its rate, is told how long
// to wait, and is served again after that wait; others are not affected.
// Clients whose buckets have refilled are forgotten, so a flood of
// addresses does not grow the map for ever.
func TestBuckets(t *testing.T) {
	b := newBuckets(2) // burst 10
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for i := range 10 {
		if ok, _ := b.take("a", now); !ok {
			t.Fatalf("write %d of a burst refused", i+1)
		}
	}
	ok, retry := b.take("a", now)
	if ok || retry != 500*time.Millisecond {
		t.Fatalf("11th write: ok %v, retry %v; want refused, 500ms", ok, retry)
	}
	if ok, _ := b.take("b", now); !ok {
		t.Fatal("another client refused")
	}
	if ok, _ := b.take("a", now.Add(retry)); !ok {
		t.Fatal("refused after the wait it was given")
	}
	for i := range 10000 {
		b.take(fmt.Sprint("flood", i), now)
	}
	b.take("late", now.Add(10*time.Second))
	if len(b.m) != 1 {
		t.Fatalf("%d buckets kept after every other client refilled; want 1", len(b.m))
	}
	if ok, _ := newBuckets(0).take("a", now); !ok {
		t.Fatal("rate 0 must mean no limit")
	}
}

// With every place taken and every waiting place too, a request is refused
// at once; a waiting one gets a place when one frees, or is refused after
// the wait.
func TestAdmission(t *testing.T) {
	a := newAdmission(Limits{MaxInFlight: 1, QueueWait: 50 * time.Millisecond})
	ctx := context.Background()
	if err := a.enter(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.enter(ctx); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("full: %v", err)
	}
	a.waiting <- struct{}{} // someone else is waiting
	if err := a.enter(ctx); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("full, with the waiting room full: %v", err)
	}
	<-a.waiting

	a = newAdmission(Limits{MaxInFlight: 1, QueueWait: time.Minute}) // no timeout on a slow machine
	if err := a.enter(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan error)
	go func() { got <- a.enter(ctx) }()
	for len(a.waiting) == 0 {
		time.Sleep(time.Millisecond)
	}
	a.release()
	if err := <-got; err != nil {
		t.Fatalf("a waiting request when a place freed: %v", err)
	}
	if newAdmission(Limits{}) != nil {
		t.Fatal("MaxInFlight 0 must mean no admission control")
	}
}

package db

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// heldSyncer is a syncer the test opens and closes like a gate, to see
// what callers and readers observe while a commit is not yet durable.
type heldSyncer struct {
	started chan struct{}
	release chan error
}

func (h *heldSyncer) sync() error {
	h.started <- struct{}{}
	return <-h.release
}
func (h *heldSyncer) close() {}

func openHeld(t *testing.T) (*DB, *heldSyncer) {
	t.Helper()
	d, err := Open(context.Background(), Options{DSN: "sqlite:" + filepath.Join(t.TempDir(), "t.db"), Sync: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	// Swap the writer for one whose commits wait on the gate.
	d.writer.stop()
	h := &heldSyncer{started: make(chan struct{}, 16), release: make(chan error)}
	go func() { <-h.started; h.release <- nil }() // the start-up sync
	if _, err := d.write.Exec("CREATE TABLE notes (n INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if d.writer, err = startWriter(d.write, 0, d.log, h); err != nil {
		t.Fatal(err)
	}
	return d, h
}

func insertNote(d *DB, n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- d.Write(context.Background(), func(ctx context.Context) error {
			_, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO notes (n) VALUES ($1)", n)
			return err
		})
	}()
	return done
}

// A write is answered only after the sync that follows its commit; the
// writer goes on committing the next group meanwhile.
func TestWritesAreAnsweredAfterTheirSync(t *testing.T) {
	d, h := openHeld(t)
	first := insertNote(d, 1)
	<-h.started // committed; its sync has begun and is held
	select {
	case err := <-first:
		t.Fatalf("the write was answered (%v) before its commit was synced", err)
	case <-time.After(50 * time.Millisecond):
	}
	second := insertNote(d, 2) // commits while the first sync is held
	deadline := time.Now().Add(5 * time.Second)
	for countNotes(t, d) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the writer did not commit the next group while a sync was running")
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.release <- nil
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	<-h.started // the second group's sync
	h.release <- nil
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}

// A failed sync fails the writes it was to make durable: nobody is told
// that a write succeeded when the disk refused it.
func TestAFailedSyncFailsItsWrites(t *testing.T) {
	d, h := openHeld(t)
	done := insertNote(d, 1)
	<-h.started
	h.release <- errors.New("EIO")
	if err := <-done; err == nil || err.Error() != "EIO" {
		t.Fatalf("got %v, want the sync's error", err)
	}
}

func countNotes(t *testing.T, d *DB) int {
	var n int
	if err := d.read.QueryRow("SELECT COUNT(*) FROM notes").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// With synchronous FULL the writer's connection commits at NORMAL and the
// WAL is synced by the writer, through the file SQLite writes.
func TestFullSyncIsTheWritersOwn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	d, err := Open(context.Background(), Options{DSN: "sqlite:" + path})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var level int
	if err := d.Write(context.Background(), func(ctx context.Context) error {
		return d.Q(ctx).QueryRowContext(ctx, "PRAGMA synchronous").Scan(&level)
	}); err != nil || level != 1 {
		t.Fatalf("writer connection synchronous = %d (%v), want 1 (NORMAL)", level, err)
	}
	if d.wal.f == nil || d.wal.f.Name() != path+"-wal" {
		t.Fatalf("the writer does not sync the WAL file %s", path+"-wal")
	}
}

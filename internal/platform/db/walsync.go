package db

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// walSyncer makes SQLite's commits durable on behalf of the writer.
//
// With synchronous=FULL, SQLite syncs the WAL inside every commit, and the
// single writer connection can do nothing else meanwhile: at a few
// thousand reports a second, a third of the writer's time went to waiting
// for the disk. Instead the writer connection commits with
// synchronous=NORMAL (the WAL is written but not synced; checkpoints still
// sync it before copying it into the database), and this syncer calls
// fdatasync on the WAL file while the writer runs the next group. A group's
// callers are answered only after a sync that began after its commit, so
// every acknowledged write survives a power cut exactly as with FULL;
// what changes is that other connections may read a group's rows a moment
// before they are durable. A crash in that moment loses only writes that
// nobody was told had succeeded, and any write that used those rows comes
// later in the WAL and is lost with them.
type walSyncer struct {
	path string // the -wal file
	mu   sync.Mutex
	f    *os.File
}

func newWALSyncer(dbPath string) *walSyncer { return &walSyncer{path: dbPath + "-wal"} }

// sync makes everything written to the WAL so far durable. No WAL file
// means nothing to sync: SQLite creates it with the first commit and deletes
// it only after copying it into the database and syncing that.
func (s *walSyncer) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.open(); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	if err := datasync(s.f); err != nil {
		return fmt.Errorf("sync %s: %w", s.path, err)
	}
	return nil
}

// open opens the WAL file, again if SQLite has replaced it since (it
// deletes the file when its last connection closes, which the writer's
// connection prevents while the database is open, but this does not rely
// on it). The first time it also syncs the directory, so that the file's
// name survives a power cut too.
func (s *walSyncer) open() error {
	if s.f != nil {
		held, err1 := s.f.Stat()
		named, err2 := os.Stat(s.path)
		if err1 == nil && err2 == nil && os.SameFile(held, named) {
			return nil
		}
		s.f.Close()
		s.f = nil
	}
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open the WAL to sync it: %w", err)
	}
	if dir, err := os.Open(filepath.Dir(s.path)); err == nil {
		err = dir.Sync()
		dir.Close()
		if err != nil {
			f.Close()
			return fmt.Errorf("sync the database's directory: %w", err)
		}
	}
	s.f = f
	return nil
}

// close closes the file. SQLite's locks are on the database and -shm
// files, never on the WAL, so closing this descriptor cannot drop them.
func (s *walSyncer) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

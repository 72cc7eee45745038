//go:build !linux

package db

import "os"

// datasync flushes f; where fdatasync(2) is not offered, with fsync(2).
func datasync(f *os.File) error { return f.Sync() }

package db

import (
	"os"
	"syscall"
)

// datasync flushes f's data and the size needed to read it back, without
// its timestamps, as SQLite built for Linux does for its commits.
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

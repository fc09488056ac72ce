//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"errors"
	"os"
	"syscall"
)

// canLock reports whether segments can be locked against other processes.
const canLock = true

// noFollow makes opening a symlink fail instead of reaching its target.
const noFollow = syscall.O_NOFOLLOW

// owned reports whether fi belongs to the user running sail: a file
// another user placed in the history is never written or chmod'ed.
func owned(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// tryLock takes an exclusive advisory lock on f without waiting. It
// reports false (and no error) when another process holds a lock.
func tryLock(f *os.File) (bool, error) { return flock(f, syscall.LOCK_EX) }

// tryLockShared takes a shared lock, which fails only while a writer holds
// the exclusive one: readers use it to tell a segment being written to
// from one abandoned by a crash.
func tryLockShared(f *os.File) (bool, error) { return flock(f, syscall.LOCK_SH) }

func flock(f *os.File, how int) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		default:
			return false, err
		}
	}
}

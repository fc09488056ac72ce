//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"os"
	"syscall"
)

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
func tryLock(f *os.File) (bool, error) {
	for {
		switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err {
		case syscall.EINTR:
		case syscall.EWOULDBLOCK:
			return false, nil
		default:
			return err == nil, err
		}
	}
}

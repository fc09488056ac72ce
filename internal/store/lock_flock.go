//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"os"
	"syscall"
)

// noFollow makes opening a symlink fail instead of reaching its target.
const noFollow = syscall.O_NOFOLLOW

// owned reports whether fi belongs to the user running sail.
func owned(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// tryLock takes an exclusive flock on f without waiting; false (and no
// error) when another process holds one.
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

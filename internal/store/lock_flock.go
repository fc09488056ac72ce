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

// sameFile reports whether path, not followed if a symlink, is the file fi
// describes: whether a segment is still where users look. It runs after
// every write, so it reads the inode into a Stat_t on the stack instead of
// building an os.FileInfo.
func sameFile(path string, fi os.FileInfo) bool {
	want, ok := fi.Sys().(*syscall.Stat_t)
	var st syscall.Stat_t
	var err error = syscall.EINTR
	for err == syscall.EINTR {
		err = syscall.Lstat(path, &st)
	}
	return ok && err == nil && st.Dev == want.Dev && st.Ino == want.Ino
}

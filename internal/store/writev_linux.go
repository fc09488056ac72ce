package store

import (
	"os"
	"syscall"
	"unsafe"
)

// writeParts writes parts to f with writev(2): one system call for a frame
// whose body stays in the caller's buffer (no copy into a frame buffer).
func writeParts(f *os.File, parts [][]byte) error {
	iov := make([]syscall.Iovec, 0, len(parts))
	for _, p := range parts {
		if len(p) > 0 {
			v := syscall.Iovec{Base: &p[0]}
			v.SetLen(len(p))
			iov = append(iov, v)
		}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	for len(iov) > 0 {
		var n uintptr
		var errno syscall.Errno
		if err := rc.Write(func(fd uintptr) bool {
			n, _, errno = syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
			return true
		}); err != nil {
			return err
		}
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return &os.PathError{Op: "writev", Path: f.Name(), Err: errno}
		case n == 0:
			return &os.PathError{Op: "writev", Path: f.Name(), Err: syscall.EIO}
		}
		// A short write: drop what went out and continue with the rest.
		for n > 0 {
			if l := uintptr(iov[0].Len); n >= l {
				n -= l
				iov = iov[1:]
				continue
			}
			iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(iov[0].Base), n))
			iov[0].SetLen(int(uintptr(iov[0].Len) - n))
			n = 0
		}
	}
	return nil
}

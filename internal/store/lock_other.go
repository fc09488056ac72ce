//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store

import "os"

// Without flock a process never continues an existing segment (it always
// creates its own), but pruning could delete an idle segment of another
// receiver running at the same time.
const canLock = false

// Without O_NOFOLLOW, load's directory listing (which reports symlinks as
// such) is what keeps symlinks out.
const noFollow = 0

func owned(os.FileInfo) bool { return true }

func tryLock(*os.File) (bool, error)       { return true, nil }
func tryLockShared(*os.File) (bool, error) { return true, nil }

package sqlitestore

import (
	"errors"
	"os"

	"github.com/gathering/gathering/internal/gathering"
)

// errLocked is what tryLock returns when another process holds the lock.
var errLocked = errors.New("lock held by another process")

// lockFile opens <path>.lock and takes an exclusive, non-blocking OS lock on
// it, held until the file is closed (or the process dies). The lock file is
// left in place: removing it would let two processes lock different files.
func lockFile(path string) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &gathering.Error{Code: gathering.EUNAVAILABLE, Message: "cannot open lock file " + name, Err: err}
	}
	err = tryLock(f)
	if err == nil {
		return f, nil
	}
	_ = f.Close()
	if errors.Is(err, errLocked) {
		return nil, &gathering.Error{
			Code:    gathering.EUNAVAILABLE,
			Message: "database file " + path + " is locked by another gathering process (lock file " + name + ")",
			Err:     err,
		}
	}
	return nil, &gathering.Error{Code: gathering.EUNAVAILABLE, Message: "cannot lock " + name, Err: err}
}

package netguard

import (
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is matched (with errors.Is) by the error returned when a body
// exceeds the limit given to [LimitBody] or [ReadLimited].
var ErrTooLarge = errors.New("netguard: response body too large")

// LimitBody returns a reader that yields at most limit bytes of r and then fails
// with an error matching [ErrTooLarge] if r has more; a body of exactly limit
// bytes reads cleanly to io.EOF. A negative limit is treated as zero.
func LimitBody(r io.Reader, limit int64) io.Reader {
	limit = max(limit, 0)
	return &limitedReader{r: r, left: limit, limit: limit}
}

// ReadLimited reads all of r, failing with an error matching [ErrTooLarge]
// once more than limit bytes are available; the first limit bytes are
// returned with that error.
func ReadLimited(r io.Reader, limit int64) ([]byte, error) {
	return io.ReadAll(LimitBody(r, limit))
}

// limitedReader implements LimitBody.
type limitedReader struct {
	r           io.Reader
	left, limit int64
	exceeded    bool
}

// Read implements io.Reader.
func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, l.probe()
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// probe reads one byte past the limit to tell a body of exactly limit bytes
// from a larger one.
func (l *limitedReader) probe() error {
	if !l.exceeded {
		var b [1]byte
		n, err := l.r.Read(b[:])
		if n == 0 {
			return err
		}
		l.exceeded = true
	}
	return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.limit)
}

package openai

import (
	"bufio"
	"bytes"
	"io"
)

// maxSSELine bounds one line of a stream (a chunk carrying a whole tool
// call's arguments can be long).
const maxSSELine = 8 << 20

// sseReader reads the data of server-sent events: "data:" lines, joined by
// newlines within an event, events separated by blank lines. Comments and
// other fields are skipped; "\r\n" line ends are accepted.
type sseReader struct {
	sc *bufio.Scanner
}

// newSSEReader reads events from r.
func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxSSELine)
	return &sseReader{sc: sc}
}

// next returns the data of the next event that has some, or io.EOF at the
// end of the stream. An event cut off by the end of the stream is returned
// too: whoever reads it decides whether it is complete.
func (s *sseReader) next() ([]byte, error) {
	var data []byte
	seen := false
	for s.sc.Scan() {
		line := s.sc.Bytes()
		if len(line) == 0 && seen {
			return data, nil
		}
		v, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue
		}
		if seen {
			data = append(data, '\n')
		}
		data = append(data, bytes.TrimPrefix(v, []byte(" "))...)
		seen = true
	}
	if err := s.sc.Err(); err != nil {
		return nil, err
	}
	if seen {
		return data, nil
	}
	return nil, io.EOF
}

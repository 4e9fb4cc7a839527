package netguard

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadLimited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		limit   int64
		want    string
		tooLong bool
	}{
		{"under", "abc", 10, "abc", false},
		{"exact", "abcd", 4, "abcd", false},
		{"over by one", "abcde", 4, "abcd", true},
		{"far over", strings.Repeat("x", 10000), 100, strings.Repeat("x", 100), true},
		{"empty", "", 0, "", false},
		{"zero limit", "a", 0, "", true},
		{"negative limit", "a", -1, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadLimited(iotest.OneByteReader(strings.NewReader(tt.body)), tt.limit)
			if errors.Is(err, ErrTooLarge) != tt.tooLong || (err != nil && !tt.tooLong) {
				t.Fatalf("err = %v, want too large: %v", err, tt.tooLong)
			}
			if string(got) != tt.want {
				t.Errorf("got %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

func TestLimitBodyErrorSticks(t *testing.T) {
	t.Parallel()
	r := LimitBody(strings.NewReader("abc"), 1)
	buf := make([]byte, 8)
	if n, err := r.Read(buf); n != 1 || err != nil {
		t.Fatalf("first read = %d, %v", n, err)
	}
	for range 2 {
		if _, err := r.Read(buf); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 1 bytes") {
			t.Fatalf("read past limit: %v", err)
		}
	}
}

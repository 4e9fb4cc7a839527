package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gathering/gathering/internal/gathering"
)

func TestTranslate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		code string
	}{
		{pgx.ErrNoRows, gathering.ENOTFOUND},
		{&pgconn.PgError{Code: "23505"}, gathering.ECONFLICT},
		{&pgconn.PgError{Code: "57014"}, gathering.ETIMEOUT},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), gathering.ETIMEOUT},
		{context.Canceled, gathering.ETIMEOUT},
		{&pgconn.PgError{Code: "08006"}, gathering.EUNAVAILABLE},
		{&pgconn.PgError{Code: "57P01"}, gathering.EUNAVAILABLE},
		{&net.OpError{Op: "read", Err: errors.New("connection reset")}, gathering.EUNAVAILABLE},
		{&pgconn.PgError{Code: "42P01"}, gathering.EINTERNAL},
		{errors.New("boom"), gathering.EINTERNAL},
	}
	for _, c := range cases {
		err := translate(c.err, "do %s", "things")
		if got := gathering.ErrorCode(err); got != c.code {
			t.Errorf("translate(%v) code %q, want %q", c.err, got, c.code)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("translate(%v) lost its cause", c.err)
		}
	}
	if translate(nil, "nothing") != nil {
		t.Error("translate(nil) != nil")
	}
}

func TestMaskURL(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"postgres://u:pw@h:5432/db":           "postgres://u:xxxxx@h:5432/db",
		"postgres://u@h/db?password=pw&x=1":   "postgres://u@h/db?password=xxxxx&x=1",
		"host=h user=u password=pw dbname=db": "host=h user=u password=xxxxx dbname=db",
		"postgres://h/db":                     "postgres://h/db",
	}
	for in, want := range cases {
		if got := maskURL(in); got != want {
			t.Errorf("maskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

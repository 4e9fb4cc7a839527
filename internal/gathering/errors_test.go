package gathering

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorCodesThroughWrapping(t *testing.T) {
	t.Parallel()
	cause := errors.New("driver said no")
	err := fmt.Errorf("create thing: %w", &Error{Code: ECONFLICT, Message: "Thing exists.", Err: cause})
	if ErrorCode(err) != ECONFLICT || ErrorMessage(err) != "Thing exists." || !errors.Is(err, cause) {
		t.Fatalf("code %q message %q", ErrorCode(err), ErrorMessage(err))
	}
	plain := errors.New("boom")
	if ErrorCode(plain) != EINTERNAL || ErrorMessage(plain) == "boom" {
		t.Fatalf("an uncoded error leaks: %q %q", ErrorCode(plain), ErrorMessage(plain))
	}
	if ErrorCode(nil) != "" {
		t.Fatal("nil has a code")
	}
	inv := Invalid("Bad input.", FieldError{Field: "name", Message: "required"})
	if fields := ErrorFields(fmt.Errorf("x: %w", inv)); len(fields) != 1 || fields[0].Field != "name" {
		t.Fatalf("fields %+v", fields)
	}
}

func TestRenameFields(t *testing.T) {
	orig := Invalid("bad", FieldError{Field: "/a", Message: "x"}, FieldError{Field: "/b", Message: "y"})
	got := RenameFields(fmt.Errorf("wrapped: %w", orig), func(f string) string { return "in" + f })
	e, ok := got.(*Error)
	if !ok || e.Fields[0].Field != "in/a" || e.Fields[1].Field != "in/b" || e.Message != "bad" || e.Code != EINVALID {
		t.Fatalf("renamed: %#v", got)
	}
	if orig.Fields[0].Field != "/a" {
		t.Fatal("the original error changed")
	}
	plain := errors.New("plain")
	if RenameFields(plain, strings.ToUpper) != plain || RenameFields(Errorf(ENOTFOUND, "gone"), strings.ToUpper).(*Error).Fields != nil {
		t.Fatal("an error without fields changed")
	}
}

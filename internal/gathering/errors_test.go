package gathering

import (
	"errors"
	"fmt"
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

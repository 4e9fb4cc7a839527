package calc

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/gathering"
)

// Limits enforced by Eval.
const (
	// MaxLength is the longest expression accepted, in characters.
	MaxLength = 1000
	// MaxExponent bounds the absolute value of the right operand of "**".
	MaxExponent = 1000
	// MaxMagnitude bounds the absolute value of every number, intermediate
	// value and result.
	MaxMagnitude = 1e100
	// MaxDepth bounds the nesting of parentheses, unary signs and "**"
	// chains.
	MaxDepth = 100
)

// Field is the input field named in the FieldError of every error Eval
// returns.
const Field = "expression"

// Eval evaluates an arithmetic expression such as "(1 + 2) * 3",
// "2 ** -1", "-7 // 2" or "15% of 2500". The result is always finite and
// at most MaxMagnitude in absolute value; any failure is a
// *gathering.Error with code gathering.EINVALID.
func Eval(expr string) (float64, error) {
	if n := utf8.RuneCountInString(expr); n > MaxLength {
		return 0, invalid("expression is %d characters long; the limit is %d", n, MaxLength)
	}
	toks, err := tokenize(expr)
	if err != nil {
		return 0, err
	}
	if toks[0].kind == tokEOF {
		return 0, invalid("expression is empty")
	}
	p := parser{toks: toks}
	v, err := p.parse()
	if err != nil {
		return 0, err
	}
	if v == 0 {
		return 0, nil // never return negative zero
	}
	return v, nil
}

// invalid builds the EINVALID error Eval returns.
func invalid(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return gathering.Invalid(msg, gathering.FieldError{Field: Field, Message: msg})
}

// tooLarge reports whether v is NaN, infinite or beyond MaxMagnitude.
func tooLarge(v float64) bool {
	return math.IsNaN(v) || math.Abs(v) > MaxMagnitude
}

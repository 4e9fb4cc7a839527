package calc

import (
	"math"
	"math/big"
)

// apply evaluates the binary operator op on a and b, checking the result.
func apply(op token, a, b float64) (float64, error) {
	var v float64
	switch op.kind {
	case tokPlus:
		v = a + b
	case tokMinus:
		v = a - b
	case tokStar:
		v = a * b
	case tokPercentOf:
		v = a * b / 100
	case tokPow:
		return power(op, a, b)
	default:
		return divide(op, a, b)
	}
	return checked(op, v)
}

// divide evaluates "/", "//" and "%", refusing a zero divisor.
func divide(op token, a, b float64) (float64, error) {
	if b == 0 {
		return 0, invalid("division by zero: the right operand of %s at position %d is zero", op.kind, op.pos)
	}
	switch op.kind {
	case tokFloorDiv:
		q, _ := floorDivMod(a, b)
		return checked(op, q)
	case tokPercent:
		_, r := floorDivMod(a, b)
		return checked(op, r)
	}
	return checked(op, a/b)
}

// floorDivMod returns floor(a/b) and the modulo with the sign of b, computed
// as Python does for floats so that a == b*q + r as closely as possible.
// b must not be zero.
func floorDivMod(a, b float64) (q, r float64) {
	r = math.Mod(a, b)
	div := (a - r) / b
	if r != 0 && (b < 0) != (r < 0) {
		r += b
		div--
	}
	if r == 0 {
		r = math.Copysign(0, b)
	}
	if div == 0 {
		return math.Copysign(0, a/b), r
	}
	q = math.Floor(div)
	if div-q > 0.5 {
		q++
	}
	return q, r
}

// power evaluates base ** exp within MaxExponent.
func power(op token, base, exp float64) (float64, error) {
	if math.Abs(exp) > MaxExponent {
		return 0, invalid("exponent %g of '**' at position %d is too large; the limit is %d", exp, op.pos, MaxExponent)
	}
	if base == 0 && exp < 0 {
		return 0, invalid("division by zero: '**' at position %d raises zero to a negative power", op.pos)
	}
	v := pow(base, exp)
	if math.IsNaN(v) {
		return 0, invalid("'**' at position %d raises a negative number to a fractional power; the result is not a real number", op.pos)
	}
	return checked(op, v)
}

// pow is math.Pow, except that integer exponents are computed exactly
// enough to round correctly (so 10 ** 100 is exactly 1e100, as it would be
// written, and 10 ** -2 is 0.01).
func pow(base, exp float64) float64 {
	if exp != math.Trunc(exp) {
		return math.Pow(base, exp)
	}
	if v := math.Pow(base, exp); exp >= 0 && base == math.Trunc(base) && math.Abs(v) <= 1<<53 {
		return v // an integer power small enough to be exact
	}
	const prec = 256
	x := new(big.Float).SetPrec(prec).SetFloat64(base)
	r := new(big.Float).SetPrec(prec).SetInt64(1)
	for n := int(math.Abs(exp)); n > 0; n >>= 1 {
		if n&1 == 1 {
			r.Mul(r, x)
		}
		x.Mul(x, x)
	}
	if exp < 0 {
		r.Quo(new(big.Float).SetPrec(prec).SetInt64(1), r)
	}
	v, _ := r.Float64()
	return v
}

// checked refuses a non-finite result or one beyond MaxMagnitude.
func checked(op token, v float64) (float64, error) {
	if math.IsNaN(v) {
		return 0, invalid("result of %s at position %d is undefined", op.kind, op.pos)
	}
	if tooLarge(v) {
		return 0, invalid("result of %s at position %d is too large; the limit is 1e100 in absolute value", op.kind, op.pos)
	}
	return v, nil
}

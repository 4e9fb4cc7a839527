// Package calc evaluates arithmetic expressions safely for the built-in
// calc tool: a hand-written tokenizer and recursive-descent parser, with no
// eval, no reflection and hard limits on input size, nesting, exponents and
// magnitudes.
//
// The grammar, from loosest to tightest binding:
//
//	expr    = term { ("+" | "-") term }
//	term    = unary { ("*" | "/" | "//" | "%" | "%" "of") unary }
//	unary   = ("+" | "-") unary | power
//	power   = primary [ "**" unary ]
//	primary = number | "(" expr ")"
//
// So "**" is right-associative and binds tighter than a unary sign on its
// left (-2**2 is -4, as in Python) while accepting one on its right (2**-1 is
// 0.5). "//" is floor division and "%" is the modulo whose result takes the
// sign of the divisor, both as in Python; "X% of Y" is X/100 times Y.
//
// Every error is a *gathering.Error with code gathering.EINVALID and one
// FieldError for the field "expression"; messages give 1-based character
// positions.
package calc

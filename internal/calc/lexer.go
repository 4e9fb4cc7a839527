package calc

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tokEOF tokKind = iota
	tokNum
	tokPlus
	tokMinus
	tokStar
	tokSlash
	tokFloorDiv
	tokPercent
	tokPercentOf // produced by the parser from "%" followed by "of"
	tokPow
	tokLParen
	tokRParen
	tokOf
)

// String describes the kind for error messages.
func (k tokKind) String() string {
	switch k {
	case tokEOF:
		return "end of expression"
	case tokNum:
		return "number"
	case tokPercentOf:
		return "'% of'"
	case tokOf:
		return "'of'"
	}
	return "'" + opText[k] + "'"
}

// opText maps operator kinds to their spelling.
var opText = map[tokKind]string{
	tokPlus: "+", tokMinus: "-", tokStar: "*", tokSlash: "/", tokFloorDiv: "//",
	tokPercent: "%", tokPow: "**", tokLParen: "(", tokRParen: ")",
}

// token is one lexeme; pos is its 1-based character position.
type token struct {
	kind tokKind
	pos  int
	num  float64
}

// lexer scans an expression. Every accepted character is ASCII (anything
// else is an error), so byte offsets are character offsets.
type lexer struct {
	src string
	off int
}

// tokenize splits src into tokens ending with tokEOF.
func tokenize(src string) ([]token, error) {
	lx := lexer{src: src}
	toks := make([]token, 0, len(src)/2+2) // roughly one token per two characters
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tokEOF {
			return toks, nil
		}
	}
}

// next scans one token.
func (lx *lexer) next() (token, error) {
	lx.skipSpace()
	if lx.off >= len(lx.src) {
		return token{kind: tokEOF, pos: lx.off + 1}, nil
	}
	c := lx.src[lx.off]
	switch {
	case isDigit(c) || c == '.':
		return lx.number()
	case isLetter(c):
		return lx.word()
	}
	return lx.operator()
}

// skipSpace skips ASCII whitespace.
func (lx *lexer) skipSpace() {
	for lx.off < len(lx.src) && strings.IndexByte(" \t\r\n", lx.src[lx.off]) >= 0 {
		lx.off++
	}
}

// peek returns the byte at the cursor, or 0 at the end.
func (lx *lexer) peek() byte {
	if lx.off < len(lx.src) {
		return lx.src[lx.off]
	}
	return 0
}

// digits consumes a run of decimal digits and returns its length.
func (lx *lexer) digits() int {
	start := lx.off
	for isDigit(lx.peek()) {
		lx.off++
	}
	return lx.off - start
}

// number scans digits [ "." digits ] [ ("e"|"E") [sign] digits ].
func (lx *lexer) number() (token, error) {
	start := lx.off
	n := lx.digits()
	if lx.peek() == '.' {
		lx.off++
		n += lx.digits()
	}
	ok := n > 0
	if c := lx.peek(); ok && (c == 'e' || c == 'E') {
		ok = lx.exponent()
	}
	if c := lx.peek(); c == '.' || isLetter(c) {
		lx.off++
		ok = false
	}
	if !ok {
		return token{}, invalid("malformed number %q at position %d", lx.src[start:lx.off], start+1)
	}
	return lx.numberToken(start)
}

// exponent consumes ("e"|"E") [sign] digits and reports whether digits
// were present.
func (lx *lexer) exponent() bool {
	lx.off++
	if c := lx.peek(); c == '+' || c == '-' {
		lx.off++
	}
	return lx.digits() > 0
}

// numberToken converts the well-formed literal src[start:off].
func (lx *lexer) numberToken(start int) (token, error) {
	text := lx.src[start:lx.off]
	v, err := strconv.ParseFloat(text, 64)
	if math.IsInf(v, 0) || tooLarge(v) {
		return token{}, invalid("number %s at position %d is too large; the limit is 1e100", text, start+1)
	}
	if err != nil && v != 0 { // underflow to zero is fine
		return token{}, invalid("malformed number %q at position %d", text, start+1)
	}
	return token{kind: tokNum, pos: start + 1, num: v}, nil
}

// word scans a run of letters; only "of" is a word of the language.
func (lx *lexer) word() (token, error) {
	start := lx.off
	for isLetter(lx.peek()) {
		lx.off++
	}
	w := lx.src[start:lx.off]
	if !strings.EqualFold(w, "of") {
		return token{}, invalid("unknown word %q at position %d", w, start+1)
	}
	return token{kind: tokOf, pos: start + 1}, nil
}

// operator scans an operator or parenthesis.
func (lx *lexer) operator() (token, error) {
	start := lx.off
	if k, ok := doubleOps[lx.src[start:min(start+2, len(lx.src))]]; ok {
		lx.off += 2
		return token{kind: k, pos: start + 1}, nil
	}
	k, ok := singleOps[lx.src[start]]
	if !ok {
		return token{}, lx.unknownChar()
	}
	lx.off++
	return token{kind: k, pos: start + 1}, nil
}

// doubleOps maps two-character operators to their kinds.
var doubleOps = map[string]tokKind{"**": tokPow, "//": tokFloorDiv}

// singleOps maps one-character operators to their kinds.
var singleOps = map[byte]tokKind{
	'+': tokPlus, '-': tokMinus, '*': tokStar, '/': tokSlash,
	'%': tokPercent, '(': tokLParen, ')': tokRParen,
}

// unknownChar reports the character at the cursor.
func (lx *lexer) unknownChar() error {
	r, _ := utf8.DecodeRuneInString(lx.src[lx.off:])
	if r == utf8.RuneError {
		return invalid("invalid UTF-8 at position %d", lx.off+1)
	}
	return invalid("unknown character %q at position %d", r, lx.off+1)
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isLetter reports whether c is an ASCII letter.
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

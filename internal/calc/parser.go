package calc

// parser is a recursive-descent parser that evaluates as it parses.
type parser struct {
	toks  []token
	i     int
	depth int
}

// peek returns the current token.
func (p *parser) peek() token { return p.toks[p.i] }

// advance consumes and returns the current token; tokEOF is never consumed.
func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// parse evaluates the whole token stream.
func (p *parser) parse() (float64, error) {
	v, err := p.expr()
	if err != nil {
		return 0, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return 0, p.trailing(t)
	}
	return v, nil
}

// trailing reports a token left over after a complete expression.
func (p *parser) trailing(t token) error {
	if t.kind == tokRParen {
		return invalid("unbalanced parentheses: ')' at position %d has no matching '('", t.pos)
	}
	return invalid("unexpected %s at position %d: expected an operator", t.kind, t.pos)
}

// expr parses term { ("+" | "-") term }.
func (p *parser) expr() (float64, error) {
	left, err := p.term()
	for err == nil && (p.peek().kind == tokPlus || p.peek().kind == tokMinus) {
		op := p.advance()
		var right float64
		if right, err = p.term(); err == nil {
			left, err = apply(op, left, right)
		}
	}
	return left, err
}

// term parses unary { ("*" | "/" | "//" | "%" | "% of") unary }.
func (p *parser) term() (float64, error) {
	left, err := p.unary()
	for err == nil && isMulOp(p.peek().kind) {
		op := p.advance()
		if op.kind == tokPercent && p.peek().kind == tokOf {
			p.advance()
			op.kind = tokPercentOf
		}
		var right float64
		if right, err = p.unary(); err == nil {
			left, err = apply(op, left, right)
		}
	}
	return left, err
}

// isMulOp reports whether k is a multiplicative operator.
func isMulOp(k tokKind) bool {
	return k == tokStar || k == tokSlash || k == tokFloorDiv || k == tokPercent
}

// unary parses ("+" | "-") unary | power, bounding the nesting depth.
func (p *parser) unary() (float64, error) {
	if p.depth >= MaxDepth {
		return 0, invalid("expression nested too deeply at position %d; the limit is %d levels", p.peek().pos, MaxDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	switch p.peek().kind {
	case tokPlus:
		p.advance()
		return p.unary()
	case tokMinus:
		p.advance()
		v, err := p.unary()
		return -v, err
	}
	return p.power()
}

// power parses primary [ "**" unary ]; the recursion makes "**"
// right-associative.
func (p *parser) power() (float64, error) {
	base, err := p.primary()
	if err != nil || p.peek().kind != tokPow {
		return base, err
	}
	op := p.advance()
	exp, err := p.unary()
	if err != nil {
		return 0, err
	}
	return apply(op, base, exp)
}

// primary parses a number or a parenthesized expression.
func (p *parser) primary() (float64, error) {
	t := p.advance()
	switch t.kind {
	case tokNum:
		return t.num, nil
	case tokLParen:
		return p.group(t)
	}
	return 0, p.missingOperand(t)
}

// group parses the rest of "(" expr ")" after the opening parenthesis open.
func (p *parser) group(open token) (float64, error) {
	v, err := p.expr()
	if err != nil {
		return 0, err
	}
	switch t := p.advance(); t.kind {
	case tokRParen:
		return v, nil
	case tokEOF:
		return 0, invalid("unbalanced parentheses: '(' at position %d is never closed", open.pos)
	default:
		return 0, invalid("unexpected %s at position %d: expected ')' to close '(' at position %d", t.kind, t.pos, open.pos)
	}
}

// missingOperand reports a token found where a number or "(" was needed.
func (p *parser) missingOperand(t token) error {
	if t.kind == tokEOF && p.i > 0 {
		prev := p.toks[p.i-1]
		return invalid("dangling operator %s at position %d: expected a number or '(' after it", prev.kind, prev.pos)
	}
	if t.kind == tokRParen && p.i >= 2 && p.toks[p.i-2].kind == tokLParen {
		return invalid("empty parentheses at position %d", p.toks[p.i-2].pos)
	}
	return invalid("unexpected %s at position %d: expected a number or '('", t.kind, t.pos)
}

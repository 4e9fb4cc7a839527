package calc_test

import (
	"fmt"

	"github.com/gathering/gathering/internal/calc"
)

func ExampleEval() {
	for _, expr := range []string{"15% of 2500", "-2 ** 2", "-7 // 2", "7 % 3", "1 / 0", "(1 + 2", "2 ** 1001"} {
		v, err := calc.Eval(expr)
		if err != nil {
			fmt.Printf("%s: %v\n", expr, err)
			continue
		}
		fmt.Printf("%s = %g\n", expr, v)
	}
	// Output:
	// 15% of 2500 = 375
	// -2 ** 2 = -4
	// -7 // 2 = -4
	// 7 % 3 = 1
	// 1 / 0: invalid: division by zero: the right operand of '/' at position 3 is zero
	// (1 + 2: invalid: unbalanced parentheses: '(' at position 1 is never closed
	// 2 ** 1001: invalid: exponent 1001 of '**' at position 3 is too large; the limit is 1000
}

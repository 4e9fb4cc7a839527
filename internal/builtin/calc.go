package builtin

import (
	"context"
	"time"

	"github.com/gathering/gathering/internal/calc"
	"github.com/gathering/gathering/internal/tool"
)

type calcInput struct {
	Expression string `json:"expression"`
}

type calcOutput struct {
	Expression string  `json:"expression"`
	Result     float64 `json:"result"`
}

// calcTool returns calc.eval.
func calcTool() tool.Tool {
	return tool.Tool{
		Name: "calc.eval",
		Description: "Evaluate an arithmetic expression exactly and safely. Supports numbers, parentheses, " +
			"+ - * /, // (floor division), % (modulo), ** (power) and percentages such as '15% of 2500'. " +
			"No variables or functions. Use it instead of doing arithmetic in your head.",
		Input: mustJSON(object(map[string]prop{
			"expression": str("The expression, for example '(1 + 2) * 3' or '15% of 2500'.", 1, calc.MaxLength),
		}, "expression")),
		Output:  output(map[string]prop{"expression": typ("string"), "result": typ("number")}),
		Timeout: 5 * time.Second,
		Run: body(func(_ context.Context, in calcInput) (any, error) {
			v, err := calc.Eval(in.Expression)
			if err != nil {
				return nil, pointerFields(err)
			}
			return calcOutput{Expression: in.Expression, Result: v}, nil
		}),
	}
}

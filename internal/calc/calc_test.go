package calc

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

func TestEvalValues(t *testing.T) {
	tests := []struct {
		expr string
		want float64
	}{
		// numbers
		{"0", 0},
		{"42", 42},
		{"3.25", 3.25},
		{".5", 0.5},
		{"5.", 5},
		{"1e3", 1000},
		{"1E3", 1000},
		{"2.5e-3", 0.0025},
		{"1.e2", 100},
		{"1e+2", 100},
		{"1e-400", 0},
		{"1e100", 1e100},
		{"  7 \t\n", 7},
		// precedence
		{"1 + 2 * 3", 7},
		{"(1 + 2) * 3", 9},
		{"2 * 3 ** 2", 18},
		{"10 - 4 - 3", 3},
		{"100 / 10 / 5", 2},
		{"2 + 3 * 4 - 5 / 5", 13},
		{"1 + 7 % 3 * 2", 3},
		// associativity of **
		{"2 ** 3 ** 2", 512},
		{"(2 ** 3) ** 2", 64},
		{"2 ** 10", 1024},
		// unary
		{"-3", -3},
		{"+3", 3},
		{"--3", 3},
		{"-+-3", 3},
		{"-2 ** 2", -4},
		{"(-2) ** 2", 4},
		{"2 ** -1", 0.5},
		{"2 ** -2 ** 2", 0.0625},
		{"-2 ** -2", -0.25},
		{"3 - -2", 5},
		{"3 * -2", -6},
		{"-(1 + 2)", -3},
		{"-0", 0},
		// floor division
		{"7 // 2", 3},
		{"-7 // 2", -4},
		{"7 // -2", -4},
		{"-7 // -2", 3},
		{"7.5 // 2", 3},
		{"1 // 0.1", 9}, // as Python: 0.1 is slightly above 1/10
		{"-0.5 // 1", -1},
		// true division
		{"7 / 2", 3.5},
		{"-7 / 2", -3.5},
		{"1 / 4", 0.25},
		// modulo (sign of the divisor, as in Python)
		{"7 % 3", 1},
		{"-7 % 3", 2},
		{"7 % -3", -2},
		{"-7 % -3", -1},
		{"5.5 % 2", 1.5},
		{"6 % 3", 0},
		// percent of
		{"15% of 2500", 375},
		{"15 % of 2500", 375},
		{"15%of 2500", 375},
		{"15% OF 2500", 375},
		{"50% of 50% of 100", 25},
		{"1 + 10% of 200", 21},
		{"2 * 15% of 2500", 750},
		{"10% of 200 * 3", 60},
		{"-20% of 50", -10},
		{"(5 + 5)% of (100 - 50)", 5},
		{"12.5% of 80", 10},
		// exponents
		{"10 ** 100", 1e100},
		{"-10 ** 100", -1e100},
		{"10 ** -2", 0.01},
		{"2 ** 0.5", math.Sqrt2},
		{"4 ** 0.5", 2},
		{"0 ** 0", 1},
		{"(-8) ** 3", -512},
		{"1 ** 1000", 1},
		{"1 ** -1000", 1},
		{"(-1) ** 999", -1},
		{"1.2 ** 1000 / 1.2 ** 1000", 1},
		{"0.5 ** 1000", math.Pow(0.5, 1000)},
		// decimals
		{"0.1 + 0.2", 0.1 + 0.2},
		{"1.5 * 4", 6},
		{"((((1))))", 1},
	}
	for _, tt := range tests {
		got, err := Eval(tt.expr)
		if err != nil {
			t.Errorf("Eval(%q) error: %v", tt.expr, err)
			continue
		}
		if !close(got, tt.want) {
			t.Errorf("Eval(%q) = %v, want %v", tt.expr, got, tt.want)
		}
		if got == 0 && math.Signbit(got) {
			t.Errorf("Eval(%q) returned negative zero", tt.expr)
		}
	}
}

// close reports whether a and b agree to within a relative 1e-12.
func close(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
}

func TestEvalErrors(t *testing.T) {
	tests := []struct {
		name, expr string
		want       []string // substrings of the message
	}{
		{"empty", "", []string{"empty"}},
		{"blank", "   \t", []string{"empty"}},
		{"too long", strings.Repeat("1+", 500) + "1", []string{"1001 characters", "limit is 1000"}},
		{"too long runes", strings.Repeat("é", 1001), []string{"1001 characters"}},
		{"div zero", "1 / 0", []string{"division by zero", "'/'", "position 3"}},
		{"div zero expr", "5 / (2 - 2)", []string{"division by zero", "position 3"}},
		{"floordiv zero", "1 // 0", []string{"division by zero", "'//'", "position 3"}},
		{"mod zero", "1 % 0", []string{"division by zero", "'%'", "position 3"}},
		{"zero neg power", "0 ** -1", []string{"division by zero", "position 3"}},
		{"unclosed", "(1 + 2", []string{"unbalanced parentheses", "'(' at position 1"}},
		{"unclosed nested", "((1) + 2", []string{"unbalanced parentheses", "'(' at position 1"}},
		{"extra close", "1 + 2)", []string{"unbalanced parentheses", "')' at position 6"}},
		{"close first", ")", []string{"unexpected ')'", "position 1"}},
		{"empty parens", "()", []string{"empty parentheses", "position 1"}},
		{"junk in parens", "(1 2)", []string{"unexpected number at position 4", "'(' at position 1"}},
		{"dangling plus", "1 +", []string{"dangling operator '+'", "position 3"}},
		{"dangling pow", "2 **", []string{"dangling operator '**'", "position 3"}},
		{"dangling unary", "-", []string{"dangling operator '-'", "position 1"}},
		{"dangling percent", "15%", []string{"dangling operator '%'", "position 3"}},
		{"dangling of", "15% of", []string{"dangling operator 'of'", "position 5"}},
		{"double op", "1 * * 2", []string{"unexpected '*' at position 5"}},
		{"leading op", "* 2", []string{"unexpected '*' at position 1"}},
		{"adjacent numbers", "1 2", []string{"unexpected number at position 3", "expected an operator"}},
		{"implicit mult", "2(3)", []string{"unexpected '(' at position 2"}},
		{"of alone", "of 3", []string{"unexpected 'of' at position 1"}},
		{"of without percent", "3 of 4", []string{"unexpected 'of' at position 3"}},
		{"unknown char", "1 + $", []string{"unknown character '$'", "position 5"}},
		{"unknown unicode", "1 × 2", []string{"unknown character '×'", "position 3"}},
		{"invalid utf8", "1 + \xff", []string{"invalid UTF-8", "position 5"}},
		{"unknown word", "2 + x", []string{"unknown word \"x\"", "position 5"}},
		{"function call", "sqrt(4)", []string{"unknown word \"sqrt\"", "position 1"}},
		{"lone dot", ".", []string{"malformed number", "position 1"}},
		{"double dot", "1.2.3", []string{"malformed number \"1.2.\"", "position 1"}},
		{"bare exponent", "2e", []string{"malformed number \"2e\"", "position 1"}},
		{"exponent sign only", "2e+", []string{"malformed number", "position 1"}},
		{"letter after number", "3x", []string{"malformed number \"3x\"", "position 1"}},
		{"exponent too large", "2 ** 1001", []string{"exponent 1001", "position 3", "limit is 1000"}},
		{"negative exponent too large", "2 ** -1001", []string{"exponent -1001", "limit is 1000"}},
		{"result too large pow", "10 ** 101", []string{"too large", "'**' at position 4"}},
		{"result too large mul", "1e60 * 1e60", []string{"too large", "'*' at position 6"}},
		{"intermediate too large", "1e100 + 1e100 - 1e100", []string{"too large", "'+' at position 7"}},
		{"literal too large", "1e101", []string{"number 1e101 at position 1 is too large"}},
		{"literal overflow", "1e400", []string{"too large"}},
		{"long literal", strings.Repeat("9", 101), []string{"too large"}},
		{"pow chain", "10 ** 10 ** 10", []string{"exponent", "too large"}},
		{"fractional power of negative", "(-8) ** (1/3)", []string{"not a real number", "position 6"}},
		{"too deep parens", strings.Repeat("(", 101) + "1" + strings.Repeat(")", 101), []string{"nested too deeply", "limit is 100"}},
		{"too deep unary", strings.Repeat("-", 200) + "1", []string{"nested too deeply"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Eval(tt.expr)
			if err == nil {
				t.Fatalf("Eval(%q) = %v, want an error", tt.expr, v)
			}
			checkError(t, err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Eval(%q) error %q does not contain %q", tt.expr, err, w)
				}
			}
		})
	}
}

// checkError asserts err is an EINVALID *gathering.Error naming the
// expression field.
func checkError(t *testing.T, err error) {
	t.Helper()
	var ge *gathering.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %v (%T) is not a *gathering.Error", err, err)
	}
	if ge.Code != gathering.EINVALID {
		t.Errorf("code = %q, want %q", ge.Code, gathering.EINVALID)
	}
	if len(ge.Fields) != 1 || ge.Fields[0].Field != Field || ge.Fields[0].Message == "" {
		t.Errorf("fields = %+v, want one for %q", ge.Fields, Field)
	}
}

func TestEvalLimitsAccepted(t *testing.T) {
	ok := []string{
		strings.Repeat("1+", 499) + "1", // 999 characters
		strings.Repeat("(", 33) + "1" + strings.Repeat(")", 33),
		strings.Repeat("-", 99) + "1",
		"1.2 ** 1000 / 1.2 ** 1000",
		"0.1 ** 1000",
		"1e100 ** 1 + 0",
		"-10 ** 100",
		"1e100 - 1e100",
	}
	for _, expr := range ok {
		if _, err := Eval(expr); err != nil {
			t.Errorf("Eval(%.40q…) error: %v", expr, err)
		}
	}
	if v, err := Eval(strings.Repeat("1+", 499) + "1"); err != nil || v != 500 {
		t.Errorf("long sum = %v, %v; want 500", v, err)
	}
}

// fuzzSeeds are the corpus seeds for FuzzEval.
var fuzzSeeds = []string{
	"", "1", "1 + 2 * 3", "-2 ** 2", "2 ** 3 ** 2", "15% of 2500", "7 % 3",
	"-7 // 2", "(1 + (2 * (3 - 4)))", "1e3", ".5e-3", "1 / 0", "0 ** -1",
	"(-8) ** (1/3)", "10 ** 101", "1e100 * 10", "((", "))", "1 +", "of",
	"2 ** 1001", "1e308 * 1e308", "1.2.3", "1 × 2", "\xff", "5 %% 3",
	"-1e100 // 1e-100", "1e-300 * 1e-300", "1e100 % 1e-100",
}

func FuzzEval(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		v, err := Eval(expr)
		if err != nil {
			checkError(t, err)
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > MaxMagnitude {
			t.Fatalf("Eval(%q) = %v without error", expr, v)
		}
	})
}

func BenchmarkEval(b *testing.B) {
	const expr = "(1 + 2.5 * 3) ** 2 - -7 // 2 + 15% of 2500 / (4 % 3) - 1e3"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Eval(expr); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEvalExact(t *testing.T) {
	exact := map[string]float64{
		"10 ** 100":   1e100,
		"10 ** -2":    0.01,
		"15% of 2500": 375,
		"0.1 + 0.2":   0.30000000000000004, // float64 addition, not exact decimal
		"0 * -1":      0,
		"-7 // 2":     -4,
	}
	for expr, want := range exact {
		got, err := Eval(expr)
		if err != nil || got != want || math.Signbit(got) != math.Signbit(want) {
			t.Errorf("Eval(%q) = %v, %v; want exactly %v", expr, got, err, want)
		}
	}
}

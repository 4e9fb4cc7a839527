package builtin

import (
	"testing"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

func TestCalcEval(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	out, err := b.callAs(tool.UserCaller(gathering.RoleViewer), "calc.eval", in{"expression": "15% of 2500"})
	if err != nil || out["result"] != 375.0 || out["expression"] != "15% of 2500" {
		t.Fatalf("15%% of 2500 = %v, %v", out, err)
	}
	if out := b.mustCall(t, "calc.eval", in{"expression": "(1 + 2) * 3 ** 2"}); out["result"] != 27.0 {
		t.Fatalf("(1 + 2) * 3 ** 2 = %v", out)
	}
	for _, expr := range []string{"1 / 0", "1 // 0", "5 % 0", "2 +", "import os", "1e400"} {
		_, err := b.call("calc.eval", in{"expression": expr})
		wantField(t, expr, err, gathering.EINVALID, "/expression")
	}
}

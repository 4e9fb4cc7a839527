//go:build unix

package procgroup

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKillTakesTheGrandchildren starts a shell that starts a sleeping
// grandchild, kills the group, and checks that the grandchild is gone.
func TestKillTakesTheGrandchildren(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 30 & echo $!; wait")
	Isolate(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	n, err := out.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	grandchild, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		t.Fatalf("grandchild pid %q: %v", buf[:n], err)
	}
	if err := Kill(cmd); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if p, _ := os.FindProcess(grandchild); p.Signal(syscall.Signal(0)) != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the grandchild survived the group kill")
		}
	}
	if err := Kill(cmd); err != nil {
		t.Fatalf("killing a gone group: %v", err)
	}
}

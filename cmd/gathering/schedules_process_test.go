package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store/pgtest"
)

// keyLog is a webhook receiver that counts requests per Idempotency-Key,
// taking delay to answer each.
type keyLog struct {
	mu    sync.Mutex
	count map[string]int
	delay time.Duration
}

func newKeyLog(t *testing.T) (*keyLog, *httptest.Server) {
	k := &keyLog{count: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		k.count[r.Header.Get("Idempotency-Key")]++
		delay := k.delay
		k.mu.Unlock()
		time.Sleep(delay)
		w.Write([]byte(`{"ok": true}`))
	}))
	t.Cleanup(srv.Close)
	return k, srv
}

func (k *keyLog) setDelay(d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.delay = d
}

func (k *keyLog) snapshot() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]int, len(k.count))
	for key, n := range k.count {
		out[key] = n
	}
	return out
}

// scheduleRun is the part of a schedule run these tests read.
type scheduleRun struct {
	ID           string    `json:"id"`
	ScheduledFor time.Time `json:"scheduled_for"`
	Status       string    `json:"status"`
	Attempt      int       `json:"attempt"`
	TriggeredBy  string    `json:"triggered_by"`
	Error        string    `json:"error"`
}

// actionRuns lists every run of an action over the API.
func actionRuns(t *testing.T, url, token string, id int64) []scheduleRun {
	t.Helper()
	code, body := request(t, "GET", fmt.Sprintf("%s/scheduled-actions/%d/runs?limit=200", url, id), token, "")
	var page struct{ Items []scheduleRun }
	if code != 200 || json.Unmarshal([]byte(body), &page) != nil {
		t.Fatalf("runs of %d: %d %s", id, code, body)
	}
	return page.Items
}

// keyOf is the Idempotency-Key of an occurrence.
func keyOf(id int64, r scheduleRun) string {
	return fmt.Sprintf("%d:%s", id, r.ScheduledFor.UTC().Format(time.RFC3339Nano))
}

// createEverySecond creates n actions calling url every second and
// returns their ids.
func createEverySecond(t *testing.T, url, token, target string, n int) []int64 {
	t.Helper()
	ids := make([]int64, 0, n)
	for i := range n {
		code, body := request(t, "POST", url+"/scheduled-actions", token, fmt.Sprintf(`{"name": "tick-%d",
			"action_type": "call_api", "action_config": {"method": "POST", "url": %q, "body": {"i": %d}},
			"schedule_type": "interval", "interval_seconds": 1, "overlap_policy": "allow"}`, i, target, i))
		var a struct{ ID int64 }
		if code != 201 || json.Unmarshal([]byte(body), &a) != nil {
			t.Fatalf("create action %d: %d %s", i, code, body)
		}
		ids = append(ids, a.ID)
	}
	return ids
}

// pauseAll pauses the actions and waits until none of their runs is
// unfinished.
func pauseAll(t *testing.T, url, token string, ids []int64) {
	t.Helper()
	for _, id := range ids {
		if code, body := request(t, "POST", fmt.Sprintf("%s/scheduled-actions/%d/pause", url, id), token, ""); code != 200 {
			t.Fatalf("pause %d: %d %s", id, code, body)
		}
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		unfinished := 0
		for _, id := range ids {
			for _, r := range actionRuns(t, url, token, id) {
				if r.Status == "pending" || r.Status == "running" {
					unfinished++
				}
			}
		}
		if unfinished == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs still unfinished", unfinished)
		}
	}
}

// pausedOnOther pauses an action through the last instance and checks
// that, a second later, no instance starts another occurrence of it.
func pausedOnOther(t *testing.T, instances []*process, token string, id int64) {
	t.Helper()
	last := instances[len(instances)-1].url
	if code, body := request(t, "POST", fmt.Sprintf("%s/scheduled-actions/%d/pause", last, id), token, ""); code != 200 {
		t.Fatalf("pause %d: %d %s", id, code, body)
	}
	time.Sleep(time.Second)
	before := len(actionRuns(t, instances[0].url, token, id))
	time.Sleep(2 * time.Second)
	if after := len(actionRuns(t, instances[0].url, token, id)); after != before {
		t.Errorf("%d occurrences of action %d started more than a second after its pause", after-before, id)
	}
}

// TestProcessThreeInstancesFireExactlyOnce runs three binaries on one
// PostgreSQL. 50 actions fire every second for 30 s: every occurrence
// reaches the receiver exactly once and none is missing (each action's
// occurrences are one second apart). Then, with a slow receiver, one
// instance is killed with SIGKILL while its runs are in flight: after its
// lease ends they are recovered by the others, and no occurrence completed
// before the kill is sent again. A pause through one instance stops the
// firing on all of them within a second.
func TestProcessThreeInstancesFireExactlyOnce(t *testing.T) {
	t.Parallel()
	log, srv := newKeyLog(t)
	vars, password := adminVars(t)
	vars = append(vars, "DATABASE_URL="+pgtest.NewDatabase(t), "SECRET_KEY="+strings.Repeat("z", 40),
		"GATHERING_OUTBOUND_ALLOWLIST=127.0.0.0/8", "GATHERING_SCHEDULER_LEASE=3s",
		"GATHERING_RATE_LIMIT_WRITE=100000/min", "GATHERING_RATE_LIMIT_READ=100000/min")
	instances := []*process{serveProcess(t, t.TempDir(), vars...), serveProcess(t, t.TempDir(), vars...),
		serveProcess(t, t.TempDir(), vars...)}
	url := instances[0].url
	token := accessToken(t, url, "ops@example.com", password)

	ids := createEverySecond(t, url, token, srv.URL, 50)
	time.Sleep(30 * time.Second)
	pausedOnOther(t, instances, token, ids[len(ids)-1])
	pauseAll(t, url, token, ids)
	seen := log.snapshot()
	total, cut := 0, 0
	for _, id := range ids {
		runs := actionRuns(t, url, token, id)
		slices.SortFunc(runs, func(a, b scheduleRun) int { return a.ScheduledFor.Compare(b.ScheduledFor) })
		for i, r := range runs {
			switch {
			case i == len(runs)-1 && r.Status == "skipped" && r.Error == "The action is paused." && seen[keyOf(id, r)] == 0:
				cut++ // claimed as the pause landed, then skipped before it started: never sent
			case r.Status != "completed" || seen[keyOf(id, r)] != 1:
				t.Errorf("action %d occurrence %s: %s (%s), delivered %d times", id, r.ScheduledFor, r.Status, r.Error, seen[keyOf(id, r)])
			}
			if i > 0 && r.ScheduledFor.Sub(runs[i-1].ScheduledFor) != time.Second {
				t.Errorf("action %d: occurrences %s and %s are not a second apart", id, runs[i-1].ScheduledFor, r.ScheduledFor)
			}
		}
		if len(runs) < 28 {
			t.Errorf("action %d fired %d times in 30 s", id, len(runs))
		}
		total += len(runs)
	}
	if len(seen) != total-cut {
		t.Errorf("the receiver saw %d keys for %d occurrences, %d of them skipped by the pause", len(seen), total, cut)
	}
	t.Logf("%d occurrences, each delivered once; %d claimed as the pause landed and skipped", total-cut, cut)

	log.setDelay(2 * time.Second)
	killed := ids[:10]
	for _, id := range killed {
		if code, body := request(t, "POST", fmt.Sprintf("%s/scheduled-actions/%d/resume", url, id), token, ""); code != 200 {
			t.Fatalf("resume %d: %d %s", id, code, body)
		}
	}
	time.Sleep(4 * time.Second)
	completedBefore := map[string]bool{}
	for _, id := range killed {
		for _, r := range actionRuns(t, instances[1].url, token, id) {
			if r.Status == "completed" {
				completedBefore[keyOf(id, r)] = true
			}
		}
	}
	instances[0].cmd.Process.Kill()
	instances[0].wait(t, 10*time.Second)
	time.Sleep(5 * time.Second) // past the 3 s lease: the others recover its runs
	pauseAll(t, instances[1].url, token, killed)
	seen = log.snapshot()
	recovered := 0
	for _, id := range killed {
		for _, r := range actionRuns(t, instances[1].url, token, id) {
			if r.Status != "completed" && r.Status != "skipped" {
				t.Errorf("action %d occurrence %s ended %s", id, r.ScheduledFor, r.Status)
			}
			if completedBefore[keyOf(id, r)] && seen[keyOf(id, r)] != 1 {
				t.Errorf("occurrence %s completed before the kill and was sent %d times", keyOf(id, r), seen[keyOf(id, r)])
			}
			if r.TriggeredBy == "recovery" {
				recovered++
			}
		}
	}
	if recovered == 0 {
		t.Errorf("no run of the killed instance was recovered")
	}
	t.Logf("%d occurrences completed before the kill; %d runs recovered", len(completedBefore), recovered)
}

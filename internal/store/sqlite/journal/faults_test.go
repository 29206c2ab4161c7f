package journal_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/store/sqlite/journal/crashfs"
)

var errInjected = errors.New("injected EIO")

// TestFailedSyncFailsEveryLaterWait: after a sync fails, no wait or append
// succeeds: the kernel may have dropped the pages it was writing.
func TestFailedSyncFailsEveryLaterWait(t *testing.T) {
	fs := crashfs.New()
	j, _ := open(t, fs, nil)
	defer j.Close()
	mustAppend(t, j, "before")
	var once sync.Once
	fs.FailSync = func(_ int, op string) (err error) {
		once.Do(func() { err = errInjected })
		return err
	}
	wait, err := j.Append(record("failing"))
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(); !errors.Is(err, errInjected) {
		t.Fatalf("wait whose sync failed = %v, want the injected error", err)
	}
	if wait, err := j.Append(record("after")); err == nil {
		t.Errorf("append after a failed sync succeeded (wait: %v)", wait())
	}
}

// TestFailedSyncFailsOverlappingWaits: a sync that fails while another
// runs must fail that one too. A failed writeback drops the pages it was
// writing and reports the error to one sync alone; a second sync running
// meanwhile finds nothing to write there and succeeds, and if it raised
// the watermark, a record in the dropped pages would be acknowledged and
// lost at the next power cut.
func TestFailedSyncFailsOverlappingWaits(t *testing.T) {
	fs := crashfs.New()
	j, _ := open(t, fs, nil)
	defer j.Close()

	entered, release := make(chan struct{}), make(chan struct{})
	var first sync.Once
	failing := func(op string) (fail bool) {
		if strings.HasPrefix(op, "sync") && op != "syncdir" {
			first.Do(func() { fail = true })
		}
		return fail
	}
	var holding sync.Mutex // which op is the failing one, between FailSync and BeforeOp
	failingOp := -1
	fs.FailSync = func(n int, op string) error {
		if failing(op) {
			holding.Lock()
			failingOp = n
			holding.Unlock()
			return errInjected
		}
		return nil
	}
	fs.BeforeOp = func(n int, op string) {
		holding.Lock()
		hold := n == failingOp
		holding.Unlock()
		if hold { // the failing sync is slow: others run meanwhile
			close(entered)
			select {
			case <-release:
			case <-time.After(5 * time.Second):
			}
		}
	}

	type pending struct {
		body string
		wait func() error
		err  error
	}
	add := func(body string) *pending {
		w, err := j.Append(record(body))
		if err != nil {
			t.Fatal(err)
		}
		return &pending{body: body, wait: w}
	}
	r0, r1 := add("r0"), add("r1") // r0's wait comes later
	errA := make(chan error, 1)
	go func() { errA <- r1.wait() }() // its sync covers r0 and r1, and fails
	<-entered
	r2 := add("r2")
	done := make(chan struct{})
	go func() { r2.err = r2.wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(200 * time.Millisecond): // waiting for the failing sync, as it should
	}
	done0 := make(chan struct{})
	go func() { r0.err = r0.wait(); close(done0) }()
	select {
	case <-done0:
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	r1.err = <-errA
	<-done
	<-done0
	if !errors.Is(r1.err, errInjected) {
		t.Fatalf("the failing sync's wait = %v, want the injected error", r1.err)
	}

	got := bodies(reopen(t, fs.Crash(), nil))
	for _, p := range []*pending{r0, r1, r2} {
		if p.err == nil && !slices.Contains(got, p.body) {
			t.Errorf("record %s acknowledged (its wait returned nil) but lost at the power cut; recovered %q", p.body, got)
		}
	}
	t.Logf("waits: r0 %v, r2 %v; recovered %q", r0.err, r2.err, got)
}

package sqlite

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// niceOfThread is the calling thread's nice value (getpriority returns 20
// minus it), or -100 if it cannot be read: no thread has that value, so
// the comparisons below fail. It never calls t.Fatal, which other
// goroutines than the test's must not.
func niceOfThread() int {
	p, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return -100
	}
	return 20 - p
}

// TestRunInBackground: the goroutine's thread runs at backgroundNice, and
// once the goroutine ends no other thread does.
func TestRunInBackground(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := niceOfThread()

	type result struct {
		ok   bool
		nice int
	}
	got := make(chan result)
	go func() {
		ok := runInBackground()
		got <- result{ok: ok, nice: niceOfThread()}
	}()
	r := <-got
	if !r.ok {
		t.Fatal("runInBackground could not lower its thread's priority")
	}
	if r.nice != backgroundNice {
		t.Errorf("background thread nice = %d, want %d", r.nice, backgroundNice)
	}
	if niceOfThread() != before {
		t.Errorf("the test's own thread changed priority: nice %d, was %d", niceOfThread(), before)
	}

	// Threads started from now on, and goroutines on them, run as before.
	const goroutines = 8
	nices := make(chan int, goroutines)
	for range goroutines {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			nices <- niceOfThread()
		}()
	}
	for range goroutines {
		if n := <-nices; n != before {
			t.Errorf("another thread runs at nice %d, want %d", n, before)
		}
	}
}

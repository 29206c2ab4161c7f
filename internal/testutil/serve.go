package testutil

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/server"
)

// SyncBuffer is a bytes.Buffer that a server may write (its logs) while a
// test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`listening on (https?://\S+)`)

// Serve runs server.Run with cfg in a goroutine, logging JSON at debug level
// into logs, and returns its base URL once it listens; it fails the test if
// Run ends first or does not listen within 20 seconds. stop cancels Run and
// waits up to 15 seconds for it to return, reporting an error it returns;
// stop is safe to call more than once and runs anyway when the test ends.
func Serve(t testing.TB, cfg server.Config, logs io.Writer) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() {
		done <- server.Run(ctx, cfg, pw, log)
		pw.Close()
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("server.Run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("server did not stop")
			}
		})
	}
	t.Cleanup(stop)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		// Keep reading so that Run never blocks writing to stdout.
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case base = <-found:
	case err := <-done:
		t.Fatalf("server.Run ended early: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}
	return base, stop
}

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testutil"
)

// TestServeJSONLogsWriteDurationsAsText runs `hookline serve --log-format
// json` and checks that its start line writes the durations it logs as
// "15s", not as nanoseconds.
func TestServeJSONLogsWriteDurationsAsText(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &testutil.SyncBuffer{}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-format", "json",
			"--timeout", "15s"},
			Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: pw, Stderr: logs})
		pw.Close()
	}()
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				close(listening)
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-listening:
	case err := <-done:
		t.Fatalf("serve ended at start: %v\n%s", err, logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start:\n%s", logs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	var serving map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "serving" {
			serving = rec
		}
	}
	if serving == nil {
		t.Fatalf("no JSON \"serving\" line in the logs:\n%s", logs)
	}
	if got := serving["timeout"]; got != "15s" {
		t.Errorf("\"timeout\" is %#v in the JSON logs, want \"15s\":\n%s", got, logs)
	}
}

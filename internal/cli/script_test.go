package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hookline/hookline/internal/client"
	"github.com/hookline/hookline/internal/server"
)

// TestMain lets the scripts in testdata/script run `hookline` in-process.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hookline": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			err := Run(ctx, os.Args[1:], Env{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
			stop()
			os.Exit(ExitCode(err))
		},
	})
}

// TestScripts runs the CLI behaviour that reads best as scripts: messages,
// exit codes, flag errors, and the client commands against a real server.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"hookline-server": startScriptServer,
			"jsonvar":         jsonVar,
			"waitattempt":     waitAttempt,
		},
	})
}

var listeningRE = regexp.MustCompile(`listening on (https?://\S+)`)

// startScriptServer runs a real server (SQLite in the script's work
// directory, development mode, port 0) for the rest of the script, and
// points HOOKLINE_URL and HOOKLINE_API_KEY at it. `hookline-server DIR`
// runs it on data directory DIR without HOOKLINE_API_KEY, as a first start
// is: it makes a key and keeps it in DIR, where the CLI has to find it.
func startScriptServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: hookline-server [data-dir]")
	}
	key, dir := "hl_sk_script_key_0123456789", "server-data"
	if len(args) == 1 {
		key, dir = "", args[0]
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	cfg := server.Config{Addr: "127.0.0.1:0", DataDir: ts.MkAbs(dir), Dev: true, APIKey: key,
		RetrySchedule: []time.Duration{time.Hour}}
	go func() { done <- server.Run(ctx, cfg, pw, slog.New(slog.DiscardHandler)); pw.Close() }()
	found := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		var out strings.Builder
		for {
			n, err := pr.Read(buf)
			out.Write(buf[:n])
			if m := listeningRE.FindStringSubmatch(out.String()); m != nil {
				found <- m[1]
				io.Copy(io.Discard, pr)
				return
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case u := <-found:
		ts.Setenv("HOOKLINE_URL", u)
		ts.Setenv("HOOKLINE_API_KEY", key)
	case err := <-done:
		cancel()
		ts.Fatalf("server stopped at start: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		ts.Fatalf("server did not start")
	}
	ts.Defer(func() { cancel(); <-done })
}

// jsonVar sets an environment variable from a field of the last command's
// JSON stdout: `jsonvar EP data.0.id`.
func jsonVar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsonvar NAME path.to.field")
	}
	var v any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile("stdout")), &v))
	for _, part := range strings.Split(args[1], ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i >= len(x) {
				ts.Fatalf("jsonvar: no element %q", part)
			}
			v = x[i]
		default:
			ts.Fatalf("jsonvar: cannot index %T with %q", v, part)
		}
	}
	ts.Setenv(args[0], fmt.Sprint(v))
}

// waitAttempt waits (up to 20 s) until the event has an attempt recorded on
// the script's server: deliveries are made in the background, after
// publish returns. `waitattempt $EVT`.
func waitAttempt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitattempt EVENT_ID")
	}
	c := client.New(ts.Getenv("HOOKLINE_URL"), ts.Getenv("HOOKLINE_API_KEY"))
	for deadline := time.Now().Add(20 * time.Second); ; {
		l, err := c.EventAttempts(context.Background(), args[0], client.Page{Limit: 1}, "")
		ts.Check(err)
		if len(l.Data) > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no attempt of %s after 20 s", args[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

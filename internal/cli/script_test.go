package cli

import (
	"context"
	"os"
	"os/signal"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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
// exit codes, flag errors.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}

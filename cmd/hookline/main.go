// Command hookline is the Hookline server and its command-line client.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hookline/hookline/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.ExitCode(err))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin *os.File, stdout, stderr *os.File) error {
	return cli.Run(ctx, args, cli.Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookline/hookline/internal/client"
)

// Version is set at build time with -ldflags "-X …/internal/cli.Version=v1.2.3".
var Version = "dev"

// Env is the program's view of its environment, so tests can give their own.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// UserConfigDir is where listen's embedded server keeps its data
	// (os.UserConfigDir when nil); Hostname names the listen device
	// (os.Hostname when nil). Tests set them to keep off the real ones.
	UserConfigDir func() (string, error)
	Hostname      func() (string, error)
}

// UsageError marks a mistake in how the command was called (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// reportedError is a failure the command has already explained in its
// output (verify's "Invalid: …" report): exit code 1, without an "Error:"
// line saying it again.
type reportedError struct{ Err error }

func (e *reportedError) Error() string { return e.Err.Error() }
func (e *reportedError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitCode is the process exit code for an error returned by Run.
func ExitCode(err error) int {
	var u *UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		return 2
	}
	return 1
}

// Run runs the hookline command with args (without the program name).
func Run(ctx context.Context, args []string, env Env) error {
	if env.UserConfigDir == nil {
		env.UserConfigDir = os.UserConfigDir
	}
	if env.Hostname == nil {
		env.Hostname = os.Hostname
	}
	root, a := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: flagValueError(err)} })
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		var (
			u        *UsageError
			reported *reportedError
		)
		switch {
		case errors.As(err, &reported):
			// Already explained in the command's output.
		case errors.As(err, &u) || isCobraUsageError(err):
			fmt.Fprintf(env.Stderr, "Error: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
			if !errors.As(err, &u) {
				err = &UsageError{Err: err}
			}
		default:
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			var ce *client.Error
			if errors.As(err, &ce) && ce.Status == http.StatusUnauthorized && a.keys != nil {
				fmt.Fprintf(env.Stderr, "The server at %s refused the key: %s\n", a.server, a.keys.help(a.server))
			}
		}
	}
	return err
}

// flagValueError words a flag value that does not parse as what the flag
// wants, naming the flag, instead of pflag's "strconv.ParseInt: parsing
// …: invalid syntax".
func flagValueError(err error) error {
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) {
		return err
	}
	want := flagWants(bad.GetFlag())
	if want == "" {
		return err // a value type of ours, whose error says what it wants
	}
	return fmt.Errorf("--%s %q: must be %s", bad.GetFlag().Name, bad.GetValue(), want)
}

// flagWants says in words what kind of value a flag of one of pflag's
// types takes, "" for other types.
func flagWants(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "duration":
		return "a duration like 500ms, 30s or 5m"
	case "bool":
		return "true or false"
	}
	return ""
}

// isCobraUsageError recognises the errors cobra makes for wrong arguments.
func isCobraUsageError(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "accepts ") ||
		strings.HasPrefix(s, "requires at least") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "required flag")
}

type app struct {
	env    Env
	server string     // --server
	format string     // --format
	keys   *keySearch // where client() found the key, for a 401's error
}

func newRoot(env Env) (*cobra.Command, *app) {
	a := &app{env: env}
	root := &cobra.Command{
		Use:   "hookline",
		Short: "Hookline sends, receives and inspects webhooks",
		Long: "Hookline sends, receives and inspects webhooks: one binary, embedded SQLite by default.\n\nStart a server with 'hookline serve'; the other commands talk to it (--server, HOOKLINE_URL).\n" +
			"They send the key in HOOKLINE_API_KEY when set; otherwise the key of the server --server names,\n" +
			"which each server keeps in its data directory beside the URL it listens on: the CLI looks in\n" +
			"./hookline-data (or HOOKLINE_DATA) and in the data of the server 'hookline listen' embeds\n" +
			"($XDG_CONFIG_HOME/hookline, ~/.config/hookline).",
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd, env.Getenv)
		},
	}
	root.PersistentFlags().StringVar(&a.server, "server", "http://127.0.0.1:8080", "Hookline server URL (HOOKLINE_URL)")
	root.PersistentFlags().StringVar(&a.format, "format", "table", "output format: table or json")
	root.AddCommand(a.serveCmd(), a.endpointsCmd(), a.eventsCmd())
	root.AddCommand(a.listenCmd(), a.triggerCmd(), a.tailCmd(), a.verifyCmd(), a.sendCmd()) // the developer loop
	root.AddCommand(a.sourcesCmd(), a.connectionsCmd(), a.requestsCmd())                    // receiving (sources.go, requests.go)
	root.AddCommand(a.migrateCmd())                                                         // scale-out (scaleout.go)
	root.AddCommand(a.secretsCmd())                                                         // secrets at rest (secrets.go)
	return root, a
}

// applyEnv fills every flag the command line left unset from its
// HOOKLINE_<FLAG> variable (--retry-schedule ← HOOKLINE_RETRY_SCHEDULE);
// --server also reads HOOKLINE_URL.
func applyEnv(cmd *cobra.Command, getenv func(string) string) error {
	var firstErr error
	set := func(f *pflag.Flag) {
		if f.Changed || firstErr != nil {
			return
		}
		name := "HOOKLINE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(name)
		if v == "" && f.Name == "server" {
			name, v = "HOOKLINE_URL", getenv("HOOKLINE_URL")
		}
		if v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			if want := flagWants(f); want != "" {
				err = fmt.Errorf("must be %s (it sets --%s)", want, f.Name)
			}
			firstErr = usagef("%s=%q: %v", name, v, err)
		}
	}
	cmd.Flags().VisitAll(set)
	cmd.InheritedFlags().VisitAll(set)
	return firstErr
}

// client returns an API client for --server with the key from
// HOOKLINE_API_KEY, or else the key that server keeps in its data
// directory (findAPIKey, apikey.go).
func (a *app) client() *client.Client {
	ks := findAPIKey(a.env.Getenv, a.server, a.embeddedDataDir())
	a.keys = &ks
	return client.New(a.server, ks.key)
}

func (a *app) checkFormat() error {
	switch a.format {
	case "table", "json":
		return nil
	}
	return usagef("--format %q: must be table or json", a.format)
}

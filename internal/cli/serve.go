package cli

import (
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/server"
)

func (a *app) serveCmd() *cobra.Command {
	var (
		cfg       server.Config
		schedule  string
		logFormat string
		logLevel  string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Hookline server",
		Long: "Run a Hookline server: the API, the delivery engine and the embedded SQLite store.\n\n" +
			"Every flag can also be set as HOOKLINE_<FLAG> in the environment (--retry-schedule ← HOOKLINE_RETRY_SCHEDULE).\n" +
			"The admin API key comes from HOOKLINE_API_KEY; when unset, one is made on first start, kept in the data directory and printed once.\n" +
			"Secrets are sealed in the database under HOOKLINE_SECRET_KEY (64 hex digits; <new>,<old> during a rotation), else under the\n" +
			"secret_key file in the data directory, made on first start: keep it with backups of the database, apart from them.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if schedule != "" {
				s, err := delivery.ParseSchedule(schedule)
				if err != nil {
					return usagef("--retry-schedule: %v", err)
				}
				cfg.RetrySchedule = s
			}
			if cfg.Timeout <= 0 { // the server reads 0 as "the default"; given here, it is a mistake
				return usagef("--timeout %s: must be from 100ms to 5m", cfg.Timeout)
			}
			if cfg.MaxBodyBytes <= 0 { // as --timeout: 0 is not "the default" here
				return usagef("--max-body %d: must be at least 1024 bytes", cfg.MaxBodyBytes)
			}
			if cfg.MaxConcurrency < 1 { // the server reads 0 as "the default"; given here, it is a mistake
				return usagef("--max-concurrency %d: must be from 1 to %d", cfg.MaxConcurrency, hookline.MaxMaxConcurrency)
			}
			if cfg.BreakerFailures < 1 {
				return usagef("--breaker-failures %d: must be from 1 to %d", cfg.BreakerFailures, hookline.MaxBreakerFailures)
			}
			if cfg.BreakerCoolDown <= 0 {
				return usagef("--breaker-cooldown %s: must be positive", cfg.BreakerCoolDown)
			}
			log, err := newLogger(a.env, logFormat, logLevel)
			if err != nil {
				return err
			}
			if a.env.Getenv("GOGC") == "" {
				// A server allocates briskly and keeps little alive: collecting
				// at 400 % heap growth instead of Go's 100 % costs some tens of
				// MB and gives back about a tenth of the CPU per delivered
				// event (BenchmarkRelay). GOGC, when set, wins.
				debug.SetGCPercent(400)
			}
			// serve owns its process: the server may add the Go processor
			// its store asks for, unless GOMAXPROCS says how many.
			cfg.TuneRuntime = a.env.Getenv("GOMAXPROCS") == ""
			cfg.APIKey = a.env.Getenv("HOOKLINE_API_KEY")
			cfg.SecretKey = a.env.Getenv("HOOKLINE_SECRET_KEY")
			cfg.Version = Version
			if err := cfg.Validate(); err != nil {
				return &UsageError{Err: err}
			}
			return server.Run(cmd.Context(), cfg, a.env.Stdout, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", server.DefaultAddr, "address to listen on (port 0 picks a free one)")
	f.StringVar(&cfg.DataDir, "data", server.DefaultDataDir, "data directory; the SQLite database lives inside")
	f.BoolVar(&cfg.Dev, "dev", false, "development mode: allow deliveries to loopback and private addresses")
	f.StringVar(&schedule, "retry-schedule", "", "comma-separated delays before each retry, e.g. 5s,5m,30m, or none for no retries (default "+delivery.FormatSchedule(delivery.DefaultSchedule)+", ±20% jitter)")
	f.DurationVar(&cfg.Timeout, "timeout", 15*time.Second, "timeout of one delivery attempt, for endpoints without their own timeout_seconds")
	f.IntVar(&cfg.MaxConcurrency, "max-concurrency", hookline.DefaultMaxConcurrency, "deliveries in flight to one endpoint at a time (across all nodes), for endpoints without their own max_concurrency")
	f.IntVar(&cfg.BreakerFailures, "breaker-failures", hookline.DefaultBreakerFailures, "consecutive failed attempts that open an endpoint's circuit (its deliveries then wait, spending no retries, until a probe succeeds), for endpoints without their own circuit_breaker")
	f.DurationVar(&cfg.BreakerCoolDown, "breaker-cooldown", hookline.DefaultCircuitCoolDown, "first cool-down of an open circuit, doubling on each failed probe up to 10m")
	_ = f.MarkHidden("breaker-cooldown") // for tests: the issue fixes it at 30s
	f.DurationVar(&cfg.DisableAfter, "disable-after", 5*24*time.Hour, "disable an endpoint after every attempt has failed for this long")
	f.Int64Var(&cfg.MaxBodyBytes, "max-body", 1<<20, "largest API request body in bytes")
	f.StringVar(&cfg.PprofAddr, "pprof-addr", "", "serve the Go profiler on this address (for debugging; keep it on loopback)")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	addScaleOutFlags(f, &cfg.ScaleOut)      // --db, --no-migrate, --retention, --lease (scaleout.go)
	addInboundFlags(f, &cfg.Inbound)        // --max-inbound-body, --tls-cert, --tls-key (serve_inbound.go)
	addConnectionFlags(f, &cfg.Connections) // --max-connections, --body-timeout, --min-body-rate (serve_conns.go)
	return cmd
}

// durationsAsText writes durations in JSON logs as "15s", as the text
// logs and the flags do, rather than as nanoseconds (slog's JSON default).
func durationsAsText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

func newLogger(env Env, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: must be debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, opts)), nil
	case "json":
		opts.ReplaceAttr = durationsAsText
		return slog.New(slog.NewJSONHandler(env.Stderr, opts)), nil
	}
	return nil, usagef("--log-format %q: must be text or json", format)
}

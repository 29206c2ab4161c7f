package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookline/hookline/internal/server"
)

// addScaleOutFlags adds the flags that choose the database and tune a node
// sharing it: --db, --no-migrate, --retention and the hidden --lease and --no-journal.
func addScaleOutFlags(f *pflag.FlagSet, s *server.ScaleOut) {
	f.StringVar(&s.DB, "db", "", "database: empty for SQLite in --data, or a postgres:// URL that several nodes may share")
	f.BoolVar(&s.NoMigrate, "no-migrate", false, "do not apply PostgreSQL schema migrations at start (run 'hookline migrate' instead)")
	s.Retention = server.DefaultRetention
	f.Var((*retentionValue)(&s.Retention), "retention", "keep events, deliveries and attempts this long, e.g. 30d or 12h; 0 keeps everything")
	f.DurationVar(&s.Lease, "lease", 0, "how long a node holds a claimed delivery before another may take it (default 2×timeout+30s)")
	_ = f.MarkHidden("lease") // advanced: for tests and tuning
	f.BoolVar(&s.NoJournal, "no-journal", false, "SQLite: store publishes in SQLite transactions, without the journal (slower; for measuring)")
	_ = f.MarkHidden("no-journal") // for benchmarks
}

// retentionValue is a duration that also takes whole days ("30d") and
// "0"/"off" for keeping everything.
type retentionValue time.Duration

func (r *retentionValue) String() string {
	d := time.Duration(*r)
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	if d <= 0 {
		return "0"
	}
	return d.String()
}

func (r *retentionValue) Set(s string) error {
	d, err := parseRetention(s)
	if err != nil {
		return err
	}
	*r = retentionValue(d)
	return nil
}

func (r *retentionValue) Type() string { return "duration" }

// parseRetention parses "30d", "1d12h", "36h", "0" or "off".
func parseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" || strings.EqualFold(s, "off") {
		return 0, nil
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q: want a number of days before d, like 30d", s)
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("want a duration like 30d, 12h or 0: %w", err)
		}
		rest = d
	}
	d := days + rest
	if d < 0 {
		return 0, fmt.Errorf("%s is negative", d)
	}
	if d > 0 && d < time.Second {
		return 0, fmt.Errorf("%s is shorter than a second", d)
	}
	return d, nil
}

func (a *app) migrateCmd() *cobra.Command {
	var cfg server.Config
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply database schema migrations and exit",
		Long: "Apply the schema migrations the database has not had yet, then exit. Running it again changes nothing.\n\n" +
			"With --db postgres://… (HOOKLINE_DB) it migrates that database: run it once per deploy and start the nodes with --no-migrate, " +
			"or let each 'hookline serve' migrate at start (nodes starting at once take turns). Without --db it migrates the SQLite database in --data.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.APIKey = a.env.Getenv("HOOKLINE_API_KEY")
			if err := cfg.Validate(); err != nil {
				return &UsageError{Err: err}
			}
			applied, err := server.Migrate(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			where := "the SQLite database in " + cfg.DataDir
			if server.UsesPostgres(cfg.DB) {
				where = "the PostgreSQL database"
			}
			if len(applied) == 0 {
				fmt.Fprintf(a.env.Stdout, "The schema of %s is up to date; nothing to apply.\n", where)
				return nil
			}
			fmt.Fprintf(a.env.Stdout, "Applied %d migration(s) to %s: %s. The schema is up to date.\n",
				len(applied), where, strings.Join(applied, ", "))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", server.DefaultDataDir, "data directory of the SQLite database (without --db)")
	f.StringVar(&cfg.DB, "db", "", "a postgres:// URL; empty for SQLite in --data")
	return cmd
}

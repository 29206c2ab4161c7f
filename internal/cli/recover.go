package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hookline/hookline/internal/apijson"
)

// parseSince reads --since/--until: a duration back from now ("2h", "30m")
// or an RFC 3339 time.
func parseSince(flag, v string, now time.Time) (int64, error) {
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			return 0, usagef("%s %q: give how long ago, such as 2h", flag, v)
		}
		return now.Add(-d).Unix(), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.Unix(), nil
	}
	return 0, usagef("%s %q: want a duration back from now (2h, 30m) or an RFC 3339 time", flag, v)
}

func (a *app) endpointRecoverCmd() *cobra.Command {
	var since, until string
	var noWait bool
	cmd := &cobra.Command{
		Use:   "recover ep_… --since 2h [--until 30m]",
		Short: "Resend every failed delivery of an endpoint in a time window",
		Long: "Starts a recover job on the server and follows it: a progress bar on a terminal, a line at the end\n" +
			"otherwise, or one JSON line (the finished job) with --format json. The job runs on the server;\n" +
			"stopping this command does not stop it (see GET /v1/jobs/{id}).",
		Args:    cobra.ExactArgs(1),
		Example: "  hookline endpoints recover ep_… --since 2h\n  hookline endpoints recover ep_… --since 2026-12-01T00:00:00Z --until 2026-12-02T00:00:00Z",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			if since == "" {
				return usagef("--since is required")
			}
			now := time.Now()
			s, err := parseSince("--since", since, now)
			if err != nil {
				return err
			}
			var u int64
			if until != "" {
				if u, err = parseSince("--until", until, now); err != nil {
					return err
				}
			}
			c := a.client()
			j, err := c.RecoverEndpoint(cmd.Context(), args[0], s, u)
			if err != nil {
				return flagError(err, endpointFlags)
			}
			var bar *progressbar.ProgressBar
			if f, ok := a.env.Stdout.(*os.File); ok && a.format != "json" && term.IsTerminal(int(f.Fd())) {
				bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("Resending "+j.ID),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
			} else if a.format != "json" {
				fmt.Fprintf(a.env.Stdout, "Started %s\n", j.ID)
			}
			for !noWait && !j.Finished() {
				select {
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				case <-time.After(250 * time.Millisecond):
				}
				if j, err = c.Job(cmd.Context(), j.ID); err != nil {
					return err
				}
				if bar != nil {
					bar.ChangeMax(j.Total)
					_ = bar.Set(j.Done)
				}
			}
			if bar != nil {
				_ = bar.Finish()
			}
			if a.format == "json" {
				line, err := json.Marshal(j)
				if err != nil {
					return fmt.Errorf("encoding job: %w", err)
				}
				_, err = a.env.Stdout.Write(append(line, '\n'))
				return err
			}
			switch j.Status {
			case apijson.JobFailed:
				return fmt.Errorf("%s stopped after resending %d of %d: %s", j.ID, j.Done, j.Total, j.Error)
			case apijson.JobSucceeded:
				fmt.Fprintf(a.env.Stdout, "Resent %d failed deliveries (%s)\n", j.Done, j.ID)
			default:
				fmt.Fprintf(a.env.Stdout, "%s is %s: %d of %d resent so far\n", j.ID, j.Status, j.Done, j.Total)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "resend failures of deliveries created since then: 2h (ago) or an RFC 3339 time")
	cmd.Flags().StringVar(&until, "until", "", "and before then (default now): 30m (ago) or an RFC 3339 time")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "start the job and return without following it")
	return cmd
}

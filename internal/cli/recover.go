package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

type jobView struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Done   int    `json:"done"`
	Total  int    `json:"total"`
	Error  string `json:"error"`
}

func (j jobView) finished() bool { return j.Status == "succeeded" || j.Status == "failed" }

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
			body := map[string]any{}
			s, err := parseSince("--since", since, now)
			if err != nil {
				return err
			}
			body["since"] = s
			if until != "" {
				u, err := parseSince("--until", until, now)
				if err != nil {
					return err
				}
				body["until"] = u
			}
			c := a.client()
			raw, _, err := c.Do(cmd.Context(), http.MethodPost, "/v1/endpoints/"+url.PathEscape(args[0])+"/recover", nil, body, nil)
			if err != nil {
				return flagError(err, endpointFlags)
			}
			var j jobView
			if err := json.Unmarshal(raw, &j); err != nil {
				return fmt.Errorf("decoding job: %w", err)
			}
			var bar *progressbar.ProgressBar
			if f, ok := a.env.Stdout.(*os.File); ok && a.format != "json" && term.IsTerminal(int(f.Fd())) {
				bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("Resending "+j.ID),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
			} else if a.format != "json" {
				fmt.Fprintf(a.env.Stdout, "Started %s\n", j.ID)
			}
			for !noWait && !j.finished() {
				select {
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				case <-time.After(250 * time.Millisecond):
				}
				if raw, _, err = c.Do(cmd.Context(), http.MethodGet, "/v1/jobs/"+url.PathEscape(j.ID), nil, nil, nil); err != nil {
					return err
				}
				if err := json.Unmarshal(raw, &j); err != nil {
					return fmt.Errorf("decoding job: %w", err)
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
				var line bytes.Buffer
				if err := json.Compact(&line, raw); err != nil {
					return fmt.Errorf("server answered malformed JSON: %w", err)
				}
				line.WriteByte('\n')
				_, err := a.env.Stdout.Write(line.Bytes())
				return err
			}
			switch j.Status {
			case "failed":
				return fmt.Errorf("%s stopped after resending %d of %d: %s", j.ID, j.Done, j.Total, j.Error)
			case "succeeded":
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

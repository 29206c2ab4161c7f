package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/client"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/listen"
)

func (a *app) tailCmd() *cobra.Command {
	var endpoint, typ, status string
	cmd := &cobra.Command{
		Use:   "tail [--endpoint ep_…] [--type t] [--status failed]",
		Short: "Stream every delivery attempt on the server as it happens",
		Long:  "Stream delivery attempts live, in listen's line format (--format json: one JSON object per line).\nIt reconnects by itself when the server restarts.",
		Example: "  hookline tail\n" +
			"  hookline tail --type 'invoice.*' --status failed",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			q := url.Values{}
			if endpoint != "" {
				q.Set("endpoint_id", endpoint)
			}
			if typ != "" {
				if !hookline.ValidEventPattern(typ) {
					return usagef("--type %q: not an event type or a prefix wildcard like invoice.*", typ)
				}
				q.Set("type", typ)
			}
			switch status {
			case "", "all":
			case "failed":
				q.Set("status", "failed")
			default:
				return usagef("--status %q: must be failed or all", status)
			}
			return a.runTail(cmd.Context(), a.client(), q)
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "only attempts to this endpoint")
	cmd.Flags().StringVar(&typ, "type", "", "only events of this type (invoice.* wildcards)")
	cmd.Flags().StringVar(&status, "status", "", "failed: only attempts that did not get a 2xx")
	return cmd
}

func (a *app) runTail(ctx context.Context, c *client.Client, q url.Values) error {
	out := newLineWriter(a.env, a.format)
	hc := &http.Client{} // no timeout: the stream lasts as long as the user wants
	backoff := 250 * time.Millisecond
	var lostAt time.Time
	first := true
	for {
		err := tailOnce(ctx, hc, c, q, out, func() {
			switch {
			case first:
				out.note("Tailing attempts on %s (^C to quit)", c.BaseURL)
				first = false
			case !lostAt.IsZero():
				out.note("Reconnected after %s", time.Since(lostAt).Round(100*time.Millisecond))
			}
			lostAt, backoff = time.Time{}, 250*time.Millisecond
		})
		if ctx.Err() != nil {
			return nil
		}
		var ce *client.Error
		if errors.As(err, &ce) {
			return flagError(err, map[string]string{"endpoint_id": "--endpoint", "type": "--type", "status": "--status"})
		}
		if first {
			return err // never connected: say so rather than wait
		}
		if lostAt.IsZero() {
			lostAt = time.Now()
			out.note("Lost the connection to %s (%v); reconnecting…", c.BaseURL, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func tailOnce(ctx context.Context, hc *http.Client, c *client.Client, q url.Values, out *lineWriter, connected func()) error {
	u := c.BaseURL + "/v1/tail"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the Hookline server at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var eb struct {
			Error *client.Error `json:"error"`
		}
		if json.NewDecoder(resp.Body).Decode(&eb) == nil && eb.Error != nil {
			eb.Error.Status = resp.StatusCode
			return eb.Error
		}
		return &client.Error{Status: resp.StatusCode, Code: "http_error", Message: "GET /v1/tail answered " + resp.Status}
	}
	connected()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var event string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := strings.TrimPrefix(line, "data: ")
			switch event {
			case "attempt":
				var e listen.TailEvent
				if json.Unmarshal([]byte(data), &e) == nil {
					printTail(out, e)
				}
			case "dropped":
				out.note("%s attempts were not shown: this terminal did not keep up", data)
			}
		case line == "":
			event = ""
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("the server closed the stream")
}

func printTail(out *lineWriter, e listen.TailEvent) {
	at := time.UnixMilli(e.Created)
	extra := lineEvent{Attempt: e.Attempt, EndpointID: e.EndpointID, Method: e.Method} // "" (an older server) prints POST
	out.event(at, e.EventType, e.EventID, extra)
	errText := ""
	if e.Status == 0 {
		errText = e.Error
	}
	out.response(at.Add(time.Duration(e.DurationMS)*time.Millisecond), e.Status, e.URL, e.EventID,
		time.Duration(e.DurationMS)*time.Millisecond, errText, extra)
}

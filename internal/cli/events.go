package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

var eventFlags = map[string]string{
	"type": "<type>", "data": "--data", "tenant": "--tenant", "Idempotency-Key": "--idempotency-key",
	"limit": "--limit", "starting_after": "--starting-after", "endpoint_id": "--endpoint",
}

type eventView struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Created int64           `json:"created"`
	Tenant  string          `json:"tenant"`
	Data    json.RawMessage `json:"data"`
}

type attemptView struct {
	ID             string `json:"id"`
	EventID        string `json:"event_id"`
	EndpointID     string `json:"endpoint_id"`
	Attempt        int    `json:"attempt"`
	Created        int64  `json:"created"`
	ResponseStatus int    `json:"response_status"`
	DurationMS     int64  `json:"duration_ms"`
	Error          string `json:"error"`
	ErrorKind      string `json:"error_kind"`
	NextRetry      *int64 `json:"next_retry"`
}

func (a *app) eventsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Aliases: []string{"event"}, Short: "Publish and inspect events"}
	cmd.AddCommand(a.eventPublishCmd(), a.eventListCmd(), a.eventGetCmd(), a.eventAttemptsCmd(), a.eventResendCmd())
	return cmd
}

// readData reads a --data value: inline JSON, @file, or @- for stdin.
func (a *app) readData(v string) (json.RawMessage, error) {
	b := []byte(v)
	if strings.HasPrefix(v, "@") {
		var err error
		if v == "@-" {
			b, err = io.ReadAll(a.env.Stdin)
		} else {
			b, err = os.ReadFile(v[1:])
		}
		if err != nil {
			return nil, usagef("--data %s: %v", v, err)
		}
	}
	// Compacted: a file's trailing newline and indentation would otherwise
	// end up inside the event's data, and `send` signs the payload as it is.
	// Invalid JSON is left as it is for the caller's check, which names the flag.
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return json.RawMessage(b), nil
	}
	return json.RawMessage(compact.Bytes()), nil
}

func (a *app) eventPublishCmd() *cobra.Command {
	var data, tenant, key string
	cmd := &cobra.Command{
		Use:     "publish <type> [--data JSON|@file|@-]",
		Short:   "Publish an event to every endpoint subscribed to its type",
		Args:    cobra.ExactArgs(1),
		Example: "  hookline events publish invoice.paid --data '{\"invoice\": \"in_123\", \"amount\": 4200}'",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			body := map[string]any{"type": args[0]}
			if data != "" {
				raw, err := a.readData(data)
				if err != nil {
					return err
				}
				if !json.Valid(raw) {
					return usagef("--data: not valid JSON")
				}
				body["data"] = raw
			}
			if tenant != "" {
				body["tenant"] = tenant
			}
			var h http.Header
			if key != "" {
				h = http.Header{"Idempotency-Key": {key}}
			}
			raw, respHeader, err := a.client().Do(cmd.Context(), http.MethodPost, "/v1/events", nil, body, h)
			if err != nil {
				return flagError(err, eventFlags)
			}
			if a.format == "json" {
				return printJSON(a.env.Stdout, raw)
			}
			var e eventView
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("decoding event: %w", err)
			}
			if respHeader.Get("Idempotent-Replayed") == "true" {
				fmt.Fprintf(a.env.Stdout, "Already published with this idempotency key: %s (%s)\n", e.ID, e.Type)
				return nil
			}
			fmt.Fprintf(a.env.Stdout, "Published %s (%s)\n", e.ID, e.Type)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "the event's data: a JSON object, @file, or @- for stdin")
	cmd.Flags().StringVar(&tenant, "tenant", "", "publish for this tenant")
	cmd.Flags().StringVar(&key, "idempotency-key", "", "publishing again with the same key within 24 h returns the first event")
	return cmd
}

func (a *app) eventListCmd() *cobra.Command {
	var (
		limit                      int
		typ, startingAfter, tenant string
	)
	cmd := &cobra.Command{
		Use:   "list [--type t]",
		Short: "List events, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			for k, v := range map[string]string{"type": typ, "starting_after": startingAfter, "tenant": tenant} {
				if v != "" {
					q.Set(k, v)
				}
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodGet, "/v1/events", q, nil, nil)
			if err != nil {
				return flagError(err, map[string]string{"type": "--type", "limit": "--limit", "starting_after": "--starting-after"})
			}
			if a.format == "json" {
				return printJSON(a.env.Stdout, raw)
			}
			var l struct {
				Data    []eventView `json:"data"`
				HasMore bool        `json:"has_more"`
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("decoding events: %w", err)
			}
			rows := make([][]string, len(l.Data))
			for i, e := range l.Data {
				rows[i] = []string{e.ID, e.Type, orDash(e.Tenant), unixTime(e.Created)}
			}
			if err := table(a.env.Stdout, []string{"ID", "TYPE", "TENANT", "CREATED"}, rows); err != nil {
				return err
			}
			if l.HasMore && len(l.Data) > 0 {
				fmt.Fprintf(a.env.Stdout, "(more: --starting-after %s)\n", l.Data[len(l.Data)-1].ID)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many, 1 to 100")
	cmd.Flags().StringVar(&typ, "type", "", "only events of this type")
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant's events")
	cmd.Flags().StringVar(&startingAfter, "starting-after", "", "the last id of the previous page")
	return cmd
}

func (a *app) eventGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get evt_…",
		Short: "Show an event as endpoints receive it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, _, err := a.client().Do(cmd.Context(), http.MethodGet, "/v1/events/"+url.PathEscape(args[0]), nil, nil, nil)
			if err != nil {
				return err
			}
			return printJSON(a.env.Stdout, raw)
		},
	}
}

func (a *app) eventAttemptsCmd() *cobra.Command {
	var (
		endpoint string
		limit    int
	)
	cmd := &cobra.Command{
		Use:   "attempts evt_… [--endpoint ep_…]",
		Short: "List an event's delivery attempts, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			if endpoint != "" {
				q.Set("endpoint_id", endpoint)
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodGet, "/v1/events/"+url.PathEscape(args[0])+"/attempts", q, nil, nil)
			if err != nil {
				return flagError(err, eventFlags)
			}
			if a.format == "json" {
				return printJSON(a.env.Stdout, raw)
			}
			var l struct {
				Data []attemptView `json:"data"`
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("decoding attempts: %w", err)
			}
			rows := make([][]string, len(l.Data))
			for i, at := range l.Data {
				next := "-"
				if at.NextRetry != nil {
					next = unixTime(*at.NextRetry)
				}
				rows[i] = []string{at.ID, at.EndpointID, strconv.Itoa(at.Attempt), attemptStatus(at.ResponseStatus, at.ErrorKind),
					strconv.FormatInt(at.DurationMS, 10) + " ms", unixTime(at.Created), next, orDash(at.Error)}
			}
			return table(a.env.Stdout, []string{"ID", "ENDPOINT", "#", "STATUS", "TIME", "AT", "NEXT RETRY", "ERROR"}, rows)
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "only attempts to this endpoint")
	cmd.Flags().IntVar(&limit, "limit", 20, "how many, 1 to 100")
	return cmd
}

func (a *app) eventResendCmd() *cobra.Command {
	var endpoint string
	cmd := &cobra.Command{
		Use:   "resend evt_… [--endpoint ep_…]",
		Short: "Deliver an event again, to one endpoint or to every subscribed one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{}
			if endpoint != "" {
				body["endpoint_id"] = endpoint
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodPost, "/v1/events/"+url.PathEscape(args[0])+"/resend", nil, body, nil)
			if err != nil {
				return flagError(err, eventFlags)
			}
			if a.format == "json" {
				return printJSON(a.env.Stdout, raw)
			}
			var l struct {
				Data []struct {
					EndpointID string `json:"endpoint_id"`
				} `json:"data"`
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("decoding resend: %w", err)
			}
			for _, d := range l.Data {
				fmt.Fprintf(a.env.Stdout, "Resending %s to %s\n", args[0], d.EndpointID)
			}
			if len(l.Data) == 0 {
				fmt.Fprintf(a.env.Stdout, "No endpoint is subscribed to %s\n", args[0])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "resend to this endpoint only")
	return cmd
}

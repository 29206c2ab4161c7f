package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

var endpointFlags = map[string]string{
	"url": "--url", "enabled_events": "--events", "description": "--description", "metadata": "--metadata",
	"tenant": "--tenant", "status": "--status", "signature_scheme": "--scheme", "secret": "--secret",
	"limit": "--limit", "starting_after": "--starting-after", "overlap_seconds": "--overlap",
	"filter": "--filter", "headers": "--header", "retry_schedule": "--retry-schedule",
	"max_concurrency": "--max-concurrency", "timeout_seconds": "--timeout",
	"circuit_breaker": "--breaker-failures", "circuit_breaker.failures": "--breaker-failures",
	"since": "--since", "until": "--until",
}

type endpointView struct {
	ID              string            `json:"id"`
	URL             string            `json:"url"`
	EnabledEvents   []string          `json:"enabled_events"`
	Description     string            `json:"description"`
	Metadata        map[string]string `json:"metadata"`
	Tenant          string            `json:"tenant"`
	Status          string            `json:"status"`
	DisabledReason  string            `json:"disabled_reason"`
	SignatureScheme string            `json:"signature_scheme"`
	Filter          json.RawMessage   `json:"filter"`
	Headers         map[string]string `json:"headers"`
	RetrySchedule   []string          `json:"retry_schedule"`
	MaxConcurrency  int               `json:"max_concurrency"`
	TimeoutSeconds  float64           `json:"timeout_seconds"`
	CircuitBreaker  struct {
		Failures int `json:"failures"`
	} `json:"circuit_breaker"`
	Circuit struct {
		State       string `json:"state"`
		OpenedAt    *int64 `json:"opened_at"`
		NextProbeAt *int64 `json:"next_probe_at"`
	} `json:"circuit"`
	Secret  string `json:"secret"`
	Created int64  `json:"created"`
}

func (a *app) endpointsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "endpoints", Aliases: []string{"endpoint"}, Short: "Manage the endpoints events are delivered to"}
	cmd.AddCommand(a.endpointCreateCmd(), a.endpointUpdateCmd(), a.endpointListCmd(), a.endpointGetCmd(),
		a.endpointDeleteCmd(), a.endpointSecretCmd(), a.endpointRotateCmd(), a.endpointTestCmd(), a.endpointRecoverCmd())
	return cmd
}

// endpointFlagSet holds the flags create and update share.
type endpointFlagSet struct {
	url, description, tenant, scheme, secret, status string
	filter, retrySchedule, maxConcurrency, timeout   string
	breakerFailures                                  string
	events, metadata, headers                        []string
}

func (s *endpointFlagSet) register(cmd *cobra.Command, create bool) {
	f := cmd.Flags()
	f.StringVar(&s.url, "url", "", "URL the events are POSTed to (http or https)")
	f.StringSliceVar(&s.events, "events", nil, "event types to receive: exact types, prefix wildcards like invoice.*, or * (repeatable or comma-separated)")
	f.StringVar(&s.description, "description", "", "a description for people")
	f.StringArrayVar(&s.metadata, "metadata", nil, "metadata as key=value (repeatable)")
	f.StringVar(&s.tenant, "tenant", "", "receive only this tenant's events")
	f.StringVar(&s.scheme, "scheme", "", "signature scheme: standard (Standard Webhooks, the default) or stripe")
	f.StringVar(&s.filter, "filter", "", `only events matching this JSON filter, e.g. '{"data.amount": {"in": [100, 200]}}' or @file.json ('' removes it)`)
	f.StringArrayVar(&s.headers, "header", nil, "a static header every delivery carries, 'Name: value' (repeatable; replaces the endpoint's headers; --header '' removes them)")
	f.StringVar(&s.retrySchedule, "retry-schedule", "", "this endpoint's delays before each retry, e.g. 0s,30s,5m ('' goes back to the server's)")
	f.StringVar(&s.maxConcurrency, "max-concurrency", "", "deliveries in flight to this endpoint at a time, 1 to 1000 ('' goes back to the server's --max-concurrency)")
	f.StringVar(&s.timeout, "timeout", "", "timeout of one attempt to this endpoint in whole seconds, e.g. 30s, 1s to 5m ('' goes back to the server's --timeout)")
	f.StringVar(&s.breakerFailures, "breaker-failures", "", "consecutive failed attempts that open this endpoint's circuit, 1 to 10000 ('' or 0 goes back to the server's --breaker-failures)")
	if create {
		f.StringVar(&s.secret, "secret", "", "signing secret (whsec_…); made for you when omitted")
	} else {
		f.StringVar(&s.status, "status", "", "enabled or disabled")
	}
}

// params returns the request fields for the flags that were given.
func (s *endpointFlagSet) params(cmd *cobra.Command) (map[string]any, error) {
	p := map[string]any{}
	f := cmd.Flags()
	set := func(flag, field string, v any) {
		if f.Changed(flag) {
			p[field] = v
		}
	}
	set("url", "url", s.url)
	set("events", "enabled_events", s.events)
	set("description", "description", s.description)
	set("tenant", "tenant", s.tenant)
	set("scheme", "signature_scheme", s.scheme)
	set("secret", "secret", s.secret)
	set("status", "status", s.status)
	if f.Changed("filter") {
		raw := strings.TrimSpace(s.filter)
		if strings.HasPrefix(raw, "@") {
			b, err := os.ReadFile(raw[1:])
			if err != nil {
				return nil, usagef("--filter: %v", err)
			}
			raw = strings.TrimSpace(string(b))
		}
		switch {
		case raw == "":
			p["filter"] = nil
		case !json.Valid([]byte(raw)):
			return nil, usagef("--filter %q is not JSON", raw)
		default:
			p["filter"] = json.RawMessage(raw)
		}
	}
	if f.Changed("header") {
		h := map[string]string{}
		for _, kv := range s.headers {
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, usagef("--header %q: want 'Name: value'", kv)
			}
			h[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		p["headers"] = h
	}
	if f.Changed("retry-schedule") {
		if strings.TrimSpace(s.retrySchedule) == "" {
			p["retry_schedule"] = nil
		} else {
			entries := []string{}
			for _, e := range strings.Split(s.retrySchedule, ",") {
				if e = strings.TrimSpace(e); e != "" {
					entries = append(entries, e)
				}
			}
			p["retry_schedule"] = entries
		}
	}
	if f.Changed("max-concurrency") {
		switch v := strings.TrimSpace(s.maxConcurrency); v {
		case "":
			p["max_concurrency"] = nil
		default:
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, usagef("--max-concurrency %q: want a whole number, e.g. 10", v)
			}
			p["max_concurrency"] = n
		}
	}
	if f.Changed("breaker-failures") {
		switch v := strings.TrimSpace(s.breakerFailures); v {
		case "":
			p["circuit_breaker"] = nil
		default:
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, usagef("--breaker-failures %q: want a whole number, e.g. 10", v)
			}
			p["circuit_breaker"] = map[string]int{"failures": n}
		}
	}
	if f.Changed("timeout") {
		switch v := strings.TrimSpace(s.timeout); v {
		case "":
			p["timeout_seconds"] = nil
		default:
			d, err := time.ParseDuration(v)
			if err != nil || d%time.Second != 0 {
				return nil, usagef("--timeout %q: want whole seconds, e.g. 30s or 2m", v)
			}
			p["timeout_seconds"] = int64(d / time.Second)
		}
	}
	if f.Changed("metadata") {
		md := map[string]string{}
		for _, kv := range s.metadata {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, usagef("--metadata %q: want key=value", kv)
			}
			md[k] = v
		}
		p["metadata"] = md
	}
	return p, nil
}

func (a *app) showEndpoint(raw []byte) error {
	if a.format == "json" {
		return printJSON(a.env.Stdout, raw)
	}
	var e endpointView
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("decoding endpoint: %w", err)
	}
	kv := [][2]string{
		{"id", e.ID}, {"url", e.URL}, {"events", strings.Join(e.EnabledEvents, ", ")}, {"status", e.Status},
		{"scheme", e.SignatureScheme}, {"tenant", orDash(e.Tenant)}, {"description", orDash(e.Description)},
		{"created", unixTime(e.Created)},
	}
	if e.DisabledReason != "" {
		kv = append(kv, [2]string{"disabled reason", e.DisabledReason})
	}
	if len(e.Filter) > 0 && string(e.Filter) != "null" {
		kv = append(kv, [2]string{"filter", string(e.Filter)})
	}
	if e.RetrySchedule != nil {
		kv = append(kv, [2]string{"retry schedule", orDash(strings.Join(e.RetrySchedule, ","))})
	}
	kv = append(kv, [2]string{"max concurrency", strconv.Itoa(e.MaxConcurrency)},
		[2]string{"timeout", (time.Duration(e.TimeoutSeconds * float64(time.Second))).String()},
		[2]string{"breaker failures", strconv.Itoa(e.CircuitBreaker.Failures)},
		[2]string{"circuit", orDash(e.Circuit.State)})
	if e.Circuit.OpenedAt != nil && e.Circuit.NextProbeAt != nil {
		kv = append(kv, [2]string{"circuit opened", unixTime(*e.Circuit.OpenedAt)},
			[2]string{"circuit next probe", unixTime(*e.Circuit.NextProbeAt)})
	}
	names := make([]string, 0, len(e.Headers))
	for n := range e.Headers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names { // values are secrets: shown with --format json only
		kv = append(kv, [2]string{"header." + n, "(set)"})
	}
	for k, v := range e.Metadata {
		kv = append(kv, [2]string{"metadata." + k, v})
	}
	if e.Secret != "" {
		kv = append(kv, [2]string{"secret", e.Secret})
	}
	return fields(a.env.Stdout, kv)
}

func (a *app) endpointCreateCmd() *cobra.Command {
	var fs endpointFlagSet
	cmd := &cobra.Command{
		Use:     "create --url URL [--events t1,t2]",
		Short:   "Create an endpoint; prints its signing secret",
		Args:    cobra.NoArgs,
		Example: "  hookline endpoints create --url https://example.com/webhooks --events 'invoice.*,charge.succeeded'",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			if !cmd.Flags().Changed("url") {
				return usagef("--url is required")
			}
			p, err := fs.params(cmd)
			if err != nil {
				return err
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodPost, "/v1/endpoints", nil, p, nil)
			if err != nil {
				return flagError(err, endpointFlags)
			}
			return a.showEndpoint(raw)
		},
	}
	fs.register(cmd, true)
	return cmd
}

func (a *app) endpointUpdateCmd() *cobra.Command {
	var fs endpointFlagSet
	cmd := &cobra.Command{
		Use:   "update ep_… [--url URL] [--events …] [--status enabled|disabled]",
		Short: "Change an endpoint",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			p, err := fs.params(cmd)
			if err != nil {
				return err
			}
			if len(p) == 0 {
				return usagef("nothing to change: give at least one of --url, --events, --description, --metadata, --tenant, --scheme, --status, --filter, --header, --retry-schedule, --max-concurrency, --timeout, --breaker-failures")
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodPatch, "/v1/endpoints/"+url.PathEscape(args[0]), nil, p, nil)
			if err != nil {
				return flagError(err, endpointFlags)
			}
			return a.showEndpoint(raw)
		},
	}
	fs.register(cmd, false)
	return cmd
}

func (a *app) endpointListCmd() *cobra.Command {
	var (
		limit         int
		startingAfter string
		tenant        string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List endpoints, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			if startingAfter != "" {
				q.Set("starting_after", startingAfter)
			}
			if tenant != "" {
				q.Set("tenant", tenant)
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodGet, "/v1/endpoints", q, nil, nil)
			if err != nil {
				return flagError(err, endpointFlags)
			}
			if a.format == "json" {
				return printJSON(a.env.Stdout, raw)
			}
			var l struct {
				Data    []endpointView `json:"data"`
				HasMore bool           `json:"has_more"`
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("decoding endpoints: %w", err)
			}
			rows := make([][]string, len(l.Data))
			for i, e := range l.Data {
				rows[i] = []string{e.ID, e.URL, strings.Join(e.EnabledEvents, ","), e.Status, e.SignatureScheme, orDash(e.Tenant), unixTime(e.Created)}
			}
			if err := table(a.env.Stdout, []string{"ID", "URL", "EVENTS", "STATUS", "SCHEME", "TENANT", "CREATED"}, rows); err != nil {
				return err
			}
			if l.HasMore && len(l.Data) > 0 {
				fmt.Fprintf(a.env.Stdout, "(more: --starting-after %s)\n", l.Data[len(l.Data)-1].ID)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many, 1 to 100")
	cmd.Flags().StringVar(&startingAfter, "starting-after", "", "the last id of the previous page")
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant's endpoints")
	return cmd
}

func (a *app) endpointGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get ep_…",
		Short: "Show an endpoint",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodGet, "/v1/endpoints/"+url.PathEscape(args[0]), nil, nil, nil)
			if err != nil {
				return err
			}
			return a.showEndpoint(raw)
		},
	}
}

func (a *app) endpointDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete ep_…",
		Short: "Delete an endpoint; its pending deliveries are canceled",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, _, err := a.client().Do(cmd.Context(), http.MethodDelete, "/v1/endpoints/"+url.PathEscape(args[0]), nil, nil, nil)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return printJSON(a.env.Stdout, raw)
			}
			fmt.Fprintf(a.env.Stdout, "Deleted %s\n", args[0])
			return nil
		},
	}
}

type secretView struct {
	Secret                string `json:"secret"`
	PreviousSecret        string `json:"previous_secret"`
	PreviousSecretExpires int64  `json:"previous_secret_expires"`
}

func (a *app) showSecret(raw []byte) error {
	if a.format == "json" {
		return printJSON(a.env.Stdout, raw)
	}
	var s secretView
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("decoding secret: %w", err)
	}
	fmt.Fprintln(a.env.Stdout, s.Secret)
	if s.PreviousSecret != "" {
		fmt.Fprintf(a.env.Stderr, "The previous secret %s also signs until %s.\n", s.PreviousSecret, unixTime(s.PreviousSecretExpires))
	}
	return nil
}

func (a *app) endpointSecretCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "secret ep_…",
		Short: "Print an endpoint's signing secret",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, _, err := a.client().Do(cmd.Context(), http.MethodGet, "/v1/endpoints/"+url.PathEscape(args[0])+"/secret", nil, nil, nil)
			if err != nil {
				return err
			}
			return a.showSecret(raw)
		},
	}
}

func (a *app) endpointRotateCmd() *cobra.Command {
	var overlap time.Duration
	cmd := &cobra.Command{
		Use:   "rotate ep_… [--overlap 24h]",
		Short: "Make a new signing secret; the old one keeps signing for the overlap",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{}
			if cmd.Flags().Changed("overlap") {
				if overlap < 0 {
					return usagef("--overlap %s: must not be negative", overlap)
				}
				body["overlap_seconds"] = int64(overlap / time.Second)
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodPost, "/v1/endpoints/"+url.PathEscape(args[0])+"/secret/rotate", nil, body, nil)
			if err != nil {
				return flagError(err, endpointFlags)
			}
			return a.showSecret(raw)
		},
	}
	cmd.Flags().DurationVar(&overlap, "overlap", 24*time.Hour, "how long the old secret keeps signing")
	return cmd
}

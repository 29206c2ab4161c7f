package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/client"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/webhook"
)

var endpointFlags = map[string]string{
	"url": "--url", "enabled_events": "--events", "description": "--description", "metadata": "--metadata",
	"tenant": "--tenant", "status": "--status", "signature_scheme": "--scheme", "signing": "--signing", "secret": "--secret",
	"limit": "--limit", "starting_after": "--starting-after", "overlap_seconds": "--overlap",
	"filter": "--filter", "headers": "--header", "retry_schedule": "--retry-schedule",
	"max_concurrency": "--max-concurrency", "timeout_seconds": "--timeout",
	"ordering": "--ordering", "rate_limit": "--rate-limit", "rate_limit.per_second": "--rate-limit", "rate_limit.burst": "--rate-limit",
	"circuit_breaker": "--breaker-failures", "circuit_breaker.failures": "--breaker-failures",
	"since": "--since", "until": "--until",
}

func (a *app) endpointsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "endpoints", Aliases: []string{"endpoint"}, Short: "Manage the endpoints events are delivered to"}
	cmd.AddCommand(a.endpointCreateCmd(), a.endpointUpdateCmd(), a.endpointListCmd(), a.endpointGetCmd(),
		a.endpointDeleteCmd(), a.endpointSecretCmd(), a.endpointRotateCmd(), a.endpointTestCmd(), a.endpointRecoverCmd())
	return cmd
}

// endpointFlagSet holds the flags create and update share.
type endpointFlagSet struct {
	url, description, tenant, scheme, signing, secret, status string
	filter, retrySchedule, maxConcurrency, timeout            string
	ordering, rateLimit, breakerFailures                      string
	events, metadata, headers                                 []string
}

func (s *endpointFlagSet) register(cmd *cobra.Command, create bool) {
	f := cmd.Flags()
	f.StringVar(&s.url, "url", "", "URL the events are POSTed to (http or https)")
	f.StringSliceVar(&s.events, "events", nil, "event types to receive: exact types, prefix wildcards like invoice.*, or * (repeatable or comma-separated)")
	f.StringVar(&s.description, "description", "", "a description for people")
	f.StringArrayVar(&s.metadata, "metadata", nil, "metadata as key=value (repeatable)")
	f.StringVar(&s.tenant, "tenant", "", "receive only this tenant's events")
	f.StringVar(&s.scheme, "scheme", "", "signature scheme: standard (Standard Webhooks, the default) or stripe")
	if create {
		f.StringVar(&s.signing, "signing", "", "how deliveries are signed: hmac (v1, a shared whsec_ secret; the default) or ed25519 (v1a, verified with the endpoint's public key whpk_…)")
	} else {
		f.StringVar(&s.signing, "signing", "", "switch signing to hmac or ed25519: a new secret of that kind, the old one signing beside it for the rotation overlap")
	}
	f.StringVar(&s.filter, "filter", "", `only events matching this JSON filter, e.g. '{"data.amount": {"in": [100, 200]}}' or @file.json ('' removes it)`)
	f.StringArrayVar(&s.headers, "header", nil, "a static header every delivery carries, 'Name: value' (repeatable; replaces the endpoint's headers; --header '' removes them)")
	f.StringVar(&s.retrySchedule, "retry-schedule", "", "this endpoint's delays before each retry, e.g. 0s,30s,5m ('none' never retries; '' goes back to the server's)")
	f.StringVar(&s.maxConcurrency, "max-concurrency", "", "deliveries in flight to this endpoint at a time, 1 to 1000 ('' goes back to the server's --max-concurrency)")
	f.StringVar(&s.ordering, "ordering", "", "fifo: deliveries one at a time in publish order, each after the one before has succeeded or failed for good; unordered (the default, or ''): in parallel")
	f.StringVar(&s.rateLimit, "rate-limit", "", "deliveries per second to this endpoint, across all nodes, with an optional burst: 50 or 50/100 ('' removes it)")
	f.StringVar(&s.timeout, "timeout", "", "timeout of one attempt to this endpoint in whole seconds, e.g. 30s, 1s to 5m ('' goes back to the server's --timeout)")
	f.StringVar(&s.breakerFailures, "breaker-failures", "", "consecutive failed attempts that open this endpoint's circuit, 1 to 10000 ('' or 0 goes back to the server's --breaker-failures)")
	if create {
		f.StringVar(&s.secret, "secret", "", "signing secret (whsec_…, or whsk_… with --signing ed25519); made for you when omitted")
	} else {
		f.StringVar(&s.status, "status", "", "enabled or disabled")
	}
}

// params returns the request fields for the flags that were given.
func (s *endpointFlagSet) params(cmd *cobra.Command) (client.Fields, error) {
	p := client.Fields{}
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
	set("signing", "signing", s.signing)
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
		switch strings.TrimSpace(s.retrySchedule) {
		case "":
			p["retry_schedule"] = nil
		default:
			// "none" is an empty schedule: the first failure is final.
			entries, err := hookline.SplitRetrySchedule(s.retrySchedule)
			if err != nil {
				return nil, usagef("--retry-schedule %q: %v", s.retrySchedule, err)
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
	if f.Changed("ordering") {
		switch v := strings.TrimSpace(s.ordering); v {
		case "":
			p["ordering"] = nil // the default, unordered, as '' resets every other flag
		case "fifo", "unordered":
			p["ordering"] = v
		default:
			return nil, usagef("--ordering %q: want fifo or unordered", v)
		}
	}
	if f.Changed("rate-limit") {
		rl, err := parseRateLimitFlag(s.rateLimit)
		if err != nil {
			return nil, err
		}
		p["rate_limit"] = rl
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

func (a *app) showEndpoint(e apijson.Endpoint) error {
	return show(a, e, a.endpointFields)
}

func (a *app) endpointFields(e apijson.Endpoint) error {
	kv := [][2]string{
		{"id", e.ID}, {"url", e.URL}, {"events", strings.Join(e.EnabledEvents, ", ")}, {"status", e.Status},
		{"scheme", e.SignatureScheme}, {"signing", orDash(e.Signing)}, {"tenant", orDash(e.Tenant)}, {"description", orDash(e.Description)},
		{"created", unixTime(e.Created)},
	}
	if e.PublicKey != "" {
		kv = append(kv, [2]string{"public key", e.PublicKey})
	}
	if e.KeySet != "" {
		kv = append(kv, [2]string{"key set", e.KeySet})
	}
	if e.DisabledReason != "" {
		kv = append(kv, [2]string{"disabled reason", e.DisabledReason})
	}
	if e.SecretError != "" {
		kv = append(kv, [2]string{"secret error", e.SecretError})
	}
	if len(e.Filter) > 0 && string(e.Filter) != "null" {
		kv = append(kv, [2]string{"filter", string(e.Filter)})
	}
	if e.RetrySchedule != nil {
		sched := strings.Join(e.RetrySchedule, ",")
		if len(e.RetrySchedule) == 0 {
			sched = "none" // as --retry-schedule and the dashboard write it
		}
		kv = append(kv, [2]string{"retry schedule", sched})
	}
	kv = append(kv, [2]string{"ordering", orDash(e.Ordering)})
	if e.RateLimit != nil {
		kv = append(kv, [2]string{"rate limit", fmt.Sprintf("%s/s, burst %d", strconv.FormatFloat(e.RateLimit.PerSecond, 'f', -1, 64), e.RateLimit.Burst)})
	}
	kv = append(kv, [2]string{"max concurrency", strconv.Itoa(e.MaxConcurrency)},
		[2]string{"timeout", (time.Duration(e.TimeoutSeconds) * time.Second).String()},
		[2]string{"breaker failures", strconv.Itoa(e.CircuitBreaker.Failures)},
		[2]string{"circuit", orDash(e.Circuit.State)})
	if e.Circuit.OpenedAt != nil && e.Circuit.NextProbeAt != nil {
		kv = append(kv, [2]string{"circuit opened", unixTime(*e.Circuit.OpenedAt)},
			[2]string{"circuit next probe", unixTime(*e.Circuit.NextProbeAt)})
	}
	if e.HeldUntil != nil { // a receiver's 429 with Retry-After
		kv = append(kv, [2]string{"held until", unixTime(*e.HeldUntil)})
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
		Short:   "Create an endpoint; prints its signing secret (an ed25519 endpoint: its public key)",
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
			e, err := a.client().CreateEndpoint(cmd.Context(), p)
			if err != nil {
				return flagError(err, endpointFlags)
			}
			return a.showEndpoint(e)
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
				return usagef("nothing to change: give at least one of --url, --events, --description, --metadata, --tenant, --scheme, --signing, --status, --filter, --header, --retry-schedule, --max-concurrency, --timeout, --ordering, --rate-limit, --breaker-failures")
			}
			e, err := a.client().UpdateEndpoint(cmd.Context(), args[0], p)
			if err != nil {
				return flagError(err, endpointFlags)
			}
			return a.showEndpoint(e)
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
			l, err := a.client().ListEndpoints(cmd.Context(), client.Page{Limit: limit, StartingAfter: startingAfter}, tenant)
			if err != nil {
				return flagError(err, endpointFlags)
			}
			return printList(a, l, listing[apijson.Endpoint]{
				header: []string{"ID", "URL", "EVENTS", "STATUS", "SCHEME", "TENANT", "CREATED"},
				row: func(e apijson.Endpoint) []string {
					return []string{e.ID, e.URL, strings.Join(e.EnabledEvents, ","), e.Status, e.SignatureScheme, orDash(e.Tenant), unixTime(e.Created)}
				},
				id: func(e apijson.Endpoint) string { return e.ID },
			})
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
		RunE:  showByID(a, (*client.Client).Endpoint, a.endpointFields),
	}
}

func (a *app) endpointDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete ep_…",
		Short: "Delete an endpoint; its pending deliveries are canceled",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := a.client().DeleteEndpoint(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.showDeleted(d, args[0])
		},
	}
}

func (a *app) showSecret(s apijson.Secret) error {
	return show(a, s, a.secretLines)
}

func (a *app) secretLines(s apijson.Secret) error {
	fmt.Fprintln(a.env.Stdout, s.Secret)
	switch until := unixTime(s.PreviousSecretExpires); {
	case s.PreviousSecret == "":
	case strings.HasPrefix(s.PreviousSecret, webhook.PublicKeyPrefix):
		// A public key signs nothing: the secret key Hookline keeps does.
		fmt.Fprintf(a.env.Stderr, "The previous key also signs until %s; verify its signatures with its public key %s.\n", until, s.PreviousSecret)
	default:
		fmt.Fprintf(a.env.Stderr, "The previous secret %s also signs until %s.\n", s.PreviousSecret, until)
	}
	if s.KeySet != "" {
		// What a receiver of the JWK set pins: the same after every rotation.
		fmt.Fprintf(a.env.Stderr, "Its public keys are in /.well-known/webhook-keys under kids starting %s. (the same after a rotation).\n", s.KeySet)
	}
	return nil
}

func (a *app) endpointSecretCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "secret ep_…",
		Short: "Print an endpoint's signing secret (an ed25519 endpoint: its public key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sec, err := a.client().EndpointSecret(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.showSecret(sec)
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
			var overlapSeconds *int64
			if cmd.Flags().Changed("overlap") {
				if overlap < 0 {
					return usagef("--overlap %s: must not be negative", overlap)
				}
				secs := int64(overlap / time.Second)
				overlapSeconds = &secs
			}
			sec, err := a.client().RotateEndpointSecret(cmd.Context(), args[0], overlapSeconds)
			if err != nil {
				return flagError(err, endpointFlags)
			}
			return a.showSecret(sec)
		},
	}
	cmd.Flags().DurationVar(&overlap, "overlap", 24*time.Hour, "how long the old secret keeps signing")
	return cmd
}

// parseRateLimitFlag reads --rate-limit: "50" (per second), "50/100"
// (with a burst of 100), or "" (none: null).
func parseRateLimitFlag(v string) (any, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	rate, burst, hasBurst := strings.Cut(v, "/")
	perSecond, err := strconv.ParseFloat(rate, 64)
	if err != nil || perSecond <= 0 {
		return nil, usagef("--rate-limit %q: want deliveries per second above 0, with an optional /burst, e.g. 50 or 50/100", v)
	}
	out := map[string]any{"per_second": perSecond}
	if hasBurst {
		b, err := strconv.Atoi(burst)
		if err != nil || b < 1 {
			return nil, usagef("--rate-limit %q: the burst after / must be a whole number of at least 1, e.g. 50/100", v)
		}
		out["burst"] = b
	}
	return out, nil
}

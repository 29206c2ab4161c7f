package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/webhook"
)

// EndpointParams are the fields creating and updating an endpoint take;
// nil means absent. The API decodes its JSON body into it; the dashboard
// fills it from its form.
type EndpointParams struct {
	URL             *string            `json:"url"`
	EnabledEvents   *[]string          `json:"enabled_events"`
	Description     *string            `json:"description"`
	Metadata        *map[string]string `json:"metadata"`
	Tenant          *string            `json:"tenant"`
	Status          *string            `json:"status"`
	SignatureScheme *string            `json:"signature_scheme"`
	// Signing is "hmac" (the default) or "ed25519"; changing it switches
	// the endpoint to a new secret of that kind, the old one signing
	// beside it for the server's rotation overlap.
	Signing *string `json:"signing"`
	Secret  *string `json:"secret"`
	// Filter is raw so that an explicit null (remove the filter) can be
	// told from an absent field.
	Filter  json.RawMessage    `json:"filter"`
	Headers *map[string]string `json:"headers"`
	// RetrySchedule is raw for the same reason: null goes back to the
	// server's schedule.
	RetrySchedule json.RawMessage `json:"retry_schedule"`
	// MaxConcurrency and TimeoutSeconds are raw too: null goes back to the
	// server's --max-concurrency and --timeout.
	MaxConcurrency json.RawMessage `json:"max_concurrency"`
	TimeoutSeconds json.RawMessage `json:"timeout_seconds"`
	// Ordering is "fifo" or "unordered"; null is unordered.
	Ordering json.RawMessage `json:"ordering"`
	// RateLimit is {"per_second": n, "burst": n}; null removes it.
	RateLimit json.RawMessage `json:"rate_limit"`
	// CircuitBreaker is {"failures": N}; null, or failures 0 or null, goes
	// back to the server's --breaker-failures.
	CircuitBreaker json.RawMessage `json:"circuit_breaker"`
}

// Limits on endpoint fields, as Stripe sets them where it has them.
const (
	maxDescription   = 5000
	maxMetadataKeys  = 50
	maxMetadataKey   = 40
	maxMetadataValue = 500
	maxEnabledEvents = 256
	maxURL           = 2048
	maxTenant        = 255
	// maxOverlap bounds a rotation's overlap (7 days).
	maxOverlap = 7 * 24 * time.Hour
)

// apply validates p and writes it onto e. Create and update share it, so a
// field is checked the same way whichever way it arrives.
func (a *App) apply(ctx context.Context, e *hookline.Endpoint, p EndpointParams, by Actor) error {
	if p.URL != nil {
		if err := a.CheckURL(ctx, *p.URL); err != nil {
			return err
		}
		e.URL = *p.URL
	}
	if p.EnabledEvents != nil {
		events := *p.EnabledEvents
		if len(events) == 0 {
			return hookline.Invalid("enabled_events", "enabled_events must name at least one event type, or \"*\" for all")
		}
		if len(events) > maxEnabledEvents {
			return hookline.Invalid("enabled_events", "enabled_events has more than %d entries", maxEnabledEvents)
		}
		for i, ev := range events {
			if !hookline.ValidEventPattern(ev) {
				return hookline.Invalid(fmt.Sprintf("enabled_events[%d]", i),
					"%q is not an event type, a prefix wildcard like \"invoice.*\", or \"*\"", ev)
			}
		}
		e.EnabledEvents = slices.Compact(slices.Sorted(slices.Values(events)))
	}
	if p.Description != nil {
		if len(*p.Description) > maxDescription {
			return hookline.Invalid("description", "description is longer than %d bytes", maxDescription)
		}
		e.Description = *p.Description
	}
	if p.Metadata != nil {
		md := *p.Metadata
		if len(md) > maxMetadataKeys {
			return hookline.Invalid("metadata", "metadata has more than %d keys", maxMetadataKeys)
		}
		for k, v := range md {
			if k == "" || len(k) > maxMetadataKey {
				return hookline.Invalid("metadata", "metadata keys must be 1 to %d bytes long", maxMetadataKey)
			}
			if len(v) > maxMetadataValue {
				return hookline.Invalid("metadata["+k+"]", "metadata values must be at most %d bytes long", maxMetadataValue)
			}
		}
		e.Metadata = md
	}
	if p.Tenant != nil {
		if len(*p.Tenant) > maxTenant {
			return hookline.Invalid("tenant", "tenant is longer than %d bytes", maxTenant)
		}
		e.Tenant = *p.Tenant
	}
	if p.Status != nil {
		switch *p.Status {
		case hookline.EndpointEnabled:
			if e.Status != hookline.EndpointEnabled {
				e.DisabledReason, e.FailingSince = "", time.Time{}
			}
		case hookline.EndpointDisabled:
			if e.Status != hookline.EndpointDisabled {
				e.DisabledReason = by.disabledReason()
			}
		default:
			return hookline.Invalid("status", "status must be %q or %q", hookline.EndpointEnabled, hookline.EndpointDisabled)
		}
		e.Status = *p.Status
	}
	if p.SignatureScheme != nil {
		switch *p.SignatureScheme {
		case hookline.SchemeStandard, hookline.SchemeStripe:
			e.SignatureScheme = *p.SignatureScheme
		default:
			return hookline.Invalid("signature_scheme", "signature_scheme must be %q or %q", hookline.SchemeStandard, hookline.SchemeStripe)
		}
	}
	if p.Secret != nil {
		if err := checkSecret(*p.Secret, e.Signing()); err != nil {
			return err
		}
		e.Secret = *p.Secret
	}
	if p.Filter != nil {
		f, err := hookline.ParseFilter(p.Filter, hookline.EventFilterFields)
		if err != nil {
			return err
		}
		e.Filter = f
		if f.Empty() {
			e.Filter = nil
		}
	}
	if p.Headers != nil {
		if err := hookline.CheckHeaders(*p.Headers); err != nil {
			return err
		}
		e.Headers = *p.Headers
	}
	if p.RetrySchedule != nil {
		if string(p.RetrySchedule) == "null" {
			e.RetrySchedule = nil
		} else {
			var entries []string
			if err := json.Unmarshal(p.RetrySchedule, &entries); err != nil {
				return hookline.Invalid("retry_schedule", "retry_schedule must be an array of durations like [\"0s\", \"30s\", \"5m\"], or null for the server's")
			}
			sched, err := hookline.ParseRetrySchedule(entries)
			if err != nil {
				return err
			}
			e.RetrySchedule = sched
		}
	}
	if p.MaxConcurrency != nil {
		n, err := nullableInt(p.MaxConcurrency, "max_concurrency", 1, hookline.MaxMaxConcurrency, "--max-concurrency")
		if err != nil {
			return err
		}
		e.MaxConcurrency = n
	}
	if p.TimeoutSeconds != nil {
		n, err := nullableInt(p.TimeoutSeconds, "timeout_seconds", int(hookline.MinEndpointTimeout/time.Second), int(hookline.MaxEndpointTimeout/time.Second), "--timeout")
		if err != nil {
			return err
		}
		e.Timeout = time.Duration(n) * time.Second
	}
	if p.Ordering != nil {
		o, err := parseOrdering(p.Ordering)
		if err != nil {
			return err
		}
		e.Ordering = o
	}
	if p.RateLimit != nil {
		rl, err := parseRateLimit(p.RateLimit)
		if err != nil {
			return err
		}
		e.RateLimit = rl
	}
	if p.CircuitBreaker != nil {
		n, err := breakerFailures(p.CircuitBreaker)
		if err != nil {
			return err
		}
		e.BreakerFailures = n
	}
	// The error names what the request changed: the scheme when it set
	// only that, the signing otherwise.
	param := "signing"
	if p.SignatureScheme != nil && p.Signing == nil {
		param = "signature_scheme"
	}
	return CheckSchemeSigning(e.SignatureScheme, e.Signing(), param)
}

// CheckSchemeSigning refuses a signature scheme that cannot carry an
// endpoint's signing mode: Stripe's has no asymmetric signatures, so an
// ed25519 endpoint is signed with the standard scheme. param is the field
// the error names, the one the request set, so that a CLI names the flag
// its user passed.
func CheckSchemeSigning(scheme, signing, param string) error {
	if scheme == hookline.SchemeStripe && signing == hookline.SigningEd25519 {
		return hookline.Invalid(param, "signing %q needs signature_scheme %q: Stripe's scheme has no asymmetric signatures",
			hookline.SigningEd25519, hookline.SchemeStandard)
	}
	return nil
}

// checkSigning checks a signing mode a request asks for.
func checkSigning(signing string) error {
	if signing != hookline.SigningHMAC && signing != hookline.SigningEd25519 {
		return hookline.Invalid("signing", "signing must be %q or %q", hookline.SigningHMAC, hookline.SigningEd25519)
	}
	return nil
}

// parseOrdering reads an endpoint's ordering: "fifo", or "unordered" or
// null (stored as "").
func parseOrdering(raw json.RawMessage) (string, error) {
	var o *string
	if err := json.Unmarshal(raw, &o); err != nil || (o != nil && *o != hookline.OrderingFIFO && *o != hookline.OrderingUnordered) {
		return "", hookline.Invalid("ordering", "ordering must be \"fifo\" or \"unordered\"")
	}
	if o == nil || *o == hookline.OrderingUnordered {
		return "", nil
	}
	return *o, nil
}

// parseRateLimit reads an endpoint's rate_limit: {"per_second": n} with an
// optional whole "burst", or null for none.
func parseRateLimit(raw json.RawMessage) (*hookline.RateLimit, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	var v struct {
		PerSecond *float64         `json:"per_second"`
		Burst     *json.RawMessage `json:"burst"`
	}
	if err := hookline.DecodeStrict(raw, "rate_limit", &v); err != nil {
		return nil, withHint(err, "rate_limit is {\"per_second\": n} with an optional \"burst\", or null")
	}
	if v.PerSecond == nil || *v.PerSecond <= 0 || *v.PerSecond > hookline.MaxRatePerSecond {
		return nil, hookline.Invalid("rate_limit.per_second", "rate_limit.per_second must be a number above 0 and at most %d", hookline.MaxRatePerSecond)
	}
	rl := &hookline.RateLimit{PerSecond: *v.PerSecond}
	if v.Burst != nil && string(*v.Burst) != "null" {
		var b int
		if err := json.Unmarshal(*v.Burst, &b); err != nil || b < 1 || b > hookline.MaxRateBurst {
			return nil, hookline.Invalid("rate_limit.burst", "rate_limit.burst must be a whole number from 1 to %d", hookline.MaxRateBurst)
		}
		rl.Burst = b
	}
	return rl, nil
}

// breakerFailures reads circuit_breaker: {"failures": N}, N from 0 (the
// server's) to hookline.MaxBreakerFailures, or null.
func breakerFailures(raw json.RawMessage) (int, error) {
	if string(raw) == "null" {
		return 0, nil
	}
	var cb struct {
		Failures json.RawMessage `json:"failures"`
	}
	if err := hookline.DecodeStrict(raw, "circuit_breaker", &cb); err != nil {
		return 0, withHint(err, "circuit_breaker is an object like {\"failures\": 10}, or null for the server's --breaker-failures")
	}
	if cb.Failures == nil {
		return 0, nil
	}
	return nullableInt(cb.Failures, "circuit_breaker.failures", 0, hookline.MaxBreakerFailures, "--breaker-failures")
}

// withHint adds to a decoding error of a nested field what the field
// takes, keeping the param it names.
func withHint(err error, hint string) error {
	var e *hookline.Error
	if errors.As(err, &e) {
		return hookline.Invalid(e.Param, "%s; %s", e.Message, hint)
	}
	return err
}

// BreakerFailures is how many consecutive failures open e's circuit: its
// own count, or the server's --breaker-failures.
func (a *App) BreakerFailures(e *hookline.Endpoint) int {
	return hookline.BreakerRule{Failures: a.cfg.BreakerFailures}.FailuresOf(e)
}

// CircuitState is e's circuit as shown now: closed, open or half_open.
func (a *App) CircuitState(e *hookline.Endpoint) string {
	return e.Circuit.StateAt(a.cfg.Now())
}

// EndpointHold is when the hold a receiver's 429 with Retry-After put on
// endpoint id ends (held_until): zero when it is not held now, a hold
// already over included.
func (a *App) EndpointHold(ctx context.Context, id string) (time.Time, error) {
	until, err := a.cfg.Store.EndpointHold(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	if !until.After(a.cfg.Now()) {
		return time.Time{}, nil
	}
	return until, nil
}

// nullableInt reads a whole number from lo to hi for param, or null (0:
// the server's default, named by flag).
func nullableInt(raw json.RawMessage, param string, lo, hi int, flag string) (int, error) {
	if string(raw) == "null" {
		return 0, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil || n < lo || n > hi {
		return 0, hookline.Invalid(param, "%s must be a whole number from %d to %d, or null for the server's %s", param, lo, hi, flag)
	}
	return n, nil
}

// EndpointDefaults are what an endpoint without its own max_concurrency or
// timeout_seconds gets: the server's --max-concurrency and --timeout.
func (a *App) EndpointDefaults() (maxConcurrency int, timeout time.Duration) {
	return hookline.ConcurrencyOf(&hookline.Endpoint{}, a.cfg.MaxConcurrency), hookline.TimeoutOf(&hookline.Endpoint{}, a.cfg.Timeout)
}

// TimeoutSeconds is e's attempt timeout as the API shows it: whole
// seconds, as timeout_seconds is written. A server --timeout below a whole
// second (--timeout 500ms) shows rounded up, so that what an endpoint
// shows can always be written back.
func (a *App) TimeoutSeconds(e *hookline.Endpoint) int {
	_, def := a.EndpointDefaults()
	t := hookline.TimeoutOf(e, def)
	return int((t + time.Second - 1) / time.Second)
}

// newSecret makes a secret of the signing mode's kind.
func newSecret(signing string) string {
	if signing == hookline.SigningEd25519 {
		sk, _ := webhook.NewKeyPair()
		return sk
	}
	return webhook.NewSecret()
}

// checkSecret checks a secret given for an endpoint of the signing mode.
func checkSecret(secret, signing string) error {
	if signing == hookline.SigningEd25519 {
		if _, err := webhook.PublicKey(secret); err != nil {
			return hookline.Invalid("secret", "an endpoint with signing %q takes an ed25519 secret key: \"whsk_\" followed by the base64 of its 32-byte seed", hookline.SigningEd25519)
		}
		return nil
	}
	if _, err := webhook.NewSigner(secret); err != nil || len(secret) < len("whsec_")+24 || secret[:6] != "whsec_" {
		return hookline.Invalid("secret", "secret must be \"whsec_\" followed by the base64 of 18 to 64 random bytes (an ed25519 \"whsk_\" key goes with \"signing\": %q)", hookline.SigningEd25519)
	}
	return nil
}

// switchSigning gives e a new secret of the signing mode's kind when it
// has another, the old one signing beside it until now+overlap, as a
// rotation does: receivers get both signatures while they switch.
func switchSigning(e *hookline.Endpoint, signing string, now time.Time, overlap time.Duration) {
	if e.Signing() == signing {
		return
	}
	e.PreviousSecret, e.PreviousSecretExpires = e.Secret, now.Add(overlap)
	e.Secret = newSecret(signing)
}

// CheckURL applies the rules for a URL Hookline sends to: an absolute
// http(s) URL without credentials, and outside --dev not a loopback or
// private destination. Its errors name the param "url".
func (a *App) CheckURL(ctx context.Context, raw string) error {
	if raw == "" {
		return hookline.Invalid("url", "url is required")
	}
	if len(raw) > maxURL {
		return hookline.Invalid("url", "url is longer than %d bytes", maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return hookline.Invalid("url", "url must be an absolute http:// or https:// URL, got %q", raw)
	}
	if u.User != nil {
		return hookline.Invalid("url", "url must not carry credentials; use headers or the signature instead")
	}
	if !a.cfg.Dev {
		if err := netguard.CheckURL(ctx, a.cfg.Resolver, u); err != nil {
			return hookline.Invalid("url", "url refused: %v; private and loopback destinations are allowed only with --dev", err)
		}
	}
	return nil
}

// CreateEndpoint validates p and stores a new endpoint, subscribed to every
// event type and signed with a new secret (an ed25519 secret key with
// signing "ed25519") unless p says otherwise. It also returns the secret
// to show its creator, once: the HMAC secret the receiver shares, or ""
// for an ed25519 endpoint, whose public key (PublicKey) is shown instead,
// everywhere; the secret key it is signed with is shown nowhere.
func (a *App) CreateEndpoint(ctx context.Context, p EndpointParams, by Actor) (*hookline.Endpoint, string, error) {
	if p.URL == nil {
		return nil, "", hookline.Invalid("url", "url is required")
	}
	signing := hookline.SigningHMAC
	if p.Signing != nil {
		if err := checkSigning(*p.Signing); err != nil {
			return nil, "", err
		}
		signing = *p.Signing
	}
	now := a.cfg.Now()
	e := &hookline.Endpoint{
		ID: hookline.NewID("ep"), EnabledEvents: []string{"*"}, Metadata: map[string]string{},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard,
		Secret: newSecret(signing), Created: now, Updated: now,
	}
	if err := a.apply(ctx, e, p, by); err != nil {
		return nil, "", err
	}
	if err := a.cfg.Store.CreateEndpoint(ctx, e); err != nil {
		return nil, "", err
	}
	a.keys.forget()
	a.cfg.Logger.Info("endpoint created", "endpoint", e.ID, "by", string(by))
	shown := ""
	if e.Signing() == hookline.SigningHMAC {
		shown = e.Secret
	}
	return e, shown, nil
}

// Endpoint returns the endpoint id.
func (a *App) Endpoint(ctx context.Context, id string) (*hookline.Endpoint, error) {
	return a.cfg.Store.Endpoint(ctx, id)
}

// ListEndpoints returns a page of endpoints, newest first.
func (a *App) ListEndpoints(ctx context.Context, f hookline.EndpointFilter) ([]*hookline.Endpoint, bool, error) {
	return a.cfg.Store.ListEndpoints(ctx, f)
}

// UpdateEndpoint validates p and applies it to endpoint id. A secret is
// changed only by RotateSecret, or by a change of signing, which switches
// to a new secret of the other kind with the old one signing beside it for
// the rotation overlap. Enabling an endpoint wakes the engine: its
// waiting deliveries are due again.
func (a *App) UpdateEndpoint(ctx context.Context, id string, p EndpointParams, by Actor) (*hookline.Endpoint, error) {
	if p.Secret != nil {
		return nil, hookline.Invalid("secret", "secret cannot be set by an update; rotate it with POST /v1/endpoints/{id}/secret/rotate")
	}
	if p.Signing != nil {
		if err := checkSigning(*p.Signing); err != nil {
			return nil, err
		}
	}
	e, err := a.cfg.Store.Endpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	now := a.cfg.Now()
	before, statusBefore := e.Signing(), e.Status
	if p.Signing != nil {
		switchSigning(e, *p.Signing, now, a.cfg.RotationOverlap)
	}
	if err := a.apply(ctx, e, p, by); err != nil {
		return e, err
	}
	mend(e, e.Signing() != before, p.Headers != nil)
	e.Updated = now
	if err := a.cfg.Store.UpdateEndpoint(ctx, e); err != nil {
		return nil, err
	}
	a.keys.forget()
	if e.Signing() != before {
		// The id only: secrets never reach the logs.
		a.cfg.Logger.Info("endpoint signing switched", "endpoint", e.ID, "signing", e.Signing(), "overlap", a.cfg.RotationOverlap, "by", string(by))
	}
	if p.Status != nil {
		a.cfg.Logger.Info("endpoint status set", "endpoint", e.ID, "status", e.Status, "by", string(by))
		if *p.Status == hookline.EndpointEnabled {
			a.wake()
		}
	}
	if e.Status != statusBefore && a.cfg.Operational != nil {
		reason := e.DisabledReason
		if e.Status == hookline.EndpointEnabled {
			reason = by.enabledReason()
		}
		// The change is made: a failed notification of it is logged, not
		// the update's error.
		if err := a.cfg.Operational.EndpointStatusChanged(ctx, e, reason); err != nil {
			a.cfg.Logger.Error("publishing the endpoint's status change", "endpoint", e.ID, "status", e.Status, "err", err)
		}
	}
	return e, nil
}

// DeleteEndpoint deletes endpoint id and its pending deliveries.
func (a *App) DeleteEndpoint(ctx context.Context, id string) error {
	if err := a.cfg.Store.DeleteEndpoint(ctx, id); err != nil {
		return err
	}
	a.keys.forget()
	return nil
}

// Secret is what a receiver verifies an endpoint's deliveries with: its
// signing secret, and the previous one while it still signs after a
// rotation. For an ed25519 key it is the public key (whpk_…): Hookline
// never shows the secret key it signs with.
type Secret struct {
	Secret                string
	PreviousSecret        string
	PreviousSecretExpires time.Time
	// KeySet is the prefix of the kids of the endpoint's ed25519 keys in
	// /.well-known/webhook-keys (KeySet); "" without such a key.
	KeySet string
}

// secretOf returns e's secrets as of now.
func (a *App) secretOf(ctx context.Context, e *hookline.Endpoint) (Secret, error) {
	s := Secret{Secret: VerificationKey(e.Secret)}
	if e.PreviousSecret != "" && a.cfg.Now().Before(e.PreviousSecretExpires) {
		s.PreviousSecret, s.PreviousSecretExpires = VerificationKey(e.PreviousSecret), e.PreviousSecretExpires
	}
	ks, err := a.KeySet(ctx, e)
	if err != nil {
		return Secret{}, err
	}
	s.KeySet = ks
	return s, nil
}

// VerificationKey returns what a receiver verifies secret's signatures
// with, the only form of an endpoint's secret to show anyone: the public
// key (whpk_…) of an ed25519 secret key, an HMAC secret (whsec_…) itself.
func VerificationKey(secret string) string {
	if !webhook.IsSecretKey(secret) {
		return secret
	}
	pk, err := webhook.PublicKey(secret)
	if err != nil {
		// Only Hookline writes these keys; one that does not decode is
		// shown as nothing rather than as itself.
		return ""
	}
	return pk
}

// PublicKey returns the public key (whpk_…) of an endpoint that signs with
// ed25519, and "" for one that signs with HMAC.
func PublicKey(e *hookline.Endpoint) string {
	if e.Signing() != hookline.SigningEd25519 {
		return ""
	}
	return VerificationKey(e.Secret)
}

// mend clears what e.SealErr notes of the values an update replaces: a new
// secret replaces the previous one too (the old secret, which opened, or
// nothing), new headers replace every header value. What is left of
// SealErr makes the store refuse the write (sqlcore.SealEndpoint), with an
// error saying what to replace: a write would otherwise store the blanks
// the unopened values were read as, and the endpoint would go out unsigned.
func mend(e *hookline.Endpoint, secretReplaced, headersReplaced bool) {
	if e.SealErr == nil {
		return
	}
	if secretReplaced {
		if e.SealErr.Secret {
			e.PreviousSecret, e.PreviousSecretExpires = "", time.Time{}
		}
		e.SealErr.Secret, e.SealErr.PreviousSecret = false, false
	}
	if headersReplaced {
		e.SealErr.Headers = false
	}
	if !e.SealErr.Secret && !e.SealErr.PreviousSecret && !e.SealErr.Headers {
		e.SealErr = nil
	}
}

// EndpointSecret returns endpoint id and its secrets. It answers ECONFLICT
// for an endpoint whose secret did not open (SealErr): there is nothing
// true to show until the secret is rotated.
func (a *App) EndpointSecret(ctx context.Context, id string) (*hookline.Endpoint, Secret, error) {
	e, err := a.cfg.Store.Endpoint(ctx, id)
	if err != nil {
		return nil, Secret{}, err
	}
	if e.SealErr != nil && (e.SealErr.Secret || e.SealErr.PreviousSecret) {
		return nil, Secret{}, hookline.UnopenedError(e)
	}
	sec, err := a.secretOf(ctx, e)
	if err != nil {
		return nil, Secret{}, err
	}
	return e, sec, nil
}

// RotateParams are a rotation's options; zero values take the defaults.
type RotateParams struct {
	// Secret is the new secret; empty makes one.
	Secret string `json:"secret"`
	// OverlapSeconds is how long the old secret keeps signing beside the
	// new one; nil is the server's RotationOverlap, 0 none.
	OverlapSeconds *int64 `json:"overlap_seconds"`
}

// RotateSecret gives endpoint id a new secret of the kind it signs with (an
// ed25519 endpoint a new key pair), the old one signing beside it for the
// overlap, and returns the secrets and the overlap applied.
func (a *App) RotateSecret(ctx context.Context, id string, p RotateParams, by Actor) (Secret, time.Duration, error) {
	overlap := a.cfg.RotationOverlap
	if p.OverlapSeconds != nil {
		if *p.OverlapSeconds < 0 || time.Duration(*p.OverlapSeconds)*time.Second > maxOverlap {
			return Secret{}, 0, hookline.Invalid("overlap_seconds", "overlap_seconds must be from 0 to %d (7 days)", int64(maxOverlap/time.Second))
		}
		overlap = time.Duration(*p.OverlapSeconds) * time.Second
	}
	e, err := a.cfg.Store.Endpoint(ctx, id)
	if err != nil {
		return Secret{}, 0, err
	}
	// The new secret is of the kind the endpoint signs with: a rotation
	// keeps the signing mode.
	if p.Secret == "" {
		p.Secret = newSecret(e.Signing())
	} else if err := checkSecret(p.Secret, e.Signing()); err != nil {
		return Secret{}, 0, err
	}
	now := a.cfg.Now()
	e.PreviousSecret, e.PreviousSecretExpires = e.Secret, now.Add(overlap)
	if overlap == 0 || e.Secret == "" { // a secret that did not open (SealErr) signs nothing beside the new one
		e.PreviousSecret, e.PreviousSecretExpires = "", time.Time{}
	}
	e.Secret, e.Updated = p.Secret, now
	mend(e, true, false)
	if err := a.cfg.Store.UpdateEndpoint(ctx, e); err != nil {
		return Secret{}, 0, err
	}
	a.keys.forget()
	// The id only: secrets never reach the logs.
	a.cfg.Logger.Info("endpoint secret rotated", "endpoint", e.ID, "overlap", overlap, "by", string(by))
	sec, err := a.secretOf(ctx, e)
	if err != nil {
		// The rotation is made; the answer lacks only the key set id.
		return Secret{}, overlap, fmt.Errorf("rotated endpoint %s's secret, but: %w", e.ID, err)
	}
	return sec, overlap, nil
}

// TestEventType is the type of the events SendTestEvent publishes.
const TestEventType = delivery.TestEventType

// SendTestEvent publishes a test event to endpoint id alone, whatever it
// subscribes to: other endpoints, even those subscribed to "*", do not get
// it. A disabled endpoint is a conflict: it would get no delivery.
func (a *App) SendTestEvent(ctx context.Context, id string, by Actor) (hookline.Published, error) {
	e, err := a.cfg.Store.Endpoint(ctx, id)
	if err != nil {
		return hookline.Published{}, err
	}
	if e.Status != hookline.EndpointEnabled {
		return hookline.Published{}, hookline.Errorf(hookline.ECONFLICT, "endpoint %s is disabled; enable it to send it a test event", e.ID)
	}
	return a.cfg.Publisher.PublishTest(ctx, e, string(by))
}

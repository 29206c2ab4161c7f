package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/webhook"
)

// endpointJSON is an endpoint as the API shows it. The secret is shown only
// by create and by the secret routes.
type endpointJSON struct {
	ID              string            `json:"id"`
	Object          string            `json:"object"`
	URL             string            `json:"url"`
	EnabledEvents   []string          `json:"enabled_events"`
	Description     string            `json:"description"`
	Metadata        map[string]string `json:"metadata"`
	Tenant          string            `json:"tenant,omitempty"`
	Status          string            `json:"status"`
	DisabledReason  string            `json:"disabled_reason,omitempty"`
	SignatureScheme string            `json:"signature_scheme"`
	Filter          json.RawMessage   `json:"filter"`         // null: none
	Headers         map[string]string `json:"headers"`        // static headers of every delivery
	RetrySchedule   []string          `json:"retry_schedule"` // null: the server's
	Secret          string            `json:"secret,omitempty"`
	Created         int64             `json:"created"`
	Updated         int64             `json:"updated"`
}

func renderEndpoint(e *hookline.Endpoint, withSecret bool) endpointJSON {
	j := endpointJSON{
		ID: e.ID, Object: "endpoint", URL: e.URL, EnabledEvents: e.EnabledEvents, Description: e.Description,
		Metadata: e.Metadata, Tenant: e.Tenant, Status: e.Status, DisabledReason: e.DisabledReason,
		SignatureScheme: e.SignatureScheme, Filter: e.Filter.JSON(), Headers: e.Headers,
		Created: e.Created.Unix(), Updated: e.Updated.Unix(),
	}
	if j.Metadata == nil {
		j.Metadata = map[string]string{}
	}
	if j.Headers == nil {
		j.Headers = map[string]string{}
	}
	if e.RetrySchedule != nil {
		j.RetrySchedule = hookline.FormatRetrySchedule(e.RetrySchedule)
	}
	if withSecret {
		j.Secret = e.Secret
	}
	return j
}

// endpointParams are the fields create and update accept; nil means absent.
type endpointParams struct {
	URL             *string            `json:"url"`
	EnabledEvents   *[]string          `json:"enabled_events"`
	Description     *string            `json:"description"`
	Metadata        *map[string]string `json:"metadata"`
	Tenant          *string            `json:"tenant"`
	Status          *string            `json:"status"`
	SignatureScheme *string            `json:"signature_scheme"`
	Secret          *string            `json:"secret"`
	// Filter is raw so that an explicit null (remove the filter) can be
	// told from an absent field.
	Filter  json.RawMessage    `json:"filter"`
	Headers *map[string]string `json:"headers"`
	// RetrySchedule is raw for the same reason: null goes back to the
	// server's schedule.
	RetrySchedule json.RawMessage `json:"retry_schedule"`
}

// Limits on endpoint fields, as Stripe sets them where it has them.
const (
	maxDescription   = 5000
	maxMetadataKeys  = 50
	maxMetadataKey   = 40
	maxMetadataValue = 500
	maxEnabledEvents = 256
	maxURL           = 2048
)

// apply validates p and writes it onto e. Create and update share it, so a
// field is checked the same way whichever way it arrives.
func (s *Server) apply(r *http.Request, e *hookline.Endpoint, p endpointParams) error {
	if p.URL != nil {
		if err := s.checkURL(r, *p.URL); err != nil {
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
		if len(*p.Tenant) > 255 {
			return hookline.Invalid("tenant", "tenant is longer than 255 bytes")
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
				e.DisabledReason = "disabled through the API"
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
		if err := checkSecret(*p.Secret); err != nil {
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
	return nil
}

func checkSecret(secret string) error {
	if _, err := webhook.NewSigner(secret); err != nil || len(secret) < len("whsec_")+24 || secret[:6] != "whsec_" {
		return hookline.Invalid("secret", "secret must be \"whsec_\" followed by the base64 of 18 to 64 random bytes")
	}
	return nil
}

func (s *Server) checkURL(r *http.Request, raw string) error {
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
	if !s.cfg.Dev {
		if err := netguard.CheckURL(r.Context(), s.cfg.Resolver, u); err != nil {
			return hookline.Invalid("url", "url refused: %v; private and loopback destinations are allowed only with --dev", err)
		}
	}
	return nil
}

func (s *Server) createEndpoint(w http.ResponseWriter, r *http.Request) error {
	var p endpointParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	if p.URL == nil {
		return hookline.Invalid("url", "url is required")
	}
	now := s.cfg.Now()
	e := &hookline.Endpoint{
		ID: hookline.NewID("ep"), EnabledEvents: []string{"*"}, Metadata: map[string]string{},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard,
		Secret: webhook.NewSecret(), Created: now, Updated: now,
	}
	if err := s.apply(r, e, p); err != nil {
		return err
	}
	if err := s.cfg.Store.CreateEndpoint(r.Context(), e); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, renderEndpoint(e, true))
	return nil
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	eps, more, err := s.cfg.Store.ListEndpoints(r.Context(), hookline.EndpointFilter{Page: pg, Tenant: r.URL.Query().Get("tenant")})
	if err != nil {
		return err
	}
	out := make([]endpointJSON, len(eps))
	for i, e := range eps {
		out[i] = renderEndpoint(e, false)
	}
	writeJSON(w, http.StatusOK, newList(out, more))
	return nil
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request) error {
	e, err := s.cfg.Store.Endpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderEndpoint(e, false))
	return nil
}

func (s *Server) updateEndpoint(w http.ResponseWriter, r *http.Request) error {
	var p endpointParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	if p.Secret != nil {
		return hookline.Invalid("secret", "secret cannot be set by an update; rotate it with POST /v1/endpoints/{id}/secret/rotate")
	}
	e, err := s.cfg.Store.Endpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.apply(r, e, p); err != nil {
		return err
	}
	e.Updated = s.cfg.Now()
	if err := s.cfg.Store.UpdateEndpoint(r.Context(), e); err != nil {
		return err
	}
	if p.Status != nil && *p.Status == hookline.EndpointEnabled && s.cfg.Engine != nil {
		s.cfg.Engine.Wake() // its waiting deliveries are due again
	}
	writeJSON(w, http.StatusOK, renderEndpoint(e, false))
	return nil
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.cfg.Store.DeleteEndpoint(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "endpoint", "deleted": true})
	return nil
}

type secretJSON struct {
	Object                string `json:"object"`
	Secret                string `json:"secret"`
	PreviousSecret        string `json:"previous_secret,omitempty"`
	PreviousSecretExpires int64  `json:"previous_secret_expires,omitempty"`
}

func (s *Server) renderSecret(e *hookline.Endpoint) secretJSON {
	j := secretJSON{Object: "endpoint_secret", Secret: e.Secret}
	if e.PreviousSecret != "" && s.cfg.Now().Before(e.PreviousSecretExpires) {
		j.PreviousSecret, j.PreviousSecretExpires = e.PreviousSecret, e.PreviousSecretExpires.Unix()
	}
	return j
}

func (s *Server) getSecret(w http.ResponseWriter, r *http.Request) error {
	e, err := s.cfg.Store.Endpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.renderSecret(e))
	return nil
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	var p struct {
		Secret        string `json:"secret"`
		OverlapSecond *int64 `json:"overlap_seconds"`
	}
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, true); err != nil {
		return err
	}
	overlap := s.cfg.RotationOverlap
	if p.OverlapSecond != nil {
		if *p.OverlapSecond < 0 || *p.OverlapSecond > 7*24*3600 {
			return hookline.Invalid("overlap_seconds", "overlap_seconds must be from 0 to 604800 (7 days)")
		}
		overlap = time.Duration(*p.OverlapSecond) * time.Second
	}
	if p.Secret == "" {
		p.Secret = webhook.NewSecret()
	} else if err := checkSecret(p.Secret); err != nil {
		return err
	}
	e, err := s.cfg.Store.Endpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	e.PreviousSecret, e.PreviousSecretExpires = e.Secret, now.Add(overlap)
	if overlap == 0 {
		e.PreviousSecret, e.PreviousSecretExpires = "", time.Time{}
	}
	e.Secret, e.Updated = p.Secret, now
	if err := s.cfg.Store.UpdateEndpoint(r.Context(), e); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.renderSecret(e))
	return nil
}

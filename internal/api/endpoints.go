package api

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
)

func renderRateLimit(rl *hookline.RateLimit) *apijson.RateLimit {
	if rl == nil {
		return nil
	}
	return &apijson.RateLimit{PerSecond: rl.PerSecond, Burst: int(rl.BurstOf())}
}

func (s *Server) renderCircuit(e *hookline.Endpoint) apijson.Circuit {
	c := apijson.Circuit{State: s.app.CircuitState(e)}
	if c.State != hookline.CircuitClosed {
		opened, probe := e.Circuit.OpenedAt.Unix(), e.Circuit.NextProbeAt.Unix()
		c.OpenedAt, c.NextProbeAt = &opened, &probe
	}
	return c
}

// renderEndpoint shows e, with secret when create has one to show (see
// app.CreateEndpoint): never e.Secret itself, which may be a secret key.
func (s *Server) renderEndpoint(ctx context.Context, e *hookline.Endpoint, secret string) (apijson.Endpoint, error) {
	keySet, err := s.app.KeySet(ctx, e)
	if err != nil {
		return apijson.Endpoint{}, err
	}
	hold, err := s.app.EndpointHold(ctx, e.ID)
	if err != nil {
		return apijson.Endpoint{}, err
	}
	maxConcurrency, _ := s.app.EndpointDefaults()
	j := apijson.Endpoint{
		MaxConcurrency: hookline.ConcurrencyOf(e, maxConcurrency), TimeoutSeconds: s.app.TimeoutSeconds(e),
		Ordering: hookline.OrderingUnordered, RateLimit: renderRateLimit(e.RateLimit),
		ID: e.ID, Object: "endpoint", URL: e.URL, EnabledEvents: e.EnabledEvents, Description: e.Description,
		Metadata: e.Metadata, Tenant: e.Tenant, Status: e.Status, DisabledReason: e.DisabledReason,
		SignatureScheme: e.SignatureScheme, Signing: e.Signing(), PublicKey: app.PublicKey(e), KeySet: keySet,
		Filter: e.Filter.JSON(), Headers: e.Headers,
		Created: e.Created.Unix(), Updated: e.Updated.Unix(),
		CircuitBreaker: apijson.Breaker{Failures: s.app.BreakerFailures(e)}, Circuit: s.renderCircuit(e),
	}
	if !hold.IsZero() {
		until := hold.Unix()
		j.HeldUntil = &until
	}
	if e.FIFO() {
		j.Ordering = hookline.OrderingFIFO
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
	j.Secret = secret
	if e.SealErr != nil {
		j.SecretError = hookline.UnopenedError(e).Message
	}
	return j, nil
}

// CreateEndpoint is POST /v1/endpoints.
func (s *Server) CreateEndpoint(w http.ResponseWriter, r *http.Request) error {
	var p app.EndpointParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	e, secret, err := s.app.CreateEndpoint(r.Context(), p, app.ByAPI)
	if err != nil {
		return err
	}
	j, err := s.renderEndpoint(r.Context(), e, secret)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, j)
	return nil
}

// ListEndpoints is GET /v1/endpoints.
func (s *Server) ListEndpoints(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	eps, more, err := s.app.ListEndpoints(r.Context(), hookline.EndpointFilter{Page: pg, Tenant: r.URL.Query().Get("tenant")})
	if err != nil {
		return err
	}
	out := make([]apijson.Endpoint, len(eps))
	for i, e := range eps {
		if out[i], err = s.renderEndpoint(r.Context(), e, ""); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, apijson.NewList(out, more))
	return nil
}

// GetEndpoint is GET /v1/endpoints/{id}.
func (s *Server) GetEndpoint(w http.ResponseWriter, r *http.Request) error {
	e, err := s.app.Endpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	j, err := s.renderEndpoint(r.Context(), e, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

// UpdateEndpoint is PATCH /v1/endpoints/{id}.
func (s *Server) UpdateEndpoint(w http.ResponseWriter, r *http.Request) error {
	var p app.EndpointParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	e, err := s.app.UpdateEndpoint(r.Context(), r.PathValue("id"), p, app.ByAPI)
	if err != nil {
		return err
	}
	j, err := s.renderEndpoint(r.Context(), e, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

// DeleteEndpoint is DELETE /v1/endpoints/{id}.
func (s *Server) DeleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.app.DeleteEndpoint(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apijson.Deleted{ID: id, Object: "endpoint", Deleted: true})
	return nil
}

func renderSecret(sec app.Secret) apijson.Secret {
	j := apijson.Secret{Object: "endpoint_secret", Secret: sec.Secret, KeySet: sec.KeySet}
	if sec.PreviousSecret != "" {
		j.PreviousSecret, j.PreviousSecretExpires = sec.PreviousSecret, sec.PreviousSecretExpires.Unix()
	}
	return j
}

// GetSecret is GET /v1/endpoints/{id}/secret.
func (s *Server) GetSecret(w http.ResponseWriter, r *http.Request) error {
	_, sec, err := s.app.EndpointSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderSecret(sec))
	return nil
}

// RotateSecret is POST /v1/endpoints/{id}/secret/rotate.
func (s *Server) RotateSecret(w http.ResponseWriter, r *http.Request) error {
	var p app.RotateParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, true); err != nil {
		return err
	}
	sec, _, err := s.app.RotateSecret(r.Context(), r.PathValue("id"), p, app.ByAPI)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderSecret(sec))
	return nil
}

// SendTestEvent is POST /v1/endpoints/{id}/test: a hookline.test event to
// this endpoint alone (201 with the event).
func (s *Server) SendTestEvent(w http.ResponseWriter, r *http.Request) error {
	res, err := s.app.SendTestEvent(r.Context(), r.PathValue("id"), app.ByAPI)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusCreated, res.Event.Payload)
	return nil
}

// ListEndpointAttempts is GET /v1/endpoints/{id}/attempts.
func (s *Server) ListEndpointAttempts(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	as, more, err := s.app.EndpointAttempts(r.Context(), r.PathValue("id"),
		hookline.AttemptFilter{Page: pg, EventID: r.URL.Query().Get("event_id")})
	if err != nil {
		return err
	}
	writeAttempts(w, as, more)
	return nil
}

// WebhookKeys is GET /.well-known/webhook-keys: the JWK set of the public
// keys ed25519 endpoints are signed with. It is public, as public keys
// are, so that receivers can fetch and pin them without an API key.
func (s *Server) WebhookKeys(w http.ResponseWriter, r *http.Request) error {
	set, err := s.app.WebhookKeys(r.Context())
	if err != nil {
		return err
	}
	// A receiver or a cache between must ask again each time (a new key
	// signs at once), and gets 304 for its If-None-Match while the set is
	// the same: a new key never waits behind a cached set.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", set.ETag)
	w.Header().Set("Content-Type", "application/jwk-set+json")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(set.Body))
	return nil
}

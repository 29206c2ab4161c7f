package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/hookline"
)

func renderJob(j *hookline.Job) apijson.Job {
	return apijson.Job{ID: j.ID, Object: "job", Kind: j.Kind, EndpointID: j.EndpointID, Since: j.Since.Unix(),
		Until: j.Until.Unix(), Status: j.Status, Done: j.Done, Total: j.Total, Error: j.Error,
		Created: j.Created.Unix(), Updated: j.Updated.Unix()}
}

// parseInstant reads a time given as unix seconds or RFC 3339; absent is
// the zero time.
func parseInstant(param string, raw json.RawMessage) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	if secs, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return time.Unix(secs, 0).UTC(), nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, hookline.Invalid(param, "%s must be unix seconds or an RFC 3339 time such as \"2026-12-01T09:00:00Z\"", param)
}

// RecoverEndpoint is POST /v1/endpoints/{id}/recover: it starts a job that
// resends the endpoint's failed deliveries of a window and answers 202
// with the job, whose progress GET /v1/jobs/{id} reports from any node.
func (s *Server) RecoverEndpoint(w http.ResponseWriter, r *http.Request) error {
	var p struct {
		Since json.RawMessage `json:"since"`
		Until json.RawMessage `json:"until"`
	}
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	since, err := parseInstant("since", p.Since)
	if err != nil {
		return err
	}
	until, err := parseInstant("until", p.Until)
	if err != nil {
		return err
	}
	j, err := s.app.Recover(r.Context(), r.PathValue("id"), since, until)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, renderJob(j))
	return nil
}

// GetJob is GET /v1/jobs/{id}.
func (s *Server) GetJob(w http.ResponseWriter, r *http.Request) error {
	j, err := s.app.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderJob(j))
	return nil
}

package api

import (
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
)

func renderConnection(c *hookline.Connection) apijson.Connection {
	f := c.Filter
	if len(f) == 0 {
		f = json.RawMessage("null")
	}
	return apijson.Connection{ID: c.ID, Object: "connection", SourceID: c.SourceID, SourceName: c.SourceName, URL: c.URL, Filter: f,
		Created: c.Created.Unix(), Updated: c.Updated.Unix()}
}

// CreateConnection is POST /v1/connections.
func (s *Server) CreateConnection(w http.ResponseWriter, r *http.Request) error {
	var p app.ConnectionParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	c, err := s.app.CreateConnection(r.Context(), p, app.ByAPI)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, renderConnection(c))
	return nil
}

// ListConnections is GET /v1/connections.
func (s *Server) ListConnections(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	list, more, err := s.app.ListConnections(r.Context(), hookline.ConnectionFilter{Page: pg, SourceID: r.URL.Query().Get("source_id")})
	if err != nil {
		return err
	}
	out := make([]apijson.Connection, len(list))
	for i, c := range list {
		out[i] = renderConnection(c)
	}
	writeJSON(w, http.StatusOK, apijson.NewList(out, more))
	return nil
}

// GetConnection is GET /v1/connections/{id}.
func (s *Server) GetConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.app.Connection(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderConnection(c))
	return nil
}

// UpdateConnection is PATCH /v1/connections/{id}.
func (s *Server) UpdateConnection(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.app.Connection(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	var p app.ConnectionParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	c, err := s.app.UpdateConnection(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderConnection(c))
	return nil
}

// DeleteConnection is DELETE /v1/connections/{id}.
func (s *Server) DeleteConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.app.DeleteConnection(r.Context(), r.PathValue("id"), app.ByAPI)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apijson.Deleted{ID: c.ID, Object: "connection", Deleted: true})
	return nil
}

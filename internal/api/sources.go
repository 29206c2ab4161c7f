package api

import (
	"net/http"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/inbound"
)

// renderSource is a source as every answer but its secret's shows it: the
// secret is revealed only by GET /v1/sources/{id}/secret, as an
// endpoint's is, so that lists and logs of answers do not spread it.
func renderSource(r *http.Request, src *hookline.Source) apijson.Source {
	return apijson.Source{ID: src.ID, Object: "source", Name: src.Name, Type: src.Type,
		Options: src.Options, Response: src.Response, Limits: src.Limits, IngestURL: inbound.BaseURL(r) + "/in/" + src.ID,
		Created: src.Created.Unix(), Updated: src.Updated.Unix()}
}

// CreateSource is POST /v1/sources.
func (s *Server) CreateSource(w http.ResponseWriter, r *http.Request) error {
	var p app.SourceParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	src, err := s.app.CreateSource(r.Context(), p, app.ByAPI)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, renderSource(r, src))
	return nil
}

// ListSources is GET /v1/sources.
func (s *Server) ListSources(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	list, more, err := s.app.ListSources(r.Context(), pg)
	if err != nil {
		return err
	}
	out := make([]apijson.Source, len(list))
	for i, src := range list {
		out[i] = renderSource(r, src)
	}
	writeJSON(w, http.StatusOK, apijson.NewList(out, more))
	return nil
}

// GetSource is GET /v1/sources/{id}; the id may be the source's name.
func (s *Server) GetSource(w http.ResponseWriter, r *http.Request) error {
	src, err := s.app.Source(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderSource(r, src))
	return nil
}

// GetSourceSecret is GET /v1/sources/{id}/secret; the id may be the
// source's name.
func (s *Server) GetSourceSecret(w http.ResponseWriter, r *http.Request) error {
	id, secret, err := s.app.SourceSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apijson.SourceSecret{Object: "source_secret", SourceID: id, Secret: secret})
	return nil
}

// UpdateSource is PATCH /v1/sources/{id}.
func (s *Server) UpdateSource(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.app.Source(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	var p app.SourceParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	src, err := s.app.UpdateSource(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderSource(r, src))
	return nil
}

// DeleteSource is DELETE /v1/sources/{id}.
func (s *Server) DeleteSource(w http.ResponseWriter, r *http.Request) error {
	id, err := s.app.DeleteSource(r.Context(), r.PathValue("id"), app.ByAPI)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apijson.Deleted{ID: id, Object: "source", Deleted: true})
	return nil
}

package api

import (
	"net/http"

	"github.com/hookline/hookline/internal/apijson"
)

// RotateSecretKey answers POST /v1/secrets/rotate-key.
func (s *Server) RotateSecretKey(w http.ResponseWriter, r *http.Request) error {
	if err := decode(w, r, s.cfg.MaxBodyBytes, &struct{}{}, true); err != nil {
		return err
	}
	out, err := s.app.RotateSecretKey(r.Context())
	if err != nil {
		return err
	}
	skipped := out.Skipped
	if skipped == nil {
		skipped = []string{} // a list, also when empty
	}
	writeJSON(w, http.StatusOK, apijson.KeyRotation{Object: "secret_key_rotation", KeyID: out.KeyID, Resealed: out.Resealed, Source: out.Source,
		Skipped: skipped})
	return nil
}

package cli

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"
)

// secretsCmd groups the commands about secrets at rest.
func (a *app) secretsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Manage the key that seals secrets at rest",
		Long: "Endpoint secrets and source secrets are sealed (AES-256-GCM) in the database\n" +
			"under a key from HOOKLINE_SECRET_KEY or the secret_key file in the data directory (made on first start).",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "rotate-key",
		Short: "Re-seal every secret under a new key, while the server runs",
		Long: "Re-seal every secret under a new key, while the server runs: with the secret_key file the server makes the new key\n" +
			"and drops the old one once every secret is re-sealed. With HOOKLINE_SECRET_KEY, first restart the server with\n" +
			"HOOKLINE_SECRET_KEY=<new>,<old>; rotate-key then re-seals under <new>, and <old> can go.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, _, err := a.client().Do(cmd.Context(), http.MethodPost, "/v1/secrets/rotate-key", nil, nil, nil)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return printJSON(a.env.Stdout, raw)
			}
			var out struct {
				KeyID    string `json:"key_id"`
				Resealed int    `json:"resealed"`
				Source   string `json:"source"`
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				return fmt.Errorf("decoding the rotation: %w", err)
			}
			fmt.Fprintf(a.env.Stdout, "Re-sealed %d secrets under key %s (%s).\n", out.Resealed, out.KeyID, out.Source)
			return nil
		},
	})
	return cmd
}

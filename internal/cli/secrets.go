package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/apijson"
)

// secretsCmd groups the commands about secrets at rest.
func (a *app) secretsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Manage the key that seals secrets at rest",
		Long: "Endpoint secrets, endpoints' static header values and source secrets are sealed (AES-256-GCM) in the database\n" +
			"under a key from HOOKLINE_SECRET_KEY or the secret_key file in the data directory (made on first start).",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "rotate-key",
		Short: "Re-seal every secret under a new key, while the server runs",
		Long: "Re-seal every secret under a new key, while the server runs: with the secret_key file the server makes the new key\n" +
			"and drops the old one once every secret is re-sealed. With HOOKLINE_SECRET_KEY the restart does the work: a server\n" +
			"started with HOOKLINE_SECRET_KEY=<new>,<old> re-seals every secret under <new> as it starts; rotate-key then re-seals\n" +
			"only what is still under <old> (none, on one node), and <old> can go. A value that does not open (copied from another\n" +
			"row, altered) is left as it was and listed; the old key is then kept until a rotate-key finds none.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := a.client().RotateSecretKey(cmd.Context())
			if err != nil {
				return err
			}
			return show(a, out, func(out apijson.KeyRotation) error {
				if _, err := fmt.Fprintf(a.env.Stdout, "Re-sealed %d secrets under key %s (%s).\n", out.Resealed, out.KeyID, out.Source); err != nil {
					return err
				}
				if len(out.Skipped) == 0 {
					return nil
				}
				fmt.Fprintf(a.env.Stdout, "%d values did not open and were left as they were; the old key is kept until none is left:\n", len(out.Skipped))
				for _, s := range out.Skipped {
					fmt.Fprintf(a.env.Stdout, "  %s\n", s)
				}
				_, err := fmt.Fprintln(a.env.Stdout, "Rotate those endpoints' secrets (and set their headers) or the sources' secrets, then run rotate-key again.")
				return err
			})
		},
	})
	return cmd
}

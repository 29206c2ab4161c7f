package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// endpointTestCmd is `hookline endpoints test ep_…`: a hookline.test event
// to that endpoint alone (POST /v1/endpoints/{id}/test).
func (a *app) endpointTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "test ep_…",
		Short: "Send a hookline.test event to one endpoint only, whatever it subscribes to",
		Long: "Send a hookline.test event to one endpoint only, whatever it subscribes to.\n" +
			"No other endpoint gets it, not even those subscribed to *. 'hookline events attempts evt_…' shows how it went.",
		Args:    cobra.ExactArgs(1),
		Example: "  hookline endpoints test ep_2Xb…",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			e, err := a.client().SendTestEvent(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.format == "json" {
				return printJSON(a.env.Stdout, e.Payload)
			}
			fmt.Fprintf(a.env.Stdout, "Sent %s (%s) to %s\n", e.ID, e.Type, args[0])
			return nil
		},
	}
}

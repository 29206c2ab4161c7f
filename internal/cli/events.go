package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/client"
)

var eventFlags = map[string]string{
	"type": "<type>", "data": "--data", "tenant": "--tenant", "Idempotency-Key": "--idempotency-key",
	"limit": "--limit", "starting_after": "--starting-after", "endpoint_id": "--endpoint",
}

func (a *app) eventsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Aliases: []string{"event"}, Short: "Publish and inspect events"}
	cmd.AddCommand(a.eventPublishCmd(), a.eventListCmd(), a.eventGetCmd(), a.eventAttemptsCmd(), a.eventResendCmd())
	return cmd
}

// readData reads a --data value: inline JSON, @file, or @- for stdin.
func (a *app) readData(v string) (json.RawMessage, error) {
	b := []byte(v)
	if strings.HasPrefix(v, "@") {
		var err error
		if v == "@-" {
			b, err = io.ReadAll(a.env.Stdin)
		} else {
			b, err = os.ReadFile(v[1:])
		}
		if err != nil {
			return nil, usagef("--data %s: %v", v, err)
		}
	}
	// Compacted: a file's trailing newline and indentation would otherwise
	// end up inside the event's data, and `send` signs the payload as it is.
	// Invalid JSON is left as it is for the caller's check, which names the flag.
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return json.RawMessage(b), nil
	}
	return json.RawMessage(compact.Bytes()), nil
}

func (a *app) eventPublishCmd() *cobra.Command {
	var data, tenant, key string
	cmd := &cobra.Command{
		Use:     "publish <type> [--data JSON|@file|@-]",
		Short:   "Publish an event to every endpoint subscribed to its type",
		Args:    cobra.ExactArgs(1),
		Example: "  hookline events publish invoice.paid --data '{\"invoice\": \"in_123\", \"amount\": 4200}'",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			p := client.PublishParams{Type: args[0], Tenant: tenant, IdempotencyKey: key}
			if data != "" {
				raw, err := a.readData(data)
				if err != nil {
					return err
				}
				if !json.Valid(raw) {
					return usagef("--data: not valid JSON")
				}
				p.Data = raw
			}
			e, replayed, err := a.client().PublishEvent(cmd.Context(), p)
			if err != nil {
				return flagError(err, eventFlags)
			}
			if a.format == "json" {
				return printJSON(a.env.Stdout, e.Payload)
			}
			if replayed {
				fmt.Fprintf(a.env.Stdout, "Already published with this idempotency key: %s (%s)\n", e.ID, e.Type)
				return nil
			}
			fmt.Fprintf(a.env.Stdout, "Published %s (%s)\n", e.ID, e.Type)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "the event's data: a JSON object, @file, or @- for stdin")
	cmd.Flags().StringVar(&tenant, "tenant", "", "publish for this tenant")
	cmd.Flags().StringVar(&key, "idempotency-key", "", "publishing again with the same key within 24 h returns the first event")
	return cmd
}

func (a *app) eventListCmd() *cobra.Command {
	var (
		limit                      int
		typ, startingAfter, tenant string
	)
	cmd := &cobra.Command{
		Use:   "list [--type t]",
		Short: "List events, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			l, err := a.client().ListEvents(cmd.Context(), client.Page{Limit: limit, StartingAfter: startingAfter}, typ, tenant)
			if err != nil {
				return flagError(err, map[string]string{"type": "--type", "limit": "--limit", "starting_after": "--starting-after"})
			}
			return printList(a, l, listing[apijson.Event]{
				header: []string{"ID", "TYPE", "TENANT", "CREATED"},
				row:    func(e apijson.Event) []string { return []string{e.ID, e.Type, orDash(e.Tenant), unixTime(e.Created)} },
				id:     func(e apijson.Event) string { return e.ID },
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many, 1 to 100")
	cmd.Flags().StringVar(&typ, "type", "", "only events of this type")
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant's events")
	cmd.Flags().StringVar(&startingAfter, "starting-after", "", "the last id of the previous page")
	return cmd
}

func (a *app) eventGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get evt_…",
		Short: "Show an event as endpoints receive it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.client().Event(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(a.env.Stdout, e.Payload)
		},
	}
}

func (a *app) eventAttemptsCmd() *cobra.Command {
	var (
		endpoint string
		limit    int
	)
	cmd := &cobra.Command{
		Use:   "attempts evt_… [--endpoint ep_…]",
		Short: "List an event's delivery attempts, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			l, err := a.client().EventAttempts(cmd.Context(), args[0], client.Page{Limit: limit}, endpoint)
			if err != nil {
				return flagError(err, eventFlags)
			}
			return printList(a, l, listing[apijson.Attempt]{
				header: []string{"ID", "ENDPOINT", "#", "STATUS", "TIME", "AT", "NEXT RETRY", "ERROR"},
				row: func(at apijson.Attempt) []string {
					next := "-"
					if at.NextRetry != nil {
						next = unixTime(*at.NextRetry)
					}
					return []string{at.ID, at.EndpointID, strconv.Itoa(at.Attempt), attemptStatus(at.ResponseStatus, at.ErrorKind),
						strconv.FormatInt(at.DurationMS, 10) + " ms", unixTime(at.Created), next, orDash(at.Error)}
				},
			})
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "only attempts to this endpoint")
	cmd.Flags().IntVar(&limit, "limit", 20, "how many, 1 to 100")
	return cmd
}

func (a *app) eventResendCmd() *cobra.Command {
	var endpoint string
	cmd := &cobra.Command{
		Use:   "resend evt_… [--endpoint ep_…]",
		Short: "Deliver an event again, to one endpoint or to every subscribed one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := a.client().ResendEvent(cmd.Context(), args[0], endpoint)
			if err != nil {
				return flagError(err, eventFlags)
			}
			return show(a, l, func(l apijson.List[apijson.Delivery]) error {
				for _, d := range l.Data {
					fmt.Fprintf(a.env.Stdout, "Resending %s to %s\n", args[0], d.EndpointID)
				}
				if len(l.Data) == 0 {
					fmt.Fprintf(a.env.Stdout, "No endpoint is subscribed to %s\n", args[0])
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "resend to this endpoint only")
	return cmd
}

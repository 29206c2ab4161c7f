package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/client"
	"github.com/hookline/hookline/internal/trigger"
)

func (a *app) triggerCmd() *cobra.Command {
	var (
		list, dryRun             bool
		file, tenant             string
		overrides, adds, removes []string
	)
	cmd := &cobra.Command{
		Use:   "trigger <name> | --list | --file flow.json",
		Short: "Publish a realistic sample flow of events",
		Long: "Publish the events a real flow produces, in order, with ids, amounts and timestamps that hang together.\n\n" +
			"Edit the generated data with --override path=value (only where the path exists), --add path=value (creating it)\n" +
			"and --remove path. A path is dot-separated keys and array indexes (object.amount, object.items.data.0.quantity);\n" +
			"prefix it with an event type to edit only that event (charge.succeeded:object.amount=5000). Values that are\n" +
			"JSON (5000, true, {\"a\":1}) are taken as JSON, anything else as a string.",
		Example: "  hookline trigger payment_intent.succeeded\n" +
			"  hookline trigger invoice.paid --override object.amount_due=4200 --add object.metadata.plan=pro\n" +
			"  hookline trigger --file my-flow.json --tenant acme\n" +
			"  hookline trigger customer.subscription.updated --dry-run\n" +
			"  hookline trigger --list",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			if list {
				return a.listTriggers()
			}
			var (
				f   *trigger.Fixture
				err error
			)
			switch {
			case file != "" && len(args) == 1:
				return usagef("--file: give either a trigger name or --file, not both")
			case file != "":
				b, rerr := os.ReadFile(file)
				if rerr != nil {
					return usagef("--file: %v", rerr)
				}
				if f, err = trigger.Parse(b); err != nil {
					return usagef("--file %s: %v", file, err)
				}
			case len(args) == 1:
				if f, err = trigger.Lookup(args[0]); err != nil {
					return &UsageError{Err: err}
				}
			default:
				return usagef("name a trigger (see 'hookline trigger --list') or give --file")
			}
			var edits []trigger.Edit
			for _, group := range []struct {
				op   string
				args []string
			}{{trigger.OpOverride, overrides}, {trigger.OpAdd, adds}, {trigger.OpRemove, removes}} {
				for _, s := range group.args {
					e, err := trigger.ParseEdit(group.op, s)
					if err != nil {
						return &UsageError{Err: err}
					}
					edits = append(edits, e)
				}
			}
			events, err := f.Generate(time.Now())
			if err != nil {
				return fmt.Errorf("trigger %s: %w", f.Name, err)
			}
			if err := trigger.Apply(events, edits); err != nil {
				return &UsageError{Err: err}
			}
			if tenant == "" {
				// Flows such as account.application.authorized always
				// belong to one connected account.
				if tenant, err = f.DefaultTenant(); err != nil {
					return fmt.Errorf("trigger %s: %w", f.Name, err)
				}
			}
			if dryRun {
				return a.printFlow(f, events, tenant)
			}
			return a.publishFlow(cmd, f, events, tenant)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&list, "list", false, "list the built-in triggers")
	fl.StringVar(&file, "file", "", "run your own fixture file (the format of the built-in ones)")
	fl.StringVar(&tenant, "tenant", "", "publish for this tenant")
	fl.BoolVar(&dryRun, "dry-run", false, "print the events, edits applied, without publishing them (no server needed)")
	fl.StringArrayVar(&overrides, "override", nil, "[type:]path=value: change a value where it exists (repeatable)")
	fl.StringArrayVar(&adds, "add", nil, "[type:]path=value: set a value, creating the path (repeatable)")
	fl.StringArrayVar(&removes, "remove", nil, "[type:]path: remove a value (repeatable)")
	return cmd
}

func (a *app) listTriggers() error {
	all, err := trigger.Catalog()
	if err != nil {
		return err
	}
	if a.format == "json" {
		type item struct {
			Name        string   `json:"name"`
			Aliases     []string `json:"aliases,omitempty"`
			Description string   `json:"description"`
			Events      []string `json:"events"`
		}
		out := make([]item, len(all))
		for i, f := range all {
			out[i] = item{Name: f.Name, Aliases: f.Aliases, Description: f.Description}
			for _, e := range f.Events {
				out[i].Events = append(out[i].Events, e.Type)
			}
		}
		b, _ := json.Marshal(out) // plain structs: cannot fail
		return printJSON(a.env.Stdout, b)
	}
	rows := make([][]string, len(all))
	for i, f := range all {
		n := eventCount(len(f.Events))
		if len(f.Aliases) > 0 {
			n += "; also " + strings.Join(f.Aliases, ", ")
		}
		rows[i] = []string{f.Name, f.Description + " (" + n + ")"}
	}
	return table(a.env.Stdout, []string{"TRIGGER", "WHAT IT PUBLISHES"}, rows)
}

// printFlow prints the events a trigger would publish, in order: with
// --format json one line per event, the body it would be published with.
func (a *app) printFlow(f *trigger.Fixture, events []trigger.Event, tenant string) error {
	out := a.env.Stdout
	if a.format != "json" {
		forTenant := ""
		if tenant != "" {
			forTenant = " for tenant " + tenant
		}
		fmt.Fprintf(out, "Trigger %s: %s%s (dry run: nothing published)\n", f.Name, eventCount(len(events)), forTenant)
	}
	for i, e := range events {
		if a.format == "json" {
			b, err := json.Marshal(struct {
				Type   string `json:"type"`
				Tenant string `json:"tenant,omitempty"`
				Data   any    `json:"data"`
			}{e.Type, tenant, e.Data})
			if err != nil {
				return fmt.Errorf("trigger %s: event %d (%s): %w", f.Name, i+1, e.Type, err)
			}
			fmt.Fprintf(out, "%s\n", b)
			continue
		}
		data, err := json.MarshalIndent(e.Data, "", "  ")
		if err != nil {
			return fmt.Errorf("trigger %s: event %d (%s): %w", f.Name, i+1, e.Type, err)
		}
		fmt.Fprintf(out, "\n%d/%d %s\n%s\n", i+1, len(events), e.Type, data)
	}
	return nil
}

// publishFlow publishes the events one after another, so that they are
// stored, and delivered, in the flow's order.
func (a *app) publishFlow(cmd *cobra.Command, f *trigger.Fixture, events []trigger.Event, tenant string) error {
	c := a.client()
	if a.format != "json" {
		if tenant != "" {
			fmt.Fprintf(a.env.Stdout, "Running trigger %s: %s for tenant %s\n", f.Name, eventCount(len(events)), tenant)
		} else {
			fmt.Fprintf(a.env.Stdout, "Running trigger %s: %s\n", f.Name, eventCount(len(events)))
		}
	}
	for i, e := range events {
		data, err := json.Marshal(e.Data)
		if err != nil {
			return fmt.Errorf("trigger %s: encoding event %d of %d (%s): %w", f.Name, i+1, len(events), e.Type, err)
		}
		ev, _, err := c.PublishEvent(cmd.Context(), client.PublishParams{Type: e.Type, Data: data, Tenant: tenant})
		if err != nil {
			err = flagError(err, map[string]string{"tenant": "--tenant", "data": "the fixture's data"})
			if i > 0 {
				return fmt.Errorf("trigger %s: publishing event %d of %d (%s), after %d published: %w", f.Name, i+1, len(events), e.Type, i, err)
			}
			return fmt.Errorf("trigger %s: publishing event %d of %d (%s): %w", f.Name, i+1, len(events), e.Type, err)
		}
		if a.format == "json" {
			fmt.Fprintf(a.env.Stdout, "%s\n", compactJSON(ev.Payload))
			continue
		}
		fmt.Fprintf(a.env.Stdout, "  published %s [%s]\n", ev.Type, ev.ID)
	}
	if a.format != "json" {
		fmt.Fprintln(a.env.Stdout, "Trigger succeeded!")
	}
	return nil
}

func compactJSON(raw []byte) []byte {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	b, _ := json.Marshal(v)
	return b
}

// eventCount is "1 event" or "n events".
func eventCount(n int) string {
	if n == 1 {
		return "1 event"
	}
	return fmt.Sprintf("%d events", n)
}

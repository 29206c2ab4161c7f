package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/client"
)

var sourceFlags = map[string]string{
	"name": "--name", "type": "--type", "secret": "--secret", "options": "--options", "response": "--response", "limits": "--limits",
	"source_id": "--source", "url": "--url", "filter": "--filter", "limit": "--limit",
}

func (a *app) sourcesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sources", Aliases: []string{"source"}, Short: "Manage the sources providers send webhooks to (/in/<id>)"}
	cmd.AddCommand(a.sourceCreateCmd(false), a.sourceCreateCmd(true), a.sourceListCmd(), a.sourceGetCmd(), a.sourceSecretCmd(), a.sourceDeleteCmd())
	return cmd
}

// sourceParams turns the flags given into request fields.
func sourceParams(cmd *cobra.Command, name, typ, secret, options, response, limits string) (client.Fields, error) {
	p := client.Fields{}
	f := cmd.Flags()
	for flag, v := range map[string]string{"name": name, "type": typ, "secret": secret} {
		if f.Changed(flag) {
			p[flag] = v
		}
	}
	for flag, v := range map[string]string{"options": options, "response": response} {
		if f.Changed(flag) {
			if !json.Valid([]byte(v)) {
				return nil, usagef("--%s: not valid JSON", flag)
			}
			p[flag] = json.RawMessage(v)
		}
	}
	if f.Changed("limits") {
		switch raw := strings.TrimSpace(limits); {
		case raw == "":
			p["limits"] = nil // the server's defaults, any address
		case !json.Valid([]byte(raw)):
			return nil, usagef("--limits: not valid JSON")
		default:
			p["limits"] = json.RawMessage(raw)
		}
	}
	return p, nil
}

func (a *app) sourceCreateCmd(update bool) *cobra.Command {
	var name, typ, secret, options, response, limits string
	cmd := &cobra.Command{
		Use:     "create --name NAME --type TYPE [--secret S]",
		Short:   "Create a source; prints its ingest URL",
		Args:    cobra.NoArgs,
		Example: "  hookline sources create --name stripe --type stripe --secret whsec_…\n  hookline sources create --name gitlab --type token --secret t0k --options '{\"header\":\"X-Gitlab-Token\"}'",
	}
	if update {
		cmd.Use, cmd.Short, cmd.Args, cmd.Example = "update src_…|NAME [--name …] [--secret …]", "Change a source", cobra.ExactArgs(1), ""
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := a.checkFormat(); err != nil {
			return err
		}
		p, err := sourceParams(cmd, name, typ, secret, options, response, limits)
		if err != nil {
			return err
		}
		var src apijson.Source
		if update {
			src, err = a.client().UpdateSource(cmd.Context(), args[0], p)
		} else if !cmd.Flags().Changed("name") || !cmd.Flags().Changed("type") {
			return usagef("--name and --type are required")
		} else {
			src, err = a.client().CreateSource(cmd.Context(), p)
		}
		if err != nil {
			return flagError(err, sourceFlags)
		}
		return a.showSource(src)
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "a unique name")
	f.StringVar(&typ, "type", "", "stripe, github, shopify, slack, twilio, standard, hmac, token, basic or none")
	f.StringVar(&secret, "secret", "", "the provider's signing secret (token, or basic-auth password)")
	f.StringVar(&options, "options", "", `type options as JSON: {"header","algorithm","encoding","prefix","query_param","username","allow_sha1","url","tolerance_seconds"}`)
	f.StringVar(&response, "response", "", `the answer to every request as JSON: {"status":200,"headers":{…},"body":"…"}`)
	f.StringVar(&limits, "limits", "", `what senders may cost, as JSON: {"allowed_ips":["192.0.2.0/24"],"requests_per_minute":60,"bytes_per_day":104857600} ('' removes them)`)
	return cmd
}

func (a *app) showSource(src apijson.Source) error {
	return show(a, src, a.sourceFields)
}

// sourceFields shows a source; its options and answer as compact JSON,
// as the server encodes them.
func (a *app) sourceFields(s apijson.Source) error {
	options, err := json.Marshal(s.Options)
	if err != nil {
		return fmt.Errorf("encoding options: %w", err)
	}
	response, err := json.Marshal(s.Response)
	if err != nil {
		return fmt.Errorf("encoding response: %w", err)
	}
	return fields(a.env.Stdout, [][2]string{{"id", s.ID}, {"name", s.Name}, {"type", s.Type}, {"ingest url", s.IngestURL},
		{"options", string(options)}, {"response", string(response)}, {"created", unixTime(s.Created)},
		// Keys no wider than "ingest url", so that the lines above keep
		// their alignment.
		{"allow from", orWord(strings.Join(s.Limits.AllowedIPs, ", "), "any address")},
		{"rate limit", perMinute(s.Limits.RequestsPerMinute)}, {"quota", perDay(s.Limits.BytesPerDay)}})
}

// perMinute is a source's own rate limit; 0 leaves it to the server's
// serve --inbound-rate-limit.
func perMinute(n int) string {
	if n <= 0 {
		return "the server's default"
	}
	return strconv.Itoa(n) + " requests/min"
}

// perDay is a source's own daily byte quota; 0 leaves it to the server's
// serve --inbound-daily-quota.
func perDay(n int64) string {
	if n <= 0 {
		return "the server's default"
	}
	return fmt.Sprintf("%d bytes/day (%s)", n, humanize.IBytes(uint64(n)))
}

// orWord is s, or word when s is empty.
func orWord(s, word string) string {
	if s == "" {
		return word
	}
	return s
}

func (a *app) sourceListCmd() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use: "list", Short: "List sources, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			l, err := a.client().ListSources(cmd.Context(), client.Page{Limit: limit})
			if err != nil {
				return flagError(err, sourceFlags)
			}
			return printList(a, l, listing[apijson.Source]{
				header: []string{"ID", "NAME", "TYPE", "INGEST URL", "CREATED"},
				row: func(s apijson.Source) []string {
					return []string{s.ID, s.Name, s.Type, s.IngestURL, unixTime(s.Created)}
				},
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 100, "how many to list (1-100)")
	return cmd
}

func (a *app) sourceGetCmd() *cobra.Command {
	return &cobra.Command{
		Use: "get src_…|NAME", Short: "Show a source", Args: cobra.ExactArgs(1),
		RunE: showByID(a, (*client.Client).Source, a.sourceFields),
	}
}

func (a *app) sourceSecretCmd() *cobra.Command {
	return &cobra.Command{
		Use: "secret src_…|NAME", Short: "Print a source's secret", Args: cobra.ExactArgs(1),
		RunE: showByID(a, (*client.Client).SourceSecret, func(s apijson.SourceSecret) error {
			_, err := fmt.Fprintln(a.env.Stdout, s.Secret)
			return err
		}),
	}
}

func (a *app) sourceDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use: "delete src_…|NAME", Short: "Delete a source and its connections (captured requests stay)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.client().DeleteSource(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "Deleted %s\n", args[0])
			return nil
		},
	}
}

func (a *app) connectionsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "connections", Aliases: []string{"connection"}, Short: "Manage where a source's requests are forwarded"}
	var source, target, filter string
	create := &cobra.Command{
		Use: "create --source NAME --url URL [--filter JSON]", Short: "Forward a source's requests to a URL (or listen://<device>)", Args: cobra.NoArgs,
		Example: `  hookline connections create --source stripe --url https://app.example/webhooks --filter '{"body.type":["payment_intent.*"]}'`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			if source == "" || target == "" {
				return usagef("--source and --url are required")
			}
			p := client.ConnectionParams{SourceID: source, URL: target}
			if filter != "" {
				if !json.Valid([]byte(filter)) {
					return usagef("--filter: not valid JSON")
				}
				p.Filter = json.RawMessage(filter)
			}
			c, err := a.client().CreateConnection(cmd.Context(), p)
			if err != nil {
				return flagError(err, sourceFlags)
			}
			return show(a, c, func(c apijson.Connection) error {
				return table(a.env.Stdout, connectionListing().header, [][]string{connectionListing().row(c)})
			})
		},
	}
	create.Flags().StringVar(&source, "source", "", "the source's id or name")
	create.Flags().StringVar(&target, "url", "", "destination URL")
	create.Flags().StringVar(&filter, "filter", "", `only forward matching requests, e.g. {"body.type":{"in":["payment_intent.*"]},"headers.x-github-event":"push"}`)
	var listSource string
	list := &cobra.Command{
		Use: "list [--source NAME]", Short: "List connections", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			l, err := a.client().ListConnections(cmd.Context(), client.Page{Limit: 100}, listSource)
			if err != nil {
				return err
			}
			return printList(a, l, connectionListing())
		},
	}
	list.Flags().StringVar(&listSource, "source", "", "only this source's (id or name)")
	del := &cobra.Command{
		Use: "delete con_…", Short: "Delete a connection", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.client().DeleteConnection(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "Deleted %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, del)
	return cmd
}

// connectionListing shows connections: one a row, its filter compact.
func connectionListing() listing[apijson.Connection] {
	return listing[apijson.Connection]{
		header: []string{"ID", "SOURCE", "URL", "FILTER"},
		row: func(c apijson.Connection) []string {
			source := c.SourceName
			if source == "" {
				source = c.SourceID
			}
			filter := "-" // none: every request of the source is forwarded
			if f := bytes.TrimSpace(c.Filter); len(f) > 0 && !bytes.Equal(f, []byte("null")) {
				filter = string(f)
			}
			return []string{c.ID, source, c.URL, filter}
		},
	}
}

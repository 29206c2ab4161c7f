package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
)

var sourceFlags = map[string]string{
	"name": "--name", "type": "--type", "secret": "--secret", "options": "--options", "response": "--response",
	"source_id": "--source", "url": "--url", "filter": "--filter", "limit": "--limit",
}

type sourceView struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Type      string          `json:"type"`
	Options   json.RawMessage `json:"options"`
	Response  json.RawMessage `json:"response"`
	IngestURL string          `json:"ingest_url"`
	Created   int64           `json:"created"`
}

func (a *app) sourcesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sources", Aliases: []string{"source"}, Short: "Manage the sources providers send webhooks to (/in/<id>)"}
	cmd.AddCommand(a.sourceCreateCmd(false), a.sourceCreateCmd(true), a.sourceListCmd(), a.sourceGetCmd(), a.sourceSecretCmd(), a.sourceDeleteCmd())
	return cmd
}

// sourceParams turns the flags given into request fields.
func sourceParams(cmd *cobra.Command, name, typ, secret, options, response string) (map[string]any, error) {
	p := map[string]any{}
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
	return p, nil
}

func (a *app) sourceCreateCmd(update bool) *cobra.Command {
	var name, typ, secret, options, response string
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
		p, err := sourceParams(cmd, name, typ, secret, options, response)
		if err != nil {
			return err
		}
		method, path := http.MethodPost, "/v1/sources"
		if update {
			method, path = http.MethodPatch, "/v1/sources/"+url.PathEscape(args[0])
		} else if !cmd.Flags().Changed("name") || !cmd.Flags().Changed("type") {
			return usagef("--name and --type are required")
		}
		raw, _, err := a.client().Do(cmd.Context(), method, path, nil, p, nil)
		if err != nil {
			return flagError(err, sourceFlags)
		}
		return a.showSource(raw)
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "a unique name")
	f.StringVar(&typ, "type", "", "stripe, github, shopify, slack, twilio, standard, hmac, token, basic or none")
	f.StringVar(&secret, "secret", "", "the provider's signing secret (token, or basic-auth password)")
	f.StringVar(&options, "options", "", `type options as JSON: {"header","algorithm","encoding","prefix","query_param","username","allow_sha1","url","tolerance_seconds"}`)
	f.StringVar(&response, "response", "", `the answer to every request as JSON: {"status":200,"headers":{…},"body":"…"}`)
	return cmd
}

func (a *app) showSource(raw []byte) error {
	if a.format == "json" {
		return printJSON(a.env.Stdout, raw)
	}
	var s sourceView
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("decoding source: %w", err)
	}
	return fields(a.env.Stdout, [][2]string{{"id", s.ID}, {"name", s.Name}, {"type", s.Type}, {"ingest url", s.IngestURL},
		{"options", string(s.Options)}, {"response", string(s.Response)}, {"created", unixTime(s.Created)}})
}

func (a *app) sourceListCmd() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use: "list", Short: "List sources, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodGet, "/v1/sources", url.Values{"limit": {strconv.Itoa(limit)}}, nil, nil)
			if err != nil {
				return flagError(err, sourceFlags)
			}
			if a.format == "json" {
				return printJSON(a.env.Stdout, raw)
			}
			var l struct{ Data []sourceView }
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("decoding sources: %w", err)
			}
			rows := make([][]string, len(l.Data))
			for i, s := range l.Data {
				rows[i] = []string{s.ID, s.Name, s.Type, s.IngestURL, unixTime(s.Created)}
			}
			return table(a.env.Stdout, []string{"ID", "NAME", "TYPE", "INGEST URL", "CREATED"}, rows)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 100, "how many to list (1-100)")
	return cmd
}

func (a *app) sourceGetCmd() *cobra.Command {
	return &cobra.Command{
		Use: "get src_…|NAME", Short: "Show a source", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodGet, "/v1/sources/"+url.PathEscape(args[0]), nil, nil, nil)
			if err != nil {
				return err
			}
			return a.showSource(raw)
		},
	}
}

func (a *app) sourceSecretCmd() *cobra.Command {
	return &cobra.Command{
		Use: "secret src_…|NAME", Short: "Print a source's secret", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodGet, "/v1/sources/"+url.PathEscape(args[0])+"/secret", nil, nil, nil)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return printJSON(a.env.Stdout, raw)
			}
			var s struct{ Secret string }
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("decoding secret: %w", err)
			}
			fmt.Fprintln(a.env.Stdout, s.Secret)
			return nil
		},
	}
}

func (a *app) sourceDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use: "delete src_…|NAME", Short: "Delete a source and its connections (captured requests stay)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, _, err := a.client().Do(cmd.Context(), http.MethodDelete, "/v1/sources/"+url.PathEscape(args[0]), nil, nil, nil); err != nil {
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
			p := map[string]any{"source_id": source, "url": target}
			if filter != "" {
				if !json.Valid([]byte(filter)) {
					return usagef("--filter: not valid JSON")
				}
				p["filter"] = json.RawMessage(filter)
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodPost, "/v1/connections", nil, p, nil)
			if err != nil {
				return flagError(err, sourceFlags)
			}
			return a.printConnections(raw, false)
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
			q := url.Values{"limit": {"100"}}
			if listSource != "" {
				q.Set("source_id", listSource)
			}
			raw, _, err := a.client().Do(cmd.Context(), http.MethodGet, "/v1/connections", q, nil, nil)
			if err != nil {
				return err
			}
			return a.printConnections(raw, true)
		},
	}
	list.Flags().StringVar(&listSource, "source", "", "only this source's (id or name)")
	del := &cobra.Command{
		Use: "delete con_…", Short: "Delete a connection", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, _, err := a.client().Do(cmd.Context(), http.MethodDelete, "/v1/connections/"+url.PathEscape(args[0]), nil, nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "Deleted %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, del)
	return cmd
}

type connectionView struct {
	ID         string          `json:"id"`
	SourceID   string          `json:"source_id"`
	SourceName string          `json:"source_name"` // from servers that send it
	URL        string          `json:"url"`
	Filter     json.RawMessage `json:"filter"`
}

func (a *app) printConnections(raw []byte, isList bool) error {
	if a.format == "json" {
		return printJSON(a.env.Stdout, raw)
	}
	var cs []connectionView
	if isList {
		var l struct{ Data []connectionView }
		if err := json.Unmarshal(raw, &l); err != nil {
			return fmt.Errorf("decoding connections: %w", err)
		}
		cs = l.Data
	} else {
		var c connectionView
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("decoding connection: %w", err)
		}
		cs = []connectionView{c}
	}
	rows := make([][]string, len(cs))
	for i, c := range cs {
		source := c.SourceName
		if source == "" {
			source = c.SourceID
		}
		filter := "-" // none: every request of the source is forwarded
		if f := bytes.TrimSpace(c.Filter); len(f) > 0 && !bytes.Equal(f, []byte("null")) {
			filter = string(f)
		}
		rows[i] = []string{c.ID, source, c.URL, filter}
	}
	return table(a.env.Stdout, []string{"ID", "SOURCE", "URL", "FILTER"}, rows)
}

package cli

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/client"
)

func (a *app) requestsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "requests", Aliases: []string{"request"}, Short: "Inspect and replay the requests sources received"}
	cmd.AddCommand(a.requestListCmd(), a.requestShowCmd(), a.requestReplayCmd())
	return cmd
}

func (a *app) requestListCmd() *cobra.Command {
	var source, status, search, since string
	var limit int
	cmd := &cobra.Command{
		Use: "list [--source NAME] [--status rejected] [--search TEXT]", Short: "List captured requests, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			l, err := a.client().ListRequests(cmd.Context(), client.Page{Limit: limit},
				client.RequestFilter{SourceID: source, Status: status, Search: search, Since: since})
			if err != nil {
				return flagError(err, map[string]string{"source_id": "--source", "status": "--status", "since": "--since", "limit": "--limit"})
			}
			return printList(a, l, listing[apijson.Request]{
				header: []string{"ID", "SOURCE", "METHOD", "BYTES", "STATUS", "REASON", "RECEIVED"},
				row: func(r apijson.Request) []string {
					return []string{r.ID, r.SourceID, r.Method, strconv.Itoa(r.Size), r.Status, orDash(r.Reason), unixTime(r.Received)}
				},
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&source, "source", "", "only this source's (id or name)")
	f.StringVar(&status, "status", "", "accepted, rejected, duplicate or replay")
	f.StringVar(&search, "search", "", "only requests whose headers or body contain this text")
	f.StringVar(&since, "since", "", "only requests received at or after this time (unix or RFC 3339)")
	f.IntVar(&limit, "limit", 20, "how many to list (1-100)")
	return cmd
}

func (a *app) requestShowCmd() *cobra.Command {
	var rawBody bool
	cmd := &cobra.Command{
		Use: "show req_… [--raw]", Short: "Show a captured request: headers and body as received", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			if rawBody {
				body, err := a.client().RequestBody(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				_, err = a.env.Stdout.Write(body)
				return err
			}
			r, err := a.client().Request(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return show(a, r, a.requestText)
		},
	}
	cmd.Flags().BoolVar(&rawBody, "raw", false, "print only the body bytes, exactly as received")
	return cmd
}

// requestText shows a captured request: its fields, then its headers and
// body as received.
func (a *app) requestText(r apijson.Request) error {
	target := r.Path
	if r.Query != "" {
		target += "?" + r.Query
	}
	kv := [][2]string{{"id", r.ID}, {"source", r.SourceID}, {"status", r.Status}, {"received", unixTime(r.Received)},
		{"request", r.Method + " " + target}, {"size", strconv.Itoa(r.Size) + " bytes"}}
	if r.Reason != "" {
		kv = append(kv, [2]string{"reason", r.Reason})
	}
	if r.ReplayOf != "" {
		kv = append(kv, [2]string{"replay of", r.ReplayOf})
	}
	if err := fields(a.env.Stdout, kv); err != nil {
		return err
	}
	fmt.Fprintln(a.env.Stdout)
	fmt.Fprint(a.env.Stdout, headerText(r.Headers))
	fmt.Fprintln(a.env.Stdout)
	if r.Body != nil {
		if r.BodyEncoding == "base64" {
			fmt.Fprintf(a.env.Stdout, "(binary body, base64; 'hookline requests show %s --raw' prints the bytes)\n", r.ID)
		}
		fmt.Fprintln(a.env.Stdout, *r.Body)
	}
	return nil
}

// headerText renders headers as "Name: value" lines, sorted.
func headerText(h map[string][]string) string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.String()
}

func (a *app) requestReplayCmd() *cobra.Command {
	var to, connection string
	var edit bool
	cmd := &cobra.Command{
		Use:   "replay req_… [--to URL] [--edit]",
		Short: "Send a captured request again, maybe edited, to its connections or any URL",
		Long: "Send a captured request again, now, to its source's connections, one connection (--connection) or any URL (--to).\n" +
			"With --edit, $EDITOR opens on the headers and body first. Each send is recorded as an attempt.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			p := apijson.ReplayParams{URL: to, ConnectionID: connection}
			if edit {
				r, err := a.client().Request(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				headers, body, err := a.editRequest(r)
				if err != nil {
					return err
				}
				b64 := base64.StdEncoding.EncodeToString(body)
				p.Headers, p.BodyBase64 = headers, &b64
			}
			out, err := a.client().ReplayRequest(cmd.Context(), args[0], p)
			if err != nil {
				return flagError(err, map[string]string{"url": "--to", "connection_id": "--connection"})
			}
			return show(a, out, func(out apijson.Replay) error {
				fmt.Fprintf(a.env.Stdout, "Replayed %s as %s\n", args[0], out.Request.ID)
				rows := make([][]string, len(out.Attempts))
				for i, at := range out.Attempts {
					rows[i] = []string{at.ID, at.URL, attemptStatus(at.ResponseStatus, at.ErrorKind), strconv.FormatInt(at.DurationMS, 10) + "ms", orDash(at.Error)}
				}
				if err := table(a.env.Stdout, []string{"ATTEMPT", "URL", "STATUS", "TIME", "ERROR"}, rows); err != nil {
					return err
				}
				if len(out.Queued) > 0 {
					fmt.Fprintf(a.env.Stdout, "Queued for the delivery engine: %s\n", strings.Join(out.Queued, ", "))
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "send to this URL instead of the source's connections")
	f.StringVar(&connection, "connection", "", "send to this connection only")
	f.BoolVar(&edit, "edit", false, "edit the headers and body in $EDITOR first")
	return cmd
}

// editRequest opens $EDITOR (vi when unset) on "Name: value" header lines,
// a blank line and the body, and parses what is saved.
func (a *app) editRequest(r apijson.Request) (map[string]string, []byte, error) {
	var body []byte
	if r.Body != nil {
		if r.BodyEncoding == "base64" {
			return nil, nil, usagef("--edit: the body is binary; replay it unedited or send your own with 'hookline send'")
		}
		body = []byte(*r.Body)
	}
	dir, err := os.MkdirTemp("", "hookline-replay-")
	if err != nil {
		return nil, nil, fmt.Errorf("editing the request: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, r.ID+".http")
	h := map[string][]string{}
	for k, v := range r.Headers {
		if k != "Host" && k != "Content-Length" {
			h[k] = v
		}
	}
	if err := os.WriteFile(path, append([]byte(headerText(h)+"\n"), body...), 0o600); err != nil {
		return nil, nil, fmt.Errorf("editing the request: %w", err)
	}
	editor := a.env.Getenv("EDITOR")
	if editor == "" {
		editor = "vi"
	}
	fields := strings.Fields(editor)
	c := exec.Command(fields[0], append(fields[1:], path)...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, a.env.Stderr, a.env.Stderr
	if err := c.Run(); err != nil {
		return nil, nil, fmt.Errorf("running $EDITOR (%s): %w", editor, err)
	}
	edited, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the edited request: %w", err)
	}
	return parseEdited(edited)
}

// parseEdited splits an edited request into headers and body at the first
// blank line.
func parseEdited(b []byte) (map[string]string, []byte, error) {
	headers := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		n += len(line) + 1
		if strings.TrimSpace(line) == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, nil, fmt.Errorf("edited request: header line %q has no ':'", line)
		}
		headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if n > len(b) {
		n = len(b)
	}
	return headers, b[n:], nil
}

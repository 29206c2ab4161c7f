package cli

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/webhook"
)

func (a *app) sendCmd() *cobra.Command {
	var (
		secret, typ, data, scheme, id string
		headers                       []string
		skipVerify                    bool
		timeout                       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "send <url> --secret whsec_… --type t [--data JSON|@file|@-]",
		Short: "Sign and send one webhook, and print the response",
		Long: "Sign and send one webhook straight to a URL (no server involved), exactly as a Hookline endpoint gets it,\n" +
			"and print the request headers and the response: status, headers, body and time. It exits 1 unless the\n" +
			"answer is a 2xx.",
		Example: "  hookline send localhost:8000/webhook --secret whsec_… --type invoice.paid --data '{\"invoice\": \"in_1\"}'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if secret == "" {
				return usagef("--secret: required (the receiver's whsec_… signing secret)")
			}
			if typ == "" {
				return usagef("--type: required (the event type, e.g. invoice.paid)")
			}
			if !hookline.ValidEventType(typ) {
				return usagef("--type %q: a dot-separated name of letters, digits and _", typ)
			}
			if scheme != hookline.SchemeStandard && scheme != hookline.SchemeStripe {
				return usagef("--scheme %q: must be standard or stripe", scheme)
			}
			target, err := parseForwardTo("<url>", args[0])
			if err != nil {
				return err
			}
			extra, err := parseHeaders("--header", headers)
			if err != nil {
				return err
			}
			raw := json.RawMessage("{}")
			if data != "" {
				if raw, err = a.readData(data); err != nil {
					return err
				}
			}
			if id == "" {
				id = hookline.NewID("evt")
			}
			now := time.Now()
			body, err := hookline.NewEventPayload(id, typ, now, "", raw)
			if err != nil {
				return usagef("--data: %s", hookline.ErrorMessage(err))
			}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, target, bytes.NewReader(body))
			if err != nil {
				return fmt.Errorf("building request: %w", err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", "Hookline/"+Version+" (hookline send)")
			if err := webhook.SignHeaders(req.Header, scheme, id, now, body, []string{secret}, webhook.NewSigner); err != nil {
				return usagef("--secret: %v", err)
			}
			for k, v := range extra {
				req.Header[k] = v
			}
			out := a.env.Stdout
			fmt.Fprintf(out, "> POST %s\n", target)
			printHeaders(out, "> ", req.Header)
			fmt.Fprintf(out, ">\n> %s\n\n", body)

			hc := &http.Client{
				Timeout:       timeout,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
				Transport:     &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{InsecureSkipVerify: skipVerify}}, //nolint:gosec // --skip-verify
			}
			start := time.Now()
			resp, err := hc.Do(req)
			if err != nil {
				return fmt.Errorf("POST %s: %w", target, err)
			}
			defer resp.Body.Close()
			rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			d := time.Since(start)
			fmt.Fprintf(out, "< %s %s  (%d ms)\n", resp.Proto, resp.Status, d.Milliseconds())
			printHeaders(out, "< ", resp.Header)
			fmt.Fprintln(out, "<")
			if len(rb) > 0 {
				fmt.Fprintf(out, "%s\n", bytes.TrimRight(rb, "\n"))
			}
			if resp.StatusCode/100 != 2 {
				return fmt.Errorf("the receiver answered %s", resp.Status)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&secret, "secret", "", "signing secret, whsec_… (v1), or an ed25519 secret key, whsk_… (v1a; standard scheme)")
	f.StringVar(&typ, "type", "", "event type")
	f.StringVar(&data, "data", "", "the event's data: a JSON object, @file, or @- for stdin (default {})")
	f.StringVar(&scheme, "scheme", hookline.SchemeStandard, "signature scheme: standard or stripe")
	f.StringVar(&id, "id", "", "event id (default a new evt_…)")
	f.StringArrayVarP(&headers, "header", "H", nil, "add a header, 'Name: value' (repeatable)")
	f.BoolVar(&skipVerify, "skip-verify", false, "accept a self-signed TLS certificate")
	f.DurationVar(&timeout, "timeout", 15*time.Second, "give up after this long")
	return cmd
}

func printHeaders(w io.Writer, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, k, v)
		}
	}
}

package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/webhook"
)

// errInvalidSignature is verify's failure: exit code 1, the explanation
// already printed.
var errInvalidSignature = errors.New("signature is not valid")

func (a *app) verifyCmd() *cobra.Command {
	var (
		secrets   []string
		scheme    string
		headers   []string
		body      string
		tolerance time.Duration
	)
	cmd := &cobra.Command{
		Use:   "verify --secret whsec_… --header 'webhook-signature: …' … < body",
		Short: "Check a webhook's signature and explain why it fails",
		Long: "Check a webhook's signature against the body (stdin, or --body @file) and the headers it came with.\n" +
			"It exits 0 only when the signature is valid; otherwise it says why (a missing header, a timestamp off by N\n" +
			"seconds, or a mismatch, showing the signature it expected) and exits 1.",
		Example: "  hookline verify --secret whsec_… -H 'webhook-id: evt_…' -H 'webhook-timestamp: 1795430966' \\\n" +
			"      -H 'webhook-signature: v1,…' --body @body.json\n" +
			"  hookline verify --scheme stripe --secret whsec_… -H 'Stripe-Signature: t=…,v1=…' < body.json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(secrets) == 0 {
				return usagef("--secret: required (the endpoint's whsec_… signing secret, or its whpk_… public key)")
			}
			if scheme != "standard" && scheme != "stripe" {
				return usagef("--scheme %q: must be standard or stripe", scheme)
			}
			h, err := parseHeaders("--header", headers)
			if err != nil {
				return err
			}
			b, err := a.readBody(body)
			if err != nil {
				return err
			}
			var in *webhook.Inspection
			if scheme == "stripe" {
				in = webhook.InspectStripe(h.Get(webhook.StripeHeader), b, tolerance, time.Now(), secrets...)
			} else {
				v, err := webhook.NewVerifier(secrets...)
				if err != nil {
					return usagef("--secret: %v", err)
				}
				v.Tolerance = tolerance
				in = v.Inspect(h, b)
			}
			return explain(a.env.Stdout, scheme, h, len(b), in)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&secrets, "secret", nil, "signing secret, whsec_…, or an ed25519 endpoint's public key, whpk_… (repeat to try several, as during a rotation)")
	f.StringVar(&scheme, "scheme", "standard", "signature scheme: standard (Standard Webhooks) or stripe")
	f.StringArrayVarP(&headers, "header", "H", nil, "a header the webhook came with, 'Name: value' (repeatable)")
	f.StringVar(&body, "body", "", "the raw body: @file, or @- for stdin (the default)")
	f.DurationVar(&tolerance, "tolerance", webhook.DefaultTolerance, "how far the timestamp may be from now; negative turns the check off")
	return cmd
}

// readBody reads --body: @file, @- or "" for stdin, or the text itself.
func (a *app) readBody(v string) ([]byte, error) {
	switch {
	case v == "" || v == "@-":
		b, err := io.ReadAll(a.env.Stdin)
		if err != nil {
			return nil, fmt.Errorf("reading the body from stdin: %w", err)
		}
		return b, nil
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, usagef("--body %s: %v", v, err)
		}
		return b, nil
	}
	return []byte(v), nil
}

// explain prints what Inspect found, and returns errInvalidSignature
// (with the reason, already reported: Run does not print it again) unless
// the signature is valid.
func explain(w io.Writer, scheme string, h http.Header, bodyLen int, in *webhook.Inspection) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	if in.Err == nil {
		age := time.Since(in.Timestamp).Round(time.Second)
		p("Valid: the signature matches secret %d (%s); signed %s ago.", in.Matched+1, in.Scheme, age)
		return nil
	}
	var why string
	switch {
	case errors.Is(in.Err, webhook.ErrMissingHeaders):
		why = "a header is missing: " + strings.TrimPrefix(in.Err.Error(), webhook.ErrMissingHeaders.Error()+": ")
	case errors.Is(in.Err, webhook.ErrTimestampTooOld), errors.Is(in.Err, webhook.ErrTimestampTooNew):
		why = "the timestamp is " + strings.SplitN(in.Err.Error(), ": ", 2)[1]
	case errors.Is(in.Err, webhook.ErrNoMatchingSignature):
		why = "no signature matches: the body, the id or timestamp, or the secret differs from what was signed"
	case errors.Is(in.Err, webhook.ErrInvalidHeaders):
		why = "malformed header: " + strings.SplitN(in.Err.Error(), ": ", 2)[1]
	default:
		why = in.Err.Error()
	}
	p("Invalid: %s.", why)
	if in.MsgID != "" {
		p("  id:         %s", in.MsgID)
	}
	if !in.Timestamp.IsZero() {
		off := time.Since(in.Timestamp).Round(time.Second)
		rel := fmt.Sprintf("%d seconds ago", int64(off/time.Second))
		if off < 0 {
			rel = fmt.Sprintf("%d seconds in the future", int64(-off/time.Second))
		}
		p("  timestamp:  %d (%s, %s)", in.Timestamp.Unix(), in.Timestamp.Local().Format(timeLayout), rel)
	}
	p("  body:       %d bytes", bodyLen)
	for _, r := range in.Received {
		p("  received:   %s", r)
	}
	for i, e := range in.Expected {
		mark := ""
		if i == in.Matched {
			mark = "  (matches)"
		}
		if e == "" {
			// A public key checks a v1a signature but cannot make one.
			e = "a v1a signature by this public key"
		}
		p("  expected:   %s  (secret %d)%s", e, i+1, mark)
	}
	switch {
	case in.Matched >= 0:
		p("The signature itself is right; only the timestamp is out of tolerance (--tolerance to allow more).")
	case errors.Is(in.Err, webhook.ErrNoMatchingSignature):
		p("Verify the raw body bytes as received, before any JSON parsing or re-encoding, with the endpoint's own secret.")
	case scheme == "standard" && h.Get(webhook.StripeHeader) != "":
		p("This request has a Stripe-Signature header: try --scheme stripe.")
	case scheme == "stripe" && h.Get(webhook.HeaderSignature) != "":
		p("This request has Standard Webhooks headers: try --scheme standard.")
	}
	return &reportedError{Err: fmt.Errorf("%w: %s", errInvalidSignature, why)}
}

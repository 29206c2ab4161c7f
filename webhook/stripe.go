package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StripeHeader is the header that carries Stripe's signature.
const StripeHeader = "Stripe-Signature"

// StripeSignature returns a Stripe-Signature header value:
// "t=<unix>,v1=<hex>" with one v1 entry per secret, in order. Each v1 is the
// hex HMAC-SHA256 over "<unix>.<body>" keyed with the secret string's bytes
// as written, "whsec_" included (Stripe does not decode its secrets). Only
// whole seconds of ts count.
func StripeSignature(ts time.Time, body []byte, secrets ...string) string {
	unix := ts.Unix()
	var b strings.Builder
	b.Grow(len("t=,") + 20 + len(secrets)*(len("v1=,")+2*sha256.Size))
	b.WriteString("t=")
	b.WriteString(strconv.FormatInt(unix, 10))
	var sum [sha256.Size]byte
	for _, secret := range secrets {
		stripeMAC(sum[:0], secret, unix, body)
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()
}

// stripeMAC appends the MAC of "<unix>.<body>" keyed with secret to dst.
func stripeMAC(dst []byte, secret string, unix int64, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	var prefix [24]byte
	h.Write(append(strconv.AppendInt(prefix[:0], unix, 10), '.'))
	h.Write(body)
	return h.Sum(dst)
}

// VerifyStripe checks a Stripe-Signature header value against body. It
// returns nil when the t= timestamp is within tolerance of now and any v1=
// entry matches any of secrets (several while a secret is being rolled).
// Entries other than t and v1 (such as v0) are ignored; signatures are
// compared in constant time.
//
// A zero tolerance means DefaultTolerance (Stripe's 300 seconds) and a
// negative one turns the timestamp check off; a zero now means time.Now().
// Unlike stripe-go, it also rejects timestamps more than tolerance in the
// future. Errors wrap the same kinds as [Verifier.Verify], and ErrNoSecret
// when no secret, or an empty one, is given.
func VerifyStripe(header string, body []byte, tolerance time.Duration, now time.Time, secrets ...string) error {
	return checkStripe(header, body, tolerance, now, secrets, nil)
}

// InspectStripe verifies like [VerifyStripe] and reports everything it found
// and computed, with Expected entries in the "v1=<hex>" form. See
// [Inspection].
func InspectStripe(header string, body []byte, tolerance time.Duration, now time.Time, secrets ...string) *Inspection {
	in := &Inspection{Scheme: "stripe", Matched: -1}
	in.Err = checkStripe(header, body, tolerance, now, secrets, in)
	return in
}

func checkStripe(header string, body []byte, tolerance time.Duration, now time.Time, secrets []string, in *Inspection) error {
	// An empty secret is an unset variable, and a MAC keyed with nothing
	// is one anybody can compute: refuse rather than accept forgeries.
	if len(secrets) == 0 || slices.Contains(secrets, "") {
		return fmt.Errorf("verifying Stripe signature: %w", ErrNoSecret)
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return fmt.Errorf("%w: no %s", ErrMissingHeaders, StripeHeader)
	}
	var (
		cands  candidates
		tsText string
		haveTS bool
	)
	entries := strings.Split(header, ",")
	for i := range entries {
		entries[i] = strings.TrimSpace(entries[i])
	}
	if in != nil {
		in.Received = entries
	}
	for _, e := range entries {
		key, value, ok := strings.Cut(e, "=")
		switch {
		case !ok:
			return fmt.Errorf("%w: %s entry %q is not key=value", ErrInvalidHeaders, StripeHeader, e)
		case key == "t":
			// Two timestamps would leave it to the parser which one is
			// signed; refuse rather than guess.
			if haveTS {
				return fmt.Errorf("%w: %s has more than one t=", ErrInvalidHeaders, StripeHeader)
			}
			tsText, haveTS = value, true
		case key == "v1":
			mac, err := hex.DecodeString(value)
			if err != nil || len(mac) != sha256.Size {
				cands.malformed++
				continue
			}
			cands.macs = append(cands.macs, [sha256.Size]byte(mac))
		default:
			cands.ignored++
		}
	}
	if !haveTS {
		return fmt.Errorf("%w: %s has no t= timestamp", ErrInvalidHeaders, StripeHeader)
	}
	unix, ok := parseUnix(tsText)
	if !ok {
		return fmt.Errorf("%w: %s timestamp %q is not a Unix time in seconds", ErrInvalidHeaders, StripeHeader, tsText)
	}
	if in != nil {
		in.Timestamp = time.Unix(unix, 0)
	}
	if now.IsZero() {
		now = time.Now()
	}
	tsErr := checkTimestamp(unix, now, tolerance)
	if tsErr != nil && in == nil {
		return tsErr
	}

	matched := -1
	var sum [sha256.Size]byte
	for i, secret := range secrets {
		stripeMAC(sum[:0], secret, unix, body)
		if in != nil {
			in.Expected = append(in.Expected, "v1="+hex.EncodeToString(sum[:]))
		}
		if matched < 0 && cands.match(sum[:]) {
			matched = i
			if in == nil {
				break
			}
		}
	}
	if in != nil {
		in.Matched = matched
	}
	if tsErr != nil {
		return tsErr
	}
	if matched >= 0 {
		return nil
	}
	return cands.err(StripeHeader, len(secrets), 0)
}

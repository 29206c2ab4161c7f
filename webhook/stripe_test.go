package webhook

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStripeSignatureFormat(t *testing.T) {
	t.Parallel()
	ts := time.Unix(vecTS, 500)
	body := []byte(vecBody)
	one := StripeSignature(ts, body, vecSecret)
	parts := strings.Split(one, ",")
	if len(parts) != 2 || parts[0] != "t="+strconv.Itoa(vecTS) || !strings.HasPrefix(parts[1], "v1=") || len(parts[1]) != 3+64 {
		t.Fatalf("StripeSignature = %q, want t=%d,v1=<64 hex>", one, vecTS)
	}
	two := StripeSignature(ts, body, vecSecret, "whsec_other")
	if !strings.HasPrefix(two, one+",v1=") || len(two) != len(one)+4+64 {
		t.Errorf("StripeSignature with two secrets = %q, want %q plus a second v1", two, one)
	}
	// Stripe keys with the secret as written: dropping the prefix changes it.
	if StripeSignature(ts, body, strings.TrimPrefix(vecSecret, SecretPrefix)) == one {
		t.Error("StripeSignature ignored the whsec_ prefix of the key")
	}
	if got := StripeSignature(ts, body); got != "t="+strconv.Itoa(vecTS) {
		t.Errorf("StripeSignature with no secrets = %q", got)
	}
}

func TestVerifyStripe(t *testing.T) {
	t.Parallel()
	const secret, other = "whsec_stripe_test_secret", "whsec_other"
	now := time.Unix(vecTS, 0)
	body := []byte(`{"id":"evt_1","object":"event"}`)
	ts := "t=" + strconv.Itoa(vecTS)
	good := StripeSignature(now, body, secret)
	goodV1 := strings.TrimPrefix(good, ts+",")
	wrongV1 := strings.TrimPrefix(StripeSignature(now, body, other), ts+",")

	tests := []struct {
		name      string
		header    string
		body      string
		secrets   []string
		tolerance time.Duration
		want      error
		detail    string
	}{
		{name: "valid", header: good},
		{name: "spaces after commas", header: ts + ", " + goodV1},
		{name: "v1 before t", header: goodV1 + "," + ts},
		{name: "empty header", header: "", want: ErrMissingHeaders, detail: "Stripe-Signature"},
		{name: "no t", header: goodV1, want: ErrInvalidHeaders, detail: "no t="},
		{name: "two t", header: ts + "," + ts + "," + goodV1, want: ErrInvalidHeaders, detail: "more than one"},
		{name: "t not a number", header: "t=abc," + goodV1, want: ErrInvalidHeaders, detail: `"abc"`},
		{name: "entry without =", header: ts + ",junk," + goodV1, want: ErrInvalidHeaders, detail: `"junk"`},
		{name: "too old", header: StripeSignature(now.Add(-301*time.Second), body, secret), want: ErrTimestampTooOld, detail: "301 seconds"},
		{name: "too new", header: StripeSignature(now.Add(301*time.Second), body, secret), want: ErrTimestampTooNew, detail: "301 seconds"},
		{name: "custom tolerance", tolerance: time.Minute, header: StripeSignature(now.Add(-61*time.Second), body, secret), want: ErrTimestampTooOld},
		{name: "tolerance off", tolerance: -1, header: StripeSignature(now.Add(-24*time.Hour), body, secret)},
		{name: "tampered body", header: good, body: `{"id":"evt_2","object":"event"}`, want: ErrNoMatchingSignature},
		{name: "wrong secret", header: good, secrets: []string{other}, want: ErrNoMatchingSignature},
		{name: "second v1 matches", header: ts + "," + wrongV1 + "," + goodV1},
		{name: "rotation", header: good, secrets: []string{other, secret}},
		{name: "header signed with both secrets", header: StripeSignature(now, body, other, secret)},
		{name: "v0 ignored", header: ts + ",v0=" + goodV1[3:], want: ErrNoMatchingSignature, detail: "no v1 signature"},
		{name: "v0 next to a good v1", header: ts + ",v0=abc," + goodV1},
		{name: "v1 not hex", header: ts + ",v1=" + strings.Repeat("z", 64), want: ErrInvalidHeaders},
		{name: "v1 too short", header: ts + ",v1=abcd", want: ErrInvalidHeaders},
		{name: "v1 uppercase hex", header: ts + ",v1=" + strings.ToUpper(goodV1[3:])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{secret}
			}
			b := body
			if tt.body != "" {
				b = []byte(tt.body)
			}
			err := VerifyStripe(tt.header, b, tt.tolerance, now, secrets...)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyStripe(%q) = %v, want nil", tt.header, err)
				}
			} else {
				if !errors.Is(err, tt.want) {
					t.Fatalf("VerifyStripe(%q) = %v, want errors.Is %v", tt.header, err, tt.want)
				}
				if !strings.Contains(err.Error(), tt.detail) {
					t.Errorf("VerifyStripe = %q, want it to contain %q", err, tt.detail)
				}
			}
			in := InspectStripe(tt.header, b, tt.tolerance, now, secrets...)
			if (in.Err == nil) != (err == nil) || (err != nil && in.Err.Error() != err.Error()) {
				t.Errorf("InspectStripe().Err = %v, VerifyStripe = %v", in.Err, err)
			}
		})
	}

	if err := VerifyStripe(good, body, 0, now); err == nil {
		t.Error("VerifyStripe with no secrets = nil, want an error")
	}
}

func TestInspectStripe(t *testing.T) {
	t.Parallel()
	now := time.Unix(vecTS, 0)
	body := []byte("{}")
	header := StripeSignature(now, body, "whsec_b")
	in := InspectStripe(header, body, 0, now, "whsec_a", "whsec_b")
	wantA := StripeSignature(now, body, "whsec_a")[len("t=1614265330,"):]
	wantB := header[len("t=1614265330,"):]
	if in.Err != nil || in.Matched != 1 || in.Scheme != "stripe" || !in.Timestamp.Equal(now) {
		t.Errorf("InspectStripe = %+v", in)
	}
	if len(in.Expected) != 2 || in.Expected[0] != wantA || in.Expected[1] != wantB {
		t.Errorf("InspectStripe().Expected = %q, want [%q %q]", in.Expected, wantA, wantB)
	}
	if len(in.Received) != 2 || in.Received[1] != wantB {
		t.Errorf("InspectStripe().Received = %q", in.Received)
	}
}

package webhook

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks published test vector.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustSigner(t testing.TB, secret string) *Signer {
	t.Helper()
	s, err := NewSigner(secret)
	if err != nil {
		t.Fatalf("NewSigner(%q): %v", secret, err)
	}
	return s
}

func mustVerifier(t testing.TB, now time.Time, secrets ...string) *Verifier {
	t.Helper()
	v, err := NewVerifier(secrets...)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	v.Now = func() time.Time { return now }
	return v
}

func headers(prefix, id, ts, sig string) http.Header {
	h := http.Header{}
	if id != "" {
		h.Set(prefix+"id", id)
	}
	if ts != "" {
		h.Set(prefix+"timestamp", ts)
	}
	if sig != "" {
		h.Set(prefix+"signature", sig)
	}
	return h
}

func TestStandardWebhooksTestVector(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{vecSecret, strings.TrimPrefix(vecSecret, SecretPrefix)} {
		got := mustSigner(t, secret).Sign(vecID, time.Unix(vecTS, 0), []byte(vecBody))
		if got != vecSig {
			t.Errorf("Sign with secret %q = %q, want %q", secret, got, vecSig)
		}
	}
	// Sub-second parts of the time are not signed.
	if got := mustSigner(t, vecSecret).Sign(vecID, time.Unix(vecTS, 999_999_999), []byte(vecBody)); got != vecSig {
		t.Errorf("Sign with nanoseconds = %q, want %q", got, vecSig)
	}
	v := mustVerifier(t, time.Unix(vecTS, 0), vecSecret)
	if err := v.Verify(headers("webhook-", vecID, strconv.Itoa(vecTS), vecSig), []byte(vecBody)); err != nil {
		t.Errorf("Verify(test vector) = %v, want nil", err)
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, b := NewSecret(), NewSecret()
	if a == b {
		t.Fatalf("NewSecret returned %q twice", a)
	}
	for _, s := range []string{a, b} {
		if !strings.HasPrefix(s, SecretPrefix) {
			t.Errorf("NewSecret() = %q, want prefix %q", s, SecretPrefix)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
		if err != nil || len(key) != 32 {
			t.Errorf("NewSecret() = %q: decodes to %d bytes, err %v; want 32 bytes", s, len(key), err)
		}
		mustSigner(t, s)
	}
}

func TestNewSignerErrors(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"", SecretPrefix, "whsec_not base64!", "whsec_abc", "whsec_" + vecSecret} {
		if _, err := NewSigner(secret); err == nil {
			t.Errorf("NewSigner(%q) = nil error, want one", secret)
		}
	}
	if _, err := NewVerifier(); err == nil {
		t.Error("NewVerifier() with no secrets = nil error, want one")
	}
	if _, err := NewVerifier(vecSecret, "whsec_%%%"); err == nil || !strings.Contains(err.Error(), "secret 2") {
		t.Errorf("NewVerifier(good, bad) = %v, want an error naming secret 2", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(vecTS, 0)
	other := NewSecret()
	body := []byte(vecBody)
	ts := strconv.Itoa(vecTS)
	signer := mustSigner(t, vecSecret)
	good := signer.Sign(vecID, now, body)
	wrong := mustSigner(t, other).Sign(vecID, now, body)
	at := func(d time.Duration) (string, string) {
		when := now.Add(d)
		return strconv.FormatInt(when.Unix(), 10), signer.Sign(vecID, when, body)
	}
	old301, oldSig301 := at(-301 * time.Second)
	old300, oldSig300 := at(-300 * time.Second)
	new301, newSig301 := at(301 * time.Second)
	new300, newSig300 := at(300 * time.Second)

	tests := []struct {
		name      string
		secrets   []string
		tolerance time.Duration
		h         http.Header
		body      string
		want      error  // nil for success
		detail    string // substring the error message must hold
	}{
		{name: "valid", h: headers("webhook-", vecID, ts, good)},
		{name: "no headers", h: http.Header{}, want: ErrMissingHeaders, detail: "webhook-id, webhook-timestamp, webhook-signature"},
		{name: "missing id", h: headers("webhook-", "", ts, good), want: ErrMissingHeaders, detail: "no webhook-id"},
		{name: "missing timestamp", h: headers("webhook-", vecID, "", good), want: ErrMissingHeaders, detail: "no webhook-timestamp"},
		{name: "missing signature", h: headers("webhook-", vecID, ts, ""), want: ErrMissingHeaders, detail: "no webhook-signature"},
		{name: "blank signature", h: headers("webhook-", vecID, ts, "   "), want: ErrMissingHeaders, detail: "no webhook-signature"},
		{name: "timestamp not a number", h: headers("webhook-", vecID, "yesterday", good), want: ErrInvalidHeaders, detail: `"yesterday"`},
		{name: "timestamp with sign", h: headers("webhook-", vecID, "+"+ts, good), want: ErrInvalidHeaders},
		{name: "timestamp with fraction", h: headers("webhook-", vecID, ts+".5", good), want: ErrInvalidHeaders},
		{name: "timestamp overflows", h: headers("webhook-", vecID, "99999999999999999999", good), want: ErrInvalidHeaders},
		{name: "timestamp in milliseconds", h: headers("webhook-", vecID, ts+"000", good), want: ErrTimestampTooNew},
		{name: "too old", h: headers("webhook-", vecID, old301, oldSig301), want: ErrTimestampTooOld, detail: "301 seconds in the past"},
		{name: "old but within tolerance", h: headers("webhook-", vecID, old300, oldSig300)},
		{name: "too new", h: headers("webhook-", vecID, new301, newSig301), want: ErrTimestampTooNew, detail: "301 seconds in the future"},
		{name: "new but within tolerance", h: headers("webhook-", vecID, new300, newSig300)},
		{name: "ancient timestamp", h: headers("webhook-", vecID, "0", good), want: ErrTimestampTooOld, detail: ts + " seconds"},
		{name: "custom tolerance", tolerance: 10 * time.Second, h: headers("webhook-", vecID, old300, oldSig300), want: ErrTimestampTooOld, detail: "tolerance is 10 seconds"},
		{name: "tolerance check off", tolerance: -1, h: headers("webhook-", vecID, old301, oldSig301)},
		{name: "too old reported before bad signature", h: headers("webhook-", vecID, old301, wrong), want: ErrTimestampTooOld},
		{name: "tampered body", h: headers("webhook-", vecID, ts, good), body: `{"test": 2432232315}`, want: ErrNoMatchingSignature, detail: "1 v1 signature checked against 1 secret"},
		{name: "tampered id", h: headers("webhook-", vecID+"x", ts, good), want: ErrNoMatchingSignature},
		{name: "tampered timestamp", h: headers("webhook-", vecID, strconv.Itoa(vecTS+1), good), want: ErrNoMatchingSignature},
		{name: "wrong secret", h: headers("webhook-", vecID, ts, wrong), want: ErrNoMatchingSignature},
		{name: "second of two signatures matches", h: headers("webhook-", vecID, ts, wrong+" "+good)},
		{name: "first of two signatures matches", h: headers("webhook-", vecID, ts, good+" "+wrong)},
		{name: "neither of two signatures matches", h: headers("webhook-", vecID, ts, wrong+" "+wrong), want: ErrNoMatchingSignature, detail: "2 v1 signatures"},
		{name: "extra spaces between signatures", h: headers("webhook-", vecID, ts, "  "+wrong+"   "+good+" ")},
		{name: "signatures on separate header lines", h: func() http.Header {
			h := headers("webhook-", vecID, ts, wrong)
			h.Add(HeaderSignature, good)
			return h
		}()},
		{name: "rotation: old secret listed second", secrets: []string{other, vecSecret}, h: headers("webhook-", vecID, ts, good)},
		{name: "rotation: new secret listed first", secrets: []string{other, vecSecret}, h: headers("webhook-", vecID, ts, wrong)},
		{name: "rotation: neither secret", secrets: []string{other, NewSecret()}, h: headers("webhook-", vecID, ts, good), want: ErrNoMatchingSignature, detail: "against 2 secrets"},
		{name: "svix headers", h: headers("svix-", vecID, ts, good)},
		{name: "svix headers, bad signature", h: headers("svix-", vecID, ts, wrong), want: ErrNoMatchingSignature, detail: "1 v1 signature"},
		{name: "svix headers, missing one", h: headers("svix-", vecID, "", good), want: ErrMissingHeaders, detail: "no svix-timestamp"},
		{name: "webhook headers win over svix", h: func() http.Header {
			h := headers("webhook-", vecID, ts, wrong)
			h.Set("svix-id", vecID)
			h.Set("svix-timestamp", ts)
			h.Set("svix-signature", good)
			return h
		}(), want: ErrNoMatchingSignature},
		{name: "lowercase map keys", h: http.Header{"webhook-id": {vecID}, "webhook-timestamp": {ts}, "webhook-signature": {good}}},
		{name: "non-v1 entries ignored", h: headers("webhook-", vecID, ts, "v1a,"+good[3:]+" v2,abc "+good)},
		{name: "v1a with the v1 value is not v1", h: headers("webhook-", vecID, ts, "v1a,"+good[3:]), want: ErrNoMatchingSignature, detail: "no v1 signature (1 other entry ignored)"},
		{name: "entry without version", h: headers("webhook-", vecID, ts, good[3:]), want: ErrInvalidHeaders, detail: "1 malformed entry"},
		{name: "v1 not base64", h: headers("webhook-", vecID, ts, "v1,"+strings.Repeat("!", 44)), want: ErrInvalidHeaders},
		{name: "v1 too short", h: headers("webhook-", vecID, ts, "v1,"+good[3:40]), want: ErrInvalidHeaders},
		{name: "v1 without padding", h: headers("webhook-", vecID, ts, strings.TrimRight(good, "=")), want: ErrInvalidHeaders},
		{name: "v1 with bad padding char", h: headers("webhook-", vecID, ts, good[:46]+"A"), want: ErrInvalidHeaders},
		{name: "malformed next to a match", h: headers("webhook-", vecID, ts, "junk v1,!! "+good)},
		{name: "malformed next to a mismatch", h: headers("webhook-", vecID, ts, "junk "+wrong), want: ErrNoMatchingSignature},
		{name: "uppercase version", h: headers("webhook-", vecID, ts, "V1,"+good[3:]), want: ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{vecSecret}
			}
			v := mustVerifier(t, now, secrets...)
			v.Tolerance = tt.tolerance
			b := body
			if tt.body != "" {
				b = []byte(tt.body)
			}
			err := v.Verify(tt.h, b)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
			} else {
				if !errors.Is(err, tt.want) {
					t.Fatalf("Verify = %v, want errors.Is %v", err, tt.want)
				}
				for _, kind := range []error{ErrMissingHeaders, ErrInvalidHeaders, ErrTimestampTooOld, ErrTimestampTooNew, ErrNoMatchingSignature} {
					if kind != tt.want && errors.Is(err, kind) {
						t.Errorf("Verify = %v, also matches %v", err, kind)
					}
				}
				if !strings.Contains(err.Error(), tt.detail) {
					t.Errorf("Verify = %q, want it to contain %q", err, tt.detail)
				}
			}
			// Inspect must agree with Verify on every input.
			in := v.Inspect(tt.h, b)
			if (in.Err == nil) != (err == nil) || (err != nil && in.Err.Error() != err.Error()) {
				t.Errorf("Inspect().Err = %v, Verify = %v", in.Err, err)
			}
		})
	}
}

func TestVerifyRealClock(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(vecSecret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	body := []byte("hello")
	h := headers("webhook-", "msg_1", strconv.FormatInt(now.Unix(), 10), mustSigner(t, vecSecret).Sign("msg_1", now, body))
	if err := v.Verify(h, body); err != nil {
		t.Fatalf("Verify with Now unset = %v", err)
	}
}

func TestInspect(t *testing.T) {
	t.Parallel()
	now := time.Unix(vecTS, 0)
	other := NewSecret()
	body := []byte(vecBody)
	ts := strconv.Itoa(vecTS)
	want0 := mustSigner(t, other).Sign(vecID, now, body)
	v := mustVerifier(t, now, other, vecSecret)

	in := v.Inspect(headers("webhook-", vecID, ts, "v1a,xyz "+vecSig), body)
	if in.Err != nil || in.Matched != 1 || in.Scheme != "standard-webhooks" || in.MsgID != vecID || !in.Timestamp.Equal(now) {
		t.Errorf("Inspect(valid) = %+v", in)
	}
	if len(in.Expected) != 2 || in.Expected[0] != want0 || in.Expected[1] != vecSig {
		t.Errorf("Inspect().Expected = %q, want [%q %q]", in.Expected, want0, vecSig)
	}
	if len(in.Received) != 2 || in.Received[0] != "v1a,xyz" || in.Received[1] != vecSig {
		t.Errorf("Inspect().Received = %q", in.Received)
	}

	// Too old but correctly signed: the error is about time, Matched says
	// the signature was fine.
	v.Now = func() time.Time { return now.Add(time.Hour) }
	in = v.Inspect(headers("svix-", vecID, ts, vecSig), body)
	if !errors.Is(in.Err, ErrTimestampTooOld) || in.Matched != 1 || in.Scheme != "svix" || len(in.Expected) != 2 {
		t.Errorf("Inspect(too old) = %+v", in)
	}

	// Wrong body: Expected shows what would have matched.
	in = v.Inspect(headers("webhook-", vecID, ts, vecSig), []byte("{}"))
	if !errors.Is(in.Err, ErrTimestampTooOld) || in.Matched != -1 || in.Expected[1] == vecSig {
		t.Errorf("Inspect(wrong body) = %+v", in)
	}

	// Nothing to sign without a timestamp.
	in = v.Inspect(headers("webhook-", vecID, "", vecSig), body)
	if !errors.Is(in.Err, ErrMissingHeaders) || in.Expected != nil || in.Matched != -1 {
		t.Errorf("Inspect(no timestamp) = %+v", in)
	}
}

// FuzzVerify checks that Verify never panics on any header, and that
// whatever Sign produces, Verify accepts.
func FuzzVerify(f *testing.F) {
	f.Add(vecID, int64(vecTS), []byte(vecBody), vecSig)
	f.Add("", int64(0), []byte{}, "")
	f.Add("msg", int64(-1), []byte("x"), "v1, v1,=== v1a,abc , ,,")
	f.Add("msg.with.dots", int64(1<<62), []byte("\x00\xff"), "v1,"+strings.Repeat("A", 44))
	now := time.Unix(vecTS, 0)
	signer := mustSigner(f, vecSecret)
	v := mustVerifier(f, now, vecSecret)
	v.Tolerance = -1
	// v1a: a public key, and a secret and a key together (a switch).
	edSigner := mustSigner(f, v1aVectors[0].secretKey)
	vEd := mustVerifier(f, now, v1aVectors[0].publicKey)
	vEd.Tolerance = -1
	vBoth := mustVerifier(f, now, vecSecret, v1aVectors[0].publicKey)
	vBoth.Tolerance = -1
	// One that checks the timestamp too, against the vectors' clock.
	vNow := mustVerifier(f, now, vecSecret, v1aVectors[0].publicKey)
	f.Add(vecID, int64(vecTS), []byte(vecBody), v1aVectors[0].sig+" "+vecSig)
	f.Add(vecID, int64(vecTS-301), []byte(vecBody), strings.Repeat(v1aVectors[0].sig+" ", maxV1a+1))
	f.Add("m", int64(1), []byte("b"), "v1a,"+strings.Repeat("A", 86)+"== v1a,, v1a")
	f.Fuzz(func(t *testing.T, id string, unix int64, body []byte, sig string) {
		h := headers("webhook-", id, strconv.FormatInt(unix, 10), sig)
		// Inspect explains what Verify decides: the same error, whatever
		// the input, timestamp checked or not.
		for _, ver := range []*Verifier{v, vEd, vBoth, vNow} {
			err, in := ver.Verify(h, body), ver.Inspect(h, body)
			if (err == nil) != (in.Err == nil) || (err != nil && err.Error() != in.Err.Error()) {
				t.Fatalf("Verify = %v, Inspect().Err = %v", err, in.Err)
			}
		}
		if strings.TrimSpace(id) != id || id == "" || unix < 0 {
			return // header values are trimmed, and negative times are not Unix timestamps
		}
		good := signer.Sign(id, time.Unix(unix, 0), body)
		h.Set(HeaderSignature, sig+" "+good)
		if err := v.Verify(h, body); err != nil {
			t.Fatalf("Verify(Sign(%q, %d, %q)) = %v", id, unix, body, err)
		}
		if strings.Count(sig, "v1a,") < maxV1a { // more is refused, whatever they hold
			h.Set(HeaderSignature, sig+" "+edSigner.Sign(id, time.Unix(unix, 0), body))
			for _, ver := range []*Verifier{vEd, vBoth} {
				if err := ver.Verify(h, body); err != nil {
					t.Fatalf("Verify(v1a Sign(%q, %d, %q)) = %v", id, unix, body, err)
				}
			}
		}
		_ = VerifyStripe(sig, body, -1, now, vecSecret)
	})
}

func BenchmarkSign(b *testing.B) {
	s := mustSigner(b, NewSecret())
	body := []byte(strings.Repeat("x", 1024))
	ts := time.Unix(vecTS, 0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		s.Sign(vecID, ts, body)
	}
}

func BenchmarkVerify(b *testing.B) {
	secret := NewSecret()
	body := []byte(strings.Repeat("x", 1024))
	now := time.Unix(vecTS, 0)
	v := mustVerifier(b, now, secret)
	h := headers("webhook-", vecID, strconv.Itoa(vecTS), mustSigner(b, secret).Sign(vecID, now, body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

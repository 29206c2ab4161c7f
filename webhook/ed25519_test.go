package webhook

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Standard Webhooks v1a (ed25519) test vectors. The spec has no official
// v1a vector yet; these come from the reference libraries' v1a work in
// github.com/standard-webhooks/standard-webhooks, and sign the same message
// as the v1 vector (vecID, vecTS, vecBody):
//   - libraries/go/webhook_asymmetric_test.go (pull request 253): the seed
//     "TESTSIGNINGKEYDONOTUSETHISFORANY", serialized as the base64 of the
//     32-byte seed;
//   - libraries/javascript/src/webhook.test.ts (pull request 308): the seed
//     of 32 bytes 0x01, serialized as the base64 of the 64-byte
//     seed-and-public-key form.
var v1aVectors = []struct {
	name      string
	secretKey string // whsk_ as that library writes it
	publicKey string // whpk_, derived here with crypto/ed25519
	sig       string
}{
	{
		name:      "go",
		secretKey: "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=",
		publicKey: "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=",
		sig:       "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==",
	},
	{
		name:      "javascript",
		secretKey: "whsk_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQGKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXA==",
		publicKey: "whpk_iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=",
		sig:       "v1a,Ykcu7AtGZGmZxFEH1Gaa2Nd7feY/CTuruoL4fqgnKwfbHU4DhemoVHZdvGfIvKvn4BIgwktLGGPGIr/i9nK7AA==",
	},
}

func TestStandardWebhooksV1aTestVectors(t *testing.T) {
	t.Parallel()
	for _, vec := range v1aVectors {
		t.Run(vec.name, func(t *testing.T) {
			t.Parallel()
			if got := mustSigner(t, vec.secretKey).Sign(vecID, time.Unix(vecTS, 999_000_000), []byte(vecBody)); got != vec.sig {
				t.Errorf("Sign = %q, want %q", got, vec.sig)
			}
			pub, err := PublicKey(vec.secretKey)
			if err != nil || pub != vec.publicKey {
				t.Errorf("PublicKey = %q, %v; want %q", pub, err, vec.publicKey)
			}
			if got := mustSigner(t, vec.secretKey).PublicKey(); got != vec.publicKey {
				t.Errorf("Signer.PublicKey = %q, want %q", got, vec.publicKey)
			}
			h := headers("webhook-", vecID, strconv.Itoa(vecTS), vec.sig)
			for _, key := range []string{vec.publicKey, vec.secretKey} {
				if err := mustVerifier(t, time.Unix(vecTS, 0), key).Verify(h, []byte(vecBody)); err != nil {
					t.Errorf("Verify with %.10s… = %v", key, err)
				}
			}
			jwk, err := NewJWK(vec.publicKey, "k1")
			if err != nil {
				t.Fatal(err)
			}
			set, _ := json.Marshal(JWKSet{Keys: []JWK{jwk}})
			v, err := NewVerifierJWKS(set, nil)
			if err != nil {
				t.Fatal(err)
			}
			v.Now = func() time.Time { return time.Unix(vecTS, 0) }
			if err := v.Verify(h, []byte(vecBody)); err != nil {
				t.Errorf("Verify with the JWK set = %v", err)
			}
			if err := v.Verify(h, []byte(`{"test": 2432232315}`)); !errors.Is(err, ErrNoMatchingSignature) {
				t.Errorf("Verify of a changed body = %v, want ErrNoMatchingSignature", err)
			}
		})
	}
}

// RFC 8037, appendix A: an Ed25519 key pair as JWKs, and the RFC 7638
// thumbprint of the public key.
func TestRFC8037Vectors(t *testing.T) {
	t.Parallel()
	d, _ := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	pub, err := PublicKey(SecretKeyPrefix + base64.StdEncoding.EncodeToString(d))
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := NewJWK(pub, "")
	if err != nil || jwk.X != "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" || jwk.Kty != "OKP" || jwk.Crv != "Ed25519" {
		t.Fatalf("NewJWK = %+v, %v; want x 11qYAYKx… (RFC 8037 A.2)", jwk, err)
	}
	if back, err := jwk.PublicKey(); err != nil || back != pub {
		t.Errorf("JWK.PublicKey = %q, %v; want %q", back, err, pub)
	}
	if tp, err := Thumbprint(pub); err != nil || tp != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Errorf("Thumbprint = %q, %v; want the RFC 8037 A.3 value", tp, err)
	}
}

func TestNewKeyPair(t *testing.T) {
	t.Parallel()
	sk, pk := NewKeyPair()
	sk2, _ := NewKeyPair()
	if sk == sk2 {
		t.Fatal("NewKeyPair returned the same key twice")
	}
	if !strings.HasPrefix(sk, SecretKeyPrefix) || !strings.HasPrefix(pk, PublicKeyPrefix) || !IsSecretKey(sk) || IsSecretKey(pk) {
		t.Fatalf("NewKeyPair = %q, %q", sk, pk)
	}
	if raw, _ := base64.StdEncoding.DecodeString(sk[len(SecretKeyPrefix):]); len(raw) != ed25519.SeedSize {
		t.Errorf("secret key holds %d bytes, want the %d-byte seed", len(raw), ed25519.SeedSize)
	}
	if got, err := PublicKey(sk); err != nil || got != pk {
		t.Errorf("PublicKey(secret) = %q, %v; want %q", got, err, pk)
	}
	now := time.Now()
	body := []byte(`{"n":1}`)
	sig := mustSigner(t, sk).Sign("msg_1", now, body)
	if !strings.HasPrefix(sig, "v1a,") || len(sig) != sigLenV1a {
		t.Errorf("Sign = %q", sig)
	}
	if err := mustVerifier(t, now, pk).Verify(headers("webhook-", "msg_1", strconv.FormatInt(now.Unix(), 10), sig), body); err != nil {
		t.Errorf("Verify = %v", err)
	}
}

func TestKeyErrors(t *testing.T) {
	t.Parallel()
	seed := bytes.Repeat([]byte{7}, 32)
	long := ed25519.NewKeyFromSeed(seed)
	corrupt := bytes.Clone(long)
	corrupt[40] ^= 1
	for _, key := range []string{
		SecretKeyPrefix,
		SecretKeyPrefix + "not base64!",
		SecretKeyPrefix + base64.StdEncoding.EncodeToString(seed[:31]),
		SecretKeyPrefix + base64.StdEncoding.EncodeToString(corrupt),
		PublicKeyPrefix + base64.StdEncoding.EncodeToString(long.Public().(ed25519.PublicKey)), // cannot sign
	} {
		if _, err := NewSigner(key); err == nil {
			t.Errorf("NewSigner(%q) = nil error", key)
		}
	}
	if _, err := NewSigner(SecretKeyPrefix + base64.StdEncoding.EncodeToString(long)); err != nil {
		t.Errorf("NewSigner(64-byte form) = %v", err)
	}
	for _, key := range []string{PublicKeyPrefix, PublicKeyPrefix + "%%", PublicKeyPrefix + base64.StdEncoding.EncodeToString(seed[:16]), SecretKeyPrefix + "AAAA"} {
		if _, err := NewVerifier(key); err == nil {
			t.Errorf("NewVerifier(%q) = nil error", key)
		}
	}
	for _, key := range []string{"", "whpk_", "whsk_x", "whsec_AAAA"} {
		if _, err := PublicKey(key); err == nil {
			t.Errorf("PublicKey(%q) = nil error", key)
		}
		if _, err := Thumbprint(key); err == nil {
			t.Errorf("Thumbprint(%q) = nil error", key)
		}
	}
}

// TestVerifyV1a: v1a signatures get the same errors and tolerance as v1,
// whether the key is a whpk_ public key, a whsk_ secret key, or both kinds
// are mixed with HMAC secrets.
func TestVerifyV1a(t *testing.T) {
	t.Parallel()
	vec := v1aVectors[0]
	now := time.Unix(vecTS, 0)
	body := []byte(vecBody)
	ts := strconv.Itoa(vecTS)
	otherSK, otherPK := NewKeyPair()
	signer := mustSigner(t, vec.secretKey)
	good := vec.sig
	wrong := mustSigner(t, otherSK).Sign(vecID, now, body)
	hmacGood := vecSig
	at := func(d time.Duration) (string, string) {
		when := now.Add(d)
		return strconv.FormatInt(when.Unix(), 10), signer.Sign(vecID, when, body)
	}
	old301, oldSig301 := at(-301 * time.Second)
	old300, oldSig300 := at(-300 * time.Second)
	new301, newSig301 := at(301 * time.Second)
	new300, newSig300 := at(300 * time.Second)
	junk := strings.Repeat(wrong+" ", maxV1a)

	tests := []struct {
		name      string
		keys      []string
		tolerance time.Duration
		h         http.Header
		body      string
		want      error
		detail    string
	}{
		{name: "valid", h: headers("webhook-", vecID, ts, good)},
		{name: "valid with the secret key", keys: []string{vec.secretKey}, h: headers("webhook-", vecID, ts, good)},
		{name: "missing id", h: headers("webhook-", "", ts, good), want: ErrMissingHeaders, detail: "no webhook-id"},
		{name: "missing signature", h: headers("webhook-", vecID, ts, ""), want: ErrMissingHeaders, detail: "no webhook-signature"},
		{name: "timestamp not a number", h: headers("webhook-", vecID, "soon", good), want: ErrInvalidHeaders},
		{name: "too old", h: headers("webhook-", vecID, old301, oldSig301), want: ErrTimestampTooOld, detail: "301 seconds in the past"},
		{name: "old but within tolerance", h: headers("webhook-", vecID, old300, oldSig300)},
		{name: "too new", h: headers("webhook-", vecID, new301, newSig301), want: ErrTimestampTooNew, detail: "301 seconds in the future"},
		{name: "new but within tolerance", h: headers("webhook-", vecID, new300, newSig300)},
		{name: "tolerance check off", tolerance: -1, h: headers("webhook-", vecID, old301, oldSig301)},
		{name: "too old reported before bad signature", h: headers("webhook-", vecID, old301, wrong), want: ErrTimestampTooOld},
		{name: "tampered body", h: headers("webhook-", vecID, ts, good), body: `{"test": 2432232315}`, want: ErrNoMatchingSignature, detail: "1 v1a signature checked against 1 public key"},
		{name: "tampered id", h: headers("webhook-", vecID+"x", ts, good), want: ErrNoMatchingSignature},
		{name: "tampered timestamp", h: headers("webhook-", vecID, strconv.Itoa(vecTS+1), good), want: ErrNoMatchingSignature},
		{name: "wrong key", h: headers("webhook-", vecID, ts, wrong), want: ErrNoMatchingSignature},
		{name: "second of two signatures matches", h: headers("webhook-", vecID, ts, wrong+" "+good)},
		{name: "rotation: old key listed second", keys: []string{otherPK, vec.publicKey}, h: headers("webhook-", vecID, ts, good)},
		{name: "rotation: neither key", keys: []string{otherPK, otherPK}, h: headers("webhook-", vecID, ts, good), want: ErrNoMatchingSignature, detail: "against 2 public keys"},
		{name: "svix headers", h: headers("svix-", vecID, ts, good)},
		{name: "v1 ignored by a public key", h: headers("webhook-", vecID, ts, hmacGood), want: ErrNoMatchingSignature, detail: "no v1a signature (1 other entry ignored)"},
		{name: "v1 beside v1a, as during a switch", h: headers("webhook-", vecID, ts, hmacGood+" "+good)},
		{name: "switch: secret and public key, v1 matches", keys: []string{vecSecret, otherPK}, h: headers("webhook-", vecID, ts, hmacGood+" "+wrong)},
		{name: "switch: secret and public key, v1a matches", keys: []string{NewSecret(), vec.publicKey}, h: headers("webhook-", vecID, ts, hmacGood+" "+good)},
		{name: "switch: neither", keys: []string{NewSecret(), otherPK}, h: headers("webhook-", vecID, ts, hmacGood+" "+good), want: ErrNoMatchingSignature, detail: "1 v1 and 1 v1a signatures checked against 1 secret and 1 public key"},
		{name: "v1a value of a v1 size", h: headers("webhook-", vecID, ts, "v1a,"+hmacGood[3:]), want: ErrInvalidHeaders, detail: "no well-formed v1a signature (1 malformed entry)"},
		{name: "v1a not base64", h: headers("webhook-", vecID, ts, "v1a,"+strings.Repeat("!", 88)), want: ErrInvalidHeaders},
		{name: "v1a without padding", h: headers("webhook-", vecID, ts, strings.TrimRight(good, "=")), want: ErrInvalidHeaders},
		{name: "v1a in an HMAC verifier's header", keys: []string{vecSecret}, h: headers("webhook-", vecID, ts, good), want: ErrNoMatchingSignature, detail: "no v1 signature (1 other entry ignored)"},
		{name: "too many v1a entries", h: headers("webhook-", vecID, ts, junk+good), want: ErrInvalidHeaders, detail: "9 v1a signatures"},
		{name: "too many v1a entries, too old: the timestamp first", h: headers("webhook-", vecID, old301, junk+oldSig301), want: ErrTimestampTooOld, detail: "301 seconds in the past"},
		{name: "too many v1a entries, too new: the timestamp first", h: headers("webhook-", vecID, new301, junk+newSig301), want: ErrTimestampTooNew},
		{name: "as many v1a entries as checked", h: headers("webhook-", vecID, ts, strings.Repeat(wrong+" ", maxV1a-1)+good)},
		{name: "uppercase version", h: headers("webhook-", vecID, ts, "V1A,"+good[4:]), want: ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keys := tt.keys
			if keys == nil {
				keys = []string{vec.publicKey}
			}
			v := mustVerifier(t, now, keys...)
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
				if !strings.Contains(err.Error(), tt.detail) {
					t.Errorf("Verify = %q, want it to contain %q", err, tt.detail)
				}
			}
			in := v.Inspect(tt.h, b)
			if (in.Err == nil) != (err == nil) || (err != nil && in.Err.Error() != err.Error()) {
				t.Errorf("Inspect().Err = %v, Verify = %v", in.Err, err)
			}
		})
	}
}

func TestInspectV1a(t *testing.T) {
	t.Parallel()
	vec := v1aVectors[0]
	v := mustVerifier(t, time.Unix(vecTS, 0), vecSecret, vec.publicKey, vec.secretKey)
	in := v.Inspect(headers("webhook-", vecID, strconv.Itoa(vecTS), vec.sig), []byte(vecBody))
	if in.Err != nil || in.Matched != 1 {
		t.Fatalf("Inspect = %+v", in)
	}
	// A public key cannot sign, so it expects nothing it could show; the
	// secret key shows its signature.
	if want := []string{vecSig, "", vec.sig}; len(in.Expected) != 3 || in.Expected[0] != want[0] || in.Expected[1] != "" || in.Expected[2] != want[2] {
		t.Errorf("Expected = %q, want %q", in.Expected, want)
	}
}

// TestPinKeySet: a pin by key set trusts the kids "<key set>.*" and no
// other, not those of a key set its name is a prefix of; and a receiver
// pinned so takes the key its endpoint rotated to from the set fetched
// again, with no change of its own.
func TestPinKeySet(t *testing.T) {
	t.Parallel()
	pin := PinKeySet("ks_abc")
	for kid, want := range map[string]bool{
		"ks_abc.tp1": true, "ks_abc.": true,
		"ks_abc": false, "ks_abcd.tp1": false, "ks_ab.tp1": false, "tp1": false, "": false, "xks_abc.tp1": false,
	} {
		if got := pin(kid); got != want {
			t.Errorf("PinKeySet(ks_abc)(%q) = %v, want %v", kid, got, want)
		}
	}
	if PinKeySet("")(".tp1") || PinKeySet("")("") {
		t.Error("an empty key set trusts a kid")
	}

	now := time.Unix(vecTS, 0)
	body := []byte(vecBody)
	old, rotated := v1aVectors[0], v1aVectors[1]
	setOf := func(publicKey string) []byte {
		tp, err := Thumbprint(publicKey)
		if err != nil {
			t.Fatal(err)
		}
		mine, _ := NewJWK(publicKey, "ks_abc."+tp)
		_, otherPK := NewKeyPair()
		otherTP, _ := Thumbprint(otherPK)
		other, _ := NewJWK(otherPK, "ks_other."+otherTP)
		b, _ := json.Marshal(JWKSet{Keys: []JWK{other, mine}})
		return b
	}
	for name, tc := range map[string]struct{ publicKey, sig string }{
		"before the rotation": {old.publicKey, old.sig},
		"after the rotation":  {rotated.publicKey, rotated.sig},
	} {
		v, err := NewVerifierJWKS(setOf(tc.publicKey), pin)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v.Now = func() time.Time { return now }
		if err := v.Verify(headers("webhook-", vecID, strconv.Itoa(vecTS), tc.sig), body); err != nil {
			t.Errorf("%s: the same pin does not verify the key the set lists: %v", name, err)
		}
	}
}

func TestNewVerifierJWKS(t *testing.T) {
	t.Parallel()
	now := time.Unix(vecTS, 0)
	body := []byte(vecBody)
	mine, theirs := v1aVectors[0], v1aVectors[1]
	// Named as Hookline names them: <key set>.<thumbprint>.
	myTP, _ := Thumbprint(mine.publicKey)
	theirTP, _ := Thumbprint(theirs.publicKey)
	jm, _ := NewJWK(mine.publicKey, "ks_mine."+myTP)
	jt, _ := NewJWK(theirs.publicKey, "ks_theirs."+theirTP)
	set := func(extra ...string) []byte {
		a, _ := json.Marshal(jm)
		b, _ := json.Marshal(jt)
		return []byte(`{"keys":[` + strings.Join(append([]string{string(a), string(b)}, extra...), ",") + `]}`)
	}
	pinMine := PinKeySet("ks_mine")
	verify := func(t *testing.T, v *Verifier, sig string) error {
		v.Now = func() time.Time { return now }
		return v.Verify(headers("webhook-", vecID, strconv.Itoa(vecTS), sig), body)
	}

	// A set of several endpoints' keys cannot be trusted whole: unpinned,
	// it makes no Verifier, rather than one that takes another endpoint's
	// signature as mine. Pinned, only my key verifies.
	if _, err := NewVerifierJWKS(set(), nil); err == nil || !strings.Contains(err.Error(), "2 Ed25519 keys") {
		t.Fatalf("unpinned set of two keys: %v; want an error asking for a pin", err)
	}
	v, err := NewVerifierJWKS(set(`{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"rsa"}`, `{"kty":"OKP","crv":"X25519","x":"AAAA","kid":"x"}`), pinMine)
	if err != nil {
		t.Fatalf("a set with keys of other types: %v", err)
	}
	if err := verify(t, v, mine.sig); err != nil {
		t.Errorf("pinned key: %v", err)
	}
	if err := verify(t, v, theirs.sig); !errors.Is(err, ErrNoMatchingSignature) || !strings.Contains(err.Error(), "against 1 public key") {
		t.Errorf("another endpoint's key accepted by a pinned verifier: %v", err)
	}

	for name, tc := range map[string]struct {
		jwks string
		pin  func(string) bool
		want string
	}{
		"not JSON":         {jwks: "keys", want: "not a JWK set"},
		"no keys":          {jwks: `{"keys":[]}`, want: "no trusted Ed25519 key (0 keys"},
		"none pinned":      {jwks: string(set()), pin: func(string) bool { return false }, want: "no trusted Ed25519 key (2 keys"},
		"private key":      {jwks: string(set(`{"kty":"OKP","crv":"Ed25519","x":"` + jm.X + `","d":"secret","kid":"leak"}`)), want: `"leak" holds a private key`},
		"short x":          {jwks: `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"short"}]}`, want: `"short": x is not`},
		"padded x":         {jwks: `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + jm.X + `=","kid":"pad"}]}`, want: "x is not"},
		"encryption use":   {jwks: `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + jm.X + `","use":"enc"}]}`, want: `use "enc"`},
		"other algorithm":  {jwks: `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + jm.X + `","alg":"ES256"}]}`, want: `alg "ES256"`},
		"only other types": {jwks: `{"keys":[{"kty":"EC","crv":"P-256"}]}`, want: "no trusted Ed25519 key (1 key"},
		"unpinned, three":  {jwks: string(set(`{"kty":"OKP","crv":"Ed25519","x":"` + jm.X + `","kid":"again"}`)), want: "3 Ed25519 keys"},
	} {
		if _, err := NewVerifierJWKS([]byte(tc.jwks), tc.pin); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewVerifierJWKS = %v, want an error containing %q", name, err, tc.want)
		}
	}
	// A set of one ed25519 key (beside keys of other types) needs no pin:
	// there is nothing else in it to trust by mistake.
	v, err = NewVerifierJWKS([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"OKP","crv":"Ed25519","x":"`+jm.X+`"}]}`), nil)
	if err != nil {
		t.Fatalf("unpinned set of one ed25519 key: %v", err)
	}
	if err := verify(t, v, mine.sig); err != nil {
		t.Errorf("the one key of an unpinned set: %v", err)
	}
	// alg "Ed25519" (RFC 9864) and no use/alg at all are ed25519 too.
	for _, extra := range []string{`,"alg":"Ed25519"`, ``} {
		if _, err := NewVerifierJWKS([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"`+jm.X+`"`+extra+`}]}`), nil); err != nil {
			t.Errorf("key with %q: %v", extra, err)
		}
	}
}

// TestSignHeadersEd25519: an ed25519 key signs v1a, beside v1 during a
// switch from HMAC, and the Stripe scheme leaves it out.
func TestSignHeadersEd25519(t *testing.T) {
	t.Parallel()
	sk, pk := NewKeyPair()
	hs := NewSecret()
	body := []byte(`{"id":"evt_1"}`)
	now := time.Now()
	h := http.Header{}
	if err := SignHeaders(h, SchemeStandard, "evt_1", now, body, []string{sk, hs}, NewSigner); err != nil {
		t.Fatal(err)
	}
	sig := h.Get(HeaderSignature)
	if entries := strings.Fields(sig); len(entries) != 2 || !strings.HasPrefix(entries[0], "v1a,") || !strings.HasPrefix(entries[1], "v1,") {
		t.Fatalf("signature header %q, want a v1a and a v1 entry", sig)
	}
	for _, key := range []string{pk, hs} {
		if err := mustVerifier(t, now, key).Verify(h, body); err != nil {
			t.Errorf("verifying with %.10s…: %v", key, err)
		}
	}
	h = http.Header{}
	if err := SignHeaders(h, SchemeStripe, "evt_1", now, body, []string{hs, sk}, NewSigner); err != nil {
		t.Fatal(err)
	}
	if err := VerifyStripe(h.Get(StripeHeader), body, time.Minute, now, hs); err != nil || strings.Count(h.Get(StripeHeader), "v1=") != 1 {
		t.Errorf("stripe header %q: %v", h.Get(StripeHeader), err)
	}
	if err := SignHeaders(http.Header{}, SchemeStripe, "evt_1", now, body, []string{sk}, NewSigner); err == nil {
		t.Error("the stripe scheme signed with an ed25519 key alone")
	}
}

// FuzzNewVerifierJWKS: no JWK set, however malformed, panics; a set that
// makes a Verifier gives one that answers.
func FuzzNewVerifierJWKS(f *testing.F) {
	jm, _ := NewJWK(v1aVectors[0].publicKey, "ep_1.x")
	good, _ := json.Marshal(JWKSet{Keys: []JWK{jm}})
	f.Add(good)
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, jwks []byte) {
		v, err := NewVerifierJWKS(jwks, nil)
		if err != nil {
			return
		}
		v.Now = func() time.Time { return time.Unix(vecTS, 0) }
		_ = v.Verify(headers("webhook-", vecID, strconv.Itoa(vecTS), v1aVectors[0].sig), []byte(vecBody))
	})
}

func BenchmarkSignV1a(b *testing.B) {
	sk, _ := NewKeyPair()
	s := mustSigner(b, sk)
	body := []byte(strings.Repeat("x", 1024))
	ts := time.Unix(vecTS, 0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		s.Sign(vecID, ts, body)
	}
}

func BenchmarkVerifyV1a(b *testing.B) {
	sk, pk := NewKeyPair()
	body := []byte(strings.Repeat("x", 1024))
	now := time.Unix(vecTS, 0)
	v := mustVerifier(b, now, pk)
	h := headers("webhook-", vecID, strconv.Itoa(vecTS), mustSigner(b, sk).Sign(vecID, now, body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// fuzzNow is the clock of the fuzzed verifications.
var fuzzNow = time.Unix(1_700_000_000, 0)

// signatureHeaders are every header some source type reads a signature,
// token or timestamp from; the fuzzer fills them all.
var signatureHeaders = []string{"Stripe-Signature", "X-Hub-Signature-256", "X-Hub-Signature", "X-Shopify-Hmac-Sha256",
	"Shopify-Hmac-Sha256", "X-Slack-Signature", "X-Twilio-Signature", "Webhook-Signature", "Svix-Signature", "Authorization"}

// bodySigners sign a body as each provider does, written apart from the
// verifiers: what they sign must verify, and the same signature over
// another body must not.
var bodySigners = map[string]func(secret string, body []byte) http.Header{
	hookline.SourceGitHub: func(secret string, body []byte) http.Header {
		return http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(hmacSHA256(secret, body))}}
	},
	hookline.SourceShopify: func(secret string, body []byte) http.Header {
		return http.Header{"X-Shopify-Hmac-Sha256": {base64.StdEncoding.EncodeToString(hmacSHA256(secret, body))}}
	},
	hookline.SourceStripe: func(secret string, body []byte) http.Header {
		ts := strconv.FormatInt(fuzzNow.Unix(), 10)
		return http.Header{"Stripe-Signature": {"t=" + ts + ",v1=" + hex.EncodeToString(hmacSHA256(secret, []byte(ts+"."), body))}}
	},
	hookline.SourceSlack: func(secret string, body []byte) http.Header {
		ts := strconv.FormatInt(fuzzNow.Unix(), 10)
		return http.Header{"X-Slack-Request-Timestamp": {ts},
			"X-Slack-Signature": {"v0=" + hex.EncodeToString(hmacSHA256(secret, []byte("v0:"+ts+":"), body))}}
	},
}

func hmacSHA256(secret string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// FuzzVerify sends every source type arbitrary signatures, timestamps,
// URLs and bodies. No input panics; a verification fails only with a
// *VerifyError (Twilio also with an unparseable URL, which the server
// never makes); no type but none accepts a request that carries no
// credential; and what a provider signs verifies while the same signature
// over another body does not. The seeds run as an ordinary test.
func FuzzVerify(f *testing.F) {
	stripeSeed := bodySigners[hookline.SourceStripe]("whsec_test", []byte(`{"id":"evt_1"}`)).Get("Stripe-Signature")
	for i := range Types() {
		f.Add(uint8(i), `{}`, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "https://hooks.example/in/src_1?bodySHA256=ab",
			"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "1614265330", "application/json", []byte(`{"test": 2432232314}`))
		f.Add(uint8(i), `{"header":"X-Sig","algorithm":"sha256","encoding":"hex","prefix":"sha256="}`, "s3cret",
			"http://127.0.0.1/in/src_1?token=s3cret", "sha256=00ff", "1700000000", "application/x-www-form-urlencoded",
			[]byte("a=1&b=%zz"))
		f.Add(uint8(i), `{"query_param":"token","username":"u","allow_sha1":true,"tolerance_seconds":3600}`, "t0k",
			"http://[::1]:8080/in/x?token=t0k", "Basic dTp0MGs=", "-1", "", []byte{0xff, 0x00})
	}
	f.Add(uint8(0), `{}`, "whsec_test", "http://127.0.0.1/in/src_1", stripeSeed, "", "application/json", []byte(`{"id":"evt_1"}`))
	f.Add(uint8(3), `{"url":"%zz"}`, "tok", "::not a url", "t=1,v1=zz,v1=", "99999999999999999999", "text/plain; charset=\xff", []byte(nil))
	f.Fuzz(func(t *testing.T, typ uint8, options, secret, rawURL, sig, ts, contentType string, body []byte) {
		types := Types()
		src := &hookline.Source{Type: types[int(typ)%len(types)], Secret: secret}
		_ = json.Unmarshal([]byte(options), &src.Options) // options that do not decode stay empty
		if Check(src) != nil {
			return // refused when saved: never verifies anything
		}
		h := http.Header{"Content-Type": {contentType}, "Webhook-Id": {"msg_1"}, "Svix-Id": {"msg_1"},
			"Webhook-Timestamp": {ts}, "Svix-Timestamp": {ts}, "X-Slack-Request-Timestamp": {ts}}
		for _, name := range append(signatureHeaders, src.Options.Header) {
			if name != "" {
				h.Set(name, sig)
			}
		}
		err := Verify(src, &Request{URL: rawURL, Header: h, Body: Body{body}}, fuzzNow)
		var ve *VerifyError
		if err != nil && !errors.As(err, &ve) && src.Type != hookline.SourceTwilio {
			t.Fatalf("%s: Verify failed with %T %v, not a *VerifyError", src.Type, err, err)
		}

		bare := &Request{URL: "http://127.0.0.1/in/src_1", Header: http.Header{"Content-Type": {contentType}}, Body: Body{body}}
		if err := Verify(src, bare, fuzzNow); err == nil && src.Type != hookline.SourceNone {
			t.Fatalf("%s (options %s) accepted a request without any credential", src.Type, options)
		}

		sign, ok := bodySigners[src.Type]
		if !ok {
			return
		}
		signed := sign(secret, body)
		if err := Verify(src, &Request{URL: rawURL, Header: signed, Body: Body{body}}, fuzzNow); err != nil {
			t.Fatalf("%s: a body signed as the provider signs it was refused: %v", src.Type, err)
		}
		// As the server reads it: in pieces, hashed one after the other.
		half := len(body) / 2
		if err := Verify(src, &Request{URL: rawURL, Header: signed, Body: Body{body[:half], nil, body[half:]}}, fuzzNow); err != nil {
			t.Fatalf("%s: a signed body read in pieces was refused: %v", src.Type, err)
		}
		other := append(append([]byte(nil), body...), 'x')
		if err := Verify(src, &Request{URL: rawURL, Header: signed, Body: Body{other}}, fuzzNow); err == nil {
			t.Fatalf("%s: a signature verified another body", src.Type)
		}
	})
}

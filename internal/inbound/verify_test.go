package inbound

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v75/github"
	"github.com/slack-go/slack"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v82/webhook"
	twilio "github.com/twilio/twilio-go/client"

	"github.com/hookline/hookline/internal/hookline"
)

// reason returns the VerifyError reason of err, "" for nil, or fails.
func reason(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *VerifyError", err)
	}
	return ve.Reason
}

func TestStripePeer(t *testing.T) {
	t.Parallel()
	const secret = "whsec_test_secret_for_hookline"
	body := []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}`)
	now := time.Now()
	src := &hookline.Source{Type: hookline.SourceStripe, Secret: secret}
	cases := []struct {
		name   string
		signed *webhook.SignedPayload
		body   []byte
		secret string
		want   string
	}{
		{"valid", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now}), body, secret, ""},
		{"tampered body", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now}),
			[]byte(strings.Replace(string(body), "succeeded", "failed", 1)), secret, ReasonMismatch},
		{"wrong secret", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_other", Timestamp: now}), body, secret, ReasonMismatch},
		{"expired", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now.Add(-6 * time.Minute)}), body, secret, ReasonExpired},
		{"v0 scheme only", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now, Scheme: "v0"}), body, secret, ReasonMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Stripe-Signature": {c.signed.Header}}
			got := reason(t, Verify(src, &Request{Header: h, Body: Body{c.body}}, now))
			if got != c.want {
				t.Fatalf("reason %q, want %q", got, c.want)
			}
			// stripe-go agrees on what is valid.
			_, perr := webhook.ConstructEventWithOptions(c.body, c.signed.Header, c.secret, webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
			if peerOK := perr == nil && c.secret == secret; peerOK != (c.want == "") {
				t.Fatalf("stripe-go says valid=%v (%v); Hookline says %q", perr == nil, perr, got)
			}
		})
	}
	// Several v1 signatures (a secret being rolled): any may match.
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now})
	other := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_old", Timestamp: now})
	hdr := fmt.Sprintf("t=%d,v1=%s,v1=%s", now.Unix(), hex.EncodeToString(other.Signature), hex.EncodeToString(sp.Signature))
	if err := Verify(src, &Request{Header: http.Header{"Stripe-Signature": {hdr}}, Body: Body{body}}, now); err != nil {
		t.Fatalf("second v1 signature not accepted: %v", err)
	}
}

func TestGitHubVectorAndPeer(t *testing.T) {
	t.Parallel()
	// The example in GitHub's "Validating webhook deliveries" docs.
	const secret = "It's a Secret to Everybody"
	const sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	body := []byte("Hello, World!")
	src := &hookline.Source{Type: hookline.SourceGitHub, Secret: secret}
	now := time.Now()
	cases := []struct {
		name   string
		header http.Header
		body   []byte
		src    *hookline.Source
		want   string
	}{
		{"docs vector", http.Header{"X-Hub-Signature-256": {sig}}, body, src, ""},
		{"tampered body", http.Header{"X-Hub-Signature-256": {sig}}, []byte("Hello, World?"), src, ReasonMismatch},
		{"wrong secret", http.Header{"X-Hub-Signature-256": {sig}}, body, &hookline.Source{Type: hookline.SourceGitHub, Secret: "nope"}, ReasonMismatch},
		{"missing", http.Header{}, body, src, ReasonMissing},
		{"no prefix", http.Header{"X-Hub-Signature-256": {strings.TrimPrefix(sig, "sha256=")}}, body, src, ReasonMalformed},
		{"sha1 not allowed", http.Header{"X-Hub-Signature": {sha1Sig(secret, body)}}, body, src, ReasonMissing},
		{"sha1 allowed", http.Header{"X-Hub-Signature": {sha1Sig(secret, body)}}, body,
			&hookline.Source{Type: hookline.SourceGitHub, Secret: secret, Options: hookline.SourceOptions{AllowSHA1: true}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := reason(t, Verify(c.src, &Request{Header: c.header, Body: Body{c.body}}, now))
			if got != c.want {
				t.Fatalf("reason %q, want %q", got, c.want)
			}
			// go-github agrees wherever a SHA-256 signature is involved.
			if s := c.header.Get("X-Hub-Signature-256"); s != "" {
				perr := github.ValidateSignature(s, c.body, []byte(c.src.Secret))
				if (perr == nil) != (c.want == "") {
					t.Fatalf("go-github says %v; Hookline says %q", perr, got)
				}
			}
		})
	}
}

func sha1Sig(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

func TestShopifyVector(t *testing.T) {
	t.Parallel()
	// A published pair (sqlpage's Shopify example, in hex and in base64).
	const secret = "test-webhook-secret"
	body := []byte(`{"id":1234567890,"email":"customer@example.com","total_price":"123.45"}`)
	const sig = "QNyObTlKbMx2qDlPF/ZOZcBqg5OgPg+2oky3zldc0Gw="
	src := &hookline.Source{Type: hookline.SourceShopify, Secret: secret}
	cases := []struct {
		name string
		h    http.Header
		body []byte
		src  *hookline.Source
		want string
	}{
		{"vector", http.Header{"X-Shopify-Hmac-Sha256": {sig}}, body, src, ""},
		{"newer header name", http.Header{"Shopify-Hmac-Sha256": {sig}}, body, src, ""},
		{"tampered body", http.Header{"X-Shopify-Hmac-Sha256": {sig}}, append([]byte(" "), body...), src, ReasonMismatch},
		{"wrong secret", http.Header{"X-Shopify-Hmac-Sha256": {sig}}, body, &hookline.Source{Type: hookline.SourceShopify, Secret: "x"}, ReasonMismatch},
		{"missing", http.Header{}, body, src, ReasonMissing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := reason(t, Verify(c.src, &Request{Header: c.h, Body: Body{c.body}}, time.Now())); got != c.want {
				t.Fatalf("reason %q, want %q", got, c.want)
			}
		})
	}
}

// slackSign signs like Slack does, to build requests that slack-go's
// SecretsVerifier then judges independently.
func slackSign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func TestSlackPeer(t *testing.T) {
	t.Parallel()
	// slack-go's security_test.go vector.
	const secret = "e6b19c573432dcc6b075501d51b51bb8"
	vectorBody := []byte(`{"token":"aF5ynEYQH0dFN9imlgcADxDB","team_id":"XXXXXXXXX","api_app_id":"YYYYYYYYY","event":{"type":"app_mention","user":"AAAAAAAAA","text":"<@EEEEEEEEE> hello world","client_msg_id":"477cc591-ch73-a14z-4db8-g0cd76321bec","ts":"1531431954.000073","channel":"TTTTTTTTT","event_ts":"1531431954.000073"},"type":"event_callback","event_id":"TvBP7LRED7","event_time":1531431954,"authed_users":["EEEEEEEEE"]}`)
	vectorAt := time.Unix(1531431954, 0).Add(time.Minute)
	vh := http.Header{"X-Slack-Signature": {"v0=adada4ed31709aef585c2580ca3267678c6a8eaeb7e0c1aca3ee57b656886b2c"},
		"X-Slack-Request-Timestamp": {"1531431954"}}
	src := &hookline.Source{Type: hookline.SourceSlack, Secret: secret}
	if err := Verify(src, &Request{Header: vh, Body: Body{vectorBody}}, vectorAt); err != nil {
		t.Fatalf("slack-go vector rejected: %v", err)
	}

	now := time.Now()
	body := []byte(`token=x&team_id=T1&command=%2Fdeploy&text=prod`)
	ts := strconv.FormatInt(now.Unix(), 10)
	old := strconv.FormatInt(now.Add(-10*time.Minute).Unix(), 10)
	future := strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10)
	cases := []struct {
		name, ts, sig string
		body          []byte
		want          string
	}{
		{"valid", ts, slackSign(secret, ts, body), body, ""},
		{"tampered body", ts, slackSign(secret, ts, body), append(body, '!'), ReasonMismatch},
		{"wrong secret", ts, slackSign("0123456789abcdef0123456789abcdef", ts, body), body, ReasonMismatch},
		{"expired", old, slackSign(secret, old, body), body, ReasonExpired},
		{"from the future", future, slackSign(secret, future, body), body, ReasonExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"X-Slack-Signature": {c.sig}, "X-Slack-Request-Timestamp": {c.ts}}
			got := reason(t, Verify(src, &Request{Header: h, Body: Body{c.body}}, now))
			if got != c.want {
				t.Fatalf("reason %q, want %q", got, c.want)
			}
			sv, err := slack.NewSecretsVerifier(h, secret)
			peerOK := err == nil
			if err == nil {
				_, _ = sv.Write(c.body)
				peerOK = sv.Ensure() == nil
			}
			if peerOK != (c.want == "") {
				t.Fatalf("slack-go says valid=%v (%v); Hookline says %q", peerOK, err, got)
			}
		})
	}
}

func twilioSign(token, u string, form url.Values) string {
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(u))
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		m.Write([]byte(k + form.Get(k)))
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestTwilioVectorAndPeer(t *testing.T) {
	t.Parallel()
	// twilio-go's request_validator_test.go vector.
	const token = "12345"
	const testURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
	form := url.Values{}
	for k, v := range map[string]string{"Digits": "1234", "CallSid": "CA1234567890ABCDE", "To": "+18005551212",
		"Caller": "+14158675309", "From": "+14158675309", "ReasonConferenceEnded": "test", "Reason": "Participant"} {
		form.Set(k, v)
	}
	formBody := []byte(form.Encode())
	formHeader := func(sig string) http.Header {
		return http.Header{"X-Twilio-Signature": {sig}, "Content-Type": {"application/x-www-form-urlencoded"}}
	}
	src := &hookline.Source{Type: hookline.SourceTwilio, Secret: token}
	jsonBody := []byte(`{"property": "value", "boolean": true}`)
	sum := sha256.Sum256(jsonBody)
	jsonURL := "https://mycompany.com/myapp.php?bodySHA256=" + hex.EncodeToString(sum[:])
	jsonSig := twilioSign(token, jsonURL, nil)
	cases := []struct {
		name string
		url  string
		h    http.Header
		body []byte
		src  *hookline.Source
		want string
	}{
		{"vector", testURL, formHeader("vOEb5UThFn24KEfnOFLQY2AE5FY="), formBody, src, ""},
		{"vector with the default port", "https://mycompany.com:443/myapp.php?foo=1&bar=2", formHeader("vOEb5UThFn24KEfnOFLQY2AE5FY="), formBody, src, ""},
		{"tampered param", testURL, formHeader("vOEb5UThFn24KEfnOFLQY2AE5FY="), []byte(strings.Replace(string(formBody), "1234&", "9999&", 1)), src, ReasonMismatch},
		{"wrong token", testURL, formHeader("vOEb5UThFn24KEfnOFLQY2AE5FY="), formBody, &hookline.Source{Type: hookline.SourceTwilio, Secret: "54321"}, ReasonMismatch},
		{"json bodySHA256", jsonURL, http.Header{"X-Twilio-Signature": {jsonSig}, "Content-Type": {"application/json"}}, jsonBody, src, ""},
		{"json tampered", jsonURL, http.Header{"X-Twilio-Signature": {jsonSig}, "Content-Type": {"application/json"}}, []byte(`{"property": "other"}`), src, ReasonMismatch},
		{"missing", testURL, http.Header{}, formBody, src, ReasonMissing},
		// Signed over the URL alone, any body would pass: refused.
		{"json without bodySHA256", testURL, http.Header{"X-Twilio-Signature": {twilioSign(token, testURL, nil)}, "Content-Type": {"application/json"}}, jsonBody, src, ReasonMissing},
		{"untyped body without bodySHA256", testURL, http.Header{"X-Twilio-Signature": {twilioSign(token, testURL, nil)}}, jsonBody, src, ReasonMissing},
		{"bodiless request signed over its URL", testURL, http.Header{"X-Twilio-Signature": {twilioSign(token, testURL, nil)}}, nil, src, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := reason(t, Verify(c.src, &Request{URL: c.url, Header: c.h, Body: Body{c.body}}, time.Now()))
			if got != c.want {
				t.Fatalf("reason %q, want %q", got, c.want)
			}
			if c.h.Get("X-Twilio-Signature") == "" {
				return
			}
			v := twilio.NewRequestValidator(c.src.Secret)
			peerOK := v.ValidateBody(c.url, c.body, c.h.Get("X-Twilio-Signature"))
			if peerOK != (c.want == "") {
				t.Fatalf("twilio-go says valid=%v; Hookline says %q", peerOK, got)
			}
		})
	}
}

func TestStandardPeer(t *testing.T) {
	t.Parallel()
	// The Standard Webhooks published vector.
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	src := &hookline.Source{Type: hookline.SourceStandard, Secret: secret}
	vh := http.Header{"Webhook-Id": {"msg_p5jXN8AQM9LWM0D4loKWxJek"}, "Webhook-Timestamp": {"1614265330"},
		"Webhook-Signature": {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}}
	if err := Verify(src, &Request{Header: vh, Body: Body{[]byte(`{"test": 2432232314}`)}}, time.Unix(1614265330, 0)); err != nil {
		t.Fatalf("published vector rejected: %v", err)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	body := []byte(`{"type":"invoice.paid"}`)
	sig, err := wh.Sign("msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	oldSig, _ := wh.Sign("msg_1", now.Add(-time.Hour), body)
	cases := []struct {
		name   string
		prefix string
		ts     time.Time
		sig    string
		body   []byte
		want   string
	}{
		{"valid", "Webhook-", now, sig, body, ""},
		{"svix headers", "Svix-", now, sig, body, ""},
		{"tampered", "Webhook-", now, sig, []byte(`{"type":"invoice.void"}`), ReasonMismatch},
		{"expired", "Webhook-", now.Add(-time.Hour), oldSig, body, ReasonExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(c.prefix+"Id", "msg_1")
			h.Set(c.prefix+"Timestamp", strconv.FormatInt(c.ts.Unix(), 10))
			h.Set(c.prefix+"Signature", c.sig)
			if got := reason(t, Verify(src, &Request{Header: h, Body: Body{c.body}}, now)); got != c.want {
				t.Fatalf("reason %q, want %q", got, c.want)
			}
		})
	}
}

func TestConfigurableTypes(t *testing.T) {
	t.Parallel()
	body := []byte("<xml>hello</xml>")
	m := hmac.New(sha256.New, []byte("k"))
	m.Write(body)
	hexSig, b64Sig := hex.EncodeToString(m.Sum(nil)), base64.StdEncoding.EncodeToString(m.Sum(nil))
	hmacSrc := func(enc, prefix string) *hookline.Source {
		return &hookline.Source{Type: hookline.SourceHMAC, Secret: "k",
			Options: hookline.SourceOptions{Header: "X-Sig", Algorithm: "sha256", Encoding: enc, Prefix: prefix}}
	}
	gitlab := &hookline.Source{Type: hookline.SourceToken, Secret: "tok", Options: hookline.SourceOptions{Header: "X-Gitlab-Token"}}
	query := &hookline.Source{Type: hookline.SourceToken, Secret: "tok", Options: hookline.SourceOptions{QueryParam: "auth"}}
	basic := &hookline.Source{Type: hookline.SourceBasic, Secret: "pw", Options: hookline.SourceOptions{Username: "u"}}
	basicHdr := func(u, p string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))}}
	}
	cases := []struct {
		name string
		src  *hookline.Source
		url  string
		h    http.Header
		want string
	}{
		{"hmac hex with prefix", hmacSrc("hex", "sha256="), "", http.Header{"X-Sig": {"sha256=" + hexSig}}, ""},
		{"hmac base64", hmacSrc("base64", ""), "", http.Header{"X-Sig": {b64Sig}}, ""},
		{"hmac wrong prefix", hmacSrc("hex", "sha256="), "", http.Header{"X-Sig": {hexSig}}, ReasonMalformed},
		{"hmac mismatch", hmacSrc("hex", ""), "", http.Header{"X-Sig": {strings.Repeat("0", 64)}}, ReasonMismatch},
		{"gitlab token", gitlab, "", http.Header{"X-Gitlab-Token": {"tok"}}, ""},
		{"gitlab wrong token", gitlab, "", http.Header{"X-Gitlab-Token": {"tok2"}}, ReasonMismatch},
		{"gitlab no token", gitlab, "", http.Header{}, ReasonMissing},
		{"query token", query, "https://h/in/src_1?auth=tok", http.Header{}, ""},
		{"query wrong token", query, "https://h/in/src_1?auth=x", http.Header{}, ReasonMismatch},
		{"basic", basic, "", basicHdr("u", "pw"), ""},
		{"basic wrong password", basic, "", basicHdr("u", "px"), ReasonMismatch},
		{"basic wrong user", basic, "", basicHdr("v", "pw"), ReasonMismatch},
		{"basic missing", basic, "", http.Header{}, ReasonMissing},
		{"none", &hookline.Source{Type: hookline.SourceNone}, "", http.Header{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := Check(c.src); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := reason(t, Verify(c.src, &Request{URL: c.url, Header: c.h, Body: Body{body}}, time.Now())); got != c.want {
				t.Fatalf("reason %q, want %q", got, c.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		src   hookline.Source
		param string
	}{
		{"unknown type", hookline.Source{Type: "paypal"}, "type"},
		{"stripe without secret", hookline.Source{Type: hookline.SourceStripe}, "secret"},
		{"standard with a bad secret", hookline.Source{Type: hookline.SourceStandard, Secret: "whsec_!!"}, "secret"},
		{"hmac without header", hookline.Source{Type: hookline.SourceHMAC, Secret: "k"}, "options.header"},
		{"hmac bad algorithm", hookline.Source{Type: hookline.SourceHMAC, Secret: "k", Options: hookline.SourceOptions{Header: "X", Algorithm: "md5"}}, "options.algorithm"},
		{"token without place", hookline.Source{Type: hookline.SourceToken, Secret: "k"}, "options.header"},
		{"negative tolerance", hookline.Source{Type: hookline.SourceStripe, Secret: "k", Options: hookline.SourceOptions{ToleranceSeconds: -1}}, "options.tolerance_seconds"},
		{"tolerance past an hour", hookline.Source{Type: hookline.SourceStripe, Secret: "k", Options: hookline.SourceOptions{ToleranceSeconds: 3601}}, "options.tolerance_seconds"},
		{"tolerance of years", hookline.Source{Type: hookline.SourceSlack, Secret: "k", Options: hookline.SourceOptions{ToleranceSeconds: 1 << 30}}, "options.tolerance_seconds"},
	}
	for _, tol := range []int{0, 1, 3600} {
		if err := Check(&hookline.Source{Type: hookline.SourceStripe, Secret: "k", Options: hookline.SourceOptions{ToleranceSeconds: tol}}); err != nil {
			t.Errorf("tolerance_seconds %d refused: %v", tol, err)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check(&c.src)
			if hookline.ErrorCode(err) != hookline.EINVALID || hookline.ErrorParam(err) != c.param {
				t.Fatalf("Check = %v, want EINVALID on %s", err, c.param)
			}
		})
	}
}

func TestDedupeKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		typ  string
		h    http.Header
		body string
		want string
	}{
		{hookline.SourceStripe, nil, `{"id":"evt_123","type":"x"}`, "evt_123"},
		{hookline.SourceStripe, nil, `not json`, ""},
		{hookline.SourceGitHub, http.Header{"X-Github-Delivery": {"72d3162e"}}, `{}`, "72d3162e"},
		{hookline.SourceShopify, http.Header{"X-Shopify-Webhook-Id": {"b54557e4"}}, `{}`, "b54557e4"},
		{hookline.SourceStandard, http.Header{"Webhook-Id": {"msg_1"}}, `{}`, "msg_1"},
		{hookline.SourceStandard, http.Header{"Svix-Id": {"msg_2"}}, `{}`, "msg_2"},
		{hookline.SourceSlack, http.Header{}, `{}`, ""},
	}
	for _, c := range cases {
		if got := DedupeKey(c.typ, c.h, Body{[]byte(c.body)}); got != c.want {
			t.Errorf("DedupeKey(%s, %v, %s) = %q, want %q", c.typ, c.h, c.body, got, c.want)
		}
	}
}

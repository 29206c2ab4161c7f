package inbound

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// twilioNodeDir is where scripts/ensure-twilio-node.sh installs twilio-node:
// HOOKLINE_TWILIO_NODE, or hookline/twilio-node in the user's cache
// directory.
func twilioNodeDir(t *testing.T) string {
	if dir := os.Getenv("HOOKLINE_TWILIO_NODE"); dir != "" {
		return dir
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("no cache directory to find twilio-node in (set HOOKLINE_TWILIO_NODE): %v", err)
	}
	return filepath.Join(cache, "hookline", "twilio-node")
}

// twilioNodeCase is a request as a Twilio webhook sends it: what the signer
// signed (with which token and algorithm) and what arrives (the body, the
// signature settings header, checked against the source's token).
type twilioNodeCase struct {
	name          string
	signToken     string
	signAlgorithm string // HMAC_SHA1 or HMAC_SHA256
	signBody      string
	json          bool // a JSON body, covered by the URL's bodySHA256
	token         string
	body          string // "" for signBody
	settings      string // X-Twilio-Webhooks-Signature-Settings
	want          string // Hookline's reason; "" to accept
}

// TestTwilioNodePeer has twilio-node 6.3 (npm's twilio, the version that
// sends HMAC_SHA256 for SharedKey webhooks) sign each request and judge it,
// and checks that Hookline agrees: HMAC_SHA256 named by the settings
// header is verified, repeated identical form values are signed once, and
// what twilio-node refuses Hookline refuses.
func TestTwilioNodePeer(t *testing.T) {
	t.Parallel()
	dir := twilioNodeDir(t)
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "twilio", "package.json"))
	}
	if err != nil {
		msg := "twilio-node is not installed (" + err.Error() + "): run bash scripts/ensure-twilio-node.sh"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; in CI the peer must be there, so this fails rather than skips")
		}
		t.Skip(msg)
	}

	const token = "12345"
	const sharedKey = "webhooks_sharedkey_secret_0123456789"
	const url = "https://mycompany.com/myapp.php?foo=1&bar=2"
	sha256Settings := "key=webhooks_sharedkey_1234,algorithm=HMAC_SHA256"
	call := "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212"
	media := "MessageSid=SM1&NumMedia=2&MediaUrl=https%3A%2F%2Fapi.twilio.com%2Fm%2Fa&MediaUrl=https%3A%2F%2Fapi.twilio.com%2Fm%2Fa"
	jsonBody := `{"property": "value", "boolean": true}`
	cases := []twilioNodeCase{
		{name: "sha1 form", signToken: token, signAlgorithm: "HMAC_SHA1", signBody: call, token: token},
		{name: "sha256 form", signToken: sharedKey, signAlgorithm: "HMAC_SHA256", signBody: call, token: sharedKey, settings: sha256Settings},
		{name: "sha256, algorithm in lower case and first", signToken: sharedKey, signAlgorithm: "HMAC_SHA256", signBody: call, token: sharedKey,
			settings: "algorithm=hmac_sha256, key=webhooks_sharedkey_1234"},
		{name: "sha1 named by the settings", signToken: token, signAlgorithm: "HMAC_SHA1", signBody: call, token: token,
			settings: "key=webhooks_sharedkey_1234,algorithm=HMAC_SHA1"},
		{name: "settings without an algorithm mean sha1", signToken: token, signAlgorithm: "HMAC_SHA1", signBody: call, token: token,
			settings: "key=webhooks_sharedkey_1234"},
		{name: "repeated identical values, sha1", signToken: token, signAlgorithm: "HMAC_SHA1", signBody: media, token: token},
		{name: "repeated identical values, sha256", signToken: sharedKey, signAlgorithm: "HMAC_SHA256", signBody: media, token: sharedKey, settings: sha256Settings},
		{name: "repeated values, some identical, out of order", signToken: token, signAlgorithm: "HMAC_SHA1",
			signBody: "MediaUrl=b&MediaUrl=a&MediaUrl=b&Body=hi&MediaUrl=a", token: token},
		{name: "a repeated value dropped from the body", signToken: token, signAlgorithm: "HMAC_SHA1",
			signBody: "MediaUrl=b&MediaUrl=a&MediaUrl=b", body: "MediaUrl=b&MediaUrl=a", token: token},
		{name: "a distinct value dropped from the body", signToken: token, signAlgorithm: "HMAC_SHA1",
			signBody: "MediaUrl=b&MediaUrl=a", body: "MediaUrl=b", token: token, want: ReasonMismatch},
		{name: "sha256 json bodySHA256", signToken: sharedKey, signAlgorithm: "HMAC_SHA256", signBody: jsonBody, json: true, token: sharedKey, settings: sha256Settings},
		{name: "sha256 json tampered", signToken: sharedKey, signAlgorithm: "HMAC_SHA256", signBody: jsonBody, json: true, token: sharedKey, settings: sha256Settings,
			body: `{"property": "other", "boolean": true}`, want: ReasonMismatch},
		{name: "sha256 signature without the settings", signToken: sharedKey, signAlgorithm: "HMAC_SHA256", signBody: call, token: sharedKey, want: ReasonMismatch},
		{name: "sha1 signature said to be sha256", signToken: token, signAlgorithm: "HMAC_SHA1", signBody: call, token: token, settings: sha256Settings, want: ReasonMismatch},
		{name: "sha256 with another key", signToken: sharedKey, signAlgorithm: "HMAC_SHA256", signBody: call, token: token, settings: sha256Settings, want: ReasonMismatch},
		{name: "sha256 tampered form", signToken: sharedKey, signAlgorithm: "HMAC_SHA256", signBody: call, body: call + "&Extra=1", token: sharedKey, settings: sha256Settings, want: ReasonMismatch},
		{name: "unsupported algorithm", signToken: token, signAlgorithm: "HMAC_SHA1", signBody: call, token: token,
			settings: "key=webhooks_sharedkey_1234,algorithm=HMAC_MD5", want: ReasonMalformed},
	}

	// What the peer gets: the URL it signs (with bodySHA256 for JSON).
	type peerCase struct {
		SignToken     string `json:"signToken"`
		SignAlgorithm string `json:"signAlgorithm"`
		SignBody      string `json:"signBody"`
		JSON          bool   `json:"json"`
		Token         string `json:"token"`
		URL           string `json:"url"`
		Body          string `json:"body"`
		Settings      string `json:"settings"`
	}
	urls := make([]string, len(cases))
	in := make([]peerCase, len(cases))
	for i, c := range cases {
		if c.body == "" {
			cases[i].body = c.signBody
		}
		urls[i] = url
		if c.json {
			sum := sha256.Sum256([]byte(c.signBody))
			urls[i] = "https://mycompany.com/myapp.php?bodySHA256=" + hex.EncodeToString(sum[:])
		}
		in[i] = peerCase{c.signToken, c.signAlgorithm, c.signBody, c.json, c.token, urls[i], cases[i].body, c.settings}
	}
	input, _ := json.Marshal(in)
	cmd := exec.Command(node, filepath.Join("testdata", "twilio-node", "peer.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	output, err := cmd.Output()
	if err != nil {
		t.Fatalf("twilio-node peer: %v\n%s", err, stderr.Bytes())
	}
	var peer []struct {
		Signature string `json:"signature"`
		Valid     bool   `json:"valid"`
	}
	if err := json.Unmarshal(output, &peer); err != nil || len(peer) != len(cases) {
		t.Fatalf("twilio-node peer answered %q (%v), want %d results", output, err, len(cases))
	}

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if peer[i].Valid != (c.want == "") {
				t.Fatalf("twilio-node says valid=%v, this case expects %q: the case is wrong", peer[i].Valid, c.want)
			}
			h := http.Header{"X-Twilio-Signature": {peer[i].Signature}, "Content-Type": {"application/x-www-form-urlencoded"}}
			if c.json {
				h.Set("Content-Type", "application/json")
			}
			if c.settings != "" {
				h.Set(twilioSettingsHeader, c.settings)
			}
			src := &hookline.Source{Type: hookline.SourceTwilio, Secret: c.token}
			got := reason(t, Verify(src, &Request{URL: urls[i], Header: h, Body: Body{[]byte(c.body)}}, time.Now()))
			if got != c.want {
				t.Fatalf("Hookline's reason %q, want %q (twilio-node: valid=%v)", got, c.want, peer[i].Valid)
			}
		})
	}
}

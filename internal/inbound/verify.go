package inbound

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Request is what a verifier looks at: the request as it arrived.
type Request struct {
	Method string
	// URL is the full URL the provider called (scheme, host, path, query);
	// Twilio signs it.
	URL    string
	Header http.Header
	// Body is hashed piece by piece: verifying joins no pieces, except a
	// Twilio form's, which is parsed.
	Body Body
}

// Why a request failed verification.
const (
	ReasonMissing   = "missing_signature"   // the signature (or token) header is absent
	ReasonMalformed = "malformed_signature" // present but unparseable
	ReasonMismatch  = "signature_mismatch"  // no signature matches: wrong secret or altered body
	ReasonExpired   = "timestamp_expired"   // the signed timestamp is outside the tolerance
)

// VerifyError is a failed verification: a Reason code and a message for
// the person reading the captured request.
type VerifyError struct {
	Reason  string
	Message string
}

func (e *VerifyError) Error() string { return e.Reason + ": " + e.Message }

func fail(reason, format string, args ...any) *VerifyError {
	return &VerifyError{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// DefaultTolerance is how old a signed timestamp may be (Stripe, Slack and
// Standard Webhooks all use five minutes).
const DefaultTolerance = 5 * time.Minute

// MaxTolerance bounds a source's tolerance_seconds: a signed request is a
// replayable credential for as long as its timestamp passes, and an hour
// stays well inside the window in which duplicates are recognised
// (hookline.DedupeWindow), so a replay within the tolerance is caught.
const MaxTolerance = time.Hour

// verifier is one source type: how to check its configuration and its
// requests.
type verifier struct {
	// check validates a source of this type; nil accepts any.
	check func(src *hookline.Source) error
	// verify returns nil or a *VerifyError.
	verify func(src *hookline.Source, r *Request, now time.Time) error
	// needsSecret says whether the type cannot work without Secret.
	needsSecret bool
}

// verifiers is every source type.
var verifiers = map[string]verifier{
	hookline.SourceStripe:   {verify: verifyStripe, needsSecret: true},
	hookline.SourceGitHub:   {verify: verifyGitHub, needsSecret: true},
	hookline.SourceShopify:  {verify: verifyShopify, needsSecret: true},
	hookline.SourceSlack:    {verify: verifySlack, needsSecret: true},
	hookline.SourceTwilio:   {verify: verifyTwilio, needsSecret: true},
	hookline.SourceStandard: {verify: verifyStandard, needsSecret: true, check: checkStandard},
	hookline.SourceHMAC:     {verify: verifyHMAC, needsSecret: true, check: checkHMAC},
	hookline.SourceToken:    {verify: verifyToken, needsSecret: true, check: checkToken},
	hookline.SourceBasic:    {verify: verifyBasic, needsSecret: true},
	hookline.SourceNone:     {verify: func(*hookline.Source, *Request, time.Time) error { return nil }},
}

// Types lists the source types, sorted.
func Types() []string {
	out := make([]string, 0, len(verifiers))
	for t := range verifiers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Check validates a source's type, secret and options, returning an
// EINVALID error naming the field at fault.
func Check(src *hookline.Source) error {
	v, ok := verifiers[src.Type]
	if !ok {
		return hookline.Invalid("type", "type %q is not one of %s", src.Type, strings.Join(Types(), ", "))
	}
	if v.needsSecret && src.Secret == "" {
		return hookline.Invalid("secret", "a %s source needs a secret", src.Type)
	}
	if src.Options.ToleranceSeconds < 0 || src.Options.ToleranceSeconds > int(MaxTolerance/time.Second) {
		return hookline.Invalid("options.tolerance_seconds", "tolerance_seconds must be from 0 to %d (one hour)", int(MaxTolerance/time.Second))
	}
	if v.check != nil {
		return v.check(src)
	}
	return nil
}

// Verify checks r against src's type. It returns nil, a *VerifyError, or
// an error for a source that cannot verify anything (bad configuration).
func Verify(src *hookline.Source, r *Request, now time.Time) error {
	v, ok := verifiers[src.Type]
	if !ok {
		return fmt.Errorf("verifying: unknown source type %q", src.Type)
	}
	return v.verify(src, r, now)
}

func orUnknown(mediaType string) string {
	if mediaType == "" {
		return "untyped"
	}
	return mediaType
}

func tolerance(src *hookline.Source) time.Duration {
	if src.Options.ToleranceSeconds > 0 {
		return time.Duration(src.Options.ToleranceSeconds) * time.Second
	}
	return DefaultTolerance
}

// mac is the HMAC of prefix, then of body, piece by piece.
func mac(newHash func() hash.Hash, key []byte, body Body, prefix ...[]byte) []byte {
	m := hmac.New(newHash, key)
	for _, p := range prefix {
		m.Write(p)
	}
	return body.hash(m).Sum(nil)
}

// equalHex compares a hex signature with an expected MAC in constant time
// (for a given length); bad hex is a mismatch.
func equalHex(sig string, want []byte) bool {
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	return err == nil && hmac.Equal(got, want)
}

func equalB64(sig string, want []byte) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	return err == nil && hmac.Equal(got, want)
}

// checkTimestamp parses a unix-seconds timestamp and checks its age; both
// says whether a timestamp in the future beyond the tolerance is refused too.
func checkTimestamp(raw string, now time.Time, tol time.Duration, both bool) error {
	sec, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil {
		return fail(ReasonMalformed, "timestamp %q is not a unix time", raw)
	}
	t := time.Unix(sec, 0)
	if age := now.Sub(t); age > tol {
		return fail(ReasonExpired, "timestamp %s is %s old; the tolerance is %s", t.UTC().Format(time.RFC3339), age.Round(time.Second), tol)
	}
	if both && t.Sub(now) > tol {
		return fail(ReasonExpired, "timestamp %s is %s in the future; the tolerance is %s", t.UTC().Format(time.RFC3339), t.Sub(now).Round(time.Second), tol)
	}
	return nil
}

// verifyStripe: Stripe-Signature: t=…,v1=…[,v1=…]; HMAC-SHA256 over
// "t.body" keyed with the whole secret; only v1 counts.
func verifyStripe(src *hookline.Source, r *Request, now time.Time) error {
	h := r.Header.Get("Stripe-Signature")
	if h == "" {
		return fail(ReasonMissing, "no Stripe-Signature header")
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return fail(ReasonMalformed, "Stripe-Signature has no t= or no v1= signature")
	}
	want := mac(sha256.New, []byte(src.Secret), r.Body, []byte(ts), []byte("."))
	if !anyMatch(sigs, func(s string) bool { return equalHex(s, want) }) {
		return fail(ReasonMismatch, "no v1 signature in Stripe-Signature matches the body signed with this source's secret")
	}
	// The timestamp is checked after the signature, as Stripe's library
	// does, so that an expired but authentic request says so.
	return checkTimestamp(ts, now, tolerance(src), false)
}

// anyMatch reports whether f holds for some s, checking every one so the
// time taken does not say which matched.
func anyMatch(ss []string, f func(string) bool) bool {
	ok := false
	for _, s := range ss {
		if f(s) {
			ok = true
		}
	}
	return ok
}

// verifyGitHub: X-Hub-Signature-256: sha256=<hex> of the body; the legacy
// X-Hub-Signature: sha1=<hex> only when the source allows it.
func verifyGitHub(src *hookline.Source, r *Request, _ time.Time) error {
	if h := r.Header.Get("X-Hub-Signature-256"); h != "" {
		sig, ok := strings.CutPrefix(h, "sha256=")
		if !ok {
			return fail(ReasonMalformed, "X-Hub-Signature-256 does not start with sha256=")
		}
		if !equalHex(sig, mac(sha256.New, []byte(src.Secret), r.Body)) {
			return fail(ReasonMismatch, "X-Hub-Signature-256 does not match the body signed with this source's secret")
		}
		return nil
	}
	if h := r.Header.Get("X-Hub-Signature"); h != "" {
		if !src.Options.AllowSHA1 {
			return fail(ReasonMissing, "only the legacy SHA-1 X-Hub-Signature was sent; set options.allow_sha1 to accept it")
		}
		sig, ok := strings.CutPrefix(h, "sha1=")
		if !ok {
			return fail(ReasonMalformed, "X-Hub-Signature does not start with sha1=")
		}
		if !equalHex(sig, mac(sha1.New, []byte(src.Secret), r.Body)) {
			return fail(ReasonMismatch, "X-Hub-Signature does not match the body signed with this source's secret")
		}
		return nil
	}
	return fail(ReasonMissing, "no X-Hub-Signature-256 header")
}

// verifyShopify: X-Shopify-Hmac-Sha256 (or shopify-hmac-sha256), base64
// HMAC-SHA256 of the body.
func verifyShopify(src *hookline.Source, r *Request, _ time.Time) error {
	h := r.Header.Get("X-Shopify-Hmac-Sha256")
	if h == "" {
		h = r.Header.Get("Shopify-Hmac-Sha256")
	}
	if h == "" {
		return fail(ReasonMissing, "no X-Shopify-Hmac-Sha256 header")
	}
	if !equalB64(h, mac(sha256.New, []byte(src.Secret), r.Body)) {
		return fail(ReasonMismatch, "X-Shopify-Hmac-Sha256 does not match the body signed with this source's secret")
	}
	return nil
}

// verifySlack: X-Slack-Signature: v0=<hex> over "v0:<ts>:body", with the
// timestamp within the tolerance both ways.
func verifySlack(src *hookline.Source, r *Request, now time.Time) error {
	sig, ts := r.Header.Get("X-Slack-Signature"), r.Header.Get("X-Slack-Request-Timestamp")
	if sig == "" || ts == "" {
		return fail(ReasonMissing, "no X-Slack-Signature or X-Slack-Request-Timestamp header")
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return fail(ReasonMalformed, "X-Slack-Signature does not start with v0=")
	}
	if !equalHex(hexSig, mac(sha256.New, []byte(src.Secret), r.Body, []byte("v0:"+ts+":"))) {
		return fail(ReasonMismatch, "X-Slack-Signature does not match the body signed with this source's secret")
	}
	return checkTimestamp(ts, now, tolerance(src), true)
}

// verifyTwilio: X-Twilio-Signature, base64 HMAC-SHA1 (or the algorithm of
// twilioHash) of the URL followed by each form parameter's name and value,
// names sorted, each name's distinct values sorted. A JSON body is
// instead covered by the URL's bodySHA256 parameter.
func verifyTwilio(src *hookline.Source, r *Request, _ time.Time) error {
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" {
		return fail(ReasonMissing, "no X-Twilio-Signature header")
	}
	newHash, err := twilioHash(r.Header.Get(twilioSettingsHeader))
	if err != nil {
		return err
	}
	rawURL := r.URL
	if src.Options.URL != "" {
		rawURL = src.Options.URL
		if u, err := url.Parse(r.URL); err == nil && u.RawQuery != "" && !strings.Contains(rawURL, "?") {
			rawURL += "?" + u.RawQuery
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("verifying twilio: request URL: %w", err)
	}
	key := []byte(src.Secret)
	if bodySHA := u.Query().Get("bodySHA256"); bodySHA != "" {
		sum := r.Body.SHA256()
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(bodySHA)) != 1 {
			return fail(ReasonMismatch, "the body's SHA-256 is not the URL's bodySHA256")
		}
		if !anyMatch(urlVariants(rawURL, u), func(s string) bool { return equalB64(sig, mac(newHash, key, nil, []byte(s))) }) {
			return fail(ReasonMismatch, "X-Twilio-Signature does not match the URL signed with this source's auth token")
		}
		return nil
	}
	var params []byte
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" && r.Body.Len() > 0 {
		// Twilio signs a body that is not a form only through the URL's
		// bodySHA256; without it the signature covers the URL alone, and
		// any body would pass.
		return fail(ReasonMissing, "a %s body without bodySHA256 in the URL is not signed", orUnknown(mt))
	}
	if mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(r.Body.String())
		if err != nil {
			return fail(ReasonMalformed, "the form body does not parse: %v", err)
		}
		names := make([]string, 0, len(form))
		for k := range form {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			// Repeated identical values are signed once, as Twilio's
			// libraries do (MediaUrl=a&MediaUrl=a signs "MediaUrla").
			vals := slices.Compact(slices.Sorted(slices.Values(form[k])))
			for _, v := range vals {
				params = append(params, k...)
				params = append(params, v...)
			}
		}
	}
	if !anyMatch(urlVariants(rawURL, u), func(s string) bool { return equalB64(sig, mac(newHash, key, nil, []byte(s), params)) }) {
		return fail(ReasonMismatch, "X-Twilio-Signature does not match the URL and parameters signed with this source's auth token")
	}
	return nil
}

// twilioSettingsHeader names the signing settings of a webhook signed with
// a Twilio SharedKey, such as "key=webhooks_sharedkey_…,algorithm=HMAC_SHA256".
const twilioSettingsHeader = "X-Twilio-Webhooks-Signature-Settings"

// twilioHash returns the hash of the signature the settings header names:
// HMAC-SHA1 without the header or without its algorithm, HMAC-SHA256 for
// HMAC_SHA256 (any case, as Twilio's libraries accept), and a malformed
// signature for any other algorithm, which Twilio's libraries refuse too.
func twilioHash(settings string) (func() hash.Hash, error) {
	algorithm := "HMAC_SHA1"
	for part := range strings.SplitSeq(settings, ",") {
		if name, value, ok := strings.Cut(part, "="); ok && strings.TrimSpace(name) == "algorithm" && strings.TrimSpace(value) != "" {
			algorithm = strings.TrimSpace(value)
			break
		}
	}
	switch strings.ToUpper(algorithm) {
	case "HMAC_SHA1":
		return sha1.New, nil
	case "HMAC_SHA256":
		return sha256.New, nil
	}
	return nil, fail(ReasonMalformed, "%s names the algorithm %q; Hookline verifies HMAC_SHA1 and HMAC_SHA256", twilioSettingsHeader, algorithm)
}

// urlVariants returns the URL as given and with its default port added or
// removed: Twilio signs whichever form it called, and proxies differ.
func urlVariants(raw string, u *url.URL) []string {
	out := []string{raw}
	alt := *u
	port := u.Port()
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	switch {
	case port == "" && def != "":
		alt.Host = u.Host + ":" + def
	case port != "" && port == def:
		alt.Host = u.Hostname()
	default:
		return out
	}
	return append(out, alt.String())
}

func checkStandard(src *hookline.Source) error {
	if _, err := standardKey(src.Secret); err != nil {
		return hookline.Invalid("secret", "%v", err)
	}
	return nil
}

func standardKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return nil, errors.New("a standard source's secret is whsec_ followed by base64")
	}
	return key, nil
}

// verifyStandard: Standard Webhooks (webhook-id, webhook-timestamp,
// webhook-signature: v1,<b64> …), or the same with the svix- prefix.
func verifyStandard(src *hookline.Source, r *Request, now time.Time) error {
	prefix := "Webhook-"
	if r.Header.Get("Webhook-Signature") == "" && r.Header.Get("Svix-Signature") != "" {
		prefix = "Svix-"
	}
	id, ts, sigs := r.Header.Get(prefix+"Id"), r.Header.Get(prefix+"Timestamp"), r.Header.Get(prefix+"Signature")
	if id == "" || ts == "" || sigs == "" {
		return fail(ReasonMissing, "no webhook-id, webhook-timestamp or webhook-signature header")
	}
	key, err := standardKey(src.Secret)
	if err != nil {
		return fmt.Errorf("verifying standard webhook: %w", err)
	}
	want := mac(sha256.New, key, r.Body, []byte(id+"."+ts+"."))
	var v1 []string
	for _, s := range strings.Fields(sigs) {
		if b, ok := strings.CutPrefix(s, "v1,"); ok {
			v1 = append(v1, b)
		}
	}
	if len(v1) == 0 {
		return fail(ReasonMalformed, "webhook-signature has no v1, signature")
	}
	if !anyMatch(v1, func(s string) bool { return equalB64(s, want) }) {
		return fail(ReasonMismatch, "no v1 signature in webhook-signature matches the body signed with this source's secret")
	}
	return checkTimestamp(ts, now, tolerance(src), true)
}

var hmacAlgorithms = map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}

func checkHMAC(src *hookline.Source) error {
	o := src.Options
	if o.Header == "" {
		return hookline.Invalid("options.header", "an hmac source needs options.header, the header carrying the signature")
	}
	if _, ok := hmacAlgorithms[hmacAlgorithm(o.Algorithm)]; !ok {
		return hookline.Invalid("options.algorithm", "algorithm %q is not sha1, sha256 or sha512", o.Algorithm)
	}
	if e := hmacEncoding(o.Encoding); e != "hex" && e != "base64" {
		return hookline.Invalid("options.encoding", "encoding %q is not hex or base64", o.Encoding)
	}
	return nil
}

func hmacAlgorithm(a string) string {
	if a == "" {
		return "sha256"
	}
	return strings.ToLower(a)
}

func hmacEncoding(e string) string {
	if e == "" {
		return "hex"
	}
	return strings.ToLower(e)
}

// verifyHMAC: a configurable header carrying prefix + encoded HMAC of the
// body.
func verifyHMAC(src *hookline.Source, r *Request, _ time.Time) error {
	o := src.Options
	h := r.Header.Get(o.Header)
	if h == "" {
		return fail(ReasonMissing, "no %s header", o.Header)
	}
	sig, ok := strings.CutPrefix(h, o.Prefix)
	if !ok {
		return fail(ReasonMalformed, "%s does not start with %q", o.Header, o.Prefix)
	}
	newHash, ok := hmacAlgorithms[hmacAlgorithm(o.Algorithm)]
	if !ok {
		return fmt.Errorf("verifying hmac: algorithm %q", o.Algorithm)
	}
	want := mac(newHash, []byte(src.Secret), r.Body)
	match := equalHex(sig, want)
	if hmacEncoding(o.Encoding) == "base64" {
		match = equalB64(sig, want)
	}
	if !match {
		return fail(ReasonMismatch, "%s does not match the body signed with this source's secret", o.Header)
	}
	return nil
}

func checkToken(src *hookline.Source) error {
	if src.Options.Header == "" && src.Options.QueryParam == "" {
		return hookline.Invalid("options.header", "a token source needs options.header (e.g. X-Gitlab-Token) or options.query_param")
	}
	return nil
}

// verifyToken: a shared token in a header or a query parameter.
func verifyToken(src *hookline.Source, r *Request, _ time.Time) error {
	var got, where string
	if src.Options.Header != "" {
		got, where = r.Header.Get(src.Options.Header), src.Options.Header+" header"
	}
	if got == "" && src.Options.QueryParam != "" {
		if u, err := url.Parse(r.URL); err == nil {
			got = u.Query().Get(src.Options.QueryParam)
		}
		where = "query parameter " + src.Options.QueryParam
	}
	if got == "" {
		return fail(ReasonMissing, "no token in the %s", where)
	}
	// Hashing first makes the comparison constant-time whatever the lengths.
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(src.Secret))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return fail(ReasonMismatch, "the token in the %s is not this source's", where)
	}
	return nil
}

// verifyBasic: HTTP basic auth with Options.Username (any user when empty)
// and Secret as the password.
func verifyBasic(src *hookline.Source, r *Request, _ time.Time) error {
	req := http.Request{Header: r.Header}
	user, pass, ok := req.BasicAuth()
	if !ok {
		return fail(ReasonMissing, "no basic Authorization header")
	}
	a, b := sha256.Sum256([]byte(pass)), sha256.Sum256([]byte(src.Secret))
	passOK := subtle.ConstantTimeCompare(a[:], b[:]) == 1
	userOK := true
	if src.Options.Username != "" {
		c, d := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(src.Options.Username))
		userOK = subtle.ConstantTimeCompare(c[:], d[:]) == 1
	}
	if !passOK || !userOK {
		return fail(ReasonMismatch, "wrong basic-auth user or password")
	}
	return nil
}

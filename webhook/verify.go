package webhook

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Error kinds. Every verification error wraps exactly one of these, so
// callers can tell them apart with errors.Is while the message carries the
// detail (which header, how many seconds off).
var (
	// ErrMissingHeaders: an id, timestamp or signature header is absent or empty.
	ErrMissingHeaders = errors.New("missing webhook headers")
	// ErrInvalidHeaders: the timestamp is not a Unix time in seconds, or the
	// signature header holds no well-formed signature.
	ErrInvalidHeaders = errors.New("invalid webhook headers")
	// ErrTimestampTooOld: the timestamp is further in the past than the tolerance.
	ErrTimestampTooOld = errors.New("webhook timestamp too old")
	// ErrTimestampTooNew: the timestamp is further in the future than the tolerance.
	ErrTimestampTooNew = errors.New("webhook timestamp too new")
	// ErrNoMatchingSignature: no v1 signature in the header matches any
	// secret, nor any v1a signature any public key. The body was changed, the
	// secret or key is wrong, or the sender signs differently.
	ErrNoMatchingSignature = errors.New("no matching webhook signature")
	// ErrNoSecret: the Verifier has no secret to check against: it is nil
	// (NewVerifier failed and its error was not checked) or a zero
	// Verifier. It is the receiver's mistake, not the sender's, so
	// Middleware answers it with 500 rather than 401.
	ErrNoSecret = errors.New("webhook verifier has no secret: create it with NewVerifier and check its error")
)

// DefaultTolerance is how far a timestamp may be from the receiver's clock,
// in either direction, when no other tolerance is set. It is the window both
// Standard Webhooks and Stripe use.
const DefaultTolerance = 5 * time.Minute

// svix- headers carry the same values as webhook- ones; Svix sent them
// before the Standard Webhooks names existed.
const (
	svixHeaderID        = "svix-id"
	svixHeaderTimestamp = "svix-timestamp"
	svixHeaderSignature = "svix-signature"
)

// Verifier checks Standard Webhooks signatures against one or more secrets.
// Configure its fields before first use; after that a Verifier is safe for
// concurrent use.
type Verifier struct {
	// Tolerance is how far the webhook-timestamp may be from Now, in either
	// direction. Zero means DefaultTolerance; a negative value turns the
	// timestamp check off (for replaying stored messages, never for a live
	// endpoint, since it allows replay attacks).
	Tolerance time.Duration

	// MaxBodyBytes caps the body that Middleware reads. Zero or negative
	// means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Now returns the current time; nil means time.Now. Tests set it to
	// check timestamps against a fixed clock.
	Now func() time.Time

	keys []verifyKey
	// hmacs and eds count the keys of each kind, for error messages and to
	// know which signature versions to read.
	hmacs, eds int
	// scratchPool holds the buffers v1a checks build the signed message in.
	scratchPool sync.Pool
}

// verifyKey is one key a Verifier accepts: an HMAC secret (signer set,
// for v1), or an ed25519 public key (pub set, for v1a; signer too when the
// Verifier was given the secret key, so that Inspect can show the
// signature it expected).
type verifyKey struct {
	signer *Signer
	pub    ed25519.PublicKey
}

// maxV1a bounds the v1a entries of one header a Verifier checks. Each costs
// an ed25519 verification per public key (tens of microseconds), so a
// header stuffed with junk signatures could otherwise make one request
// cost seconds; a sender signs with one key, two during a rotation.
const maxV1a = 8

// NewVerifier returns a Verifier that accepts messages signed with any of
// secrets, so that a secret can be rotated without dropping messages: list
// both the old and the new secret until the sender has switched. Each secret
// is an HMAC secret, "whsec_<base64>" or just the base64, which checks v1
// signatures, or an ed25519 public key, "whpk_<base64>", which checks v1a
// signatures (a "whsk_" secret key is taken too, and checks with its public
// half). To take public keys from a JWK set, use [NewVerifierJWKS]. It
// returns an error when no secret is given, one is empty (an environment
// variable that was never set) or one does not decode.
func NewVerifier(secrets ...string) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("creating verifier: %w", ErrNoSecret)
	}
	v := &Verifier{keys: make([]verifyKey, 0, len(secrets))}
	for i, secret := range secrets {
		if strings.TrimSpace(secret) == "" {
			return nil, fmt.Errorf("creating verifier: secret %d is empty (is the variable holding it set?)", i+1)
		}
		var k verifyKey
		var err error
		if strings.HasPrefix(secret, PublicKeyPrefix) {
			k.pub, err = decodePublicKey(secret)
		} else if k.signer, err = NewSigner(secret); err == nil && k.signer.priv != nil {
			k.pub = k.signer.priv.Public().(ed25519.PublicKey)
		}
		if err != nil {
			return nil, fmt.Errorf("creating verifier: secret %d: %w", i+1, err)
		}
		v.add(k)
	}
	return v, nil
}

func (v *Verifier) add(k verifyKey) {
	v.keys = append(v.keys, k)
	if k.pub != nil {
		v.eds++
	} else {
		v.hmacs++
	}
}

// Verify checks the Standard Webhooks headers in h against body. It reads
// webhook-id, webhook-timestamp and webhook-signature, or svix-id,
// svix-timestamp and svix-signature when none of the webhook- headers is
// present. It returns nil when the timestamp is within the tolerance and one
// of the space-separated signatures in the header matches one of the keys:
// a "v1,<base64>" HMAC one of the secrets, or a "v1a,<base64>" ed25519 one
// of the public keys. Entries of versions the Verifier has no key for (v1a
// when it has only secrets, v1 when it has only public keys, and any
// other) are ignored. HMAC signatures are compared in constant time; at
// most 8 v1a entries are checked, and a header with more is invalid.
//
// Otherwise the error wraps one of ErrMissingHeaders, ErrInvalidHeaders,
// ErrTimestampTooOld, ErrTimestampTooNew or ErrNoMatchingSignature. A
// timestamp out of tolerance is reported before a signature mismatch, as in
// the reference libraries. Use [Verifier.Inspect] to learn more.
//
// A nil or zero Verifier rejects every message with ErrNoSecret.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	return v.check(h, body, nil)
}

// Inspection is a full account of one verification, for tools that must
// explain a failure, such as a CLI that prints the signature it expected.
//
// Expected holds signatures that are valid for the message. Show them to
// the person debugging, never in a response to the sender: anyone who holds
// one can deliver that exact message.
type Inspection struct {
	// Scheme is "standard-webhooks", "svix" (the same scheme, read from
	// svix- headers) or "stripe".
	Scheme string
	// MsgID is the message id header; empty for Stripe, which has none.
	MsgID string
	// Timestamp is the signed timestamp; zero when missing or malformed.
	Timestamp time.Time
	// Received lists the signature entries found in the header, in order,
	// including ones that were ignored or malformed.
	Received []string
	// Expected lists, for each secret in the order given, the signature it
	// yields for this message, in the form Received uses ("v1,<base64>",
	// "v1a,<base64>" or "v1=<hex>"); "" for a public key, which cannot
	// sign. It is empty when the id or timestamp is missing or malformed,
	// since there is nothing to sign then.
	Expected []string
	// Matched is the index in Expected of the secret whose signature was
	// received, or -1. It is set even when the timestamp is out of
	// tolerance, so a tool can say "signature fine, message too old".
	Matched int
	// Err is what Verify (or VerifyStripe) returns for the same input: nil
	// when the message is valid.
	Err error
}

// Inspect verifies like [Verifier.Verify] and reports everything it found and
// computed along the way. It is slower than Verify, which stops at the first
// failure; use Verify to accept messages and Inspect to debug them.
func (v *Verifier) Inspect(h http.Header, body []byte) *Inspection {
	in := &Inspection{Matched: -1}
	in.Err = v.check(h, body, in)
	return in
}

// ready reports ErrNoSecret for a Verifier that can accept nothing, so that
// a nil one (from an unchecked NewVerifier error) rejects instead of
// panicking.
func (v *Verifier) ready() error {
	if v == nil || len(v.keys) == 0 {
		return ErrNoSecret
	}
	return nil
}

// check is Verify when in is nil and Inspect otherwise. Verify returns at
// the first failure; Inspect carries on to fill in what it can.
func (v *Verifier) check(h http.Header, body []byte, in *Inspection) error {
	if err := v.ready(); err != nil {
		return err
	}
	nameID, nameTS, nameSig, scheme := HeaderID, HeaderTimestamp, HeaderSignature, "standard-webhooks"
	if !hasHeader(h, HeaderID) && !hasHeader(h, HeaderTimestamp) && !hasHeader(h, HeaderSignature) {
		nameID, nameTS, nameSig, scheme = svixHeaderID, svixHeaderTimestamp, svixHeaderSignature, "svix"
		if !hasHeader(h, nameID) && !hasHeader(h, nameTS) && !hasHeader(h, nameSig) {
			// Neither set: name the standard headers in the error.
			nameID, nameTS, nameSig, scheme = HeaderID, HeaderTimestamp, HeaderSignature, "standard-webhooks"
		}
	}
	msgID := headerValue(h, nameID)
	tsText := headerValue(h, nameTS)
	var entries []string
	for _, value := range headerValues(h, nameSig) {
		entries = append(entries, strings.Fields(value)...)
	}
	if in != nil {
		in.Scheme, in.MsgID, in.Received = scheme, msgID, entries
	}

	var missing []string
	if msgID == "" {
		missing = append(missing, nameID)
	}
	if tsText == "" {
		missing = append(missing, nameTS)
	}
	if len(entries) == 0 {
		missing = append(missing, nameSig)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no %s", ErrMissingHeaders, strings.Join(missing, ", "))
	}
	unix, ok := parseUnix(tsText)
	if !ok {
		return fmt.Errorf("%w: %s %q is not a Unix time in seconds", ErrInvalidHeaders, nameTS, tsText)
	}
	if in != nil {
		in.Timestamp = time.Unix(unix, 0)
	}
	tsErr := checkTimestamp(unix, now(v.Now), v.Tolerance)
	if tsErr != nil && in == nil {
		return tsErr
	}

	var cands candidates
	for _, e := range entries {
		version, value, ok := strings.Cut(e, ",")
		switch {
		case !ok || version == "" || value == "":
			cands.malformed++
		case version == "v1" && v.hmacs > 0:
			// Decode needs room for DecodedLen (33) bytes; a 32-byte MAC
			// is exactly 44 characters with its one "=" of padding.
			var buf [sha256.Size + 1]byte
			if len(value) != sigLen-len("v1,") {
				cands.malformed++
				continue
			}
			if n, err := base64.StdEncoding.Decode(buf[:], []byte(value)); err != nil || n != sha256.Size {
				cands.malformed++
				continue
			}
			cands.macs = append(cands.macs, [sha256.Size]byte(buf[:sha256.Size]))
		case version == "v1a" && v.eds > 0:
			// 64 bytes are 88 characters with "=="; DecodedLen is 66.
			var buf [ed25519.SignatureSize + 2]byte
			if len(value) != sigLenV1a-len("v1a,") {
				cands.malformed++
				continue
			}
			if n, err := base64.StdEncoding.Decode(buf[:], []byte(value)); err != nil || n != ed25519.SignatureSize {
				cands.malformed++
				continue
			}
			cands.sigs = append(cands.sigs, [ed25519.SignatureSize]byte(buf[:ed25519.SignatureSize]))
		default:
			cands.ignored++
		}
	}
	if len(cands.sigs) > maxV1a {
		// Verify returned a timestamp error before reading the entries;
		// Inspect, which got here, must return the same one.
		if tsErr != nil {
			return tsErr
		}
		return fmt.Errorf("%w: %s has %d v1a signatures, more than the %d checked", ErrInvalidHeaders, nameSig, len(cands.sigs), maxV1a)
	}

	// ed25519 takes the signed message in one piece: built once, and only
	// when there is a v1a signature to check or to show.
	var signed *macState
	if v.eds > 0 && (len(cands.sigs) > 0 || in != nil) {
		signed = v.scratch()
		signed.prefix = appendSigned(signed.prefix[:0], msgID, unix, body)
		defer putMacState(&v.scratchPool, signed)
	}
	matched := -1
	for i, k := range v.keys {
		if k.pub == nil {
			st := k.signer.mac(msgID, unix, body)
			if in != nil {
				in.Expected = append(in.Expected, "v1,"+base64.StdEncoding.EncodeToString(st.sum[:]))
			}
			if matched < 0 && cands.match(st.sum[:]) {
				matched = i
			}
			putMacState(&k.signer.pool, st)
		} else {
			if in != nil {
				exp := ""
				if k.signer != nil {
					exp = "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(k.signer.priv, signed.prefix))
				}
				in.Expected = append(in.Expected, exp)
			}
			if matched < 0 && cands.verify(k.pub, signed) {
				matched = i
			}
		}
		if matched >= 0 && in == nil {
			break
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
	return cands.err(nameSig, v.hmacs, v.eds)
}

// scratch returns a buffer to build a v1a check's signed message in; give
// it back with putMacState.
func (v *Verifier) scratch() *macState {
	if st, ok := v.scratchPool.Get().(*macState); ok {
		return st
	}
	return &macState{}
}

// candidates are the well-formed signatures of a signature header that the
// Verifier has keys for, and counts of the entries that were not.
type candidates struct {
	macs      [][sha256.Size]byte
	sigs      [][ed25519.SignatureSize]byte
	malformed int // no separator, or a v1 or v1a value of the wrong size
	ignored   int // a version the Verifier has no key for, such as v0
}

// match reports whether mac equals one of the v1 candidates, comparing
// each in constant time.
func (c *candidates) match(mac []byte) bool {
	for i := range c.macs {
		if hmac.Equal(c.macs[i][:], mac) {
			return true
		}
	}
	return false
}

// verify reports whether one of the v1a candidates is pub's signature of
// the message in signed.
func (c *candidates) verify(pub ed25519.PublicKey, signed *macState) bool {
	for i := range c.sigs {
		if ed25519.Verify(pub, signed.prefix, c.sigs[i][:]) {
			return true
		}
	}
	return false
}

// err explains why none of the candidates matched. A header with nothing
// well-formed in it is reported as invalid rather than as a mismatch, since
// it points at a sender bug rather than a wrong secret.
func (c *candidates) err(header string, hmacs, eds int) error {
	versions := "v1"
	switch {
	case hmacs == 0:
		versions = "v1a"
	case eds > 0:
		versions = "v1 or v1a"
	}
	found := len(c.macs) + len(c.sigs)
	if found == 0 && c.ignored == 0 {
		return fmt.Errorf("%w: %s has no well-formed %s signature (%d malformed %s)",
			ErrInvalidHeaders, header, versions, c.malformed, plural(c.malformed, "entry", "entries"))
	}
	if found == 0 {
		return fmt.Errorf("%w: %s has no %s signature (%d other %s ignored)",
			ErrNoMatchingSignature, header, versions, c.ignored, plural(c.ignored, "entry", "entries"))
	}
	var sigs, keys []string
	if len(c.macs) > 0 {
		sigs = append(sigs, fmt.Sprintf("%d v1", len(c.macs)))
	}
	if len(c.sigs) > 0 {
		sigs = append(sigs, fmt.Sprintf("%d v1a", len(c.sigs)))
	}
	if hmacs > 0 {
		keys = append(keys, fmt.Sprintf("%d %s", hmacs, plural(hmacs, "secret", "secrets")))
	}
	if eds > 0 {
		keys = append(keys, fmt.Sprintf("%d %s", eds, plural(eds, "public key", "public keys")))
	}
	return fmt.Errorf("%w: %s %s checked against %s",
		ErrNoMatchingSignature, strings.Join(sigs, " and "), plural(found, "signature", "signatures"), strings.Join(keys, " and "))
}

// checkTimestamp returns an error when unix is further from now than
// tolerance (zero: DefaultTolerance; negative: no check). It works in whole
// seconds on int64 so that absurd timestamps cannot overflow a Duration.
func checkTimestamp(unix int64, now time.Time, tolerance time.Duration) error {
	if tolerance < 0 {
		return nil
	}
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	tol := int64(tolerance / time.Second)
	nowUnix := now.Unix()
	switch {
	case unix < nowUnix-tol:
		// Unsigned subtraction gives the exact distance even when the signed
		// one would overflow.
		return fmt.Errorf("%w: %d seconds in the past, tolerance is %d seconds",
			ErrTimestampTooOld, uint64(nowUnix)-uint64(unix), tol)
	case unix > nowUnix+tol:
		return fmt.Errorf("%w: %d seconds in the future, tolerance is %d seconds",
			ErrTimestampTooNew, uint64(unix)-uint64(nowUnix), tol)
	}
	return nil
}

// parseUnix parses a timestamp of decimal digits only: ParseInt alone would
// also take a sign, which no sender writes.
func parseUnix(s string) (int64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func now(f func() time.Time) time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}

// headerValues returns the values of header name. It also looks under the
// name exactly as written, for headers built as map literals with lowercase
// keys, which http.Header's canonicalizing methods do not find.
func headerValues(h http.Header, name string) []string {
	if vs := h.Values(name); len(vs) > 0 {
		return vs
	}
	return h[name]
}

func headerValue(h http.Header, name string) string {
	if vs := headerValues(h, name); len(vs) > 0 {
		return strings.TrimSpace(vs[0])
	}
	return ""
}

func hasHeader(h http.Header, name string) bool {
	return len(headerValues(h, name)) > 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

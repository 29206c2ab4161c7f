package storetest

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/seal"
	"github.com/hookline/hookline/internal/store/sqlcore"
	"github.com/hookline/hookline/webhook"
)

// TestSealer is a seal.Keyring that a test can make write values as a
// store from before sealing did (plain) or from before values were bound
// to their use (hlseal1), to test their upgrade by ResealSecrets. Such a
// value does not open (seal.Keyring.Open): a store reads it blank with
// SealErr rather than failing, so the TestSealer notes every value that
// does not open and fails the test that made it, unless the test expects
// some (tolerateUnopened): reads prove every value written otherwise was
// sealed for its place.
type TestSealer struct {
	*seal.Keyring
	mu       sync.Mutex
	write    writeMode
	tolerate bool
	unopened []string
}

// writeMode is how a TestSealer writes.
type writeMode int

const (
	writeSealed writeMode = iota // as the store does today
	writePlain                   // as before sealing
	writeLegacy                  // as before values were bound to their use
)

// NewTestSealer returns a TestSealer with one random key; t fails at its
// end if a value did not open that it did not expect.
func NewTestSealer(t testing.TB) *TestSealer {
	kr, err := seal.NewKeyring(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	ts := &TestSealer{Keyring: kr}
	t.Cleanup(func() {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if len(ts.unopened) > 0 {
			t.Errorf("%d values the store read did not open (written unsealed or for another place?), first: %s", len(ts.unopened), ts.unopened[0])
		}
	})
	return ts
}

// tolerateUnopened lets values not open: the test makes them on purpose.
func (ts *TestSealer) tolerateUnopened() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.tolerate = true
}

// Open opens as the Keyring does, noting what does not open.
func (ts *TestSealer) Open(use hookline.SecretUse, stored string) (string, error) {
	v, err := ts.Keyring.Open(use, stored)
	if err != nil {
		ts.mu.Lock()
		if !ts.tolerate {
			ts.unopened = append(ts.unopened, use.Column+" of "+use.Row+": "+err.Error())
		}
		ts.mu.Unlock()
	}
	return v, err
}

func (ts *TestSealer) writeAs(m writeMode) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.write = m
}

// Seal seals for use, or writes as an older store did.
func (ts *TestSealer) Seal(use hookline.SecretUse, plain string) (string, error) {
	ts.mu.Lock()
	m := ts.write
	ts.mu.Unlock()
	switch {
	case m == writePlain || plain == "":
		return plain, nil
	case m == writeLegacy:
		return ts.SealLegacy(plain), nil
	}
	return ts.Keyring.Seal(use, plain)
}

// RawRows reaches past a store to the rows of its database, as someone who
// can write the database but holds no key (a shared database role, a
// tampered backup) would.
type RawRows struct {
	// Value returns, as text, column of the row of table whose id is id.
	Value func(t *testing.T, s hookline.Store, table, column, id string) string
	// SetValue writes value (JSON text for a JSON column) to column of the
	// row of table whose id is id.
	SetValue func(t *testing.T, s hookline.Store, table, column, id, value string)
}

// RunSecrets runs the re-sealing subtests; open must give the store the
// sealer it is passed, atRest must return what the store keeps of its
// endpoints as bytes at rest (SQLite: its database files; PostgreSQL: the
// endpoints table as text), where no secret may be readable, and raw must
// read and write the store's rows behind its back.
func RunSecrets(t *testing.T, open func(t *testing.T, s hookline.SecretSealer) hookline.Store, atRest func(t *testing.T, s hookline.Store) []byte, raw RawRows) {
	t.Run("Reseal", func(t *testing.T) {
		t.Parallel()
		ts := NewTestSealer(t)
		ts.tolerateUnopened()
		f := newFixture(t, func(t *testing.T) hookline.Store { return open(t, ts) })
		testReseal(t, f, ts, raw)
	})
	t.Run("SealedHeaders", func(t *testing.T) {
		t.Parallel()
		ts := NewTestSealer(t)
		f := newFixture(t, func(t *testing.T) hookline.Store { return open(t, ts) })
		testSealedHeaders(t, f, ts, func() []byte { return atRest(t, f.s) })
	})
	t.Run("CopiedSecret", func(t *testing.T) {
		t.Parallel()
		ts := NewTestSealer(t)
		ts.tolerateUnopened()
		f := newFixture(t, func(t *testing.T) hookline.Store { return open(t, ts) })
		testCopiedSecret(t, f, raw)
	})
	t.Run("SealedSigningKey", func(t *testing.T) {
		t.Parallel()
		ts := NewTestSealer(t)
		ts.tolerateUnopened() // its last step reads under a retired key
		f := newFixture(t, func(t *testing.T) hookline.Store { return open(t, ts) })
		testSealedSigningKey(t, f, ts)
	})
}

// testSealedHeaders: an endpoint's static header values (a receiver's
// credentials) are written sealed: none is readable at rest, after
// creating, updating and re-sealing under a new key; every read that
// sends or shows them gives them back whole; the names stay as they were.
func testSealedHeaders(t *testing.T, f *fixture, ts *TestSealer, atRest func() []byte) {
	basic := "Basic " + hookline.NewID("cred")
	token := "tok_" + hookline.NewID("tok")
	e := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.Headers = hookline.Headers{"Authorization": basic, "X-Api-Token": token, "X-Empty": ""}
	})
	readable := func(stage string, values ...string) {
		t.Helper()
		raw := atRest()
		if !bytes.Contains(raw, []byte(e.ID)) {
			t.Fatalf("%s: the bytes at rest (%d) do not hold the endpoint: atRest reads the wrong place", stage, len(raw))
		}
		for _, v := range values {
			if bytes.Contains(raw, []byte(v)) {
				t.Fatalf("%s: header value %q is readable at rest", stage, v)
			}
		}
	}
	check := func(stage string, got hookline.Headers, want hookline.Headers) {
		t.Helper()
		if !maps.Equal(got, want) {
			t.Fatalf("%s: headers %v, want %v", stage, got, want)
		}
	}
	readable("after CreateEndpoint", basic, token)
	check("Endpoint", f.getEndpoint(e.ID).Headers, e.Headers)
	list, _, err := f.s.ListEndpoints(f.ctx, hookline.EndpointFilter{Page: hookline.Page{Limit: 10}})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListEndpoints: %d, %v", len(list), err)
	}
	check("ListEndpoints", list[0].Headers, e.Headers)
	f.publishAt("invoice.paid", base)
	tasks := f.claim("node-a", at(time.Second), time.Minute, 10)
	if len(tasks) != 1 {
		t.Fatalf("claimed %d tasks, want 1", len(tasks))
	}
	check("ClaimTasks", tasks[0].Endpoint.Headers, e.Headers)

	got := f.getEndpoint(e.ID)
	rotated := "Bearer " + hookline.NewID("new")
	got.Headers = hookline.Headers{"Authorization": rotated, "X-Api-Token": token}
	if err := f.s.UpdateEndpoint(f.ctx, got); err != nil {
		t.Fatal(err)
	}
	readable("after UpdateEndpoint", rotated, token)
	check("after UpdateEndpoint", f.getEndpoint(e.ID).Headers, got.Headers)

	if err := ts.Rotate(seal.NewKey()); err != nil {
		t.Fatal(err)
	}
	if r, err := f.s.ResealSecrets(f.ctx); err != nil || r.Count != 3 || len(r.Skipped) != 0 { // the secret and two header values
		t.Fatalf("re-seal after rotation: %+v, %v; want 3", r, err)
	}
	ts.Retire() // only what was sealed anew opens
	readable("after re-sealing", rotated, token)
	check("after re-sealing", f.getEndpoint(e.ID).Headers, got.Headers)
}

// testCopiedSecret: a sealed value copied, behind the store's back, into
// another column or another endpoint's row (another endpoint's secret or
// header value, a source's secret, into the headers Hookline opens and
// sends to the copier's URL) does not open there: every read of that
// endpoint, the claim that delivers to it included, carries the value
// blank, never the plaintext nor the ciphertext, with SealErr saying which
// column did not open (so the engine refuses to send it); and that one
// bad row fails no read: the other endpoints still publish, claim and
// list, and the bad one lists, reads, and refuses only to be written
// until what did not open is replaced.
func testCopiedSecret(t *testing.T, f *fixture, raw RawRows) {
	victimSecret := "whsec_" + hookline.NewID("victim")
	victimPrevious := "whsec_" + hookline.NewID("previous")
	victimHeader := "Bearer " + hookline.NewID("victimtok")
	victim := f.endpoint([]string{"victim.*"}, func(e *hookline.Endpoint) {
		e.Secret, e.PreviousSecret, e.PreviousSecretExpires = victimSecret, victimPrevious, at(time.Hour)
		e.Headers = hookline.Headers{"Authorization": victimHeader}
	})
	src := f.source("victim")
	copier := f.endpoint([]string{"copier.*"}, func(e *hookline.Endpoint) {
		e.Headers = hookline.Headers{"X-Stolen": "nothing yet"}
	})
	headerOf := func(table, id string) string {
		var h hookline.Headers
		if err := json.Unmarshal([]byte(raw.Value(t, f.s, table, "headers", id)), &h); err != nil {
			t.Fatal(err)
		}
		return h["Authorization"]
	}
	stolen := []struct {
		name, sealed, plain string
	}{
		{"an endpoint's secret", raw.Value(t, f.s, "endpoints", "secret", victim.ID), victimSecret},
		{"an endpoint's previous secret", raw.Value(t, f.s, "endpoints", "previous_secret", victim.ID), victimPrevious},
		{"an endpoint's header value", headerOf("endpoints", victim.ID), victimHeader},
		{"a source's secret", raw.Value(t, f.s, "sources", "secret", src.ID), src.Secret},
	}
	for _, st := range stolen {
		if st.sealed == "" || strings.Contains(st.sealed, st.plain) {
			t.Fatalf("%s at rest is %q: the copy below would prove nothing", st.name, st.sealed)
		}
	}
	if got := f.getEndpoint(copier.ID); got.Headers["X-Stolen"] != "nothing yet" {
		t.Fatalf("the copier's endpoint before any copy: headers %v", got.Headers)
	}
	original := raw.Value(t, f.s, "endpoints", "headers", copier.ID)
	originalSecret := raw.Value(t, f.s, "endpoints", "secret", copier.ID)
	leaks := func(e *hookline.Endpoint, plain string) bool {
		return e.Secret == plain || e.PreviousSecret == plain || slices.Contains(slices.Collect(maps.Values(e.Headers)), plain)
	}
	// unopened checks the copier as a read gives it: nothing of the copied
	// value, neither plain nor sealed, and SealErr naming the column.
	unopened := func(stage string, e *hookline.Endpoint, column, plain, sealed string) {
		t.Helper()
		if leaks(e, plain) || leaks(e, sealed) {
			t.Fatalf("%s: the copier reads with the copied value (plain or sealed): secret %.12q…, headers %v", stage, e.Secret, e.Headers)
		}
		if e.SealErr == nil || e.SealErr.Err == nil {
			t.Fatalf("%s: the copier reads without SealErr", stage)
		}
		if got := map[string]bool{"secret": e.SealErr.Secret, "headers": e.SealErr.Headers}; !got[column] || e.SealErr.Secret && e.SealErr.Headers {
			t.Fatalf("%s: SealErr %+v does not name %s alone", stage, e.SealErr, column)
		}
		if column == "secret" && e.Secret != "" || column == "headers" && e.Headers["X-Stolen"] != "" {
			t.Fatalf("%s: the value that did not open is not blank: secret %.12q…, headers %v", stage, e.Secret, e.Headers)
		}
		if strings.Contains(e.SealErr.Error(), plain) || strings.Contains(e.SealErr.Error(), sealed) {
			t.Fatalf("%s: SealErr shows the value: %v", stage, e.SealErr)
		}
	}
	victimIntact := func(stage string, e *hookline.Endpoint) {
		t.Helper()
		if e.SealErr != nil || e.Secret != victimSecret || e.PreviousSecret != victimPrevious || e.Headers["Authorization"] != victimHeader {
			t.Fatalf("%s: the victim endpoint reads %+v beside the copier's bad row", stage, e)
		}
	}
	reads := func(stage, column, plain, sealed string) {
		t.Helper()
		got, err := f.s.Endpoint(f.ctx, copier.ID)
		if err != nil {
			t.Fatalf("%s: Endpoint fails for the copier: %v", stage, err)
		}
		unopened(stage+": Endpoint", got, column, plain, sealed)
		// Written back as read, with something else changed, what did not
		// open keeps what is stored: not the blank it reads as (which would
		// open, as nothing), and the change is made.
		got.Description = stage
		if err := f.s.UpdateEndpoint(f.ctx, got); err != nil {
			t.Fatalf("%s: UpdateEndpoint of the copier as read: %v", stage, err)
		}
		again, err := f.s.Endpoint(f.ctx, copier.ID)
		if err != nil || again.Description != stage {
			t.Fatalf("%s: the copier after an update: %+v, %v", stage, again, err)
		}
		unopened(stage+": Endpoint after an update", again, column, plain, sealed)
		list, _, err := f.s.ListEndpoints(f.ctx, hookline.EndpointFilter{Page: hookline.Page{Limit: 10}})
		if err != nil || len(list) != 2 {
			t.Fatalf("%s: ListEndpoints: %d, %v; want both endpoints", stage, len(list), err)
		}
		for _, e := range list {
			if e.ID == copier.ID {
				unopened(stage+": ListEndpoints", e, column, plain, sealed)
			} else {
				victimIntact(stage+": ListEndpoints", e)
			}
		}
	}
	// Tasks wait for the copier before anything is copied: the claim that
	// delivers them opens what it sends.
	f.publishAt("copier.hit", base)
	claim := func(now time.Time) ([]*hookline.Task, error) {
		return f.s.ClaimTasks(f.ctx, hookline.ClaimRequest{Owner: "node-a", Now: now, Lease: time.Millisecond, Limit: 100,
			MaxConcurrency: hookline.MaxMaxConcurrency})
	}
	now := base
	published := 1
	for _, st := range stolen {
		into := []struct{ column, value string }{
			{"headers", `{"X-Stolen": ` + strconv.Quote(st.sealed) + `}`},
			{"secret", st.sealed},
		}
		for _, c := range into {
			stage := st.name + " copied into the copier's " + c.column
			raw.SetValue(t, f.s, "endpoints", c.column, copier.ID, c.value)
			reads(stage, c.column, st.plain, st.sealed)
			// Publishing still fans out, to both, and the claim serves both:
			// the victim whole, the copier blank and marked for refusal.
			f.publishAt("victim.hit", now)
			f.publishAt("copier.hit", now)
			published++
			now = now.Add(time.Minute) // past the lease of any earlier claim
			tasks, err := claim(now)
			if err != nil {
				t.Fatalf("%s: ClaimTasks fails: %v", stage, err)
			}
			byEndpoint := map[string]int{}
			for _, task := range tasks {
				byEndpoint[task.Endpoint.ID]++
				if task.Endpoint.ID == copier.ID {
					unopened(stage+": a claimed task", task.Endpoint, c.column, st.plain, st.sealed)
				} else {
					victimIntact(stage+": a claimed task", task.Endpoint)
				}
			}
			if byEndpoint[copier.ID] != published || byEndpoint[victim.ID] != published-1 {
				t.Fatalf("%s: claimed %v; want %d of the copier's and %d of the victim's", stage, byEndpoint, published, published-1)
			}
			raw.SetValue(t, f.s, "endpoints", "headers", copier.ID, original)
			raw.SetValue(t, f.s, "endpoints", "secret", copier.ID, originalSecret)
		}
	}
	// A source's row holding another row's value: it reads blank with
	// SealErr, the other source and the list read as usual, and written
	// back as read, with another change, it keeps what is stored until its
	// secret is set anew.
	other := f.source("other")
	raw.SetValue(t, f.s, "sources", "secret", other.ID, stolen[0].sealed)
	gotSrc, err := f.s.Source(f.ctx, other.ID)
	if err != nil {
		t.Fatalf("reading a source holding another row's secret fails: %v", err)
	}
	if gotSrc.SealErr == nil || gotSrc.Secret != "" || strings.Contains(gotSrc.SealErr.Error(), stolen[0].sealed) {
		t.Fatalf("a source holding another row's secret: %v; secret %.12q…, SealErr %v; want it blank and noted", err, gotSrc.Secret, gotSrc.SealErr)
	}
	gotSrc.Name = "renamed"
	if err := f.s.UpdateSource(f.ctx, gotSrc); err != nil {
		t.Fatalf("UpdateSource of the source as read: %v", err)
	}
	if again, err := f.s.Source(f.ctx, other.ID); err != nil || again.Name != "renamed" || again.SealErr == nil || again.Secret != "" {
		t.Fatalf("the source after an update as read: %+v, %v; want it renamed and its secret still unopened (not written blank)", again, err)
	}
	if srcs, _, err := f.s.ListSources(f.ctx, hookline.Page{Limit: 10}); err != nil || len(srcs) != 2 {
		t.Fatalf("ListSources beside a source that does not open: %d, %v", len(srcs), err)
	}
	gotSrc.Secret, gotSrc.SealErr = "fresh", nil
	if err := f.s.UpdateSource(f.ctx, gotSrc); err != nil {
		t.Fatalf("setting the source's secret anew: %v", err)
	}
	if got, err := f.s.Source(f.ctx, other.ID); err != nil || got.SealErr != nil || got.Secret != "fresh" {
		t.Fatalf("the source after its secret was set anew: %+v, %v", got, err)
	}

	// Nothing above failed for want of a working store: the victims still
	// open where they were sealed, and the copier once restored.
	if got := f.getEndpoint(victim.ID); got.Secret != victimSecret || got.Headers["Authorization"] != victimHeader {
		t.Fatalf("the victim endpoint no longer opens: %+v", got)
	}
	if got, err := f.s.Source(f.ctx, src.ID); err != nil || got.Secret != src.Secret {
		t.Fatalf("the victim source no longer opens: %+v, %v", got, err)
	}
	if got := f.getEndpoint(copier.ID); got.Headers["X-Stolen"] != "nothing yet" {
		t.Fatalf("the copier's endpoint once restored: headers %v", got.Headers)
	}
	tasks, err := claim(now.Add(time.Minute))
	if err != nil || len(tasks) != 2*published-1 {
		t.Fatalf("claiming once restored: %d tasks, %v; want %d", len(tasks), err, 2*published-1)
	}
	for _, task := range tasks {
		if task.Endpoint.ID == copier.ID && (task.Endpoint.SealErr != nil || task.Endpoint.Headers["X-Stolen"] != "nothing yet") {
			t.Fatalf("claiming the copier's task once restored: %+v; the claims above were not put to the test", task.Endpoint)
		}
	}

	// A secret written anew mends the endpoint: the write replaces what
	// did not open, and reads no longer note it.
	raw.SetValue(t, f.s, "endpoints", "secret", copier.ID, stolen[0].sealed)
	broken := f.getEndpoint(copier.ID)
	if broken.SealErr == nil {
		t.Fatal("the copier with the victim's secret reads without SealErr")
	}
	broken.Secret, broken.SealErr = "whsec_"+hookline.NewID("fresh"), nil
	if err := f.s.UpdateEndpoint(f.ctx, broken); err != nil {
		t.Fatalf("writing the copier a fresh secret: %v", err)
	}
	if got := f.getEndpoint(copier.ID); got.SealErr != nil || got.Secret != broken.Secret {
		t.Fatalf("the copier after a fresh secret: SealErr %v, secret %.12q…", got.SealErr, got.Secret)
	}
}

// testSealedSigningKey: an ed25519 endpoint's secret key (whsk_), and the
// HMAC secret signing beside it during a switch, are written sealed and
// read back whole by every read that signs or shows them: the endpoint,
// the list, the claimed task, and after the switch is undone. The sealer
// refuses to open a plain value, so a store that wrote one fails here.
func testSealedSigningKey(t *testing.T, f *fixture, ts *TestSealer) {
	secretKey, _ := webhook.NewKeyPair()
	hmacSecret := webhook.NewSecret()
	e := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.Secret = secretKey
		e.PreviousSecret, e.PreviousSecretExpires = hmacSecret, at(time.Hour)
	})
	check := func(stage string, got *hookline.Endpoint, secret, previous string) {
		t.Helper()
		if got.Secret != secret || got.PreviousSecret != previous {
			t.Fatalf("%s: secret %.8q…, previous %.8q…; want %.8q…, %.8q…", stage, got.Secret, got.PreviousSecret, secret, previous)
		}
	}
	got := f.getEndpoint(e.ID)
	check("Endpoint", got, secretKey, hmacSecret)
	if got.Signing() != hookline.SigningEd25519 {
		t.Fatalf("Signing() = %q, want %q", got.Signing(), hookline.SigningEd25519)
	}
	list, _, err := f.s.ListEndpoints(f.ctx, hookline.EndpointFilter{Page: hookline.Page{Limit: 10}})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListEndpoints: %d, %v", len(list), err)
	}
	check("ListEndpoints", list[0], secretKey, hmacSecret)
	f.publishAt("invoice.paid", base)
	tasks := f.claim("node-a", at(time.Second), time.Minute, 10)
	if len(tasks) != 1 {
		t.Fatalf("claimed %d tasks, want 1", len(tasks))
	}
	check("ClaimTasks", tasks[0].Endpoint, secretKey, hmacSecret)

	// Back to HMAC: the secret key signs beside the new secret.
	newSecret := webhook.NewSecret()
	got.Secret, got.PreviousSecret, got.PreviousSecretExpires = newSecret, secretKey, at(2*time.Hour)
	if err := f.s.UpdateEndpoint(f.ctx, got); err != nil {
		t.Fatal(err)
	}
	check("after UpdateEndpoint", f.getEndpoint(e.ID), newSecret, secretKey)

	// Sealed under a key the store no longer has, nothing opens: the
	// database alone does not give the secret key away.
	if err := ts.Rotate(seal.NewKey()); err != nil {
		t.Fatal(err)
	}
	ts.Retire()
	got, err = f.s.Endpoint(f.ctx, e.ID)
	if err != nil {
		t.Fatalf("reading an endpoint sealed under a retired key fails: %v", err)
	}
	if got.SealErr == nil || !got.SealErr.Secret || !got.SealErr.PreviousSecret || got.Secret != "" || got.PreviousSecret != "" {
		t.Fatalf("an endpoint sealed under a retired key: SealErr %+v, secret %.8q…, previous %.8q…; want both blank and noted", got.SealErr, got.Secret, got.PreviousSecret)
	}
}

// testReseal: plain rows from before sealing, rows sealed before values
// were bound to their use (hlseal1), and rows sealed under a rotated-out
// key, are re-sealed under the current key; ordinary reads refuse the
// first two until then (reading them blank, with SealErr); reads give the
// same secrets after; a value no key opens is skipped, named, and does not
// keep the others from being re-sealed.
func testReseal(t *testing.T, f *fixture, ts *TestSealer, raw RawRows) {
	ts.writeAs(writePlain) // a database written before sealing
	legacy := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.PreviousSecret, e.PreviousSecretExpires = "whsec_previous", at(time.Hour)
		e.Headers = hookline.Headers{"Authorization": "Basic bGVnYWN5OnBhc3M=", "X-Token": "legacy-token"}
	})
	src := f.source("legacy")
	ts.writeAs(writeLegacy) // a database sealed before values were bound to their use
	unbound := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.Headers = hookline.Headers{"Authorization": "Bearer unbound"}
	})
	ts.writeAs(writeSealed)
	sealed := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.Headers = hookline.Headers{"Authorization": "Bearer sealed"}
	})
	for _, e := range []*hookline.Endpoint{legacy, unbound} {
		got, err := f.s.Endpoint(f.ctx, e.ID)
		if err != nil {
			t.Fatalf("an ordinary read of endpoint %s before re-sealing fails: %v", e.ID, err)
		}
		if got.SealErr == nil || got.Secret != "" {
			t.Fatalf("an ordinary read of endpoint %s before re-sealing: secret %.10q…, SealErr %v; want it blank and noted", e.ID, got.Secret, got.SealErr)
		}
	}
	if got, err := f.s.Source(f.ctx, src.ID); err != nil {
		t.Fatalf("an ordinary read of a source with a plain secret fails: %v", err)
	} else if got.SealErr == nil || got.Secret != "" {
		t.Fatalf("an ordinary read of a plain source secret before re-sealing: secret %q, SealErr %v; want it blank and noted", got.Secret, got.SealErr)
	}

	r, err := f.s.ResealSecrets(f.ctx)
	if err != nil || r.Count != 7 || r.Total != 8 || len(r.Skipped) != 0 { // legacy's two secrets and two header values, the source's, unbound's secret and header value
		t.Fatalf("first re-seal: %+v, %v; want the 5 plain and 2 hlseal1 values, in 8 columns of rows", r, err)
	}
	if err := ts.Rotate(seal.NewKey()); err != nil {
		t.Fatal(err)
	}
	r, err = f.s.ResealSecrets(f.ctx)
	if err != nil || r.Count != 9 || len(r.Skipped) != 0 { // everything (legacy's 4, unbound's 2, sealed's 2, the source's), now under the old key
		t.Fatalf("re-seal after rotation: %+v, %v; want 9", r, err)
	}
	if r, err := f.s.ResealSecrets(f.ctx); err != nil || r.Count != 0 {
		t.Fatalf("re-seal again: %+v, %v; want 0", r, err)
	}
	ts.Retire() // the old key is gone: only values sealed anew open
	for _, want := range []*hookline.Endpoint{legacy, unbound, sealed} {
		got, err := f.s.Endpoint(f.ctx, want.ID)
		if err != nil || got.Secret != want.Secret || got.PreviousSecret != want.PreviousSecret || !maps.Equal(got.Headers, want.Headers) {
			t.Fatalf("endpoint %s after re-sealing: %+v, %v", want.ID, got, err)
		}
	}
	if got, err := f.s.Source(f.ctx, src.ID); err != nil || got.Secret != src.Secret {
		t.Fatalf("source after re-sealing: %+v, %v", got, err)
	}
	if list, _, err := f.s.ListEndpoints(f.ctx, hookline.EndpointFilter{Page: hookline.Page{Limit: 10}}); err != nil || len(list) != 3 {
		t.Fatalf("listing endpoints after re-sealing: %d, %v", len(list), err)
	}

	other := NewTestSealer(t)
	intruder := &hookline.Source{ID: hookline.NewID("src"), Name: "foreign", Type: hookline.SourceGitHub,
		Response: hookline.SourceResponse{Status: 200}, Created: base, Updated: base}
	foreign, err := other.Seal(hookline.SecretUse{Column: sqlcore.SourceSecretColumn, Row: intruder.ID}, "sealed elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	intruder.Secret = foreign
	ts.writeAs(writePlain) // written as it is: a value sealed under a key this store lacks
	if err := f.s.CreateSource(f.ctx, intruder); err != nil {
		t.Fatal(err)
	}
	ts.writeAs(writeSealed)
	if err := ts.Rotate(seal.NewKey()); err != nil {
		t.Fatal(err)
	}
	r, err = f.s.ResealSecrets(f.ctx)
	if err != nil || r.Count != 9 || r.Total != 9 || len(r.Skipped) != 1 {
		t.Fatalf("re-seal with a value no key opens: %+v, %v; want the 9 others re-sealed and it skipped", r, err)
	}
	if want := "sources.secret of " + intruder.ID + ": "; !strings.HasPrefix(r.Skipped[0], want) || strings.Contains(r.Skipped[0], foreign) {
		t.Fatalf("the skipped value is reported as %q; want it named %q…, without the value", r.Skipped[0], want)
	}
	if got := raw.Value(t, f.s, "sources", "secret", intruder.ID); got != foreign {
		t.Fatalf("the skipped value was rewritten: %q", got)
	}
	ts.Retire() // only what the re-seal rewrote opens now
	for _, want := range []*hookline.Endpoint{legacy, unbound, sealed} {
		if got, err := f.s.Endpoint(f.ctx, want.ID); err != nil {
			t.Fatalf("endpoint %s after a re-seal that skipped a value: %v", want.ID, err)
		} else if got.SealErr != nil || got.Secret != want.Secret {
			t.Fatalf("endpoint %s after a re-seal that skipped a value: SealErr %v", want.ID, got.SealErr)
		}
	}
}

package seal

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
)

var endpointSecret = hookline.SecretUse{Column: "endpoints.secret", Row: "ep_1"}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	kr, err := NewKeyring(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := kr.Seal(endpointSecret, "whsec_abc")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := kr.Seal(endpointSecret, "whsec_abc")
	if strings.Contains(sealed, "whsec_") || sealed == again || !strings.HasPrefix(sealed, prefix+kr.CurrentID()+":") {
		t.Fatalf("sealed %q (again %q): want no plain text, a fresh nonce each time, hlseal2 under the current key", sealed, again)
	}
	other, _ := NewKeyring(NewKey())
	// One bit of the ciphertext flipped, still well-formed base64 (a bit
	// flipped in the text itself would sometimes make a character outside
	// the alphabet: malformed, not altered).
	cut := strings.LastIndexByte(sealed, ':') + 1
	raw, err := base64.RawURLEncoding.DecodeString(sealed[cut:])
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-3] ^= 1
	tampered := sealed[:cut] + base64.RawURLEncoding.EncodeToString(raw)
	for _, tc := range []struct {
		name, stored string
		ring         *Keyring
		want         string
		wantErr      string
	}{
		{"round trip", sealed, kr, "whsec_abc", ""},
		{"plain from before sealing", "whsec_legacy", kr, "", "not sealed"},
		{"hlseal1 from before values were bound", kr.SealLegacy("whsec_legacy"), kr, "", "older Hookline"},
		{"empty", "", kr, "", ""},
		{"another key", sealed, other, "", "does not hold"},
		{"altered", tampered, kr, "", "altered"},
		{"malformed", prefix + kr.CurrentID() + ":!!", kr, "", "malformed"},
	} {
		got, err := tc.ring.Open(endpointSecret, tc.stored)
		if got != tc.want || (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: Open = %q, %v; want %q, error containing %q", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
	if s, _ := kr.Seal(endpointSecret, ""); s != "" {
		t.Errorf("Seal(\"\") = %q, want \"\"", s)
	}
	if _, err := kr.Seal(hookline.SecretUse{Column: "endpoints.secret"}, "x"); err == nil {
		t.Error("a value was sealed for no row")
	}
}

// TestSealedForItsUse: a value opens only for the column and row it was
// sealed for, so a copy in another column or row (another endpoint's
// headers) gives nothing away.
func TestSealedForItsUse(t *testing.T) {
	t.Parallel()
	kr, _ := NewKeyring(NewKey())
	a1 := hookline.SecretUse{Column: "endpoints.secret", Row: "ep_1"}
	sealed, err := kr.Seal(a1, "whsec_victim")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		use  hookline.SecretUse
		ok   bool
	}{
		{"same column and row", a1, true},
		{"same column, another row", hookline.SecretUse{Column: "endpoints.secret", Row: "ep_2"}, false},
		{"another column, same row", hookline.SecretUse{Column: "endpoints.headers", Row: "ep_1"}, false},
		{"another column and row", hookline.SecretUse{Column: "endpoints.headers", Row: "ep_2"}, false},
		{"the separator moved", hookline.SecretUse{Column: "endpoints.secret\x00ep", Row: "_1"}, false},
		{"a row that extends the id", hookline.SecretUse{Column: "endpoints.secret", Row: "ep_10"}, false},
	} {
		got, err := kr.Open(tc.use, sealed)
		if tc.ok != (err == nil) || (tc.ok && got != "whsec_victim") || (!tc.ok && got != "") {
			t.Errorf("%s: Open(%+v) = %q, %v; want it to open: %v", tc.name, tc.use, got, err, tc.ok)
		}
		// Re-sealing does not carry a value from another place to this
		// one: what it leaves or writes still does not open here.
		if v, _, err := kr.Reseal(tc.use, sealed); !tc.ok && err == nil {
			if got, err := kr.Open(tc.use, v); err == nil {
				t.Errorf("%s: Reseal carried the value to %+v: %q", tc.name, tc.use, got)
			}
		}
	}
	// Under an older key, re-sealing opens the copy for its new place,
	// which fails: the whole re-seal does, rather than rebinding it.
	if err := kr.Rotate(NewKey()); err != nil {
		t.Fatal(err)
	}
	if v, _, err := kr.Reseal(hookline.SecretUse{Column: "endpoints.headers", Row: "ep_2"}, sealed); err == nil {
		t.Errorf("Reseal rebound a copy sealed under an older key: %q", v)
	}
	if _, changed, err := kr.Reseal(a1, sealed); err != nil || !changed {
		t.Errorf("Reseal in its own place under an older key: %v, %v", changed, err)
	}
}

// TestResealUpgrades: Reseal, the one path that opens plain and hlseal1
// values, seals them for their place under the current key, and re-seals
// a value of an older key; a value already fresh stays as it is.
func TestResealUpgrades(t *testing.T) {
	t.Parallel()
	kr, _ := NewKeyring(NewKey())
	use := hookline.SecretUse{Column: "sources.secret", Row: "src_1"}
	oldKey, _ := kr.Seal(use, "s-old-key")
	if err := kr.Rotate(NewKey()); err != nil {
		t.Fatal(err)
	}
	fresh, _ := kr.Seal(use, "s-fresh")
	for _, tc := range []struct {
		name, stored, plain string
		changed             bool
	}{
		{"plain", "s-plain", "s-plain", true},
		{"hlseal1", kr.SealLegacy("s-legacy"), "s-legacy", true},
		{"older key", oldKey, "s-old-key", true},
		{"fresh", fresh, "s-fresh", false},
		{"empty", "", "", false},
	} {
		v, changed, err := kr.Reseal(use, tc.stored)
		if err != nil || changed != tc.changed {
			t.Fatalf("%s: Reseal = %q, %v, %v; want changed %v", tc.name, v, changed, err, tc.changed)
		}
		if tc.changed && !strings.HasPrefix(v, prefix+kr.CurrentID()+":") {
			t.Errorf("%s: re-sealed as %q, want hlseal2 under the current key", tc.name, v)
		}
		if got, err := kr.Open(use, v); err != nil || got != tc.plain {
			t.Errorf("%s: after Reseal Open = %q, %v; want %q", tc.name, got, err, tc.plain)
		}
	}
	kr.Retire()
	if _, _, err := kr.Reseal(use, oldKey); err == nil {
		t.Error("Reseal opened a value of a retired key")
	}
}

func TestRotateAndRetire(t *testing.T) {
	t.Parallel()
	kr, _ := NewKeyring(NewKey())
	old, _ := kr.Seal(endpointSecret, "s")
	if err := kr.Rotate(NewKey()); err != nil {
		t.Fatal(err)
	}
	if _, changed, _ := kr.Reseal(endpointSecret, old); !changed || len(kr.Keys()) != 2 {
		t.Fatalf("after Rotate: needs re-sealing %v, %d keys", changed, len(kr.Keys()))
	}
	if got, err := kr.Open(endpointSecret, old); err != nil || got != "s" {
		t.Fatalf("old key no longer opens before Retire: %q, %v", got, err)
	}
	kr.Retire()
	if _, err := kr.Open(endpointSecret, old); err == nil || len(kr.Keys()) != 1 {
		t.Fatal("a retired key still opens")
	}
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	k1, k2 := NewKey(), NewKey()
	for _, tc := range []struct {
		in   string
		n    int
		fail bool
	}{
		{EncodeKey(k1), 1, false},
		{EncodeKey(k1) + "," + base64.StdEncoding.EncodeToString(k2), 2, false},
		{EncodeKey(k1) + "\n" + EncodeKey(k2) + "\n", 2, false},
		{"", 0, true},
		{"abcd", 0, true},
		{EncodeKey(k1)[:62], 0, true},
	} {
		keys, err := ParseKeys(tc.in)
		if (err != nil) != tc.fail || len(keys) != tc.n {
			t.Errorf("ParseKeys(%q) = %d keys, %v", tc.in, len(keys), err)
		}
	}
}

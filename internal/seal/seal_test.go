package seal

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	kr, err := NewKeyring(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := kr.Seal("whsec_abc")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := kr.Seal("whsec_abc")
	if strings.Contains(sealed, "whsec_") || sealed == again || !kr.Fresh(sealed) {
		t.Fatalf("sealed %q (again %q): want no plain text, a fresh nonce each time, fresh under the current key", sealed, again)
	}
	other, _ := NewKeyring(NewKey())
	tampered := []byte(sealed)
	tampered[len(tampered)-3] ^= 1
	for _, tc := range []struct {
		name, stored string
		ring         *Keyring
		want         string
		wantErr      string
	}{
		{"round trip", sealed, kr, "whsec_abc", ""},
		{"plain from before sealing", "whsec_legacy", kr, "whsec_legacy", ""},
		{"empty", "", kr, "", ""},
		{"another key", sealed, other, "", "does not hold"},
		{"altered", string(tampered), kr, "", "altered"},
		{"malformed", prefix + kr.CurrentID() + ":!!", kr, "", "malformed"},
	} {
		got, err := tc.ring.Open(tc.stored)
		if got != tc.want || (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: Open = %q, %v; want %q, error containing %q", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
	if s, _ := kr.Seal(""); s != "" {
		t.Errorf("Seal(\"\") = %q, want \"\"", s)
	}
}

func TestRotateAndRetire(t *testing.T) {
	t.Parallel()
	kr, _ := NewKeyring(NewKey())
	old, _ := kr.Seal("s")
	if err := kr.Rotate(NewKey()); err != nil {
		t.Fatal(err)
	}
	if kr.Fresh(old) || len(kr.Keys()) != 2 {
		t.Fatalf("after Rotate: fresh %v, %d keys", kr.Fresh(old), len(kr.Keys()))
	}
	if got, err := kr.Open(old); err != nil || got != "s" {
		t.Fatalf("old key no longer opens before Retire: %q, %v", got, err)
	}
	kr.Retire()
	if _, err := kr.Open(old); err == nil || len(kr.Keys()) != 1 {
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

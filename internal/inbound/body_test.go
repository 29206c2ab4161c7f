package inbound

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// TestBody: a body in pieces reads as the bytes one after the other, and
// its first bytes come from the first piece without a copy when it holds
// them.
func TestBody(t *testing.T) {
	t.Parallel()
	whole := []byte("0123456789abcdef")
	for _, tc := range []struct {
		name   string
		pieces Body
	}{
		{"none", nil},
		{"one", Body{whole}},
		{"uneven", Body{whole[:3], whole[3:4], nil, whole[4:11], whole[11:]}},
		{"empty pieces", Body{nil, {}, whole, nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := bytes.Join(tc.pieces, nil)
			if tc.pieces.Len() != int64(len(want)) || !bytes.Equal(tc.pieces.Bytes(), want) || tc.pieces.String() != string(want) {
				t.Fatalf("Len %d, Bytes %q, String %q; want %q", tc.pieces.Len(), tc.pieces.Bytes(), tc.pieces.String(), want)
			}
			if got := tc.pieces.SHA256(); got != sha256.Sum256(want) {
				t.Fatalf("SHA256 %x, want %x", got, sha256.Sum256(want))
			}
			for n := 0; n <= len(want)+2; n++ {
				if got := tc.pieces.Prefix(n); !bytes.Equal(got, want[:min(n, len(want))]) {
					t.Fatalf("Prefix(%d) = %q, want %q", n, got, want[:min(n, len(want))])
				}
			}
		})
	}
	one := Body{whole}
	if p := one.Prefix(4); &p[0] != &whole[0] || cap(p) != 4 {
		t.Fatal("Prefix copied what the first piece holds, or left room to append over the body")
	}
	if b := one.Bytes(); &b[0] != &whole[0] {
		t.Fatal("Bytes copied a body of one piece")
	}
}

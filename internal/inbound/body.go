package inbound

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"strings"
)

// Body is a received request's body in the pieces it was read in, one
// after the other. A body from a stranger is read piece by piece as its
// bytes arrive, and stays in those pieces while it is verified: a
// signature is a hash over the pieces, and a request that fails keeps
// only its first bytes (Prefix) and their hash of the whole (SHA256), so
// its pieces are never joined into a second copy. Only what is
// accepted is joined (Bytes), once, for the filters and the store.
type Body [][]byte

// Len is the body's size in bytes.
func (b Body) Len() int64 {
	var n int64
	for _, p := range b {
		n += int64(len(p))
	}
	return n
}

// Bytes is the body as one slice: the piece itself when there is one,
// else a new slice the pieces are copied into.
func (b Body) Bytes() []byte {
	switch len(b) {
	case 0:
		return nil
	case 1:
		return b[0]
	}
	return bytes.Join(b, nil)
}

// String is the body as a string, copied once (a form to parse).
func (b Body) String() string {
	var s strings.Builder
	s.Grow(int(b.Len()))
	for _, p := range b {
		s.Write(p)
	}
	return s.String()
}

// Prefix is the body's first n bytes (all of it when shorter): a slice
// of the first piece when that holds them, else a copy of them.
func (b Body) Prefix(n int) []byte {
	if len(b) > 0 && len(b[0]) >= n {
		return b[0][:n:n]
	}
	out := make([]byte, 0, min(int64(n), b.Len()))
	for _, p := range b {
		if len(out) == n {
			break
		}
		out = append(out, p[:min(len(p), n-len(out))]...)
	}
	return out
}

// SHA256 is the SHA-256 of the whole body, hashed piece by piece.
func (b Body) SHA256() [sha256.Size]byte {
	var sum [sha256.Size]byte
	b.hash(sha256.New()).Sum(sum[:0])
	return sum
}

// hash writes the pieces to h and returns it.
func (b Body) hash(h hash.Hash) hash.Hash {
	for _, p := range b {
		h.Write(p)
	}
	return h
}

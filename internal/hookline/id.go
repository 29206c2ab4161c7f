package hookline

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// Crockford's base32 alphabet: its order is the byte order, so ids sort as
// strings in the order they were made.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

var idState struct {
	sync.Mutex
	lastMS uint64
	seq    uint64
}

// NewID returns prefix + "_" + 24 characters: a 48-bit millisecond
// timestamp, a 16-bit sequence within the millisecond and 56 random bits.
// Ids made by one process sort in the order they were made; ids of different
// processes sort by time to the millisecond. Cursor pagination relies on it.
func NewID(prefix string) string {
	ms := uint64(time.Now().UnixMilli())
	idState.Lock()
	if ms <= idState.lastMS {
		ms = idState.lastMS
		idState.seq++
		if idState.seq > 0xffff { // more than 65536 ids in one millisecond
			ms++
			idState.seq = 0
		}
	} else {
		idState.seq = 0
	}
	idState.lastMS = ms
	seq := idState.seq
	idState.Unlock()

	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	r := binary.BigEndian.Uint64(rnd[:]) >> 8

	// 120 bits: 48 time, 16 sequence, 56 random → 24 base32 characters.
	hi := ms<<16 | seq // 64 bits
	buf := make([]byte, 0, len(prefix)+25)
	buf = append(buf, prefix...)
	buf = append(buf, '_')
	// Emit hi (64 bits) and r (56 bits) as one 120-bit number, 5 bits at a time.
	for i := 0; i < 24; i++ {
		shift := 115 - 5*i // bit offset of this character's lowest bit
		var v uint64
		switch {
		case shift >= 56:
			v = hi >> (shift - 56)
		case shift+5 <= 56:
			v = r >> shift
		default: // straddles hi and r
			v = hi<<(56-shift) | r>>shift
		}
		buf = append(buf, idAlphabet[v&31])
	}
	return string(buf)
}

package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The segment and record formats are specified in the package comment.
const (
	// Version is the segment format this package writes.
	Version = 1
	// HeaderSize is the size of a segment's header.
	HeaderSize = 32
	// RecordHeader is the size of a record's header: Append takes records
	// with this much room before the body, to fill in without a copy.
	RecordHeader = 12
)

var errVersion = errors.New("unknown journal format")

var (
	crcTable     = crc32.MakeTable(crc32.Castagnoli)
	segmentMagic = []byte("HLJOURNL")
	recordMagic  = []byte("HLR1")
)

func encodeHeader(seq, salt uint64) []byte {
	h := make([]byte, HeaderSize)
	copy(h, segmentMagic)
	binary.LittleEndian.PutUint32(h[8:12], Version)
	binary.LittleEndian.PutUint64(h[16:24], seq)
	binary.LittleEndian.PutUint64(h[24:32], salt)
	binary.LittleEndian.PutUint32(h[12:16], crc32.Checksum(h[16:32], crcTable))
	return h
}

// header is a decoded segment header.
type header struct {
	version   uint32
	seq, salt uint64
}

// decodeHeader decodes the header at the start of data. ok is false when
// data does not start with the segment magic; err is set when it does but
// the header is damaged or of a newer version.
func decodeHeader(data []byte) (h header, ok bool, err error) {
	if len(data) < HeaderSize || !bytes.Equal(data[:8], segmentMagic) {
		return h, false, nil
	}
	h.version = binary.LittleEndian.Uint32(data[8:12])
	if crc32.Checksum(data[16:32], crcTable) != binary.LittleEndian.Uint32(data[12:16]) {
		return h, true, fmt.Errorf("segment header checksum mismatch")
	}
	if h.version != Version {
		return h, true, fmt.Errorf("%w: segment format version %d; this hookline reads version %d", errVersion, h.version, Version)
	}
	h.seq = binary.LittleEndian.Uint64(data[16:24])
	h.salt = binary.LittleEndian.Uint64(data[24:32])
	return h, true, nil
}

// frame fills in the header of rec, whose body follows RecordHeader bytes.
func frame(rec []byte, seq, salt uint64) {
	body := rec[RecordHeader:]
	copy(rec[0:4], recordMagic)
	binary.LittleEndian.PutUint32(rec[4:8], uint32(len(body)))
	binary.LittleEndian.PutUint32(rec[8:12], recordSum(seq, salt, uint32(len(body)), body))
}

func recordSum(seq, salt uint64, n uint32, body []byte) uint32 {
	var b [20]byte
	binary.LittleEndian.PutUint64(b[0:8], salt)
	binary.LittleEndian.PutUint64(b[8:16], seq)
	binary.LittleEndian.PutUint32(b[16:20], n)
	return crc32.Update(crc32.Checksum(b[:], crcTable), crcTable, body)
}

// recordAt returns the body of the valid record at data[off:], if any.
func recordAt(data []byte, off int, seq, salt uint64) ([]byte, bool) {
	if len(data)-off < RecordHeader || !bytes.Equal(data[off:off+4], recordMagic) {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(data[off+4 : off+8])
	if n == 0 || uint64(n) > uint64(len(data)-off-RecordHeader) {
		return nil, false
	}
	body := data[off+RecordHeader : off+RecordHeader+int(n)]
	if recordSum(seq, salt, n, body) != binary.LittleEndian.Uint32(data[off+8:off+12]) {
		return nil, false
	}
	return body, true
}

// Damage is a stretch of a segment between intact records that holds no
// valid record.
type Damage struct {
	Offset, Length int64
}

// scan returns the bodies of the valid records of a segment, and the
// stretches skipped between them (see the package comment).
func scan(data []byte, seq, salt uint64) ([][]byte, []Damage) {
	var bodies [][]byte
	var damage []Damage
	off := HeaderSize
	for off < len(data) {
		if body, ok := recordAt(data, off, seq, salt); ok {
			bodies = append(bodies, body)
			off += RecordHeader + len(body)
			continue
		}
		next := -1
		for from := off + 1; from < len(data); {
			i := bytes.Index(data[from:], recordMagic)
			if i < 0 {
				break
			}
			if _, ok := recordAt(data, from+i, seq, salt); ok {
				next = from + i
				break
			}
			from += i + 1
		}
		if next < 0 {
			break // the end of what was written
		}
		damage = append(damage, Damage{Offset: int64(off), Length: int64(next - off)})
		off = next
	}
	return bodies, damage
}

// scanLegacy returns the bodies of a version 0 segment: a 4-byte length, a
// CRC-32C of the segment's number and the body, the body; it stops at the
// first record that fails.
func scanLegacy(data []byte, seq uint64) [][]byte {
	var out [][]byte
	var n8 [8]byte
	binary.LittleEndian.PutUint64(n8[:], seq)
	seed := crc32.Checksum(n8[:], crcTable)
	for len(data) >= 8 {
		n := binary.LittleEndian.Uint32(data[0:4])
		if n == 0 || uint64(n) > uint64(len(data)-8) {
			break
		}
		body := data[8 : 8+n]
		if crc32.Update(seed, crcTable, body) != binary.LittleEndian.Uint32(data[4:8]) {
			break
		}
		out = append(out, body)
		data = data[8+n:]
	}
	return out
}

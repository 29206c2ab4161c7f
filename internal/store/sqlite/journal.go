package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The journal makes a publish durable with one write and one sync of a
// preallocated file instead of a SQLite transaction, which would write
// every b-tree page the batch touches (events, deliveries and their
// indexes) to the WAL. Published batches wait in memory (see pending.go)
// until a flush copies them into SQLite in one large transaction. At Open,
// segments left by a crash are replayed into SQLite before anything else
// runs.
//
// Segments are files of segmentSize, zero-filled and synced when made, so
// that an append overwrites allocated blocks and its fdatasync flushes data
// alone: appending to a growing file makes every sync commit the
// filesystem's own journal too, which costs three times as long on a busy
// machine. On ext4 without a journal, an append inside the segment is made
// durable by syncRange instead, which also leaves the inode alone. A
// segment whose events are all in SQLite becomes the spare that the next
// rotation reuses, so files are zero-filled only at first.
//
// A segment is a sequence of records: a 4-byte little-endian length, a
// 4-byte CRC-32C of the segment's number followed by the body, and the body
// (encodeRecord). Replay stops at the first record whose length or checksum
// fails: the zeros after the last record, a record cut short by a crash
// (never acknowledged: its sync did not return), or a record left from the
// file's life as an earlier segment (its checksum has the old number).

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// segmentSize is the size of a journal segment. A batch that does not fit
// the rest of one starts the next.
const segmentSize = 8 << 20

// recordHeader is the length of a record's header: its body's length and
// checksum.
const recordHeader = 8

// journal is the segment being appended to. Its methods are called with
// Store.jmu held; the function append returns is called without.
type journal struct {
	dir, prefix string // segment paths are dir/prefix<seq>
	sync        bool   // sync each append (synchronous=FULL)
	f           *os.File
	seq         uint64
	size        int64 // bytes written to f
	allocated   int64 // bytes of f zero-filled and synced when it was made
	// barrier, when set, makes appends inside allocated durable through
	// syncRange (see rangeSyncBarrier); it is the data directory.
	barrier   *os.File
	slowSync  time.Duration // a sync longer than this makes the next ones leave their P
	slowUntil atomic.Int64  // unix ns: syncs until then leave their P (see datasync)
	// fmu is held for reading by appends waiting for their sync, and for
	// writing by rotate, which closes f.
	fmu sync.RWMutex
}

// openJournal starts a new segment after the highest existing one, which
// it returns for the caller to replay.
func openJournal(dbPath string, sync bool) (*journal, []string, error) {
	j := &journal{dir: filepath.Dir(dbPath), prefix: filepath.Base(dbPath) + ".journal.", sync: sync, slowSync: slowSync}
	old, last, err := j.segments()
	if err != nil {
		return nil, nil, err
	}
	j.seq = last
	if sync {
		if j.barrier, err = rangeSyncBarrier(j.dir); err != nil {
			return nil, nil, err
		}
	}
	f, err := j.next()
	if err != nil {
		j.closeBarrier()
		return nil, nil, err
	}
	j.f = f
	return j, old, nil
}

// segments lists existing segment paths in order, and the highest number.
func (j *journal) segments() ([]string, uint64, error) {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, 0, fmt.Errorf("listing journal segments: %w", err)
	}
	type seg struct {
		n    uint64
		path string
	}
	var segs []seg
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), j.prefix)
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(rest, 10, 64)
		if err != nil {
			continue // the spare
		}
		segs = append(segs, seg{n, filepath.Join(j.dir, e.Name())})
	}
	sort.Slice(segs, func(a, b int) bool { return segs[a].n < segs[b].n })
	var paths []string
	var last uint64
	for _, s := range segs {
		paths = append(paths, s.path)
		last = s.n
	}
	return paths, last, nil
}

func (j *journal) path(seq uint64) string {
	return filepath.Join(j.dir, j.prefix+strconv.FormatUint(seq, 10))
}

func (j *journal) sparePath() string { return filepath.Join(j.dir, j.prefix+"spare") }

// next opens segment seq+1: the spare renamed, or a new zero-filled file.
// Its directory entry is made durable before any record is written to it.
func (j *journal) next() (*os.File, error) {
	j.seq++
	path := j.path(j.seq)
	if err := os.Rename(j.sparePath(), path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reusing journal segment: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating journal segment: %w", err)
	}
	allocated, err := fill(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("creating journal segment: %w", err)
	}
	if j.sync {
		if err := syncDir(j.dir); err != nil {
			f.Close()
			return nil, err
		}
	}
	j.size, j.allocated = 0, allocated
	return f, nil
}

// fill zero-fills f to segmentSize unless it is that long already (a
// reused spare, every byte of which was written and synced) and makes the
// blocks durable. It returns f's size.
func fill(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size() >= segmentSize {
		return st.Size(), nil
	}
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < segmentSize; off += int64(len(zeros)) {
		if _, err := f.WriteAt(zeros, off); err != nil {
			return 0, err
		}
	}
	return segmentSize, f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening data directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing data directory: %w", err)
	}
	return nil
}

// fits reports whether a record of n bytes fits the segment. An
// empty segment takes any batch, growing if it must.
func (j *journal) fits(n int) bool {
	return j.size == 0 || j.size+int64(n) <= segmentSize
}

// append writes one record, rec: room for its header, then its body (see
// encodeRecord). It returns a function that makes the record durable
// (a no-op unless synchronous=FULL). The caller holds Store.jmu for the
// write only, so that appends of several publishers share a sync.
func (j *journal) append(rec []byte) (func() error, error) {
	body := rec[recordHeader:]
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(body)))
	binary.LittleEndian.PutUint32(rec[4:recordHeader], checksum(j.seq, body))
	off, n := j.size, int64(len(rec))
	if _, err := j.f.WriteAt(rec, off); err != nil {
		return nil, fmt.Errorf("writing journal: %w", err)
	}
	j.size += n
	if !j.sync {
		return func() error { return nil }, nil
	}
	f, inPlace := j.f, j.inPlace(j.size)
	j.fmu.RLock()
	return func() error {
		defer j.fmu.RUnlock()
		if err := j.durable(f, off, n, inPlace); err != nil {
			return fmt.Errorf("syncing journal: %w", err)
		}
		return nil
	}, nil
}

// A journal sync holds its P (see datasync) unless one took longer than
// j.slowSync (slowSync) in the last slowSyncPause: a disk that stalls then
// stalls the publishes waiting for it, not every goroutine at the next
// garbage collection's stop-the-world.
const (
	slowSync      = 5 * time.Millisecond
	slowSyncPause = 10 * time.Second
)

// inPlace reports whether syncRange can make the segment durable up to
// end: not without a barrier, nor once a batch larger than the segment has
// grown the file, which only fdatasync makes durable.
func (j *journal) inPlace(end int64) bool {
	return j.barrier != nil && end <= j.allocated
}

// durable makes bytes [off, off+n) of f durable: with syncRange when
// inPlace, else with datasync.
func (j *journal) durable(f *os.File, off, n int64, inPlace bool) error {
	start := time.Now()
	var err error
	if inPlace {
		err = syncRange(f, off, n, j.barrier, j.holdP(start))
	} else {
		err = datasync(f, j.holdP(start))
	}
	if took := time.Since(start); took > j.slowSync {
		j.slowUntil.Store(start.Add(took + slowSyncPause).UnixNano())
	}
	return err
}

// holdP reports whether a sync starting now should keep its P: not when
// that is the process's only P, which would stop every goroutine for the
// sync, nor for a while after a slow sync.
func (j *journal) holdP(now time.Time) bool {
	return runtime.GOMAXPROCS(0) > 1 && now.UnixNano() >= j.slowUntil.Load()
}

func checksum(seq uint64, body []byte) uint32 {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], seq)
	return crc32.Update(crc32.Checksum(n[:], crcTable), crcTable, body)
}

// rotate starts the next segment once every append to the current one is
// synced, and returns the current one's path; the caller retires it (see
// retire) once its records are all in SQLite.
func (j *journal) rotate() (string, error) {
	j.fmu.Lock()
	defer j.fmu.Unlock()
	old := j.f
	f, err := j.next()
	if err != nil {
		return "", err
	}
	j.f = f
	if err := old.Close(); err != nil {
		return "", fmt.Errorf("closing journal segment: %w", err)
	}
	return old.Name(), nil
}

// retire keeps a segment whose records are all in SQLite as the spare, or
// deletes it when there is one. If a crash undoes this, the segment is
// replayed at Open, harmlessly: replay leaves rows already present alone.
func (j *journal) retire(path string) {
	if _, err := os.Stat(j.sparePath()); errors.Is(err, os.ErrNotExist) {
		if os.Rename(path, j.sparePath()) == nil {
			return
		}
	}
	_ = os.Remove(path)
}

func (j *journal) close() error {
	j.closeBarrier()
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("closing journal segment: %w", err)
	}
	return nil
}

func (j *journal) closeBarrier() {
	if j.barrier != nil {
		j.barrier.Close()
	}
}

// readSegment returns the bodies of a segment's records.
func readSegment(path string) ([][]byte, error) {
	seq, err := strconv.ParseUint(path[strings.LastIndexByte(path, '.')+1:], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("journal segment %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading journal segment: %w", err)
	}
	var out [][]byte
	for len(data) >= recordHeader {
		n := binary.LittleEndian.Uint32(data[0:4])
		sum := binary.LittleEndian.Uint32(data[4:recordHeader])
		if n == 0 || uint64(n) > uint64(len(data)-recordHeader) {
			break
		}
		body := data[recordHeader : recordHeader+n]
		if checksum(seq, body) != sum {
			break
		}
		out = append(out, body)
		data = data[recordHeader+n:]
	}
	return out, nil
}

// encodeRecord serialises published events and their deliveries as the
// body of a journal record, after room for the record's header.
func encodeRecord(evs []*pendingEvent) []byte {
	n := recordHeader + binary.MaxVarintLen64
	for _, pe := range evs {
		n += len(pe.id) + len(pe.typ) + len(pe.tenant) + len(pe.payload) + len(pe.idemKey) + 8*binary.MaxVarintLen64
		for _, d := range pe.deliveries {
			n += len(d.id) + len(d.endpointID) + len(d.owner) + 6*binary.MaxVarintLen64
		}
	}
	b := make([]byte, recordHeader, n)
	b = binary.AppendUvarint(b, uint64(len(evs)))
	for _, pe := range evs {
		b = appendString(b, pe.id)
		b = appendString(b, pe.typ)
		b = binary.AppendVarint(b, pe.created)
		b = appendString(b, pe.tenant)
		b = appendString(b, pe.payload)
		b = appendString(b, pe.idemKey)
		b = binary.AppendVarint(b, pe.published)
		b = binary.AppendUvarint(b, uint64(len(pe.deliveries)))
		for _, d := range pe.deliveries {
			b = appendString(b, d.id)
			b = appendString(b, d.endpointID)
			b = binary.AppendVarint(b, d.due)
			b = appendString(b, d.owner)
			b = binary.AppendVarint(b, d.leaseExpires)
			b = binary.AppendVarint(b, d.ready)
		}
	}
	return b
}

// appendString appends s after its length.
func appendString[S string | []byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errCorrupt = errors.New("corrupt journal record")

// decodeBatch decodes the body of a record encodeRecord made.
func decodeBatch(b []byte) ([]*pendingEvent, error) {
	d := decoder{b: b}
	n := d.uvarint()
	var out []*pendingEvent
	for i := uint64(0); i < n && d.err == nil; i++ {
		pe := &pendingEvent{
			id: d.string(), typ: d.string(), created: d.varint(), tenant: d.string(),
			payload: []byte(d.string()), idemKey: d.string(), published: d.varint(),
		}
		nd := d.uvarint()
		for k := uint64(0); k < nd && d.err == nil; k++ {
			pe.deliveries = append(pe.deliveries, &pendingDelivery{
				id: d.string(), eventID: pe.id, endpointID: d.string(), due: d.varint(),
				owner: d.string(), leaseExpires: d.varint(), ready: d.varint(), created: pe.published, ev: pe,
			})
		}
		out = append(out, pe)
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = io.ErrUnexpectedEOF
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

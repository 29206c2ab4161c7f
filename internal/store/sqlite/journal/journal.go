package journal

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// DefaultSegmentSize is the size of a segment unless Options say otherwise.
// A record that does not fit the rest of one starts the next.
const DefaultSegmentSize = 8 << 20

// Options configure Open.
type Options struct {
	// FS holds the segments. Default: the operating system's files.
	FS FS
	// Sync makes Append's wait return only once the record is durable.
	Sync bool
	// SegmentSize is the size segments are preallocated to. Default
	// DefaultSegmentSize.
	SegmentSize int64
	// Logger receives damaged records and segments. Default: discarded.
	Logger *slog.Logger
}

// Segment is a segment an earlier process left, to replay.
type Segment struct {
	Path string
	// Records are the bodies of its intact records, in order.
	Records [][]byte
	// Legacy marks a version 0 segment, whose bodies are in the format the
	// store wrote before records had kinds.
	Legacy bool
	// Damaged is set when some of it could not be read: the caller sets it
	// aside (SetAside) instead of retiring it.
	Damaged bool
}

// Journal is the segment being appended to. Its methods are safe for
// concurrent use (see the package comment for the locks).
type Journal struct {
	fs          FS
	osfs        *osFS // fs when it is the OS's, to close
	dir, prefix string
	sync        bool
	segmentSize int64
	log         *slog.Logger

	mu        sync.Mutex
	f         File
	seq, salt uint64
	size      int64 // bytes written to f, under mu
	allocated int64 // bytes of f zero-filled and synced when it was made; changes under fmu
	written   atomic.Int64

	fmu sync.RWMutex
	// syncMu guards syncing, closed when the sync running ends; nil when
	// none runs (syncTo).
	syncMu  sync.Mutex
	syncing chan struct{}
	synced  atomic.Int64 // f is durable up to here (the watermark); raised by the sync running, reset under fmu
	failed  atomic.Pointer[error]

	spareMu   sync.Mutex
	haveSpare bool
	spareSeq  uint64 // the number the spare last had
	// spareOwn is set when this process zero-filled and synced every block
	// of the spare itself: an inherited one may have holes (a crash in
	// its zero-fill) and is zero-filled again before reuse.
	spareOwn bool
	firstOwn uint64 // the first number this process gave a segment
}

// Open reads the segments an earlier process left, which it returns for
// the caller to replay, and starts a new segment after every number in
// use. Damage found in them is logged.
func Open(dir, prefix string, o Options) (*Journal, []*Segment, error) {
	j := &Journal{fs: o.FS, dir: dir, prefix: prefix, sync: o.Sync, segmentSize: o.SegmentSize, log: o.Logger}
	if j.segmentSize <= 0 {
		j.segmentSize = DefaultSegmentSize
	}
	if j.log == nil {
		j.log = slog.New(slog.DiscardHandler)
	}
	if j.fs == nil {
		osfs, err := newOSFS(dir)
		if err != nil {
			return nil, nil, err
		}
		j.fs, j.osfs = osfs, osfs
	}
	segs, err := j.load()
	if err == nil {
		err = j.next()
	}
	if err != nil {
		j.closeFS()
		return nil, nil, err
	}
	return j, segs, nil
}

// load reads every numbered segment and sets j.seq to the highest number
// in use.
func (j *Journal) load() ([]*Segment, error) {
	names, err := j.fs.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("listing journal segments: %w", err)
	}
	type numbered struct {
		seq  uint64
		path string
	}
	var found []numbered
	for _, name := range names {
		rest, ok := strings.CutPrefix(name, j.prefix)
		if !ok {
			continue
		}
		path := filepath.Join(j.dir, name)
		if rest == "spare" {
			seq, ok := j.readSpareSeq(path)
			if !ok {
				// A spare of the format before headers keeps no number:
				// reused, its rename could reach the disk before its new
				// header, under a number its old records validate for.
				if err := j.fs.Remove(path); err != nil {
					return nil, fmt.Errorf("removing a journal spare without a header: %w", err)
				}
				continue
			}
			j.haveSpare, j.spareSeq = true, seq
			j.seq = max(j.seq, seq)
			continue
		}
		aside := strings.HasSuffix(rest, ".damaged")
		seq, err := strconv.ParseUint(strings.TrimSuffix(rest, ".damaged"), 10, 64)
		if err != nil {
			continue
		}
		j.seq = max(j.seq, seq)
		if !aside {
			found = append(found, numbered{seq, path})
		}
	}
	j.firstOwn = j.seq + 1
	sort.Slice(found, func(a, b int) bool { return found[a].seq < found[b].seq })
	var segs []*Segment
	for _, n := range found {
		data, err := j.fs.ReadFile(n.path)
		if err != nil {
			return nil, fmt.Errorf("reading journal segment: %w", err)
		}
		seg, err := j.read(n.path, n.seq, data)
		if err != nil {
			return nil, err
		}
		segs = append(segs, seg)
	}
	return segs, nil
}

// readSpareSeq returns the number the spare had, from its header; ok is
// false when it has no valid header.
func (j *Journal) readSpareSeq(path string) (seq uint64, ok bool) {
	f, err := j.fs.OpenFile(path, 0, 0)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	b := make([]byte, HeaderSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		return 0, false
	}
	if h, ok, err := decodeHeader(b); ok && err == nil {
		return h.seq, true
	}
	return 0, false
}

// read decodes one segment, logging what is damaged.
func (j *Journal) read(path string, seq uint64, data []byte) (*Segment, error) {
	seg := &Segment{Path: path}
	h, ok, err := decodeHeader(data)
	switch {
	case ok && errors.Is(err, errVersion):
		return nil, fmt.Errorf("journal segment %s: %w", path, err)
	case ok && err != nil:
		j.log.Error("journal segment header damaged: none of its records can be read; the segment is kept aside",
			"file", path, "offset", 0, "err", err)
		seg.Damaged = true
		return seg, nil
	case ok && h.seq != seq:
		return seg, nil // an earlier life's header: nothing of this one
	case ok:
		var damage []Damage
		seg.Records, damage = scan(data, seq, h.salt)
		for _, d := range damage {
			j.log.Error("journal record damaged: skipped to the next intact record; the segment is kept aside",
				"file", path, "offset", d.Offset, "bytes", d.Length)
		}
		seg.Damaged = len(damage) > 0
		return seg, nil
	}
	if seg.Records = scanLegacy(data, seq); len(seg.Records) > 0 {
		seg.Legacy = true
		return seg, nil
	}
	if len(data) > 0 && !allZero(data[:min(len(data), HeaderSize)]) {
		j.log.Error("journal segment has no header: nothing in it can be read; the segment is kept aside", "file", path, "offset", 0)
		seg.Damaged = true
	}
	return seg, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func (j *Journal) path(seq uint64) string {
	return filepath.Join(j.dir, j.prefix+strconv.FormatUint(seq, 10))
}

func (j *Journal) sparePath() string { return filepath.Join(j.dir, j.prefix+"spare") }

// next starts segment seq+1: the spare renamed, or a new file, with a new
// header and salt, zero-filled unless it is allocated already, all of it
// and its directory entry durable before any record is written to it. The
// caller holds mu and fmu, or is Open.
func (j *Journal) next() error {
	seq := j.seq + 1
	path := j.path(seq)
	j.spareMu.Lock()
	trusted := false
	if j.haveSpare {
		if err := j.fs.Rename(j.sparePath(), path); err != nil && !notExist(err) {
			j.spareMu.Unlock()
			return fmt.Errorf("reusing journal segment: %w", err)
		}
		j.haveSpare, trusted = false, j.spareOwn
	}
	j.spareMu.Unlock()
	f, err := j.fs.OpenFile(path, os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("creating journal segment: %w", err)
	}
	allocated, err := j.prepare(f, seq, trusted)
	if err != nil {
		f.Close()
		return wrap("creating journal segment", path, err)
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		f.Close()
		return fmt.Errorf("syncing data directory: %w", err)
	}
	j.f, j.seq, j.size, j.allocated = f, seq, HeaderSize, allocated
	j.written.Store(HeaderSize)
	j.synced.Store(HeaderSize)
	return nil
}

// prepare writes a new header with a new salt to f, zero-fills it to the
// segment size unless allocated says it was, by this process (a spare this
// process zero-filled and synced: a range sync relies on every block's
// allocation being durable, which an inherited spare, its zero-fill maybe
// cut short by a crash, does not promise), and syncs it. It returns f's
// size.
func (j *Journal) prepare(f File, seq uint64, allocated bool) (int64, error) {
	var salt [8]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return 0, err
	}
	j.salt = binary.LittleEndian.Uint64(salt[:])
	if _, err := f.WriteAt(encodeHeader(seq, j.salt), 0); err != nil {
		return 0, err
	}
	size, err := f.Size()
	if err != nil {
		return 0, err
	}
	if !allocated || size < j.segmentSize {
		zeros := make([]byte, min(1<<20, j.segmentSize))
		for off := int64(HeaderSize); off < j.segmentSize; off += int64(len(zeros)) {
			if _, err := f.WriteAt(zeros[:min(int64(len(zeros)), j.segmentSize-off)], off); err != nil {
				return 0, err
			}
		}
		size = j.segmentSize
	}
	return size, f.Sync()
}

// Fits reports whether a record of n bytes (header included) fits the
// segment. An empty segment takes any record, growing if it must.
func (j *Journal) Fits(n int) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size == HeaderSize || j.size+int64(n) <= j.segmentSize
}

// Append writes rec, a record body after RecordHeader bytes of room, and
// returns a function that waits until it is durable (at once unless
// Options.Sync). The wait must be called, and nothing the record holds
// acknowledged before it returns nil.
func (j *Journal) Append(rec []byte) (wait func() error, err error) {
	if len(rec) <= RecordHeader {
		return nil, errors.New("journal record without a body")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.failure(); err != nil {
		return nil, err
	}
	frame(rec, j.seq, j.salt)
	if _, err := j.f.WriteAt(rec, j.size); err != nil {
		// Part of the record may be on disk: appending after it would
		// leave a gap that reads as damage.
		err = fmt.Errorf("writing journal: %w", err)
		j.failed.Store(&err)
		return nil, err
	}
	j.size += int64(len(rec))
	end := j.size
	j.written.Store(end)
	if !j.sync {
		return func() error { return nil }, nil
	}
	j.fmu.RLock()
	f := j.f
	return func() error {
		defer j.fmu.RUnlock()
		return j.syncTo(f, end)
	}, nil
}

// syncTo makes f durable up to at least end: nothing to do when a sync
// that finished covered it, else a sync from the watermark to everything
// written so far. Syncs run one at a time: a wait that finds one running
// waits for it to end, all such waits woken at once, and needs none of
// its own if it covered its record; the others share the next (group
// commit). Concurrent syncs would not be safe: when writeback fails, the
// kernel marks the pages clean and reports the error to one sync alone,
// so a sync overlapping it could return success for bytes that are gone.
// The caller holds fmu for reading.
func (j *Journal) syncTo(f File, end int64) error {
	for {
		if err := j.failure(); err != nil {
			return err
		}
		if j.synced.Load() >= end {
			return nil
		}
		j.syncMu.Lock()
		running := j.syncing
		if running == nil {
			j.syncing = make(chan struct{})
		}
		j.syncMu.Unlock()
		if running == nil {
			return j.syncNow(f, end)
		}
		<-running
	}
}

// syncNow is the one sync running: from the watermark to everything
// written so far, unless the sync before it failed or covered end.
func (j *Journal) syncNow(f File, end int64) error {
	defer func() {
		j.syncMu.Lock()
		close(j.syncing)
		j.syncing = nil
		j.syncMu.Unlock()
	}()
	if err := j.failure(); err != nil {
		return err
	}
	from := j.synced.Load()
	if from >= end {
		return nil
	}
	to := j.written.Load()
	var err error
	if to <= j.allocated {
		err = f.SyncRange(from, to-from)
	} else {
		err = f.Sync()
	}
	if err != nil {
		err = fmt.Errorf("syncing journal: %w", err)
		j.failed.Store(&err)
		return err
	}
	j.synced.Store(to)
	return nil
}

func (j *Journal) failure() error {
	if p := j.failed.Load(); p != nil {
		return fmt.Errorf("journal unusable after an earlier failure: %w", *p)
	}
	return nil
}

// Tail returns the current segment's path and the bytes written to it.
func (j *Journal) Tail() (string, int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.f.Name(), j.size
}

// Empty reports whether the current segment holds no record.
func (j *Journal) Empty() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size == HeaderSize
}

// Rotate starts the next segment once every wait on the current one has
// returned, and returns the current one's path; the caller retires it
// (Retire) once its records are all in SQLite.
func (j *Journal) Rotate() (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.fmu.Lock()
	defer j.fmu.Unlock()
	if err := j.failure(); err != nil {
		return "", err
	}
	old := j.f
	if err := j.next(); err != nil {
		return "", err
	}
	// Appends have moved on even if closing fails: the caller still gets
	// the old segment, to retire it.
	if err := old.Close(); err != nil {
		return old.Name(), fmt.Errorf("closing journal segment: %w", err)
	}
	return old.Name(), nil
}

// Retire keeps a segment whose records are all in SQLite as the spare, or
// deletes it when there is one, durably: once it returns nil, a power cut
// does not bring the segment back. When it fails the segment may come back
// after a power cut; calling it again until it succeeds is the remedy
// (a segment renamed or removed already then needs only its directory
// synced).
func (j *Journal) Retire(path string) error {
	j.spareMu.Lock()
	defer j.spareMu.Unlock()
	seq, numbered := j.seqOf(path)
	// The spare keeps the highest number retired, so that a start with no
	// numbered segment left still continues after it: a segment numbered
	// above the spare replaces it.
	if !j.haveSpare || numbered && seq > j.spareSeq {
		err := j.fs.Rename(path, j.sparePath())
		if err != nil && !notExist(err) {
			return wrap("retiring journal segment", path, err)
		}
		if err == nil {
			j.haveSpare, j.spareSeq, j.spareOwn = true, seq, numbered && seq >= j.firstOwn
		}
	} else if err := j.fs.Remove(path); err != nil && !notExist(err) {
		return wrap("removing journal segment", path, err)
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		return fmt.Errorf("syncing data directory: %w", err)
	}
	return nil
}

// seqOf returns the number in a segment's path.
func (j *Journal) seqOf(path string) (uint64, bool) {
	rest, ok := strings.CutPrefix(filepath.Base(path), j.prefix)
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseUint(rest, 10, 64)
	return seq, err == nil
}

// SetAside renames a damaged segment whose intact records are all in
// SQLite to <path>.damaged, durably, where it is neither replayed nor
// reused, and says so in the log.
func (j *Journal) SetAside(path string) error {
	if err := j.fs.Rename(path, path+".damaged"); err != nil && !notExist(err) {
		return wrap("setting aside damaged journal segment", path, err)
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		return fmt.Errorf("syncing data directory: %w", err)
	}
	j.log.Warn("damaged journal segment kept for inspection; its intact records are in the database", "file", path+".damaged")
	return nil
}

// Close closes the current segment; the caller may then Retire it.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closeFS()
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("closing journal segment: %w", err)
	}
	return nil
}

func (j *Journal) closeFS() {
	if j.osfs != nil {
		j.osfs.close()
	}
}

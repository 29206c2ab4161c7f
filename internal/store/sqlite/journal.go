package sqlite

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite/journal"
)

// The journal (package journal) makes a publish durable with one write and
// one sync of a preallocated file instead of a SQLite transaction, which
// would write every b-tree page the batch touches (events, deliveries and
// their indexes) to the WAL; and a completion of a delivery that is still
// only in the journal, likewise. Published batches and those completions
// wait in memory (see pending.go) until a flush copies them into SQLite in
// one large transaction. At Open, segments left by a crash are replayed
// into SQLite before anything else runs.
//
// A record's body starts with its kind, which also versions its layout:
// a new layout takes a new kind, and replay keeps reading the old kinds,
// so that segments a crash left before an upgrade lose nothing.
//
//   - recordPublish (encodeRecord): published events and their deliveries.
//   - recordCompletions (encodeCompletions): completions of pending
//     deliveries, each attempt with its error kind.
//   - recordCompletionsV1: the layout of recordCompletions before attempts
//     had an error kind (migration 0750): the same without it. No longer
//     written; its attempts replay with an empty error kind.
//
// Version 0 segments, written before kinds, hold publish batches alone.
// Kinds only move forward: an older binary refuses a newer record kind
// loudly at Open (replay fails on the unknown kind) rather than skipping
// it, which would lose its events or completions.
const (
	recordPublish       = 'P'
	recordCompletionsV1 = 'C'
	recordCompletions   = 'A'
)

// openJournal loads the segments an earlier process left (it stopped
// before flushing them) and starts a new one. Events a flush wrote to
// SQLite before the crash are left out, with their completions: SQLite
// has them already, and their attempts would be recorded twice.
func (s *Store) openJournal(ctx context.Context, path string, o Options) error {
	s.pend = newPending()
	s.kick = make(chan struct{}, 1)
	j, segs, err := journal.Open(filepath.Dir(path), filepath.Base(path)+".journal.", journal.Options{
		FS: o.JournalFS, Sync: o.Synchronous == SyncFull, SegmentSize: o.JournalSegmentSize, Logger: s.log,
	})
	if err != nil {
		return fmt.Errorf("opening journal: %w", err)
	}
	s.jrnl = j
	s.pend.current = newSegment()
	for _, js := range segs {
		seg := newSegment()
		seg.path, seg.rotated, seg.damaged = js.Path, true, js.Damaged
		for _, b := range js.Records {
			if err := s.replay(ctx, seg, b, js.Legacy); err != nil {
				return fmt.Errorf("replaying %s: %w", js.Path, err)
			}
		}
		if seg.remaining == 0 {
			s.retire(seg)
		}
	}
	s.pendingCount.Store(int64(len(s.pend.events)))
	s.retireQueued()
	return nil
}

// replay adds one record's contents to pend.
func (s *Store) replay(ctx context.Context, seg *segment, b []byte, legacy bool) error {
	kind := byte(recordPublish)
	if !legacy {
		if len(b) == 0 {
			return errCorrupt
		}
		kind, b = b[0], b[1:]
	}
	switch kind {
	case recordPublish:
		evs, err := decodeBatch(b)
		if err != nil {
			return err
		}
		fresh := evs[:0]
		for _, pe := range evs {
			seg.minCreated = min(seg.minCreated, pe.created)
			var n int
			if err := s.r.db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE id = ?`, pe.id).Scan(&n); err != nil {
				return fmt.Errorf("checking replayed event: %w", err)
			}
			if n == 0 {
				fresh = append(fresh, pe)
			}
		}
		s.pend.accept(fresh, seg)
	case recordCompletions, recordCompletionsV1:
		cs, updated, err := decodeCompletions(b, kind == recordCompletions)
		if err != nil {
			return err
		}
		for _, c := range cs {
			// A delivery not pending is one whose event was in SQLite
			// already, written with this completion.
			if d := s.pend.deliveries[c.Attempt.DeliveryID]; d != nil && !d.done {
				s.pend.complete(d, c, updated, seg)
			}
		}
	default:
		return fmt.Errorf("%w: unknown kind %q", errCorrupt, kind)
	}
	return nil
}

// retire queues seg, whose records are all in SQLite, to be retired
// (retireQueued). The caller holds bmu.
func (s *Store) retire(seg *segment) {
	s.pend.retiring = append(s.pend.retiring, seg)
}

// retireQueued retires the queued segments: for reuse, or set aside when
// damaged. A segment whose retire fails (a rename or a directory sync that
// failed, so that a power cut may bring it back) stays queued, its events
// kept from retention by purgeFence, and is tried again at the next flush,
// purge and Close. It reports whether every queued segment is retired.
// The caller holds neither bmu nor retireMu.
func (s *Store) retireQueued() bool {
	s.retireMu.Lock()
	defer s.retireMu.Unlock()
	s.bmu.Lock()
	queued := slices.Clone(s.pend.retiring)
	s.bmu.Unlock()
	if len(queued) == 0 {
		return true
	}
	retired := make(map[*segment]bool, len(queued))
	for _, seg := range queued {
		var err error
		if seg.damaged {
			err = s.jrnl.SetAside(seg.path)
		} else {
			err = s.jrnl.Retire(seg.path)
		}
		if err != nil {
			// Once per segment: it is retried at every flush.
			if !seg.retireFailed {
				s.log.Error("retiring a journal segment failed; retention keeps its events until a retry succeeds", "file", seg.path, "err", err)
			}
			seg.retireFailed = true
			continue
		}
		if seg.retireFailed {
			s.log.Info("retired a journal segment after an earlier failure", "file", seg.path)
		}
		retired[seg] = true
	}
	s.bmu.Lock()
	defer s.bmu.Unlock()
	s.pend.retiring = slices.DeleteFunc(s.pend.retiring, func(seg *segment) bool { return retired[seg] })
	return len(s.pend.retiring) == 0
}

// encodeCompletions serialises completions of pending deliveries, recorded
// at updated (unix ms), as the body of a journal record, after room for the
// record's header. Every field of the attempt is kept: replay writes the
// attempt to SQLite from this alone.
func encodeCompletions(cs []hookline.Completion, updated int64) []byte {
	n := journal.RecordHeader + 1 + 2*binary.MaxVarintLen64
	for _, c := range cs {
		a := &c.Attempt
		n += len(c.Status) + len(c.DisableEndpoint) + len(a.ID) + len(a.DeliveryID) + len(a.EventID) + len(a.EndpointID) +
			len(a.URL) + len(a.Error) + len(a.ErrorKind) + len(a.ResponseBody) + 15*binary.MaxVarintLen64
	}
	b := make([]byte, journal.RecordHeader, n)
	b = append(b, recordCompletions)
	b = binary.AppendVarint(b, updated)
	b = binary.AppendUvarint(b, uint64(len(cs)))
	for _, c := range cs {
		a := &c.Attempt
		b = appendString(b, c.Status)
		b = appendString(b, c.DisableEndpoint)
		b = appendString(b, a.ID)
		b = appendString(b, a.DeliveryID)
		b = appendString(b, a.EventID)
		b = appendString(b, a.EndpointID)
		b = binary.AppendVarint(b, int64(a.Attempt))
		b = binary.AppendVarint(b, ms(a.Created))
		b = appendString(b, a.URL)
		b = binary.AppendVarint(b, int64(a.ResponseStatus))
		b = binary.AppendVarint(b, a.DurationMS)
		b = appendString(b, a.Error)
		b = appendString(b, a.ErrorKind)
		b = appendString(b, a.ResponseBody)
		b = binary.AppendVarint(b, ms(a.NextRetry))
	}
	return b
}

// decodeCompletions decodes what encodeCompletions made, after the kind;
// withErrorKind is false for a recordCompletionsV1 body, whose attempts
// have no error kind after their error.
func decodeCompletions(b []byte, withErrorKind bool) ([]hookline.Completion, int64, error) {
	d := decoder{b: b}
	updated := d.varint()
	n := d.uvarint()
	var out []hookline.Completion
	for i := uint64(0); i < n && d.err == nil; i++ {
		c := hookline.Completion{Status: d.string(), DisableEndpoint: d.string()}
		a := &c.Attempt
		a.ID, a.DeliveryID, a.EventID, a.EndpointID = d.string(), d.string(), d.string(), d.string()
		a.Attempt, a.Created, a.URL, a.ResponseStatus = int(d.varint()), fromMS(d.varint()), d.string(), int(d.varint())
		a.DurationMS, a.Error = d.varint(), d.string()
		if withErrorKind {
			a.ErrorKind = d.string()
		}
		a.ResponseBody, a.NextRetry = d.string(), fromMS(d.varint())
		out = append(out, c)
	}
	if d.err != nil {
		return nil, 0, d.err
	}
	return out, updated, nil
}

// encodeRecord serialises published events and their deliveries as the
// body of a journal record, after room for the record's header.
func encodeRecord(evs []*pendingEvent) []byte {
	n := journal.RecordHeader + 1 + binary.MaxVarintLen64
	for _, pe := range evs {
		n += len(pe.id) + len(pe.typ) + len(pe.tenant) + len(pe.payload) + len(pe.idemKey) + 8*binary.MaxVarintLen64
		for _, d := range pe.deliveries {
			n += len(d.id) + len(d.endpointID) + len(d.owner) + 6*binary.MaxVarintLen64
		}
	}
	b := make([]byte, journal.RecordHeader, n)
	b = append(b, recordPublish)
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

// decodeBatch decodes what encodeRecord made, after the kind.
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

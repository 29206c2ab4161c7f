package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Published events live in memory between their journal append and the
// flush that copies them into SQLite. A flush normally takes only settled
// events, those whose first attempts have all been recorded, so that each
// delivery row is written once, in its final state, instead of inserted
// pending and updated a millisecond later. Anything else that touches the
// database first flushes everything (runBatch), so every read and write sees
// every publish that returned before it.
const (
	// flushInterval is how often settled events are flushed.
	flushInterval = 50 * time.Millisecond
	// flushAt wakes the flusher early once this many events wait.
	flushAt = 4096
	// maxPending and maxPendingBytes make publishers wait for a flush once
	// this many events, or this many bytes of events and completions, wait,
	// so memory stays bounded when SQLite falls behind: events may be up to
	// 1 MiB each, so a count alone would not bound it.
	maxPending      = 32768
	maxPendingBytes = 64 << 20
	// settleAfter is how long a flush waits for an event's first attempts
	// before writing its deliveries as they stand (leased, pending).
	settleAfter = 2 * time.Second
)

// pendingEvent is a published event not yet flushed to SQLite. Its fields
// are set before it is shared; flushing (in a flush not yet committed) is
// guarded by Store.bmu.
type pendingEvent struct {
	id, typ, tenant, idemKey string
	created, published       int64 // unix ms
	payload                  []byte
	deliveries               []*pendingDelivery
	seg                      *segment
	event                    *hookline.Event // as returned to publishers; nil when replayed
	flushing                 bool
}

// pendingDelivery is a delivery of a pending event. done, status, next and
// updated change under Store.bmu.
type pendingDelivery struct {
	id, eventID, endpointID, owner string
	due, leaseExpires, ready       int64
	created                        int64
	ev                             *pendingEvent

	// listed is set while it is in pending.unleased.
	listed bool

	// done is set when its attempt was recorded before the flush: the row is
	// then written with the attempt's outcome.
	done    bool
	status  string
	next    int64
	updated int64
}

// segment counts the events and completions of one journal segment not
// yet in SQLite; it is retired once none are left and appends have moved
// on (set aside instead when damaged).
type segment struct {
	path      string
	remaining int
	rotated   bool
	damaged   bool
	// retireFailed is set once retiring it failed, under retireMu.
	retireFailed bool
	// minCreated is the earliest creation time (unix ms) of any event it
	// holds, flushed or not: retention must not purge an event a replay of
	// this segment would bring back (purgeFence).
	minCreated int64
}

func newSegment() *segment { return &segment{minCreated: math.MaxInt64} }

// pendingCompletion is a journaled completion of a pending delivery.
type pendingCompletion struct {
	c   hookline.Completion
	seg *segment
}

// pending is everything the journal holds that SQLite does not, guarded by
// Store.bmu.
type pending struct {
	events      []*pendingEvent
	deliveries  map[string]*pendingDelivery
	byKey       map[string]*pendingEvent
	completions []pendingCompletion // attempts of pending deliveries, in order
	current     *segment
	// retiring are the segments with nothing left to flush whose retire
	// has not succeeded yet (retireQueued).
	retiring []*segment
	bytes    int64 // about what events and completions take in memory
	// flushes counts the flushes committed, so that a claim from memory
	// can tell one happened while it looked (pending.go, tasks.go).
	flushes uint64
	// firstRetry is the earliest retry (unix ms) a completion in
	// completions scheduled; 0 when none did.
	firstRetry int64
	// unleased holds, per endpoint in publish order, the deliveries not
	// leased at publish (their endpoint had no room): a claim leases them
	// here, in memory, so that they too are written once, in their final
	// state. Entries leased, done or flushed since are skipped and dropped.
	unleased map[string][]*pendingDelivery
}

// list adds d to the unleased deliveries of its endpoint, once.
func (p *pending) list(d *pendingDelivery) {
	if !d.listed {
		d.listed = true
		p.unleased[d.endpointID] = append(p.unleased[d.endpointID], d)
	}
}

func newPending() pending {
	return pending{deliveries: map[string]*pendingDelivery{}, byKey: map[string]*pendingEvent{},
		unleased: map[string][]*pendingDelivery{}}
}

// gone reports whether d has left the unleased list's concern: done, or
// flushed to SQLite, where claims find it.
func (p *pending) gone(d *pendingDelivery) bool {
	return d.done || p.deliveries[d.id] != d
}

// claimable reports whether d can be leased from memory at nowMS: not done
// or flushed (or being flushed), and not leased, or its lease lapsed.
func (p *pending) claimable(d *pendingDelivery, nowMS int64) bool {
	return !p.gone(d) && !d.ev.flushing && (d.owner == "" || d.leaseExpires <= nowMS)
}

// accept adds journaled events. The caller holds bmu.
func (p *pending) accept(evs []*pendingEvent, seg *segment) {
	for _, pe := range evs {
		pe.seg = seg
		seg.remaining++
		seg.minCreated = min(seg.minCreated, pe.created)
		p.bytes += pe.size()
		p.events = append(p.events, pe)
		for _, d := range pe.deliveries {
			p.deliveries[d.id] = d
			if d.owner == "" {
				p.list(d)
			}
		}
		if pe.idemKey != "" {
			p.byKey[pe.idemKey] = pe
		}
	}
}

// complete records c, journaled in seg at updated (unix ms), as d's
// attempt. The caller holds bmu.
func (p *pending) complete(d *pendingDelivery, c hookline.Completion, updated int64, seg *segment) {
	if c.Attempt.EventID == "" || c.Attempt.EndpointID == "" {
		c.Attempt.EventID, c.Attempt.EndpointID = d.eventID, d.endpointID
	}
	d.done, d.status, d.next, d.updated = true, c.Status, nextAttemptMS(c), updated
	if c.Status == hookline.DeliveryPending && (p.firstRetry == 0 || d.next < p.firstRetry) {
		p.firstRetry = d.next
	}
	p.completions = append(p.completions, pendingCompletion{c: c, seg: seg})
	seg.remaining++
	p.bytes += completionSize(&c)
}

// size is about what pe takes in memory. It leaves out what claims
// change in memory (a delivery's owner, a node's id, is in the 150), so
// that forget takes off what accept added.
func (pe *pendingEvent) size() int64 {
	n := 200 + len(pe.id) + len(pe.typ) + len(pe.tenant) + len(pe.idemKey) + len(pe.payload)
	for _, d := range pe.deliveries {
		n += 150 + len(d.id) + len(d.endpointID)
	}
	return int64(n)
}

func completionSize(c *hookline.Completion) int64 {
	return int64(300 + len(c.Attempt.ResponseBody) + len(c.Attempt.Error) + len(c.Attempt.URL))
}

// settled reports whether pe can be flushed without waiting for attempts:
// every delivery's first attempt is recorded, or has taken longer than
// settleAfter. A delivery not leased at publish waits too: a claim leases
// it in memory (pendingDue) once its endpoint has room, or, after
// settleAfter, from SQLite.
func (pe *pendingEvent) settled(nowMS int64) bool {
	if nowMS-pe.published >= settleAfter.Milliseconds() {
		return true
	}
	for _, d := range pe.deliveries {
		if !d.done {
			return false
		}
	}
	return true
}

// absorb journals the completions of pending deliveries and keeps them in
// memory for the flush that writes their events; it returns once they are
// durable, with the others, for SQLite, and whether any of those is of a
// delivery not flushed yet (its transaction must flush everything first).
func (s *Store) absorb(owner string, cs []hookline.Completion, nowMS int64) (rest []hookline.Completion, unflushed bool, err error) {
	if s.pendingCount.Load() == 0 {
		return cs, false, nil
	}
	// jmu makes the choice and the append one step: a flush takes jmu to
	// pick its events, so it sees both or neither.
	s.jmu.Lock()
	locked := true
	defer func() {
		if locked {
			s.jmu.Unlock()
		}
	}()
	var mine []hookline.Completion
	var ds []*pendingDelivery
	s.bmu.Lock()
	for _, c := range cs {
		d := s.pend.deliveries[c.Attempt.DeliveryID]
		if d == nil {
			rest = append(rest, c) // in SQLite
			continue
		}
		if d.ev.flushing {
			// About to be in SQLite, unless that flush fails: the
			// completion's transaction must then flush d's event first,
			// unsettled or not, or its update finds no row.
			rest, unflushed = append(rest, c), true
			continue
		}
		// An endpoint to disable changes what later publishes fan out to:
		// that completion goes to SQLite, which flushes everything first.
		// So does an attempt that may move its endpoint's circuit (a
		// failure, or any attempt while the circuit is counting): the
		// breaker's rule runs in the transaction that records it, and its
		// caller hears of the transition.
		if d.done || d.owner != owner || c.DisableEndpoint != "" || s.movesCircuit(c) {
			rest, unflushed = append(rest, c), true
			continue
		}
		if c.Attempt.EventID == "" || c.Attempt.EndpointID == "" {
			c.Attempt.EventID, c.Attempt.EndpointID = d.eventID, d.endpointID
		}
		// done at once, so that a second completion of d in cs goes to
		// SQLite, as one after this call would.
		d.done = true
		mine, ds = append(mine, c), append(ds, d)
	}
	s.bmu.Unlock()
	if len(mine) == 0 {
		return rest, unflushed, nil
	}
	durable, err := s.appendRecord(encodeCompletions(mine, nowMS))
	if err != nil {
		s.bmu.Lock()
		for _, d := range ds {
			d.done = false
			// A flush meanwhile may have dropped it from the unleased
			// list as done: a claim from memory finds it again once its
			// lease lapses.
			s.pend.list(d)
		}
		s.bmu.Unlock()
		return nil, false, err
	}
	s.bmu.Lock()
	for i, c := range mine {
		s.pend.complete(ds[i], c, nowMS, s.pend.current)
	}
	s.pendingBytes.Store(s.pend.bytes)
	s.bmu.Unlock()
	s.jmu.Unlock()
	locked = false
	if err := durable(); err != nil {
		return nil, false, err
	}
	return rest, unflushed, nil
}

// appendRecord appends rec to the journal, starting a new segment first
// when it does not fit, and returns the wait for it to be durable. The
// caller holds jmu.
func (s *Store) appendRecord(rec []byte) (func() error, error) {
	if !s.jrnl.Fits(len(rec)) {
		s.bmu.Lock()
		err := s.rotateJournal()
		s.bmu.Unlock()
		if err != nil {
			return nil, err
		}
		s.retireQueued()
	}
	return s.jrnl.Append(rec)
}

// flushPending writes pending events into tx: all of them, or with
// settledOnly those settled. It returns a function to call with whether tx
// committed. The caller holds wmu.
func (s *Store) flushPending(ctx context.Context, tx *sql.Tx, settledOnly bool) (func(committed bool), error) {
	if s.pendingCount.Load() == 0 {
		return nil, nil
	}
	nowMS := ms(s.now())
	// Appends hold jmu while they add to pend, so taking it here means no
	// publish is half added.
	s.jmu.Lock()
	s.bmu.Lock()
	evs := make([]*pendingEvent, 0, len(s.pend.events))
	for _, pe := range s.pend.events {
		if !settledOnly || pe.settled(nowMS) {
			pe.flushing = true
			evs = append(evs, pe)
		}
	}
	cs := make([]hookline.Completion, 0, len(s.pend.completions))
	applied := make(map[string]bool, len(s.pend.completions))
	for _, pc := range s.pend.completions {
		d := s.pend.deliveries[pc.c.Attempt.DeliveryID]
		if d != nil && d.ev.flushing {
			cs = append(cs, pc.c)
			applied[d.id] = true
		}
	}
	s.bmu.Unlock()
	s.jmu.Unlock()
	if len(evs) == 0 {
		return nil, nil
	}
	undo := func() {
		s.bmu.Lock()
		for _, pe := range evs {
			pe.flushing = false
		}
		s.bmu.Unlock()
	}
	if err := s.insertPending(ctx, tx, evs, applied); err != nil {
		undo()
		return nil, err
	}
	if len(cs) > 0 {
		if err := s.complete(ctx, tx, "", cs, applied); err != nil {
			undo()
			return nil, err
		}
	}
	return func(committed bool) {
		if !committed {
			undo()
			return
		}
		s.forget(evs, applied)
	}, nil
}

// rotateJournal starts a new segment, queueing the old one for retirement
// if it holds nothing unflushed; the caller holds jmu and bmu, and calls
// retireQueued after releasing them.
func (s *Store) rotateJournal() error {
	path, err := s.jrnl.Rotate()
	if path == "" {
		return err
	}
	// The new segment is started even when closing the old one failed:
	// the old one must be labelled, or it is never retired.
	old := s.pend.current
	old.path, old.rotated = path, true
	s.pend.current = newSegment()
	if old.remaining == 0 {
		s.retire(old)
	}
	return err
}

// insertPending writes events, idempotency keys and deliveries. Rows
// already present (a replayed journal) are left alone.
func (s *Store) insertPending(ctx context.Context, tx *sql.Tx, evs []*pendingEvent, applied map[string]bool) error {
	eventRows := make([][]any, 0, len(evs))
	var deliveryRows [][]any
	putKey := tx.StmtContext(ctx, s.stmts.putIdemKey)
	for _, pe := range evs {
		eventRows = append(eventRows, []any{pe.id, pe.typ, pe.created, pe.tenant, pe.payload, pe.idemKey})
		if pe.idemKey != "" {
			if _, err := putKey.ExecContext(ctx, pe.idemKey, pe.id, pe.published); err != nil {
				return fmt.Errorf("storing idempotency key: %w", err)
			}
		}
		for _, d := range pe.deliveries {
			if applied[d.id] {
				deliveryRows = append(deliveryRows, []any{d.id, d.eventID, d.endpointID, d.status, 1, d.next, "", 0, d.next, d.created, d.updated})
				continue
			}
			deliveryRows = append(deliveryRows, []any{d.id, d.eventID, d.endpointID, hookline.DeliveryPending, 0, d.due, d.owner, d.leaseExpires, d.ready, d.created, d.created})
		}
	}
	if err := s.insEvents.exec(ctx, tx, eventRows); err != nil {
		return fmt.Errorf("inserting events: %w", err)
	}
	if err := s.insDeliveries.exec(ctx, tx, deliveryRows); err != nil {
		return fmt.Errorf("inserting deliveries: %w", err)
	}
	return nil
}

// forget drops flushed events from memory and deletes the journal segments
// left with nothing unflushed.
func (s *Store) forget(evs []*pendingEvent, applied map[string]bool) {
	s.bmu.Lock()
	var drop []*segment
	release := func(seg *segment) {
		seg.remaining--
		if seg.remaining == 0 && seg.rotated {
			drop = append(drop, seg)
		}
	}
	for _, pe := range evs {
		s.pend.bytes -= pe.size()
		for _, d := range pe.deliveries {
			delete(s.pend.deliveries, d.id)
		}
		if pe.idemKey != "" && s.pend.byKey[pe.idemKey] == pe {
			delete(s.pend.byKey, pe.idemKey)
		}
		release(pe.seg)
	}
	// Filtered in place: the arrays are reused by the appends until the
	// next flush. Flushes run one at a time (under wmu), so the events
	// marked flushing are those of this one.
	kept := s.pend.events[:0]
	for _, pe := range s.pend.events {
		if !pe.flushing {
			kept = append(kept, pe)
		}
	}
	clear(s.pend.events[len(kept):])
	s.pend.events = kept
	keptCs := s.pend.completions[:0]
	for _, pc := range s.pend.completions {
		if !applied[pc.c.Attempt.DeliveryID] {
			keptCs = append(keptCs, pc)
			continue
		}
		s.pend.bytes -= completionSize(&pc.c)
		release(pc.seg)
	}
	clear(s.pend.completions[len(keptCs):])
	s.pend.completions = keptCs
	s.pend.flushes++
	s.pend.firstRetry = 0
	for _, pc := range keptCs {
		if next := nextAttemptMS(pc.c); pc.c.Status == hookline.DeliveryPending && (s.pend.firstRetry == 0 || next < s.pend.firstRetry) {
			s.pend.firstRetry = next
		}
	}
	for id, list := range s.pend.unleased {
		keptDs := list[:0]
		for _, d := range list {
			if !s.pend.gone(d) {
				keptDs = append(keptDs, d)
			} else {
				d.listed = false
			}
		}
		clear(list[len(keptDs):])
		if len(keptDs) == 0 {
			delete(s.pend.unleased, id)
		} else {
			s.pend.unleased[id] = keptDs
		}
	}
	s.pendingCount.Store(int64(len(kept)))
	s.pendingBytes.Store(s.pend.bytes)
	// Queued under bmu, in the step that releases their events, so that
	// purgeFence never sees a segment in neither place.
	for _, seg := range drop {
		s.retire(seg)
	}
	retry := len(s.pend.retiring) > 0
	s.bmu.Unlock()
	if retry {
		s.retireQueued()
	}
}

// purgeFence returns the cutoff (unix ms) retention may purge events
// created before: cutoffMS, or earlier, so that it purges no event a
// replay of a segment not yet retired would bring back.
func (s *Store) purgeFence(cutoffMS int64) int64 {
	if s.noJournal {
		return cutoffMS
	}
	s.bmu.Lock()
	defer s.bmu.Unlock()
	fence := min(cutoffMS, s.pend.current.minCreated)
	for _, seg := range s.pend.retiring {
		fence = min(fence, seg.minCreated)
	}
	for _, pe := range s.pend.events {
		fence = min(fence, pe.seg.minCreated)
	}
	for _, pc := range s.pend.completions {
		fence = min(fence, pc.seg.minCreated)
	}
	return fence
}

// retireForPurge makes the segments holding events created before
// cutoffMS retirable and retires them, so that purgeFence lets retention
// purge those events: it starts a new segment when the current one holds
// one, then flushes everything, which retires every segment left with
// nothing pending.
func (s *Store) retireForPurge(ctx context.Context, cutoffMS int64) error {
	if s.noJournal {
		return nil
	}
	s.jmu.Lock()
	s.bmu.Lock()
	var err error
	if s.pend.current.minCreated < cutoffMS && !s.jrnl.Empty() {
		err = s.rotateJournal()
	}
	s.bmu.Unlock()
	s.jmu.Unlock()
	if err != nil {
		return fmt.Errorf("starting a journal segment: %w", err)
	}
	if err := s.sync(ctx); err != nil {
		return err
	}
	s.retireQueued() // those a failure left, and the one rotated out if empty
	return nil
}

// sync flushes every pending event, so that what follows sees them.
func (s *Store) sync(ctx context.Context) error {
	if s.pendingCount.Load() == 0 {
		return nil
	}
	return s.write(ctx, func(context.Context, *sql.Tx) error { return nil })
}

// flushLoop flushes settled events every flushInterval, or sooner when
// many wait, until stop is closed.
//
// It runs in the background (runInBackground): a flush is a burst of CPU
// that can wait, and under load the publishes and attempts it would delay
// cannot. On a busy machine the flusher then takes the time left while
// publishers wait for their syncs, time that was idle before. A flusher
// that falls behind is caught up by the publishers themselves at
// maxPending. The Go processor its thread holds while the kernel runs
// others first is one the server adds (see server.spareProcessor): without
// it the flusher made no difference; with it, 26 of 32 paired rounds
// against the null relay were faster (the last 10 all, by 7 % on average),
// and the machine's idle time fell from about 15 % to 10 %.
func (s *Store) flushLoop() {
	defer close(s.flushDone)
	runInBackground()
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.stopFlush:
			return
		case <-tick.C:
		case <-s.kick:
		}
		if s.pendingCount.Load() == 0 {
			continue
		}
		// A failure leaves the events pending and the journal in place; the
		// next flush retries, and publishers see the error once maxPending
		// makes them flush themselves. Meanwhile it is logged, counted in
		// /metrics and makes /healthz answer 503 (flushed).
		s.flushed(s.writeJob(&writeJob{ctx: context.Background(), fn: func(context.Context, *sql.Tx) error { return nil }, settledOnly: true}))
	}
}

// waitsInMemory reports whether delivery id is still only in the journal
// and memory, with no flush in this transaction writing it.
func (s *Store) waitsInMemory(id string) bool {
	if s.noJournal {
		return false
	}
	s.bmu.Lock()
	defer s.bmu.Unlock()
	d := s.pend.deliveries[id]
	return d != nil && !d.ev.flushing
}

// pendingDue returns up to room deliveries of endpointID that are not yet
// in SQLite, not leased at publish, due at nowMS and not leased now (or
// their lease lapsed), oldest first. The caller holds wmu
// (nothing else leases them meanwhile) and, for the call, bmu.
//
// flushing reports that some were passed over because a flush is writing
// them: they are in SQLite once it commits, which a claim from memory
// would not see.
func (p *pending) pendingDue(endpointID string, nowMS int64, room int) (out []*pendingDelivery, flushing bool) {
	list := p.unleased[endpointID]
	for len(list) > 0 && p.gone(list[0]) {
		list[0].listed = false
		list[0] = nil
		list = list[1:]
	}
	if len(list) == 0 {
		delete(p.unleased, endpointID)
		return nil, false
	}
	p.unleased[endpointID] = list
	for _, d := range list {
		if len(out) == room {
			break
		}
		if d.ev.flushing && !p.gone(d) {
			flushing = true
		}
		if p.claimable(d, nowMS) && d.ready <= nowMS {
			out = append(out, d)
		}
	}
	return out, flushing
}

// task makes the task of d, leased until exp, for endpoint ep.
func (d *pendingDelivery) task(ep *hookline.Endpoint, exp time.Time) *hookline.Task {
	pe := d.ev
	ev := pe.event
	if ev == nil { // replayed from the journal
		ev = &hookline.Event{ID: pe.id, Type: pe.typ, Created: fromMS(pe.created), Tenant: pe.tenant, Payload: pe.payload, IdempotencyKey: pe.idemKey}
	}
	return &hookline.Task{DeliveryID: d.id, Attempt: 1, Event: ev, Endpoint: ep, LeaseExpires: exp}
}

// movesCircuit reports whether completion c may change its endpoint's
// circuit: a failure always may; a success only when the endpoint has
// failed lately or its circuit is open (or when the cache cannot tell).
func (s *Store) movesCircuit(c hookline.Completion) bool {
	if !c.Attempt.Succeeded() {
		return true
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	e := s.enabled[c.Attempt.EndpointID]
	return e == nil || e.Circuit.Open() || e.Circuit.ConsecutiveFailures > 0
}

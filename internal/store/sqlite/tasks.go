package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

// ClaimTasks leases due deliveries fairly (hookline.ClaimRequest), in one
// write transaction: each enabled endpoint and each connection with room
// under its cap gives its oldest due deliveries, up to that room, through
// the deliveries_endpoint_ready index; hookline.FairOrder takes them round
// robin up to the limit, and one UPDATE per delivery leases them. The
// writer lock makes it atomic, so two claimers never get the same
// delivery. A SQLite database has one node, but the live leases of other
// owners (a process that stopped without giving them back) count against
// the cap all the same, as the contract says.
func (s *Store) ClaimTasks(ctx context.Context, req hookline.ClaimRequest) ([]*hookline.Task, error) {
	if req.Limit <= 0 {
		return nil, nil
	}
	nowMS := ms(req.Now)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.noteLeaseOwner(req.Owner)
	if tasks, ok, err := s.claimFromMemory(ctx, req); err != nil || ok {
		return tasks, err
	}
	// A FIFO endpoint's head may be any of its pending deliveries, in
	// SQLite or in memory, attempted or not: the claim flushes all of them
	// first and finds the head in SQLite (pace.go).
	fifoFlush, err := s.fifoNeedsFlush(ctx, req)
	if err != nil {
		return nil, err
	}
	var tasks []*hookline.Task
	err = s.writeJob(&writeJob{
		ctx: context.WithoutCancel(ctx),
		fn: func(ctx context.Context, tx *sql.Tx) error {
			var lists [][]dueTask
			endpoints, _, err := s.enabledEndpoints(ctx, tx)
			if err != nil {
				return err
			}
			others, err := s.othersLeases(ctx, tx.StmtContext(ctx, s.stmts.othersLeases), req.Owner, nowMS)
			if err != nil {
				return err
			}
			if lists, err = s.dueOfEndpoints(ctx, tx, req, endpoints, others, nowMS, lists); err != nil {
				return err
			}
			if lists, err = s.dueOfConnections(ctx, tx, req, others, nowMS, lists); err != nil { // inbound.go
				return err
			}
			picked := hookline.FairOrder(lists, func(d dueTask) time.Time { return d.due }, req.Limit)
			lease := tx.StmtContext(ctx, s.stmts.leaseDelivery)
			s.bmu.Lock()
			kept := picked[:0]
			for _, d := range picked {
				if d.pending != nil { // not in SQLite yet: leased in memory, written once when settled
					if !s.pend.claimable(d.pending, nowMS) {
						continue // a claim from memory took it meanwhile (it holds no writer)
					}
					d.pending.owner, d.pending.leaseExpires = req.Owner, ms(d.task.LeaseExpires)
					d.pending.ready = max(d.pending.due, d.pending.leaseExpires)
				}
				kept = append(kept, d)
			}
			picked = kept
			s.bmu.Unlock()
			if err := s.takeTokens(ctx, tx, req.Now, picked); err != nil { // pace.go
				return err
			}
			for _, d := range picked {
				if d.pending == nil {
					expMS := ms(d.task.LeaseExpires)
					if _, err := lease.ExecContext(ctx, req.Owner, expMS, expMS, d.task.DeliveryID); err != nil {
						return fmt.Errorf("leasing delivery: %w", err)
					}
				}
				tasks = append(tasks, d.task)
			}
			return nil
		},
		// Deliveries not in SQLite yet are claimed from memory
		// (pending.pendingDue), so the claim flushes nothing, unless a
		// retry recorded in memory is due: that one it finds in SQLite.
		noFlush:     !s.retryDueInMemory(nowMS) && !fifoFlush,
		settledOnly: !fifoFlush,
	})
	if err != nil {
		return nil, fmt.Errorf("claiming tasks: %w", err)
	}
	return tasks, nil
}

// The statements of a claim, prepared once (Store.prepare).
const (
	dueInSQLiteQuery = `SELECT 1 FROM deliveries INDEXED BY deliveries_endpoint_ready
		WHERE endpoint_id = ? AND status = 'pending' AND ready_at <= ? LIMIT 1`
	dueOfEndpointQuery = `SELECT d.id, d.attempts, d.ready_at,
			e.id, e.type, e.created, e.tenant, e.payload, e.idempotency_key
		FROM deliveries d INDEXED BY deliveries_endpoint_ready
		JOIN events e ON e.id = d.event_id
		WHERE d.endpoint_id = ? AND d.status = 'pending' AND d.ready_at <= ?
		ORDER BY d.ready_at
		LIMIT ?`
	othersLeasesQuery = `SELECT endpoint_id, count(*) FROM deliveries INDEXED BY deliveries_leased
		WHERE lease_owner <> '' AND lease_owner <> ? AND status = 'pending' AND lease_expires > ?
		GROUP BY endpoint_id`
)

// claimFromMemory is the claim of a busy node's common case, without the
// writer: when no endpoint (or connection) with room has a due delivery in
// SQLite, everything due is in memory, not flushed yet, and is leased
// there. It reports false when the claim needs SQLite after all. Its reads
// see the last commit, not the writer's transaction in progress: work
// that becomes due meanwhile is the next claim's.
func (s *Store) claimFromMemory(ctx context.Context, req hookline.ClaimRequest) ([]*hookline.Task, bool, error) {
	nowMS := ms(req.Now)
	if s.noJournal || s.pendingCount.Load() == 0 || s.retryDueInMemory(nowMS) {
		return nil, false, nil
	}
	s.bmu.Lock()
	flushes := s.pend.flushes
	s.bmu.Unlock()
	endpoints, _, err := s.enabledEndpoints(ctx, s.r.db)
	if err != nil {
		return nil, false, err
	}
	others, err := s.othersLeases(ctx, s.probes.othersLeases, req.Owner, nowMS)
	if err != nil {
		return nil, false, err
	}
	conns, err := queryAll(ctx, s.r.db, `SELECT id FROM connections`, nil, func(sc scanner) (string, error) {
		var id string
		return id, sc.Scan(&id)
	})
	if err != nil {
		return nil, false, fmt.Errorf("listing connections: %w", err)
	}
	inSQLite := func(id string) (bool, error) {
		var one int
		err := s.probes.dueInSQLite.QueryRowContext(ctx, id, nowMS).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	}
	def := hookline.ConcurrencyOf(&hookline.Endpoint{}, req.MaxConcurrency)
	for _, id := range conns {
		if req.Room(id, def, others[id]) == 0 {
			continue
		}
		if due, err := inSQLite(id); err != nil || due {
			return nil, false, err
		}
	}
	var lists [][]dueTask
	for _, cached := range endpoints {
		// The breaker's room first, then the endpoint's pace.
		room := req.EndpointRoom(cached, others[cached.ID])
		room = s.paceRoom(cached, req.Now, room)
		if room == 0 {
			continue
		}
		if cached.FIFO() {
			return nil, false, nil // its head is found in SQLite, after a flush
		}
		if due, err := inSQLite(cached.ID); err != nil || due {
			return nil, false, err
		}
		exp := req.Now.Add(req.EndpointLease(cached))
		var list []dueTask
		s.bmu.Lock()
		ds, flushing := s.pend.pendingDue(cached.ID, nowMS, room)
		s.bmu.Unlock()
		if flushing {
			return nil, false, nil // the write path waits for the flush and finds them in SQLite
		}
		if len(ds) > 0 {
			cp := *cached
			for _, d := range ds {
				list = append(list, dueTask{task: d.task(&cp, exp), due: fromMS(d.due), pending: d})
			}
			lists = append(lists, list)
		}
	}
	picked := hookline.FairOrder(lists, func(d dueTask) time.Time { return d.due }, req.Limit)
	for _, d := range picked {
		if d.task.Endpoint.RateLimit != nil {
			// Its bucket is written with the claim (takeTokens), which
			// needs the writer's transaction.
			return nil, false, nil
		}
	}
	tasks := make([]*hookline.Task, 0, len(picked))
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if s.pend.flushes != flushes {
		// A flush committed while the probes ran: what it wrote may be
		// due, and the write path finds it.
		return nil, false, nil
	}
	for _, d := range picked {
		// A flush may have taken one since: then the write path, which
		// waits for it and finds them in SQLite.
		if !s.pend.claimable(d.pending, nowMS) {
			return nil, false, nil
		}
	}
	for _, d := range picked {
		d.pending.owner, d.pending.leaseExpires = req.Owner, ms(d.task.LeaseExpires)
		d.pending.ready = max(d.pending.due, d.pending.leaseExpires)
		tasks = append(tasks, d.task)
	}
	return tasks, true, nil
}

// leaseOwners remembers who has leased deliveries since Open.
type leaseOwners struct {
	mu     sync.Mutex
	owners map[string]bool
}

// noteLeaseOwner records that owner leases deliveries.
func (s *Store) noteLeaseOwner(owner string) {
	s.owners.mu.Lock()
	defer s.owners.mu.Unlock()
	if s.owners.owners == nil {
		s.owners.owners = map[string]bool{}
	}
	s.owners.owners[owner] = true
}

// soleLeaseOwner reports whether nobody but owner has leased deliveries
// since Open (a server has one engine; tests may have more).
func (s *Store) soleLeaseOwner(owner string) bool {
	s.owners.mu.Lock()
	defer s.owners.mu.Unlock()
	for o := range s.owners.owners {
		if o != owner {
			return false
		}
	}
	return true
}

// retryDueInMemory reports whether an attempt recorded in memory, not yet
// flushed, scheduled a retry due by nowMS.
func (s *Store) retryDueInMemory(nowMS int64) bool {
	if s.pendingCount.Load() == 0 {
		return false
	}
	s.bmu.Lock()
	defer s.bmu.Unlock()
	return s.pend.firstRetry != 0 && s.pend.firstRetry <= nowMS
}

// othersLeases counts the live leases of owners other than owner, by
// endpoint (or connection).
func (s *Store) othersLeases(ctx context.Context, stmt *sql.Stmt, owner string, nowMS int64) (map[string]int, error) {
	if s.soleLeaseOwner(owner) {
		// Open gave back every lease an earlier process held, and nobody
		// else has leased since: there are none to count.
		return map[string]int{}, nil
	}
	rows, err := stmt.QueryContext(ctx, owner, nowMS)
	if err != nil {
		return nil, fmt.Errorf("counting leases: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("counting leases: %w", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting leases: %w", err)
	}
	if s.pendingCount.Load() > 0 { // and those leased in memory (pending.pendingDue)
		s.bmu.Lock()
		for id, list := range s.pend.unleased {
			for _, d := range list {
				if d.owner != "" && d.owner != owner && d.leaseExpires > nowMS && !s.pend.gone(d) {
					out[id]++
				}
			}
		}
		s.bmu.Unlock()
	}
	return out, nil
}

// dueTask is a candidate of a claim and when it became due.
type dueTask struct {
	task    *hookline.Task
	due     time.Time
	pending *pendingDelivery // set for a delivery not yet in SQLite
}

// dueOfEndpoints appends to lists, for each endpoint with room, its
// oldest due deliveries up to its room.
func (s *Store) dueOfEndpoints(ctx context.Context, tx *sql.Tx, req hookline.ClaimRequest, endpoints []*hookline.Endpoint, others map[string]int, nowMS int64, lists [][]dueTask) ([][]dueTask, error) {
	var stmt *sql.Stmt
	for _, cached := range endpoints {
		// The breaker's room first, then the endpoint's pace.
		room := req.EndpointRoom(cached, others[cached.ID])
		room = s.paceRoom(cached, req.Now, room)
		if room == 0 {
			continue
		}
		if cached.FIFO() {
			head, err := s.fifoHead(ctx, tx, req, cached, nowMS)
			if err != nil {
				return nil, err
			}
			if head != nil {
				lists = append(lists, []dueTask{*head})
			}
			continue
		}
		if stmt == nil {
			stmt = tx.StmtContext(ctx, s.stmts.dueOfEndpoint)
		}
		exp := req.Now.Add(req.EndpointLease(cached))
		var ep *hookline.Endpoint // a fresh struct per call, shared by its tasks; slices and maps are shared read-only
		var list []dueTask
		err := func() error {
			rows, err := stmt.QueryContext(ctx, cached.ID, nowMS, room)
			if err != nil {
				return fmt.Errorf("selecting due deliveries: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var (
					t        hookline.Task
					attempts int
					ready    int64
				)
				ev, err := scanEvent(scanFunc(func(dest ...any) error {
					return rows.Scan(append([]any{&t.DeliveryID, &attempts, &ready}, dest...)...)
				}))
				if err != nil {
					return fmt.Errorf("reading due delivery: %w", err)
				}
				if ep == nil {
					cp := *cached
					ep = &cp
				}
				t.Attempt, t.Event, t.Endpoint, t.LeaseExpires = attempts+1, ev, ep, exp
				list = append(list, dueTask{task: &t, due: fromMS(ready)})
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, err
		}
		if left := room - len(list); left > 0 && s.pendingCount.Load() > 0 {
			s.bmu.Lock()
			ds, _ := s.pend.pendingDue(cached.ID, nowMS, left) // under wmu: no flush runs
			for _, d := range ds {
				if ep == nil {
					cp := *cached
					ep = &cp
				}
				list = append(list, dueTask{task: d.task(ep, exp), due: fromMS(d.due), pending: d})
			}
			s.bmu.Unlock()
			slices.SortStableFunc(list, func(a, b dueTask) int { return a.due.Compare(b.due) })
		}
		if len(list) > 0 {
			lists = append(lists, list)
		}
	}
	return lists, nil
}

// scanFunc adapts a function to scanner.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// CompleteTasks records attempts and the new state of their deliveries,
// durably before it returns: those of deliveries still only in the journal
// in a journal record (absorb), the others in one transaction.
func (s *Store) CompleteTasks(ctx context.Context, owner string, cs []hookline.Completion) error {
	if len(cs) == 0 {
		return nil
	}
	now := ms(s.now())
	cs, unflushed, err := s.absorb(owner, cs, now)
	if err != nil {
		return fmt.Errorf("completing tasks: %w", err)
	}
	if len(cs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err = s.writeJob(&writeJob{
		ctx: context.WithoutCancel(ctx),
		fn: func(ctx context.Context, tx *sql.Tx) error {
			return s.complete(ctx, tx, owner, cs, nil)
		},
		// Flushing unsettled events would send their completions here too.
		settledOnly: !unflushed,
	})
	if err != nil {
		return fmt.Errorf("completing tasks: %w", err)
	}
	return nil
}

// complete records attempts, their endpoints' health and their deliveries'
// new state, except for the deliveries in applied, written in that state
// already by a flush.
func (s *Store) complete(ctx context.Context, tx *sql.Tx, owner string, cs []hookline.Completion, applied map[string]bool) error {
	now := ms(s.now())
	finish := tx.StmtContext(ctx, s.stmts.finishDelivery)
	refs := tx.StmtContext(ctx, s.stmts.deliveryRefs)
	disable := tx.StmtContext(ctx, s.stmts.disableEP)
	attemptRows := make([][]any, 0, len(cs))
	// health is each endpoint's outcome over the batch, in order: one
	// statement per endpoint instead of one per attempt.
	type health struct {
		failingSince int64 // first failure after the batch's last success; 0 if none
		succeeded    bool  // some attempt succeeded
		// The attempts behind them, for the operational events, and the
		// 410 Gone that disabled the endpoint.
		failed, lastSuccess, gone *hookline.Attempt
		goneReason                string
	}
	healths := map[string]*health{}
	var order []string
	endpointsChanged := false
	var exhausted []*hookline.Attempt // deliveries finished as failed, their retries run out
	if err := s.recordAttemptStats(ctx, tx, cs); err != nil {
		return err
	}
	attempts := make([]hookline.Attempt, len(cs)) // of each completion with its refs, for the breaker
	for i, c := range cs {
		a := c.Attempt
		if a.ID == "" {
			a.ID = hookline.NewID("atm")
		}
		if a.EventID == "" || a.EndpointID == "" {
			if err := refs.QueryRowContext(ctx, a.DeliveryID).Scan(&a.EventID, &a.EndpointID); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return hookline.NotFound("delivery", a.DeliveryID)
				}
				return fmt.Errorf("reading delivery %s: %w", a.DeliveryID, err)
			}
		}
		attempts[i] = a
		attemptRows = append(attemptRows, []any{a.ID, a.DeliveryID, a.EventID, a.EndpointID, a.Attempt, ms(a.Created),
			a.URL, a.ResponseStatus, a.DurationMS, a.Error, a.ErrorKind, a.ResponseBody, ms(a.NextRetry)})
		finished := applied[a.DeliveryID]
		if !finished {
			next := nextAttemptMS(c)
			res, err := finish.ExecContext(ctx, c.Status, next, next, now, a.DeliveryID, owner)
			if err != nil {
				return fmt.Errorf("updating delivery: %w", err)
			}
			n, _ := res.RowsAffected()
			finished = n > 0
			if !finished && s.waitsInMemory(a.DeliveryID) {
				// Its row is not written yet: recording the attempt alone
				// would leave the delivery pending, to be sent again.
				return fmt.Errorf("completing delivery %s: it is not in the database yet", a.DeliveryID)
			}
		}
		if finished && c.Status == hookline.DeliveryFailed && c.DisableEndpoint == "" {
			exhausted = append(exhausted, &a) // recorded after the endpoint's failing, as PostgreSQL does
		}
		h := healths[a.EndpointID]
		if h == nil {
			h = &health{}
			healths[a.EndpointID] = h
			order = append(order, a.EndpointID)
		}
		switch {
		case a.Succeeded():
			h.succeeded, h.failingSince, h.failed, h.lastSuccess = true, 0, nil, &a
		case h.failingSince == 0:
			h.failingSince, h.failed = ms(a.Created), &a
		}
		if c.DisableEndpoint != "" {
			// Whether it was enabled: only then is it an endpoint disabled,
			// for the operational event (a rare path, worth a read).
			var status string
			if err := tx.QueryRowContext(ctx, `SELECT status FROM endpoints WHERE id = ?`, a.EndpointID).Scan(&status); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("reading endpoint status: %w", err)
			}
			if _, err := disable.ExecContext(ctx, c.DisableEndpoint, now, a.EndpointID); err != nil {
				return fmt.Errorf("disabling endpoint: %w", err)
			}
			if status == hookline.EndpointEnabled {
				h.gone, h.goneReason = &a, c.DisableEndpoint // recorded after its failing, as PostgreSQL does
			}
			endpointsChanged = true
		}
	}
	if err := s.insAttempts.exec(ctx, tx, attemptRows); err != nil {
		return fmt.Errorf("inserting attempts: %w", err)
	}
	changed, circuitEvents, err := s.applyBreaker(ctx, tx, cs, attempts)
	if err != nil {
		return err
	}
	endpointsChanged = endpointsChanged || changed
	// Each statement changes the row only when the endpoint's state
	// changes, so a row changed is a transition to report. A batch that
	// succeeded and then failed clears, then sets: recovered, then failing.
	setFailing, clearFailing := tx.StmtContext(ctx, s.stmts.setFailing), tx.StmtContext(ctx, s.stmts.clearFailing)
	for _, id := range order {
		h := healths[id]
		if h.succeeded {
			res, err := clearFailing.ExecContext(ctx, id)
			if err != nil {
				return fmt.Errorf("updating endpoint health: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				endpointsChanged = true
				if err := recordOperational(ctx, tx, hookline.OpDeliveryRecovered, id, h.lastSuccess.EventID, h.lastSuccess, "", true, now); err != nil {
					return err
				}
			}
		}
		if h.failingSince != 0 {
			res, err := setFailing.ExecContext(ctx, h.failingSince, id)
			if err != nil {
				return fmt.Errorf("updating endpoint health: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				endpointsChanged = true
				if err := recordOperational(ctx, tx, hookline.OpDeliveryFailing, id, h.failed.EventID, h.failed, "", true, now); err != nil {
					return err
				}
			}
		}
		if h.gone != nil {
			if err := recordOperational(ctx, tx, hookline.OpEndpointDisabled, id, h.gone.EventID, h.gone, h.goneReason, false, now); err != nil {
				return err
			}
		}
	}
	for _, a := range exhausted {
		if err := recordOperational(ctx, tx, hookline.OpDeliveryExhausted, a.EndpointID, a.EventID, a, "", true, now); err != nil {
			return err
		}
	}
	// The circuits' transitions last, as PostgreSQL queues them.
	for _, ev := range circuitEvents {
		q, args := dialect().RecordCircuitEvent(ev, fromMS(now))
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("recording %s: %w", ev.Type(), err)
		}
	}
	if endpointsChanged {
		s.dropEndpointCache()
	}
	return nil
}

// ReleaseTasks gives deliveries leased to owner back, due at at.
func (s *Store) ReleaseTasks(ctx context.Context, owner string, deliveryIDs []string, at time.Time) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	atMS := ms(at)
	if s.releaseInMemory(owner, deliveryIDs, atMS) {
		return nil
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		release := tx.StmtContext(ctx, s.stmts.releaseOne)
		for _, id := range deliveryIDs {
			if _, err := release.ExecContext(ctx, atMS, atMS, id, owner); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("releasing tasks: %w", err)
	}
	return nil
}

// releaseInMemory gives back deliveries not yet in SQLite, without a
// write, when every one of them is such a delivery leased to owner and
// not attempted (an engine giving back what a claim brought beyond an
// endpoint's room). It reports whether it did.
func (s *Store) releaseInMemory(owner string, deliveryIDs []string, atMS int64) bool {
	if s.pendingCount.Load() == 0 {
		return false
	}
	s.bmu.Lock()
	defer s.bmu.Unlock()
	ds := make([]*pendingDelivery, 0, len(deliveryIDs))
	for _, id := range deliveryIDs {
		d := s.pend.deliveries[id]
		if d == nil || d.done || d.ev.flushing || d.owner != owner {
			return false
		}
		ds = append(ds, d)
	}
	for _, d := range ds {
		d.owner, d.leaseExpires, d.due, d.ready = "", 0, atMS, atMS
		s.pend.list(d)
	}
	return true
}

// ReleaseOwner gives back every delivery leased to owner. Each becomes due at
// its next_attempt_at, which was due when it was leased.
func (s *Store) ReleaseOwner(ctx context.Context, owner string) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_owner = '', lease_expires = 0, ready_at = next_attempt_at
			WHERE status = 'pending' AND lease_owner = ?`, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("releasing tasks of %s: %w", owner, err)
	}
	return nil
}

// Resend makes an event due again at now for one endpoint or for every
// enabled endpoint subscribed to it.
func (s *Store) Resend(ctx context.Context, eventID, endpointID string, now time.Time) ([]*hookline.Delivery, error) {
	nowMS := ms(now)
	var out []*hookline.Delivery
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ev, err := scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, eventID))
		if errors.Is(err, sql.ErrNoRows) {
			return hookline.NotFound("event", eventID)
		}
		if err != nil {
			return fmt.Errorf("reading event: %w", err)
		}
		var targets []string
		if endpointID != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM endpoints WHERE id = ?`, endpointID).Scan(&n); err != nil {
				return fmt.Errorf("reading endpoint: %w", err)
			}
			if n == 0 {
				return hookline.NotFound("endpoint", endpointID)
			}
			targets = []string{endpointID}
		} else {
			endpoints, _, err := s.enabledEndpoints(ctx, tx)
			if err != nil {
				return err
			}
			doc := &hookline.EventDocument{Event: ev}
			for _, ep := range endpoints {
				if ep.Accepts(doc) {
					targets = append(targets, ep.ID)
				}
			}
		}
		out, err = redeliver(ctx, tx, eventID, targets, nowMS)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("resending event: %w", err)
	}
	return out, nil
}

// requeuedSince is the pending_since of a delivery a resend or recover puts
// back to pending: it waits from now, unless it was still waiting.
const requeuedSince = `CASE WHEN deliveries.status = 'pending' THEN deliveries.pending_since ELSE excluded.updated END`

// redeliver makes the delivery of eventID (an event's id or a captured
// request's) to each target pending and due at nowMS, inserting it where
// there is none, and returns the deliveries in targets order.
func redeliver(ctx context.Context, tx *sql.Tx, eventID string, targets []string, nowMS int64) ([]*hookline.Delivery, error) {
	var out []*hookline.Delivery
	for _, target := range targets {
		d, err := scanDelivery(tx.QueryRowContext(ctx, `INSERT INTO deliveries
			(id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_owner, lease_expires, ready_at, created, updated)
			VALUES (?, ?, ?, 'pending', 0, ?, '', 0, ?, ?, ?)
			ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = 'pending', next_attempt_at = excluded.next_attempt_at,
				lease_owner = '', lease_expires = 0, ready_at = excluded.ready_at, updated = excluded.updated,
				pending_since = `+requeuedSince+`
			RETURNING `+deliveryColumns,
			hookline.NewID("dlv"), eventID, target, nowMS, nowMS, nowMS, nowMS))
		if err != nil {
			return nil, fmt.Errorf("resending to %s: %w", target, err)
		}
		out = append(out, d)
	}
	return out, nil
}

const attemptColumns = `id, delivery_id, event_id, endpoint_id, attempt, created, url, response_status, duration_ms,
	error, error_kind, response_body, next_retry`

func scanAttempt(sc scanner) (*hookline.Attempt, error) {
	var (
		a                  hookline.Attempt
		created, nextRetry int64
	)
	if err := sc.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EndpointID, &a.Attempt, &created, &a.URL,
		&a.ResponseStatus, &a.DurationMS, &a.Error, &a.ErrorKind, &a.ResponseBody, &nextRetry); err != nil {
		return nil, err
	}
	a.Created, a.NextRetry = fromMS(created), fromMS(nextRetry)
	return &a, nil
}

// ListAttempts returns one page of attempts, newest first.
func (s *Store) ListAttempts(ctx context.Context, f hookline.AttemptFilter) ([]*hookline.Attempt, bool, error) {
	q := `SELECT ` + attemptColumns + ` FROM attempts WHERE 1`
	var args []any
	if f.EventID != "" {
		q += ` AND event_id = ?`
		args = append(args, f.EventID)
	}
	if f.EndpointID != "" {
		q += ` AND endpoint_id = ?`
		args = append(args, f.EndpointID)
	}
	out, more, err := listPage(ctx, s.r, q, args, f.Page, scanAttempt)
	if err != nil {
		return nil, false, fmt.Errorf("listing attempts: %w", err)
	}
	return out, more, nil
}

// Backlog counts pending deliveries and when the oldest started waiting.
func (s *Store) Backlog(ctx context.Context) (hookline.Backlog, error) {
	var (
		b      hookline.Backlog
		oldest sql.NullInt64
	)
	// The oldest is the first entry of deliveries_pending_since (0751), not
	// a min() over every pending row.
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending'),
		(SELECT COALESCE(pending_since, created) FROM deliveries WHERE status = 'pending'
			ORDER BY COALESCE(pending_since, created) LIMIT 1)`).
		Scan(&b.Pending, &oldest); err != nil {
		return b, fmt.Errorf("counting backlog: %w", err)
	}
	if oldest.Valid {
		b.Oldest = fromMS(oldest.Int64)
	}
	return b, nil
}

// Setting returns a stored setting, or ENOTFOUND.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", hookline.NotFound("setting", name)
	}
	if err != nil {
		return "", fmt.Errorf("reading setting: %w", err)
	}
	return v, nil
}

// SetSetting stores a setting, replacing any earlier value.
func (s *Store) SetSetting(ctx context.Context, name, value string) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing setting: %w", err)
	}
	return nil
}

// InitSetting stores value under name unless name has one, and returns
// the value in force.
func (s *Store) InitSetting(ctx context.Context, name, value string) (string, error) {
	var v string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	})
	if err != nil {
		return "", fmt.Errorf("initializing setting: %w", err)
	}
	return v, nil
}

// nextAttemptMS is when a delivery is due after completion c: its retry,
// or 0 once it has succeeded or failed for good. A flush writes it for
// deliveries completed in memory; complete, for the others.
func nextAttemptMS(c hookline.Completion) int64 {
	if c.Status == hookline.DeliveryPending {
		return ms(c.Attempt.NextRetry)
	}
	return 0
}

// applyBreaker folds the completions into their endpoints' circuits
// (hookline.BreakerRule.Apply), in the transaction that records them,
// fills each completion's Breaker, reports whether a circuit changed and
// returns the operational events of the transitions made, in order, for
// the caller to record in the same transaction. Under the writer lock no
// other completion runs meanwhile, so each transition is made once.
func (s *Store) applyBreaker(ctx context.Context, tx *sql.Tx, cs []hookline.Completion, attempts []hookline.Attempt) (bool, []sqlcore.CircuitEvent, error) {
	type state struct {
		c                        hookline.Circuit
		failures                 int
		before                   hookline.Circuit
		url, description, tenant string // read at its first transition (named)
		named                    bool
	}
	var events []sqlcore.CircuitEvent
	states := map[string]*state{}
	var order []string
	for i := range cs {
		a, id := &attempts[i], attempts[i].EndpointID
		st := states[id]
		if st == nil {
			var (
				ep                      hookline.Endpoint
				opened, probe, coolDown int64
			)
			err := tx.QueryRowContext(ctx, `SELECT breaker_failures, circuit_state, consecutive_failures,
				circuit_opened_at, circuit_next_probe_at, circuit_cooldown_ms FROM endpoints WHERE id = ?`, id).
				Scan(&ep.BreakerFailures, &ep.Circuit.State, &ep.Circuit.ConsecutiveFailures, &opened, &probe, &coolDown)
			if errors.Is(err, sql.ErrNoRows) {
				continue // deleted meanwhile: no circuit to keep
			}
			if err != nil {
				return false, nil, fmt.Errorf("reading circuit of %s: %w", id, err)
			}
			ep.Circuit.OpenedAt, ep.Circuit.NextProbeAt = fromMS(opened), fromMS(probe)
			ep.Circuit.CoolDown = time.Duration(coolDown) * time.Millisecond
			st = &state{c: ep.Circuit, before: ep.Circuit, failures: breakerRule(cs[i]).FailuresOf(&ep)}
			states[id] = st
			order = append(order, id)
		}
		if !cs[i].Breaker.Counts() {
			continue
		}
		transition := breakerRule(cs[i]).Apply(&st.c, st.failures, a)
		if b := cs[i].Breaker; b != nil {
			b.Transition = transition
		}
		if transition != "" {
			// The endpoint as the event names it, read on this rare path
			// only: every completion runs the query above.
			if !st.named {
				if err := tx.QueryRowContext(ctx, `SELECT url, description, tenant FROM endpoints WHERE id = ?`, id).
					Scan(&st.url, &st.description, &st.tenant); err != nil {
					return false, nil, fmt.Errorf("reading endpoint %s: %w", id, err)
				}
				st.named = true
			}
			events = append(events, sqlcore.CircuitEvent{Transition: transition, EndpointID: id, URL: st.url,
				Description: st.description, Tenant: st.tenant, Attempt: *a, NextProbeAt: st.c.NextProbeAt})
		}
	}
	for i := range cs {
		if b := cs[i].Breaker; b != nil {
			if st := states[attempts[i].EndpointID]; st != nil {
				b.Circuit = st.c
			}
		}
	}
	changed := false
	for _, id := range order {
		st := states[id]
		if st.c == st.before {
			continue
		}
		c := st.c
		if _, err := tx.ExecContext(ctx, `UPDATE endpoints SET circuit_state = ?, consecutive_failures = ?,
			circuit_opened_at = ?, circuit_next_probe_at = ?, circuit_cooldown_ms = ? WHERE id = ?`,
			c.State, c.ConsecutiveFailures, ms(c.OpenedAt), ms(c.NextProbeAt), c.CoolDown.Milliseconds(), id); err != nil {
			return false, nil, fmt.Errorf("updating circuit of %s: %w", id, err)
		}
		changed = true // the cached endpoints carry the circuit: publishes and absorb read it
	}
	return changed, events, nil
}

// breakerRule is the rule a completion brings, or the default one.
func breakerRule(c hookline.Completion) hookline.BreakerRule {
	if c.Breaker != nil {
		return c.Breaker.Rule
	}
	return hookline.BreakerRule{}
}

package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

// claimLockKey is the advisory lock a claim holds for its transaction, so
// that claims of several nodes count each other's leases: one that ran
// meanwhile has committed before the next reads the counts. Publishes and
// completions do not take it. ("hookclam" in ASCII.)
const claimLockKey int64 = 0x686f6f6b636c616d

// othersLeasesQuery counts the live leases of owners other than $1 at $2,
// by endpoint (or connection): endpoint_id, n.
const othersLeasesQuery = `SELECT endpoint_id, count(*) AS n FROM deliveries
	WHERE lease_owner <> '' AND lease_owner <> $1 AND status = 'pending' AND lease_expires > $2
	GROUP BY endpoint_id`

// collectCounts reads the rows of othersLeasesQuery.
func collectCounts(rows pgx.Rows) (map[string]int, error) {
	out := map[string]int{}
	_, err := collect(rows, func(row pgx.Row) (struct{}, error) {
		var id string
		var n int64
		if err := row.Scan(&id, &n); err != nil {
			return struct{}{}, err
		}
		out[id] = int(n)
		return struct{}{}, nil
	})
	return out, err
}

// ClaimTasks leases due deliveries fairly (hookline.ClaimRequest) in one
// transaction: under the claim lock, one statement counts the live leases
// of other owners per endpoint and connection; the room of each follows
// from the rule in hookline; then one statement per kind of target picks,
// for each target with room, its oldest due deliveries up to its room
// (a LATERAL subquery on deliveries_endpoint_ready, FOR UPDATE SKIP LOCKED,
// so a delivery a publish or a resend holds is skipped, not waited for),
// ranks them within their target and keeps the first ranks of all
// targets up to the limit, leases them and joins what the tasks need.
func (s *Store) ClaimTasks(ctx context.Context, req hookline.ClaimRequest) ([]*hookline.Task, error) {
	if req.Limit <= 0 {
		return nil, nil
	}
	var tasks []*hookline.Task
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, claimLockKey); err != nil {
			return fmt.Errorf("taking the claim lock: %w", err)
		}
		rows, err := tx.Query(ctx, `WITH others AS (`+othersLeasesQuery+`)
			SELECT false, p.id, p.max_concurrency, p.timeout_ms, p.circuit_state, p.circuit_next_probe_at, COALESCE(o.n, 0), `+paceColumns+`
			FROM endpoints p LEFT JOIN others o ON o.endpoint_id = p.id
			LEFT JOIN endpoint_buckets b ON b.endpoint_id = p.id
			WHERE p.status = 'enabled'
			UNION ALL
			SELECT true, c.id, 0, 0, 'closed', NULL, COALESCE(o.n, 0), '', 0, 0, 0, NULL, NULL
			FROM connections c LEFT JOIN others o ON o.endpoint_id = c.id`, req.Owner, ts(req.Now))
		if err != nil {
			return fmt.Errorf("counting leases: %w", err)
		}
		var eps, conns claimTargets
		paced := pacedTargets{}
		_, err = collect(rows, func(row pgx.Row) (struct{}, error) {
			var (
				isConn    bool
				ep        hookline.Endpoint
				maxConc   int32
				timeoutMS int64
				others    int64
				pace      paceRow
				probe     *time.Time
			)
			if err := row.Scan(append([]any{&isConn, &ep.ID, &maxConc, &timeoutMS, &ep.Circuit.State, &probe, &others}, pace.dest()...)...); err != nil {
				return struct{}{}, err
			}
			ep.MaxConcurrency, ep.Timeout = int(maxConc), time.Duration(timeoutMS)*time.Millisecond
			ep.Circuit.NextProbeAt = fromTS(probe)
			pace.apply(&ep)
			// Under the claim lock, counting other owners' leases: a
			// half_open circuit's one probe is one across every node.
			// The breaker's room first, then the endpoint's pace.
			room := req.EndpointRoom(&ep, int(others))
			room = hookline.PaceRoom(&ep, pace.bucket(), req.Now, room)
			if room == 0 {
				return struct{}{}, nil
			}
			t := &eps
			if isConn {
				t = &conns
			}
			t.ids, t.rooms, t.exps = append(t.ids, ep.ID), append(t.rooms, int32(room)), append(t.exps, req.Now.Add(req.EndpointLease(&ep)))
			paced.note(&ep, pace.bucket())
			return struct{}{}, nil
		})
		if err != nil {
			return fmt.Errorf("counting leases: %w", err)
		}
		if eps, err = s.fifoHeads(ctx, tx, req.Now, eps, paced); err != nil {
			return err
		}
		if len(eps.ids) > 0 {
			if tasks, err = s.claimEventTasks(ctx, tx, req, eps); err != nil {
				return err
			}
			if err := s.takeTokens(ctx, tx, req.Now, tasks, paced); err != nil {
				return err
			}
		}
		if n := req.Limit - len(tasks); n > 0 && len(conns.ids) > 0 { // inbound request deliveries: inbound.go
			more, err := s.claimRequestTasks(ctx, tx, req, n, conns)
			if err != nil {
				return err
			}
			tasks = append(tasks, more...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claiming tasks: %w", err)
	}
	return tasks, nil
}

// claimTargets are the endpoints (or connections) a claim may lease for,
// with the room of each and the lease its deliveries get.
type claimTargets struct {
	ids   []string
	rooms []int32
	exps  []time.Time
	// heads, when set, holds for each target the one delivery a FIFO
	// endpoint may lease ('' for the others): pace.go.
	heads []string
}

// fairPick is the start of both claim statements: $1, $2 and $3 are the
// targets' ids, rooms and lease expiries, $4 is now, $5 the limit and $6
// the owner, $7 the FIFO heads (claimTargets.heads); it defines leased(id, event_id, endpoint_id, attempts, due,
// exp). Ranking happens after the locking subquery, since PostgreSQL
// allows no window function beside FOR UPDATE.
const fairPick = `WITH want AS (
		SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $7::text[]) AS w(endpoint_id, room, exp, head)
	), picked AS (
		SELECT c.id, c.ready_at, w.endpoint_id, w.exp FROM want w CROSS JOIN LATERAL (
			SELECT d.id, d.ready_at FROM deliveries d
			WHERE d.endpoint_id = w.endpoint_id AND d.status = 'pending' AND NOT d.paused AND d.ready_at <= $4
				AND (w.head = '' OR d.id = w.head)
			ORDER BY d.ready_at
			LIMIT w.room
			FOR UPDATE OF d SKIP LOCKED
		) c
	), ranked AS (
		SELECT id, ready_at, exp, row_number() OVER (PARTITION BY endpoint_id ORDER BY ready_at, id) AS rank FROM picked
	), chosen AS (
		SELECT id, ready_at, exp FROM ranked ORDER BY rank, ready_at, id LIMIT $5
	), leased AS (
		UPDATE deliveries d SET lease_owner = $6, lease_expires = chosen.exp, ready_at = chosen.exp
		FROM chosen WHERE d.id = chosen.id
		RETURNING d.id, d.event_id, d.endpoint_id, d.attempts, chosen.ready_at AS due, chosen.exp
	)`

// claimEventTasks leases event deliveries for the endpoints in t.
func (s *Store) claimEventTasks(ctx context.Context, tx pgx.Tx, req hookline.ClaimRequest, t claimTargets) ([]*hookline.Task, error) {
	rows, err := tx.Query(ctx, fairPick+`
		SELECT l.id, l.attempts, l.exp, `+endpointColumnsOf("p")+`,
			e.id, e.type, e.created, e.tenant, e.payload, e.idempotency_key
		FROM leased l
		JOIN endpoints p ON p.id = l.endpoint_id
		JOIN events e ON e.id = l.event_id
		ORDER BY l.due, l.id`, t.ids, t.rooms, t.exps, ts(req.Now), req.Limit, req.Owner, t.headsOrNone())
	if err != nil {
		return nil, fmt.Errorf("claiming tasks: %w", err)
	}
	endpoints := map[string]*hookline.Endpoint{} // one struct per endpoint per call, shared by its tasks
	tasks, err := collect(rows, func(row pgx.Row) (*hookline.Task, error) {
		var (
			t        hookline.Task
			ep       hookline.Endpoint
			ev       hookline.Event
			attempts int
		)
		dest, done := s.endpointDest(&ep)
		dest = append([]any{&t.DeliveryID, &attempts, &t.LeaseExpires}, dest...)
		dest = append(dest, &ev.ID, &ev.Type, &ev.Created, &ev.Tenant, &ev.Payload, &ev.IdempotencyKey)
		if err := row.Scan(dest...); err != nil {
			return nil, err
		}
		if err := done(); err != nil {
			return nil, err
		}
		ev.Created = ev.Created.UTC()
		if cached := endpoints[ep.ID]; cached != nil {
			t.Endpoint = cached
		} else {
			t.Endpoint = &ep
			endpoints[ep.ID] = &ep
		}
		t.Attempt = attempts + 1
		t.Event = &ev
		return &t, nil
	})
	if err != nil {
		return nil, fmt.Errorf("claiming tasks: %w", err)
	}
	return tasks, nil
}

// health is what a batch of completions does to one endpoint's
// FailingSince: reset sets it to t (NULL when nil), otherwise it is set to t
// only when unset.
type health struct {
	anyFailed bool // some attempt failed: the circuit may move
	reset     bool
	t         *time.Time
	disable   string
	// The attempts behind them, for the operational events: the first
	// failure after the last success, the last success, the 410 Gone.
	failed, lastSuccess, gone *hookline.Attempt
}

// CompleteTasks records attempts and the new state of their deliveries in one
// transaction: one statement locks the endpoint rows the batch may change
// and reads their circuits (applyBreaker), then the writes go as one
// pipelined batch. Endpoint rows are locked first, in id order, then
// delivery rows, the order every other writer uses, so that concurrent
// nodes do not deadlock.
func (s *Store) CompleteTasks(ctx context.Context, owner string, cs []hookline.Completion) error {
	if len(cs) == 0 {
		return nil
	}
	now := s.now()
	attempts := make([]hookline.Attempt, len(cs))
	var missingRefs []string
	for i, c := range cs {
		attempts[i] = c.Attempt
		if attempts[i].ID == "" {
			attempts[i].ID = hookline.NewID("atm")
		}
		if attempts[i].EventID == "" || attempts[i].EndpointID == "" {
			missingRefs = append(missingRefs, attempts[i].DeliveryID)
		}
	}
	if len(missingRefs) > 0 {
		if err := s.fillRefs(ctx, attempts, missingRefs); err != nil {
			return fmt.Errorf("completing tasks: %w", err)
		}
	}

	// Fold the batch into one change per endpoint, in completion order: the
	// last success clears FailingSince, and the first failure after it (or
	// after the current state, without a success) sets it.
	hs := map[string]*health{}
	var order []string
	for i, c := range cs {
		a := &attempts[i]
		h := hs[a.EndpointID]
		if h == nil {
			h = &health{}
			hs[a.EndpointID] = h
			order = append(order, a.EndpointID)
		}
		if !a.Succeeded() {
			h.anyFailed = true
		}
		switch {
		case a.Succeeded():
			h.reset, h.t, h.failed, h.lastSuccess = true, nil, nil, a
		case h.t == nil:
			at := a.Created
			if at.IsZero() {
				at = now
			}
			at = msTime(at)
			h.t, h.failed = &at, a
		}
		if c.DisableEndpoint != "" {
			h.disable, h.gone = c.DisableEndpoint, a
		}
	}
	sort.Strings(order)
	var (
		hIDs, hDisable []string
		hReset         []bool
		hAnyFailed     []bool
		hT             []*time.Time
		disabled       []string
		hFailed        = opAttempts{}
		hSuccess       = opAttempts{}
		hGone          = opAttempts{}
	)
	for _, id := range order {
		h := hs[id]
		hIDs, hReset, hT, hDisable = append(hIDs, id), append(hReset, h.reset), append(hT, h.t), append(hDisable, h.disable)
		hFailed.add(h.failed)
		hSuccess.add(h.lastSuccess)
		hGone.add(h.gone)
		hAnyFailed = append(hAnyFailed, h.anyFailed)
		if h.disable != "" {
			disabled = append(disabled, id)
		}
	}

	var (
		aIDs, aDeliveries, aEvents, aEndpoints, aURLs, aErrors []string
		aKinds                                                 []string
		aNums, aStatuses                                       []int32
		aCreated                                               []time.Time
		aNext                                                  []*time.Time
		aDurations                                             []int64
		aBodies                                                [][]byte
		dIDs, dStatuses                                        []string
		dNext                                                  []*time.Time
	)
	for i, c := range cs {
		a := &attempts[i]
		aIDs, aDeliveries, aEvents, aEndpoints = append(aIDs, a.ID), append(aDeliveries, a.DeliveryID), append(aEvents, a.EventID), append(aEndpoints, a.EndpointID)
		aNums, aCreated, aURLs, aStatuses = append(aNums, int32(a.Attempt)), append(aCreated, msTime(a.Created)), append(aURLs, a.URL), append(aStatuses, int32(a.ResponseStatus))
		aDurations, aErrors, aBodies = append(aDurations, a.DurationMS), append(aErrors, cleanText(a.Error)), append(aBodies, []byte(a.ResponseBody))
		aKinds = append(aKinds, a.ErrorKind)
		var next *time.Time
		if !a.NextRetry.IsZero() {
			t := msTime(a.NextRetry)
			next = &t
		}
		aNext = append(aNext, next)
		dIDs, dStatuses, dNext = append(dIDs, a.DeliveryID), append(dStatuses, c.Status), append(dNext, next)
	}

	b := &pgx.Batch{}
	// The endpoints' new health, and in the same statement the operational
	// events of the changes it made, from each row's state before
	// (operational.go).
	b.Queue(`WITH x AS (
			SELECT * FROM unnest($1::text[], $2::bool[], $3::timestamptz[], $4::text[]) WITH ORDINALITY AS x(id, reset, t, disable, n)
		), locked AS (
			SELECT e.id, e.failing_since AS was_failing, e.status AS was_status FROM endpoints e JOIN x ON x.id = e.id
			WHERE x.disable <> ''
				OR (x.reset AND e.failing_since IS DISTINCT FROM x.t)
				OR (NOT x.reset AND e.failing_since IS NULL)
			ORDER BY e.id
			FOR NO KEY UPDATE OF e
		), changed AS (
			UPDATE endpoints e SET
				failing_since = CASE WHEN x.reset THEN x.t ELSE COALESCE(e.failing_since, x.t) END,
				status = CASE WHEN x.disable <> '' THEN 'disabled' ELSE e.status END,
				disabled_reason = CASE WHEN x.disable <> '' THEN x.disable ELSE e.disabled_reason END,
				updated = CASE WHEN x.disable <> '' THEN $5 ELSE e.updated END
			FROM x JOIN locked ON locked.id = x.id
			WHERE e.id = x.id
			RETURNING e.id, e.url, e.description, e.tenant, locked.was_failing, locked.was_status, x.reset, x.t, x.disable, x.n
		)`+healthOperationalEvents, append([]any{hIDs, hReset, hT, hDisable, ts(now)}, opArgs(hFailed, hSuccess, hGone)...)...)
	if len(disabled) > 0 {
		b.Queue(`UPDATE deliveries SET paused = true WHERE endpoint_id = ANY($1) AND status = 'pending' AND NOT paused`, disabled)
	}
	b.Queue(`INSERT INTO attempts (id, delivery_id, event_id, endpoint_id, attempt, created, url, response_status,
			duration_ms, error, response_body, next_retry, error_kind)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::text[],
			$8::int[], $9::bigint[], $10::text[], $11::bytea[], $12::timestamptz[], $13::text[])`,
		aIDs, aDeliveries, aEvents, aEndpoints, aNums, aCreated, aURLs, aStatuses, aDurations, aErrors, aBodies, aNext, aKinds)
	// A retry without a time is due at once rather than never.
	const finish = `UPDATE deliveries d SET status = x.status, attempts = d.attempts + 1,
			next_attempt_at = CASE WHEN x.status = 'pending' THEN COALESCE(x.next, $4) END,
			ready_at = CASE WHEN x.status = 'pending' THEN COALESCE(x.next, $4) END,
			lease_owner = '', lease_expires = NULL, updated = $4
		FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS x(id, status, next, n)
		WHERE d.id = x.id AND d.lease_owner = $5 AND d.status = 'pending'`
	if exhausted := exhaustedAttempts(cs, attempts); exhausted != nil {
		// Deliveries that gave up: their operational events, recorded
		// only for the rows this statement finished (operational.go).
		b.Queue(exhaustedOperationalEvents(finish), append([]any{dIDs, dStatuses, dNext, ts(now), owner}, exhausted...)...)
	} else {
		b.Queue(finish, dIDs, dStatuses, dNext, ts(now), owner)
	}
	s.queueAttemptStats(b, cs, attempts) // dashboard aggregates, same transaction: stats.go
	// One transaction: applyBreaker locks the endpoint rows and reads their
	// circuits, then the batch (health and its operational events, the
	// circuits' updates, attempts, deliveries) commits with it.
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.applyBreaker(ctx, tx, b, now, cs, attempts, hIDs, hReset, hT, hDisable, hAnyFailed); err != nil {
			return err
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("completing tasks: %w", err)
	}
	return nil
}

// applyBreaker folds the completions into their endpoints' circuits
// (hookline.BreakerRule.Apply) in the completion's transaction, fills each
// completion's Breaker and queues in b the circuits' updates and the
// operational event of each transition (circuit_opened, circuit_closed),
// which thus commit together or not at all. It locks,
// in id order and before anything else, every endpoint row the batch may
// write: those whose circuit may move (a failure, or a circuit open or
// counting) and those the health statement changes. Two nodes completing
// attempts of one endpoint at once thus take turns, the second seeing
// the first's circuit: one transition, made once.
func (s *Store) applyBreaker(ctx context.Context, tx pgx.Tx, b *pgx.Batch, now time.Time, cs []hookline.Completion, attempts []hookline.Attempt,
	ids []string, reset []bool, t []*time.Time, disable []string, failed []bool) error {
	rows, err := tx.Query(ctx, `WITH x AS (
			SELECT * FROM unnest($1::text[], $2::bool[], $3::timestamptz[], $4::text[], $5::bool[]) AS x(id, reset, t, disable, failed)
		)
		SELECT e.id, e.breaker_failures, `+circuitColumns+`, e.url, e.description, e.tenant FROM endpoints e JOIN x ON x.id = e.id
		WHERE x.failed OR e.circuit_state <> 'closed' OR e.consecutive_failures > 0
			OR x.disable <> ''
			OR (x.reset AND e.failing_since IS DISTINCT FROM x.t)
			OR (NOT x.reset AND e.failing_since IS NULL)
		ORDER BY e.id
		FOR NO KEY UPDATE OF e`, ids, reset, t, disable, failed)
	if err != nil {
		return fmt.Errorf("locking endpoints: %w", err)
	}
	type state struct {
		c, before                hookline.Circuit
		breakerFailures          int // the endpoint's own count (0: the rule's)
		url, description, tenant string
	}
	states := map[string]*state{}
	var order []string
	var events []sqlcore.CircuitEvent // of the transitions made, in order
	_, err = collect(rows, func(row pgx.Row) (struct{}, error) {
		var (
			ep             hookline.Endpoint
			n, consecutive int32
			opened, probe  *time.Time
			coolDownMS     int64
		)
		if err := row.Scan(&ep.ID, &n, &ep.Circuit.State, &consecutive, &opened, &probe, &coolDownMS,
			&ep.URL, &ep.Description, &ep.Tenant); err != nil {
			return struct{}{}, err
		}
		ep.BreakerFailures, ep.Circuit.ConsecutiveFailures = int(n), int(consecutive)
		ep.Circuit.OpenedAt, ep.Circuit.NextProbeAt = fromTS(opened), fromTS(probe)
		ep.Circuit.CoolDown = time.Duration(coolDownMS) * time.Millisecond
		states[ep.ID] = &state{c: ep.Circuit, before: ep.Circuit, breakerFailures: ep.BreakerFailures,
			url: ep.URL, description: ep.Description, tenant: ep.Tenant}
		order = append(order, ep.ID)
		return struct{}{}, nil
	})
	if err != nil {
		return fmt.Errorf("locking endpoints: %w", err)
	}
	for i := range cs {
		a := &attempts[i]
		st := states[a.EndpointID]
		if st == nil || !cs[i].Breaker.Counts() {
			continue // healthy, closed and all succeeded, or held by a 429: nothing moves
		}
		rule := hookline.BreakerRule{}
		if cs[i].Breaker != nil {
			rule = cs[i].Breaker.Rule
		}
		threshold := rule.FailuresOf(&hookline.Endpoint{BreakerFailures: st.breakerFailures})
		transition := rule.Apply(&st.c, threshold, a)
		if cs[i].Breaker != nil {
			cs[i].Breaker.Transition = transition
		}
		if transition != "" {
			events = append(events, sqlcore.CircuitEvent{Transition: transition, EndpointID: a.EndpointID, URL: st.url,
				Description: st.description, Tenant: st.tenant, Attempt: *a, NextProbeAt: st.c.NextProbeAt})
			events[len(events)-1].Attempt.Error = cleanText(a.Error)
		}
	}
	for i := range cs {
		if cs[i].Breaker != nil {
			if st := states[attempts[i].EndpointID]; st != nil {
				cs[i].Breaker.Circuit = st.c
			} else {
				cs[i].Breaker.Circuit = hookline.Circuit{State: hookline.CircuitClosed}
			}
		}
	}
	var (
		uIDs, uStates   []string
		uCounts         []int32
		uOpened, uProbe []*time.Time
		uCoolDowns      []int64
	)
	for _, id := range order {
		st := states[id]
		if st.c == st.before {
			continue
		}
		c := st.c
		uIDs, uStates, uCounts = append(uIDs, id), append(uStates, c.State), append(uCounts, int32(c.ConsecutiveFailures))
		uOpened, uProbe, uCoolDowns = append(uOpened, timePtr(c.OpenedAt)), append(uProbe, timePtr(c.NextProbeAt)), append(uCoolDowns, c.CoolDown.Milliseconds())
	}
	if len(uIDs) > 0 {
		b.Queue(`UPDATE endpoints e SET circuit_state = x.state, consecutive_failures = x.n,
				circuit_opened_at = x.opened, circuit_next_probe_at = x.probe, circuit_cooldown_ms = x.cool
			FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::bigint[])
				AS x(id, state, n, opened, probe, cool)
			WHERE e.id = x.id`, uIDs, uStates, uCounts, uOpened, uProbe, uCoolDowns)
	}
	// Each transition's operational event, in this transaction: at the
	// end of the batch, after the health and exhausted events.
	for _, ev := range events {
		q, args := dialect().RecordCircuitEvent(ev, now)
		b.Queue(q, args...)
	}
	return nil
}

// cleanText makes s storable in a text column, which refuses NUL and
// invalid UTF-8: transport errors can quote what a server sent.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// fillRefs sets the event and endpoint ids of attempts that lack them from
// their deliveries.
func (s *Store) fillRefs(ctx context.Context, attempts []hookline.Attempt, deliveryIDs []string) error {
	rows, err := s.pool.Query(ctx, `SELECT id, event_id, endpoint_id FROM deliveries WHERE id = ANY($1)`, deliveryIDs)
	if err != nil {
		return fmt.Errorf("reading deliveries: %w", err)
	}
	type refs struct{ event, endpoint string }
	found := map[string]refs{}
	_, err = collect(rows, func(row pgx.Row) (struct{}, error) {
		var id string
		var r refs
		err := row.Scan(&id, &r.event, &r.endpoint)
		found[id] = r
		return struct{}{}, err
	})
	if err != nil {
		return fmt.Errorf("reading deliveries: %w", err)
	}
	for i := range attempts {
		a := &attempts[i]
		if a.EventID != "" && a.EndpointID != "" {
			continue
		}
		r, ok := found[a.DeliveryID]
		if !ok {
			return hookline.NotFound("delivery", a.DeliveryID)
		}
		a.EventID, a.EndpointID = r.event, r.endpoint
	}
	return nil
}

// ReleaseTasks gives deliveries leased to owner back, due at at.
func (s *Store) ReleaseTasks(ctx context.Context, owner string, deliveryIDs []string, at time.Time) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE deliveries SET lease_owner = '', lease_expires = NULL, next_attempt_at = $3, ready_at = $3
		WHERE id = ANY($1) AND lease_owner = $2 AND status = 'pending'`, deliveryIDs, owner, ts(at))
	if err != nil {
		return fmt.Errorf("releasing tasks: %w", err)
	}
	return nil
}

// ReleaseOwner gives back every delivery leased to owner. Each becomes due at
// its next_attempt_at, which was due when it was leased.
func (s *Store) ReleaseOwner(ctx context.Context, owner string) error {
	_, err := s.pool.Exec(ctx, `UPDATE deliveries SET lease_owner = '', lease_expires = NULL, ready_at = next_attempt_at
		WHERE lease_owner = $1`, owner)
	if err != nil {
		return fmt.Errorf("releasing tasks of %s: %w", owner, err)
	}
	return nil
}

// Resend makes an event due again at now for one endpoint or for every
// enabled endpoint subscribed to it.
func (s *Store) Resend(ctx context.Context, eventID, endpointID string, now time.Time) ([]*hookline.Delivery, error) {
	var out []*hookline.Delivery
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ev, err := scanEvent(tx.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, eventID))
		if err != nil {
			if hookline.ErrorCode(translate(err)) == hookline.ENOTFOUND {
				return hookline.NotFound("event", eventID)
			}
			return fmt.Errorf("reading event: %w", err)
		}
		var targets []string
		var paused []bool
		if endpointID != "" {
			var status string
			if err := tx.QueryRow(ctx, `SELECT status FROM endpoints WHERE id = $1`, endpointID).Scan(&status); err != nil {
				if hookline.ErrorCode(translate(err)) == hookline.ENOTFOUND {
					return hookline.NotFound("endpoint", endpointID)
				}
				return fmt.Errorf("reading endpoint: %w", err)
			}
			targets, paused = []string{endpointID}, []bool{status != hookline.EndpointEnabled}
		} else {
			rows, err := tx.Query(ctx, `SELECT `+endpointSelect+` FROM endpoints
				WHERE status = 'enabled' AND enabled_events && $1 AND (tenant = '' OR tenant = $2)
				ORDER BY id`, hookline.MatchingPatterns(ev.Type), ev.Tenant)
			if err != nil {
				return fmt.Errorf("matching endpoints: %w", err)
			}
			eps, err := collect(rows, s.scanEndpoint)
			if err != nil {
				return fmt.Errorf("matching endpoints: %w", err)
			}
			doc := &hookline.EventDocument{Event: ev}
			for _, ep := range eps {
				if ep.Accepts(doc) {
					targets = append(targets, ep.ID)
				}
			}
			paused = make([]bool, len(targets))
		}
		if len(targets) == 0 {
			return nil
		}
		ids := make([]string, len(targets))
		for i := range ids {
			ids[i] = hookline.NewID("dlv")
		}
		rows, err := tx.Query(ctx, `INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at,
				lease_owner, lease_expires, ready_at, paused, created, updated)
			SELECT id, $2, ep, 'pending', 0, $3, '', NULL, $3, p, $3, $3
			FROM unnest($1::text[], $4::text[], $5::bool[]) AS x(id, ep, p)
			ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = 'pending',
				next_attempt_at = excluded.next_attempt_at, lease_owner = '', lease_expires = NULL,
				ready_at = excluded.ready_at, paused = excluded.paused, updated = excluded.updated,
				pending_since = `+requeuedSince+`
			RETURNING `+deliveryColumns, ids, eventID, ts(now), targets, paused)
		if err != nil {
			return fmt.Errorf("resending: %w", err)
		}
		if out, err = collect(rows, scanDelivery); err != nil {
			return fmt.Errorf("resending: %w", err)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].EndpointID < out[j].EndpointID })
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resending event: %w", err)
	}
	return out, nil
}

const attemptColumns = `id, delivery_id, event_id, endpoint_id, attempt, created, url, response_status, duration_ms,
	error, error_kind, response_body, next_retry`

func scanAttempt(row pgx.Row) (*hookline.Attempt, error) {
	var (
		a       hookline.Attempt
		created time.Time
		next    *time.Time
		body    []byte
	)
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EndpointID, &a.Attempt, &created, &a.URL,
		&a.ResponseStatus, &a.DurationMS, &a.Error, &a.ErrorKind, &body, &next); err != nil {
		return nil, err
	}
	a.Created, a.NextRetry, a.ResponseBody = created.UTC(), fromTS(next), string(body)
	return &a, nil
}

// ListAttempts returns one page of attempts, newest first.
func (s *Store) ListAttempts(ctx context.Context, f hookline.AttemptFilter) ([]*hookline.Attempt, bool, error) {
	list, more, err := listPage(ctx, s.pool, f.Page, scanAttempt, `SELECT `+attemptColumns+` FROM attempts
		WHERE ($1 = '' OR event_id = $1) AND ($2 = '' OR endpoint_id = $2) AND ($3 = '' OR id < $3)
		ORDER BY id DESC LIMIT $4`, f.EventID, f.EndpointID, f.StartingAfter)
	if err != nil {
		return nil, false, fmt.Errorf("listing attempts: %w", err)
	}
	return list, more, nil
}

// requeuedSince is the pending_since of a delivery a resend or recover puts
// back to pending: it waits from now, unless it was still waiting.
const requeuedSince = `CASE WHEN deliveries.status = 'pending' THEN deliveries.pending_since ELSE excluded.updated END`

// Backlog counts pending deliveries and when the oldest started waiting.
func (s *Store) Backlog(ctx context.Context) (hookline.Backlog, error) {
	var (
		b      hookline.Backlog
		oldest *time.Time
	)
	// The oldest is the first entry of deliveries_pending_since (0751), not
	// a min() over every pending row.
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending'),
		(SELECT COALESCE(pending_since, created) FROM deliveries WHERE status = 'pending'
			ORDER BY COALESCE(pending_since, created) LIMIT 1)`).
		Scan(&b.Pending, &oldest); err != nil {
		return b, fmt.Errorf("counting backlog: %w", err)
	}
	b.Oldest = fromTS(oldest)
	return b, nil
}

// Setting returns a stored setting, or ENOTFOUND.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	if err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v); err != nil {
		if hookline.ErrorCode(translate(err)) == hookline.ENOTFOUND {
			return "", hookline.NotFound("setting", name)
		}
		return "", fmt.Errorf("reading setting: %w", err)
	}
	return v, nil
}

// SetSetting stores a setting, replacing any earlier value.
func (s *Store) SetSetting(ctx context.Context, name, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("storing setting: %w", err)
	}
	return nil
}

// InitSetting stores value under name unless name has one, and returns
// the value in force. A racing insert of the same name makes this one wait
// for it and do nothing; the read then sees the winner's value.
func (s *Store) InitSetting(ctx context.Context, name, value string) (string, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return "", fmt.Errorf("initializing setting: %w", err)
	}
	v, err := s.Setting(ctx, name)
	if err != nil {
		return "", fmt.Errorf("initializing setting: %w", err)
	}
	return v, nil
}

// timePtr is t for a nullable column: nil when zero.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = msTime(t)
	return &t
}

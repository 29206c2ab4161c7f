package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Config configures an Engine. Zero fields take the defaults noted.
type Config struct {
	Store hookline.Store
	// Owner names this node in leases; default a random id. Two live nodes
	// must never share one.
	Owner string
	// Schedule is the delay before each retry (DefaultSchedule); after the
	// last one the delivery is given up.
	Schedule []time.Duration
	// Jitter spreads each retry delay by ±this fraction (0.2). Negative
	// means none.
	Jitter float64
	// Timeout bounds one attempt, connection to last byte (15 s).
	Timeout time.Duration
	// Lease is how long a claimed delivery stays ours (2×Timeout + 30 s).
	Lease time.Duration
	// Capacity bounds the deliveries held in memory, leased and not yet
	// completed (4096); past it, new work waits in the store.
	Capacity int
	// MaxConcurrency caps the deliveries leased to one endpoint at a time
	// (hookline.DefaultMaxConcurrency), for endpoints without their own
	// max_concurrency. Nothing is leased beyond an endpoint's cap, so an
	// endpoint that is slow holds only its own share and never a delivery
	// that waits in memory for one of its slots.
	MaxConcurrency int
	// CompleteLinger is how long the first completion of a batch waits for
	// others before they are recorded together (5 ms).
	CompleteLinger time.Duration
	// ClaimBatch is how many deliveries one claim takes at most (256).
	ClaimBatch int
	// PollInterval is how often due retries are looked for (1 s).
	PollInterval time.Duration
	// DisableAfter disables an endpoint that has failed every attempt for
	// this long (5 days); negative never disables.
	DisableAfter time.Duration
	// Transports maps a URL scheme to the Sender for it; http and https
	// default to an HTTPSender with a guarded client.
	Transports map[string]Sender
	// Breaker is the circuit breaker's server side: the consecutive
	// failures that open an endpoint's circuit without its own count, and
	// the cool-downs (hookline.BreakerRule's defaults when zero).
	Breaker hookline.BreakerRule
	// OnAttempt, when set, is called after each attempt is recorded
	// (metrics, live tail). It must not block.
	OnAttempt func(Result)
	Logger    *slog.Logger
	Now       func() time.Time

	// OnBacklog, when set, is called when due work is left in the store
	// unleased (publish past capacity, a delivery given back), so that other
	// nodes sharing the store can be woken. It must not block.
	OnBacklog func()
	// RunOnce, when set, is asked before each run of a timed job (disabling
	// failing endpoints) whether this node is the one to run it, so that a
	// cluster runs it once per period. Default: always.
	RunOnce func(job string, every time.Duration) bool
}

// Result is an attempt as the engine recorded it.
type Result struct {
	Task       *hookline.Task
	Completion hookline.Completion
}

func (c *Config) setDefaults() {
	if c.Owner == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		c.Owner = "node_" + hex.EncodeToString(b[:])
	}
	if c.Schedule == nil {
		c.Schedule = DefaultSchedule
	}
	if c.Jitter == 0 {
		c.Jitter = 0.2
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 2*c.Timeout + 30*time.Second
	}
	if c.Capacity <= 0 {
		c.Capacity = 4096
	}
	if c.MaxConcurrency <= 0 {
		c.MaxConcurrency = hookline.DefaultMaxConcurrency
	}
	if c.CompleteLinger <= 0 {
		c.CompleteLinger = 5 * time.Millisecond
	}
	if c.ClaimBatch <= 0 {
		c.ClaimBatch = 256
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.DisableAfter == 0 {
		c.DisableAfter = 5 * 24 * time.Hour
	}
	if c.Transports == nil {
		s := &HTTPSender{Client: NewHTTPClient(false), UserAgent: "Hookline"}
		c.Transports = map[string]Sender{"http": s, "https": s}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Engine claims due deliveries, sends them and records the outcome.
// Start it once; Stop it once or more.
type Engine struct {
	cfg Config

	inflight   atomic.Int64 // leased deliveries held in memory
	backlogged atomic.Bool  // due work may be waiting in the store beyond what we hold
	wake       chan struct{}

	completions chan completion
	loads       loads               // what this node holds of each endpoint (load.go)
	pacing      pacing              // 429 holds, and the wake for a rate-limited endpoint's next token (pace.go)
	circuits    circuits            // the open circuits this node has heard of (circuit.go)
	idle        chan *hookline.Task // hands a task to an attempt goroutine waiting for one

	sendCtx     context.Context // canceled on hard stop: aborts attempts in flight
	cancelSends context.CancelFunc
	stopping    chan struct{}
	workers     sync.WaitGroup
	loops       sync.WaitGroup
	completer   sync.WaitGroup
	startOnce   sync.Once
	stopOnce    sync.Once
}

type completion struct {
	task  *hookline.Task
	c     hookline.Completion
	probe bool // holds its endpoint's slot until recorded
}

// New returns an engine; it does nothing until Start.
func New(cfg Config) *Engine {
	cfg.setDefaults()
	sendCtx, cancel := context.WithCancel(context.Background())
	return &Engine{
		cfg:         cfg,
		wake:        make(chan struct{}, 1),
		completions: make(chan completion, cfg.Capacity),
		idle:        make(chan *hookline.Task),
		loads:       loads{m: map[string]*endpointLoad{}},
		circuits:    circuits{open: map[string]time.Time{}},
		sendCtx:     sendCtx,
		cancelSends: cancel,
		stopping:    make(chan struct{}),
	}
}

// Owner is the name this engine's leases are held under.
func (e *Engine) Owner() string { return e.cfg.Owner }

// Lease is how long this engine's leases last.
func (e *Engine) Lease() time.Duration { return e.cfg.Lease }

// Start runs the claim loop, the completer and the housekeeping timer.
func (e *Engine) Start() {
	e.startOnce.Do(func() {
		e.loops.Add(2)
		go e.claimLoop()
		go e.housekeeping()
		e.completer.Add(1)
		go e.completeLoop()
	})
}

// Accepting reports whether the engine has room for more leased work; the
// publisher leases new deliveries at publish only while it does.
func (e *Engine) Accepting() bool {
	select {
	case <-e.stopping:
		return false
	default:
	}
	return e.inflight.Load() < int64(e.cfg.Capacity)
}

// Backlogged tells the engine that due work was left in the store unleased.
func (e *Engine) Backlogged() {
	e.backlogged.Store(true)
	if e.cfg.OnBacklog != nil {
		e.cfg.OnBacklog()
	}
	e.Wake()
}

// Wake makes the claim loop look for due work now (after a resend, say).
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Submit takes tasks that were leased to this engine's owner at publish,
// each admitted (Admit) first.
func (e *Engine) Submit(tasks []*hookline.Task) {
	e.dispatch(tasks)
}

// Admit reserves room for one more delivery to ep, leased at publish,
// while other nodes hold others of its deliveries, and reports whether
// there was room. An endpoint whose attempts may outlast
// the default lease is left to a claim, which leases for longer. A
// reservation whose delivery was not leased after all goes back through
// Unadmit.
func (e *Engine) Admit(ep *hookline.Endpoint, others int) bool {
	if hookline.TimeoutOf(ep, e.cfg.Timeout) > e.cfg.Timeout || e.pacing.held(ep.ID, e.cfg.Now()) || ep.Circuit.Open() {
		return false // a longer lease, a 429's hold, or a circuit's probe: a claim's
	}
	return e.loads.take(ep.ID, hookline.ConcurrencyOf(ep, e.cfg.MaxConcurrency)-others)
}

// Unadmit gives back reservations made by Admit for deliveries that were
// not leased (their publish failed), one per endpoint id listed.
func (e *Engine) Unadmit(endpointIDs []string) {
	for _, id := range endpointIDs {
		e.loads.done(id)
	}
}

// dispatch hands each task to an attempt goroutine that is waiting for
// work, or starts one.
func (e *Engine) dispatch(tasks []*hookline.Task) {
	e.inflight.Add(int64(len(tasks)))
	e.workers.Add(len(tasks))
	for _, t := range tasks {
		select {
		case e.idle <- t:
		default:
			go e.attemptLoop(t)
		}
	}
}

// attemptIdle is how long an attempt goroutine waits for another task
// before it exits.
const attemptIdle = 10 * time.Second

// attemptLoop attempts t, then the tasks dispatch hands it, until none
// comes for attemptIdle. A goroutine per attempt would grow a new stack
// (an attempt needs more than a goroutine starts with) every time: that
// copying cost more CPU than the attempt's HMAC.
func (e *Engine) attemptLoop(t *hookline.Task) {
	idle := time.NewTimer(attemptIdle)
	defer idle.Stop()
	for {
		e.attempt(t)
		idle.Reset(attemptIdle)
		select {
		case t = <-e.idle:
		case <-idle.C:
			return
		case <-e.stopping:
			return
		}
	}
}

func (e *Engine) claimLoop() {
	defer e.loops.Done()
	tick := time.NewTicker(e.cfg.PollInterval)
	defer tick.Stop()
	for {
		full := false
		if free := int64(e.cfg.Capacity) - e.inflight.Load(); free > 0 {
			limit := min(int(free), e.cfg.ClaimBatch)
			tasks, err := e.claim(limit)
			if err != nil {
				e.cfg.Logger.Error("claiming deliveries", "err", err)
			}
			e.dispatch(tasks)
			full = len(tasks) == limit
			if !full {
				e.backlogged.Store(false)
			}
		} else {
			full = true
		}
		if full {
			e.backlogged.Store(true)
			if int64(e.cfg.Capacity)-e.inflight.Load() > 0 {
				select {
				case <-e.stopping:
					return
				default:
					continue // more is due and there is room: claim again at once
				}
			}
		}
		select {
		case <-e.stopping:
			return
		case <-e.wake:
		case <-tick.C:
		}
	}
}

// housekeeping disables endpoints that have failed for too long. It is
// idempotent, so several nodes running it at once do no harm.
func (e *Engine) housekeeping() {
	defer e.loops.Done()
	if e.cfg.DisableAfter < 0 {
		return
	}
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-e.stopping:
			return
		case <-tick.C:
		}
		if e.cfg.RunOnce != nil && !e.cfg.RunOnce("disable-failing-endpoints", 50*time.Second) {
			continue // another node of the cluster runs it this minute
		}
		reason := fmt.Sprintf("every attempt failed for %s", e.cfg.DisableAfter)
		ids, err := e.cfg.Store.DisableFailingEndpoints(context.Background(), e.cfg.Now().Add(-e.cfg.DisableAfter), reason)
		if err != nil {
			e.cfg.Logger.Error("disabling failing endpoints", "err", err)
		}
		for _, id := range ids {
			e.cfg.Logger.Warn("endpoint disabled", "endpoint", id, "reason", reason)
		}
	}
}

// attempt makes one attempt of t and queues its completion. t was admitted
// under its endpoint's cap, so it goes at once.
func (e *Engine) attempt(t *hookline.Task) {
	defer e.workers.Done()
	released := false
	defer func() {
		if !released {
			e.finished(t)
		}
	}()

	now := e.cfg.Now()
	if probe, open := e.circuits.openUntil(t, now); open {
		// Its circuit opened after the claim: handed back without an
		// attempt, so it spends no retry, due when the probe may go.
		released = true
		e.release(t, probe)
		return
	}
	sender, err := e.senderFor(t) // forward.go: captured inbound requests go as they arrived
	var resp Response
	start := time.Now()
	if err != nil {
		resp = Response{Err: err}
	} else {
		resp = sender.Send(e.sendCtx, t, now, start.Add(hookline.TimeoutOf(t.Endpoint, e.cfg.Timeout)))
		if resp.Defer > 0 {
			// The sender made no attempt (see Response.Defer).
			released = true
			e.release(t, now.Add(resp.Defer))
			return
		}
		if e.sendCtx.Err() != nil && resp.Status == 0 {
			// Cut off by a hard stop: not the endpoint's fault, and maybe
			// not even sent. Give it back so it is tried again.
			released = true
			e.release(t, now)
			return
		}
	}
	elapsed := time.Since(start)
	// The endpoint's slot opens as soon as its answer is in (and any hold
	// it asks for): the record of the attempt does not need it. A
	// circuit's probe keeps it until its outcome is recorded: the circuit
	// stays half open until then, and a free slot would let a second
	// probe be claimed.
	released = true
	probe := t.Request == nil && t.Endpoint.Circuit.Open()
	// A 429's hold is in place, here and in the store, before the slot
	// opens: the slot's wake would otherwise let a claim lease the
	// endpoint's next delivery before the hold is there to stop it.
	held := e.holdOn429(t, resp, now)
	if !probe {
		e.finished(t)
	}
	c := e.judge(t, resp, now, elapsed)
	if t.Request == nil { // connections have no circuit
		c.Breaker = &hookline.BreakerCheck{Rule: e.cfg.Breaker, Held: held}
	}
	e.completions <- completion{task: t, c: c, probe: probe}
}

// holdOn429 holds t's endpoint, on every node, until the time a 429's
// Retry-After asks for: the receiver is slowing that endpoint down, and
// only that one. It reports whether the store holds the endpoint: only
// then does every node wait.
func (e *Engine) holdOn429(t *hookline.Task, resp Response, now time.Time) bool {
	if resp.Status != 429 {
		return false
	}
	d, ok := parseRetryAfter(resp.RetryAfter, now)
	if !ok || d <= 0 {
		return false
	}
	e.pacing.hold(t.Endpoint.ID, now.Add(d))
	if err := e.cfg.Store.HoldEndpoint(context.Background(), t.Endpoint.ID, now.Add(d)); err != nil {
		e.cfg.Logger.Error("holding an endpoint after its 429", "endpoint", t.Endpoint.ID, "err", err)
		return false
	}
	return true
}

func (e *Engine) sender(rawURL string) (Sender, error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("endpoint URL %q has no scheme", rawURL)
	}
	if s, ok := e.cfg.Transports[strings.ToLower(scheme)]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("no transport for %s:// URLs", scheme)
}

// judge turns a response into the delivery's next state.
func (e *Engine) judge(t *hookline.Task, resp Response, now time.Time, elapsed time.Duration) hookline.Completion {
	a := hookline.Attempt{
		ID:             hookline.NewID("atm"),
		DeliveryID:     t.DeliveryID,
		EventID:        t.Event.ID,
		EndpointID:     t.Endpoint.ID,
		Attempt:        t.Attempt,
		Created:        now,
		URL:            t.Endpoint.URL,
		ResponseStatus: resp.Status,
		DurationMS:     elapsed.Milliseconds(),
		ResponseBody:   resp.Body,
	}
	c := hookline.Completion{}
	switch {
	case resp.Err != nil:
		a.Error, a.ErrorKind = resp.Err.Error(), ErrorKind(resp.Err)
	case a.Succeeded():
		c.Status = hookline.DeliverySucceeded
		c.Attempt = a
		return c
	case resp.Status == 410:
		a.Error = "endpoint answered 410 Gone: disabled"
		c.Status = hookline.DeliveryFailed
		c.DisableEndpoint = "endpoint answered 410 Gone"
		c.Attempt = a
		return c
	case resp.Status >= 300 && resp.Status < 400:
		a.Error = fmt.Sprintf("redirects are not followed (HTTP %d)", resp.Status)
	default:
		a.Error = fmt.Sprintf("HTTP %d", resp.Status)
	}
	// A failure: retry on the schedule (the endpoint's own, when it has
	// one), or give up once it has run out.
	schedule := e.cfg.Schedule
	if t.Endpoint.RetrySchedule != nil {
		schedule = t.Endpoint.RetrySchedule
	}
	if t.Attempt > len(schedule) {
		c.Status = hookline.DeliveryFailed
		a.Error += "; gave up after " + attemptsText(t.Attempt)
	} else {
		delay := jitter(schedule[t.Attempt-1], e.cfg.Jitter)
		if d, ok := parseRetryAfter(resp.RetryAfter, now); ok {
			delay = d
		}
		c.Status = hookline.DeliveryPending
		a.NextRetry = now.Add(delay)
	}
	c.Attempt = a
	return c
}

// release gives t back to the store, due at at, and frees its slot.
func (e *Engine) release(t *hookline.Task, at time.Time) {
	err := e.cfg.Store.ReleaseTasks(context.Background(), e.cfg.Owner, []string{t.DeliveryID}, at)
	if err != nil {
		e.cfg.Logger.Error("releasing delivery", "delivery", t.DeliveryID, "err", err)
	}
	e.finished(t)
	e.inflight.Add(-1)
	e.Backlogged()
}

// finished frees t's slot at its endpoint, and has the claim loop look for
// more of that endpoint's work if some was left in the store for want of
// room.
func (e *Engine) finished(t *hookline.Task) {
	if e.loads.done(t.Endpoint.ID) {
		e.Wake()
	}
}

// completeLoop records completions in batches: one transaction for as many
// as have piled up while the previous one committed.
func (e *Engine) completeLoop() {
	defer e.completer.Done()
	const maxBatch = 512
	batch := make([]completion, 0, maxBatch)
	cs := make([]hookline.Completion, 0, maxBatch)
	// Completions wait a moment for company: nobody waits on them (the
	// receiver already has the event), and every commit costs a write of
	// each page it touches, so fewer, larger batches leave the writer to
	// publishes, which somebody does wait on.
	linger := time.NewTimer(0)
	<-linger.C
	for first := range e.completions {
		batch = append(batch[:0], first)
		linger.Reset(e.cfg.CompleteLinger)
	drain:
		for len(batch) < maxBatch {
			select {
			case c, ok := <-e.completions:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			case <-linger.C:
				break drain
			}
		}
		if !linger.Stop() {
			select {
			case <-linger.C:
			default:
			}
		}
		cs = cs[:0]
		for _, c := range batch {
			cs = append(cs, c.c)
		}
		e.record(cs) // fills each Breaker, which batch shares
		e.circuitsMoved(batch)
		for _, c := range batch {
			if c.probe {
				e.finished(c.task)
			}
		}
		for _, c := range batch {
			if e.cfg.OnAttempt != nil {
				e.cfg.OnAttempt(Result{Task: c.task, Completion: c.c})
			}
		}
		e.inflight.Add(-int64(len(batch)))
		if e.backlogged.Load() || anyFIFO(batch) {
			e.Wake()
		}
	}
}

// anyFIFO reports whether a completion in batch is of a FIFO endpoint,
// whose next delivery a claim may lease only now that this one's outcome
// is recorded.
func anyFIFO(batch []completion) bool {
	for _, c := range batch {
		if c.task.Endpoint.FIFO() {
			return true
		}
	}
	return false
}

// record writes completions, retrying a failing store for a while. If it
// never succeeds the leases lapse and the deliveries are attempted again:
// at least once, never lost.
func (e *Engine) record(cs []hookline.Completion) {
	backoff := 50 * time.Millisecond
	for try := 1; ; try++ {
		err := e.cfg.Store.CompleteTasks(context.Background(), e.cfg.Owner, cs)
		if err == nil {
			e.wakeForRetries(cs)
			return
		}
		if try == 8 {
			e.cfg.Logger.Error("recording attempts failed; their deliveries will be retried when the leases lapse", "attempts", len(cs), "err", err)
			return
		}
		e.cfg.Logger.Warn("recording attempts", "attempts", len(cs), "err", err, "retry_in", backoff)
		time.Sleep(backoff)
		backoff *= 2
	}
}

// wakeForRetries has the claim loop look for work when the earliest retry
// of cs comes due, rather than at the first poll after it. Only the
// earliest armed time is kept: a later retry whose wake-up was replaced is
// found by the poll, as before.
func (e *Engine) wakeForRetries(cs []hookline.Completion) {
	var first time.Time
	for _, c := range cs {
		next := c.Attempt.NextRetry
		if !next.IsZero() && (first.IsZero() || next.Before(first)) {
			first = next
		}
	}
	if !first.IsZero() {
		e.wakeAt(first.Add(time.Millisecond))
	}
}

// Stop stops claiming, lets attempts in flight finish until ctx is done,
// cuts off the rest, records what finished and gives back every lease still
// held. It is safe to call more than once.
func (e *Engine) Stop(ctx context.Context) error {
	var err error
	e.stopOnce.Do(func() {
		close(e.stopping)
		e.loops.Wait()
		done := make(chan struct{})
		go func() { e.workers.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			e.cancelSends()
			<-done
		}
		e.cancelSends()
		close(e.completions)
		e.completer.Wait()
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if rerr := e.cfg.Store.ReleaseOwner(rctx, e.cfg.Owner); rerr != nil {
			err = fmt.Errorf("releasing leases: %w", rerr)
		}
	})
	return err
}

// ErrStopped is returned by work offered to a stopped engine or publisher.
var ErrStopped = errors.New("shutting down")

// attemptsText is n attempts in words: "1 attempt", "3 attempts".
func attemptsText(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

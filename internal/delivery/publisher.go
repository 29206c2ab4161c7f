package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/hookline"
)

// PublishRequest is an event as an application publishes it.
type PublishRequest struct {
	Type           string
	Data           json.RawMessage // a JSON object; empty means {}
	Tenant         string
	IdempotencyKey string
	// OnlyEndpoint, when set, delivers the event to that endpoint alone,
	// whatever it subscribes to (a test event; see PublishTest).
	OnlyEndpoint string
	// Operational marks Hookline's own events (hookline.…): only they may
	// use that prefix.
	Operational bool
}

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	Store  hookline.Store
	Engine *Engine
	// IdempotencyWindow is how long an Idempotency-Key is remembered (24 h).
	IdempotencyWindow time.Duration
	// MaxBatch bounds the events stored in one transaction (256).
	MaxBatch int
	// Committers is how many transactions may be open at once (1: SQLite
	// has one writer; PostgreSQL gains from a few).
	Committers int
	// Linger is how long a batch waits for more events once publishes come
	// concurrently (the previous batch held more than one): with a store
	// whose commit costs CPU, fewer larger commits leave more for the rest.
	// A lone publisher never waits. 0 commits at once.
	Linger time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// Publisher stores published events in group commits: every publish that
// arrives while a transaction commits joins the next one, so one fsync
// serves many publishers. An event is stored, fanned out and (room
// permitting) leased to the engine in that one transaction; Publish returns
// only after it committed.
type Publisher struct {
	cfg  PublisherConfig
	reqs chan *pubReq

	mu      sync.RWMutex // held for reading while enqueueing, for writing to close
	closed  bool
	loops   sync.WaitGroup
	stopped sync.Once
}

type pubReq struct {
	at    time.Time // when it was published
	event *hookline.Event
	done  chan pubResult
}

type pubResult struct {
	res hookline.Published
	err error
}

// NewPublisher starts a publisher's commit loops.
func NewPublisher(cfg PublisherConfig) *Publisher {
	if cfg.IdempotencyWindow <= 0 {
		cfg.IdempotencyWindow = 24 * time.Hour
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Committers <= 0 {
		cfg.Committers = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Publisher{cfg: cfg, reqs: make(chan *pubReq, cfg.MaxBatch*cfg.Committers)}
	p.loops.Add(cfg.Committers)
	for range cfg.Committers {
		go p.commitLoop()
	}
	return p
}

// MaxTenantLen bounds a tenant name.
const MaxTenantLen = 255

// MaxIdempotencyKeyLen bounds an Idempotency-Key, as Stripe does.
const MaxIdempotencyKeyLen = 255

// checkIdempotencyKey refuses a key that is not UTF-8, holds a control
// character (C0, DEL or C1) or is longer than MaxIdempotencyKeyLen bytes.
// A header reaches here as raw bytes: invalid UTF-8 would make PostgreSQL
// refuse the insert (a 500 instead of a 400), and a control character
// would be stored and shown as it came. Any other letter is a key's own
// business: "clé-42" is as good a key on PostgreSQL as on SQLite.
func checkIdempotencyKey(key string) error {
	if len(key) > MaxIdempotencyKeyLen {
		return hookline.Invalid("Idempotency-Key", "Idempotency-Key is longer than %d bytes", MaxIdempotencyKeyLen)
	}
	if !utf8.ValidString(key) {
		return hookline.Invalid("Idempotency-Key", "Idempotency-Key must be UTF-8 text")
	}
	for i, r := range key {
		if unicode.IsControl(r) {
			return hookline.Invalid("Idempotency-Key", "Idempotency-Key must hold no control characters; byte %d of it starts %U", i+1, r)
		}
	}
	return nil
}

// Publish validates, stores and fans out one event. It returns EINVALID
// errors naming the field at fault, and ErrStopped-wrapped EUNAVAILABLE once
// the publisher is stopping.
func (p *Publisher) Publish(ctx context.Context, req PublishRequest) (hookline.Published, error) {
	ev, err := p.newEvent(req)
	if err != nil {
		return hookline.Published{}, err
	}
	r := &pubReq{event: ev, done: make(chan pubResult, 1), at: time.Now()}
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return hookline.Published{}, hookline.Errorf(hookline.EUNAVAILABLE, "Hookline is %s; publish again shortly", ErrStopped)
	}
	select {
	case p.reqs <- r:
	case <-ctx.Done():
		p.mu.RUnlock()
		return hookline.Published{}, ctx.Err()
	}
	p.mu.RUnlock()
	// Wait for the commit even if ctx ends: the event may be stored already,
	// and the caller's retry with the same Idempotency-Key will find it.
	res := <-r.done
	if res.err == nil && res.res.Duplicate && !sameRequest(ev, res.res.Event) {
		// As Stripe does: a key names one request, and a different
		// request under it is a client bug, not a retry to absorb.
		return hookline.Published{}, &hookline.Error{Code: hookline.EKEYREUSED, Param: "Idempotency-Key",
			Message: fmt.Sprintf("Idempotency-Key %q was used for %s with another type, tenant or data; use a new key for a new event", ev.IdempotencyKey, res.res.Event.ID)}
	}
	return res.res, res.err
}

// sameRequest reports whether ev, a new publish, asks for what orig, the
// event stored under the same Idempotency-Key, was published with: the same
// type, tenant and data. Data is compared as JSON without insignificant
// whitespace, so a client that re-encodes its retry is still retrying.
// It runs only for repeated keys, so decoding the payloads costs the
// ordinary publish nothing.
func sameRequest(ev, orig *hookline.Event) bool {
	if ev.Type != orig.Type || ev.Tenant != orig.Tenant {
		return false
	}
	a, errA := compactData(ev.Payload)
	b, errB := compactData(orig.Payload)
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

// compactData returns the "data" member of an event payload, compacted.
func compactData(payload []byte) ([]byte, error) {
	var p struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("decoding event payload: %w", err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, p.Data); err != nil {
		return nil, fmt.Errorf("compacting event data: %w", err)
	}
	return out.Bytes(), nil
}

func (p *Publisher) newEvent(req PublishRequest) (*hookline.Event, error) {
	switch {
	case req.Type == "":
		return nil, hookline.Invalid("type", "type is required")
	case !hookline.ValidEventType(req.Type):
		return nil, hookline.Invalid("type", "type %q is not a dot-separated name of letters, digits and underscores", req.Type)
	case !req.Operational && strings.HasPrefix(req.Type, hookline.OperationalPrefix):
		return nil, hookline.Invalid("type", "types starting with %q are Hookline's own operational events", hookline.OperationalPrefix)
	case len(req.Tenant) > MaxTenantLen:
		return nil, hookline.Invalid("tenant", "tenant is longer than %d bytes", MaxTenantLen)
	}
	if err := checkIdempotencyKey(req.IdempotencyKey); err != nil {
		return nil, err
	}
	data := bytes.TrimSpace(req.Data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		data = []byte("{}")
	}
	if data[0] != '{' {
		return nil, hookline.Invalid("data", "data must be a JSON object")
	}
	created := p.cfg.Now().Truncate(time.Second)
	id := hookline.NewID("evt")
	// NewEventPayload checks data is JSON and UTF-8, and its error says
	// which: an object whose strings are not UTF-8 is still an object.
	payload, err := hookline.NewEventPayload(id, req.Type, created, req.Tenant, data)
	if err != nil {
		return nil, err
	}
	return &hookline.Event{ID: id, Type: req.Type, Created: created, Tenant: req.Tenant, Payload: payload, IdempotencyKey: req.IdempotencyKey, OnlyEndpoint: req.OnlyEndpoint}, nil
}

func (p *Publisher) commitLoop() {
	defer p.loops.Done()
	var held *pubReq // a request whose key repeats one in the batch: it goes first in the next
	batch := make([]*pubReq, 0, p.cfg.MaxBatch)
	var linger *time.Timer
	if p.cfg.Linger > 0 {
		linger = time.NewTimer(time.Hour)
		linger.Stop()
	}
	for {
		lingering := linger != nil && len(batch) > 1
		batch = batch[:0]
		if held != nil {
			batch, held = append(batch, held), nil
		} else {
			r, ok := <-p.reqs
			if !ok {
				return
			}
			batch = append(batch, r)
		}
		keys := map[string]bool{}
		if k := batch[0].event.IdempotencyKey; k != "" {
			keys[k] = true
		}
		var wait <-chan time.Time // nil: take what is queued, no more
		// The linger counts from the oldest publish of the batch: one that
		// queued while the last commit ran has waited already.
		if d := p.cfg.Linger - time.Since(batch[0].at); lingering && d > 0 {
			linger.Reset(d)
			wait = linger.C
		}
	drain:
		for len(batch) < p.cfg.MaxBatch {
			var r *pubReq
			var ok bool
			select {
			case r, ok = <-p.reqs:
			default:
				if wait == nil {
					break drain
				}
				select {
				case r, ok = <-p.reqs:
				case <-wait:
					wait = nil
					break drain
				}
			}
			if !ok {
				break drain
			}
			if k := r.event.IdempotencyKey; k != "" {
				if keys[k] {
					held = r
					break drain
				}
				keys[k] = true
			}
			batch = append(batch, r)
		}
		if wait != nil {
			linger.Stop() // since Go 1.23 no stale tick is left behind
		}
		p.commit(batch)
	}
}

func (p *Publisher) commit(batch []*pubReq) {
	events := make([]*hookline.Event, len(batch))
	for i, r := range batch {
		events[i] = r.event
	}
	now := p.cfg.Now()
	opts := hookline.PublishOptions{Now: now, IdempotencyWindow: p.cfg.IdempotencyWindow}
	leased := p.cfg.Engine != nil && p.cfg.Engine.Accepting()
	var admitted []string // endpoints of the deliveries admitted, to give back if the publish fails
	if leased {
		opts.LeaseOwner = p.cfg.Engine.Owner()
		opts.LeaseExpires = now.Add(p.cfg.Engine.Lease())
		// Each delivery is leased at publish only while its endpoint has
		// room on this node; the rest wait in the store for a claim, which
		// takes every endpoint's due work in turn.
		opts.Admit = func(ep *hookline.Endpoint, others int) bool {
			if !p.cfg.Engine.Admit(ep, others) {
				return false
			}
			admitted = append(admitted, ep.ID)
			return true
		}
	}
	results, err := p.cfg.Store.PublishEvents(context.Background(), events, opts)
	if err == nil && len(results) != len(batch) {
		err = fmt.Errorf("store returned %d results for %d events", len(results), len(batch))
	}
	if err != nil {
		if len(admitted) > 0 {
			p.cfg.Engine.Unadmit(admitted)
		}
		p.cfg.Logger.Error("storing events", "events", len(batch), "err", err)
		for _, r := range batch {
			r.done <- pubResult{err: fmt.Errorf("storing event: %w", err)}
		}
		return
	}
	var tasks []*hookline.Task
	fannedOut := 0
	for i, r := range batch {
		tasks = append(tasks, results[i].Tasks...)
		if !results[i].Duplicate {
			fannedOut += results[i].Deliveries
		}
		r.done <- pubResult{res: results[i]}
	}
	if len(tasks) > 0 {
		p.cfg.Engine.Submit(tasks)
	}
	if fannedOut > len(tasks) && p.cfg.Engine != nil {
		p.cfg.Engine.Backlogged()
	}
}

// Stop refuses new publishes and waits for those accepted to commit. It is
// safe to call more than once.
func (p *Publisher) Stop() {
	p.stopped.Do(func() {
		p.mu.Lock()
		p.closed = true
		close(p.reqs)
		p.mu.Unlock()
		p.loops.Wait()
	})
}

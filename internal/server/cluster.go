package server

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
)

// WakeChannel is the notification channel on which nodes sharing a
// database tell each other that due work waits unleased (a publish left it
// for others, a delivery was given back). The payload is the sender's
// engine owner, so that a node ignores its own.
const WakeChannel = "hookline_wake"

// Jobs that run on a timer once across the cluster.
const (
	jobRetention       = "retention"
	purgeBatch         = 1000
	purgePause         = 50 * time.Millisecond
	maxRetentionPeriod = time.Minute
)

// clusterWiring is what a node does because others may share its database:
// it wakes them when it leaves work unleased, wakes its own engine when
// they do, runs timed jobs only when it claims them, and purges old data.
// With SQLite it only purges: the node is the whole cluster.
type clusterWiring struct {
	store  hookline.Store
	c      hookline.Cluster // nil when the store is not one
	shared bool             // other nodes may use the database
	cfg    Config
	log    *slog.Logger

	// forgetDevices forgets the listen devices not seen since a cutoff;
	// set before start (devLoop.joinCluster), run with each purge.
	forgetDevices func(ctx context.Context, cutoff time.Time) (int, error)

	engine atomic.Pointer[delivery.Engine]
	kick   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newClusterWiring(store hookline.Store, cfg Config, log *slog.Logger) *clusterWiring {
	w := &clusterWiring{store: store, cfg: cfg, log: log, kick: make(chan struct{}, 1)}
	w.c, _ = store.(hookline.Cluster)
	w.shared = w.c != nil && hookline.TuningOf(store).Shared
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w
}

// backlogged is the engine's OnBacklog hook: due work was left in the
// store unleased. Other nodes are told at once, one notification covering
// every call made while the previous one was sent.
func (w *clusterWiring) backlogged() {
	if !w.shared {
		return
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// runOnce is the engine's RunOnce hook: whether this node is the one to
// run job now. With the database unreachable, nobody runs it.
func (w *clusterWiring) runOnce(job string, every time.Duration) bool {
	if w.c == nil {
		return true
	}
	owner := ""
	if e := w.engine.Load(); e != nil {
		owner = e.Owner()
	}
	ctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
	defer cancel()
	ok, err := w.c.ClaimRun(ctx, job, owner, time.Now(), every)
	if err != nil {
		w.log.Warn("claiming a timed job", "job", job, "err", err)
		return false
	}
	return ok
}

// start runs the notifier, the wake listener and the retention loop until
// stop.
func (w *clusterWiring) start(e *delivery.Engine) {
	w.engine.Store(e)
	if w.shared {
		w.wg.Add(1)
		go w.notifier(e.Owner())
		w.Subscribe(WakeChannel, func(payload string) {
			if payload != e.Owner() {
				e.Wake()
			}
		}, e.Wake)
	}
	if r, ok := w.store.(hookline.Retention); ok && w.cfg.Retention > 0 {
		w.wg.Add(1)
		go w.retentionLoop(r)
	}
}

// stop ends the goroutines and waits for them. Safe to call twice.
func (w *clusterWiring) stop() {
	w.cancel()
	w.wg.Wait()
}

// Notify sends payload on channel to every node sharing the database, this
// one included; on a database of one node, to this node's subscribers.
// Best effort: failures are logged.
func (w *clusterWiring) Notify(channel, payload string) {
	if w.c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	defer cancel()
	if err := w.c.Notify(ctx, channel, payload); err != nil && w.ctx.Err() == nil {
		w.log.Warn("notifying other nodes", "channel", channel, "err", err)
	}
}

// Subscribe calls fn with every notification on channel until the node
// stops, reconnecting when the connection drops; fn must not block. Since
// notifications sent while reconnecting are lost, resumed (when not nil)
// is called after every reconnection, for the subscriber to catch up.
func (w *clusterWiring) Subscribe(channel string, fn func(payload string), resumed func()) {
	if w.c == nil {
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		first := true
		for {
			err := w.c.Listen(w.ctx, channel, func() {
				if !first && resumed != nil {
					resumed()
				}
				first = false
			}, fn)
			if w.ctx.Err() != nil {
				return
			}
			w.log.Warn("listening for other nodes; retrying in 1s", "channel", channel, "err", err)
			select {
			case <-w.ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
}

// notifier sends one wake notification per burst of backlogged calls.
func (w *clusterWiring) notifier(owner string) {
	defer w.wg.Done()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.kick:
		}
		w.Notify(WakeChannel, owner)
	}
}

// retentionPeriod is how often the purge runs somewhere in the cluster:
// every minute, or more often for a retention so short (tests) that a
// minute would be most of it.
func retentionPeriod(retention time.Duration) time.Duration {
	return max(min(retention/10, maxRetentionPeriod), 100*time.Millisecond)
}

// retentionLoop purges data older than the retention, on the node that
// claims each period's run, in small batches with pauses between them so
// that publishes and claims never wait long behind it.
func (w *clusterWiring) retentionLoop(r hookline.Retention) {
	defer w.wg.Done()
	period := retentionPeriod(w.cfg.Retention)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-tick.C:
		}
		// A little under the period, so that timers drifting between nodes
		// do not skip a period.
		if !w.runOnce(jobRetention, period*9/10) {
			continue
		}
		w.purge(r, period)
	}
}

// purge runs batches until nothing older than the retention is left or
// budget has passed; the next run carries on.
func (w *clusterWiring) purge(r hookline.Retention, budget time.Duration) {
	start := time.Now()
	cutoff := start.Add(-w.cfg.Retention)
	var total hookline.Purged
	for time.Since(start) < budget {
		p, err := r.PurgeBefore(w.ctx, cutoff, purgeBatch)
		total.Events += p.Events
		total.Rows += p.Rows
		if err != nil {
			if w.ctx.Err() == nil {
				w.log.Error("purging old data", "err", err)
			}
			break
		}
		if !p.More {
			break
		}
		select {
		case <-w.ctx.Done():
			return
		case <-time.After(purgePause):
		}
	}
	if w.forgetDevices != nil {
		n, err := w.forgetDevices(w.ctx, cutoff)
		switch {
		case err != nil && w.ctx.Err() == nil:
			w.log.Error("forgetting offline listen devices", "err", err)
		case n > 0:
			w.log.Info("forgot listen devices offline past the retention", "retention", w.cfg.Retention, "devices", n)
		}
	}
	if total.Rows > 0 {
		w.log.Info("purged data past the retention", "retention", w.cfg.Retention, "events", total.Events,
			"rows", total.Rows, "took", time.Since(start).Round(time.Millisecond))
	}
}

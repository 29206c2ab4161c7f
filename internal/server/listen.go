package server

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/listen"
)

// devLoop is a node's part of the developer loop: the listen devices (a
// transport of the delivery engine) and the live tail of attempts (fed by
// the engine's attempt hook).
type devLoop struct {
	hub    *listen.Hub
	tail   *listen.Tail
	engine atomic.Pointer[delivery.Engine]
	log    *slog.Logger
}

// newDevLoop makes the developer loop's parts; the engine is made next with
// transports and onAttempt, then start hands it the engine.
func newDevLoop(store hookline.Store, signer *delivery.HTTPSender, log *slog.Logger) *devLoop {
	d := &devLoop{log: log}
	d.hub = listen.NewHub(listen.Config{Store: store, Signer: signer, Logger: log, Wake: func() {
		if e := d.engine.Load(); e != nil {
			e.Wake()
		}
	}})
	d.tail = listen.NewTail(d.hub.Closed())
	return d
}

// transports adds the listen:// transport to ts.
func (d *devLoop) transports(ts map[string]delivery.Sender) map[string]delivery.Sender {
	ts[listen.URLScheme] = d.hub
	return ts
}

// onAttempt is the engine's attempt hook, or part of it.
func (d *devLoop) onAttempt(r delivery.Result) { d.tail.OnAttempt(r) }

// start hands the listen hub the engine to wake and closes the listen
// sessions and tail streams when ctx ends, so that the HTTP server's
// graceful shutdown is not held up by them. Their routes are in routes.go.
func (d *devLoop) start(ctx context.Context, e *delivery.Engine) {
	d.engine.Store(e)
	go func() {
		<-ctx.Done()
		d.hub.Close()
	}()
}

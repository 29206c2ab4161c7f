package server

import (
	"context"
	"log/slog"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/listen"
)

// devLoop is a node's part of the developer loop: the listen devices (a
// transport of the delivery engine) and the live tail of attempts (fed by
// the engine's attempt hook).
type devLoop struct {
	hub  *listen.Hub
	tail *listen.Tail
	log  *slog.Logger
}

// newDevLoop makes the developer loop's parts; the engine is made next with
// transports and onAttempt, the application layer over the engine, then
// start hands the hub the application layer.
func newDevLoop(signer *delivery.HTTPSender, log *slog.Logger) *devLoop {
	d := &devLoop{log: log}
	d.hub = listen.NewHub(listen.Config{Signer: signer, Logger: log})
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

// start hands the listen hub the application layer, which owns the
// devices' endpoints and wakes the engine, and closes the listen sessions
// and tail streams when ctx ends, so that the HTTP server's graceful
// shutdown is not held up by them. Their routes are in routes.go.
func (d *devLoop) start(ctx context.Context, a *app.App) {
	d.hub.Use(a)
	go func() {
		<-ctx.Done()
		d.hub.Close()
	}()
}

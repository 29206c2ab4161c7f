package server

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/hookline/hookline/internal/api"
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
// transports and onAttempt, then register mounts the routes.
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

// register mounts the developer loop's routes beside the API's and closes
// the listen sessions and tail streams when ctx ends, so that the HTTP
// server's graceful shutdown is not held up by them.
func (d *devLoop) register(ctx context.Context, a *api.Server, e *delivery.Engine) {
	d.engine.Store(e)
	m, auth := a.Mux(), a.Authenticated
	m.Handle("POST /v1/listen/devices/{name}", auth(listen.Handle(d.log, d.hub.ServeDevice)))
	m.Handle("GET /v1/listen/devices/{name}/connect", auth(listen.Handle(d.log, d.hub.ServeConnect)))
	m.Handle("GET /v1/tail", auth(listen.Handle(d.log, d.tail.ServeStream)))
	go func() {
		<-ctx.Done()
		d.hub.Close()
	}()
}

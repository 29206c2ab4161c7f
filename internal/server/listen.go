package server

import (
	"context"
	"log/slog"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/listen"
)

// devLoop is a node's part of the developer loop: the listen devices (a
// transport of the delivery engine) and `hookline tail`'s stream of the
// application's live tail of attempts.
type devLoop struct {
	hub  *listen.Hub
	tail *listen.Tail
	log  *slog.Logger
}

// newDevLoop makes the listen hub; the engine is made next with its
// transport, the application layer over the engine, then start hands the
// hub the application layer.
func newDevLoop(signer *delivery.HTTPSender, log *slog.Logger) *devLoop {
	d := &devLoop{log: log}
	d.hub = listen.NewHub(listen.Config{Signer: signer, Logger: log})
	return d
}

// transports adds the listen:// transport to ts.
func (d *devLoop) transports(ts map[string]delivery.Sender) map[string]delivery.Sender {
	ts[app.ListenScheme] = d.hub
	return ts
}

// start hands the listen hub the application layer, which owns the
// devices' endpoints and wakes the engine, makes the tail stream over the
// application's live tail (closed by Run), and closes the listen sessions
// when ctx ends, so that the HTTP server's graceful shutdown is not held
// up by them. Their routes are in routes.go.
func (d *devLoop) start(ctx context.Context, a *app.App) {
	d.hub.Use(a)
	d.tail = listen.NewTail(a)
	go func() {
		<-ctx.Done()
		d.hub.Close()
	}()
}

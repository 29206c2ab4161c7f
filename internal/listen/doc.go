// Package listen owns both ends of the developer loop's websocket: the
// server side (the Hub holding listen devices' connections) and the device
// side that `hookline listen` runs (DeviceClient, device_client.go:
// connect, reconnect, forward each delivery to the local app, report its
// answer; internal/cli reads the flags and prints).
//
// A listen device is a durable subscription: an ordinary endpoint whose URL
// is listen://<device-name>, created the first time `hookline listen
// --name <device-name>` connects and found again by name afterwards (the
// endpoint and its rules are the application layer's, app/devices.go; the
// hub keeps the connections), so its secret is stable and events published
// while the laptop is away wait as pending deliveries. The Hub's Sender is the delivery engine's transport
// for the listen scheme: it pushes the exact signed request (body bytes and
// headers an HTTP endpoint would get) over the device's websocket, waits for
// the device to report what the local app answered, and hands that back as
// the attempt. A device signs as its endpoint's signature_scheme says
// (`hookline listen --scheme stripe` sets it), with the same secret either
// way, and tells the device each event's tenant so that it can forward
// connected accounts' events elsewhere (--forward-connect-to). While the
// device is offline it defers the delivery without spending an attempt.
//
// A source's connection whose URL is a device's listen:// URL (`hookline
// listen --source stripe`) forwards captured requests over the same
// session: the device gets the provider's method, headers and body bytes as
// delivery.ForwardSender would send them, not a signed event, and replays
// them unchanged so the local app checks the provider's own signature.
//
// A device is forgotten (forget.go) when its developer asks (`hookline
// listen --forget`) or when it has not been seen for longer than the
// server's retention; a connected device is never forgotten by the purge.
//
// Tail serves GET /v1/tail, the stream `hookline tail` reads: it
// subscribes to the application's live tail of attempts (app.Tail, which
// filters and counts what a slow stream loses) and writes each attempt,
// and each count of lost ones, as a server-sent event.
package listen

// Package api is Hookline's HTTP API: routes (routes.go), authentication,
// request decoding and validation, JSON rendering, and the one mapping from
// application errors to HTTP statuses and {"error": {code, message, param}}
// bodies (errors.go). It holds no business state of its own: it calls the
// store, the publisher and the engine.
package api

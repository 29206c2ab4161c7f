// Package delivery owns the life of an event after it is accepted: the
// Publisher stores published events in group commits and hands their first
// attempts straight to the Engine; the Engine claims due deliveries, signs
// and sends them, decides what a response means (success, retry on the
// schedule, give up, disable the endpoint) and records every attempt in
// batches. Operational publishes Hookline's own events (hookline.…) about
// what happens to endpoints and deliveries.
//
// The store is the source of truth: work in memory is always leased in the
// store first, so a crash loses at most the leases, which lapse and are
// claimed again. Delivery is at least once.
package delivery

// Package inbound owns what Hookline does with webhooks it receives: the
// source types and how each verifies a provider's signature (Verify, one
// table of verifiers, every comparison constant-time), the provider delivery
// ids used to drop duplicates (DedupeKey), and connection filters
// (ParseFilter), and the Gate that bounds what senders can cost before a
// body is read: allowed addresses, rate, daily bytes, bodies in flight and
// free disk. It knows nothing of HTTP servers or storage; internal/api
// captures requests with it and internal/delivery forwards them.
package inbound

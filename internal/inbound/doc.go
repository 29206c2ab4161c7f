// Package inbound owns what Hookline does with webhooks it receives,
// apart from storing them: the source types and how each verifies a
// provider's signature (verify.go, one table of verifiers, every
// comparison constant-time), the provider delivery ids used to drop
// duplicates (dedupe.go), connection filters (filter.go) and the
// matching of a request against its source's connections (match.go), the
// URL a request was sent to (baseurl.go), and the Gate that bounds what
// senders can cost before a body is read (limits.go): allowed addresses,
// rate, daily bytes, bodies in flight and free disk. It knows nothing of
// HTTP servers or storage: internal/app captures requests with it (the
// path is in app's package doc), the stores write them
// (internal/store/sqlcore), internal/delivery forwards them.
package inbound

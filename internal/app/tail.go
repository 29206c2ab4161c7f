package app

import "github.com/hookline/hookline/internal/hookline"

// TailFilter is which attempts a live tail (`hookline tail`, GET
// /v1/tail) shows.
type TailFilter struct {
	// EndpointID, when set, keeps one endpoint's attempts.
	EndpointID string
	// Type, when set, is an event type or a prefix pattern such as
	// invoice.*.
	Type string
	// FailedOnly keeps the attempts that did not succeed.
	FailedOnly bool
}

// ParseTailFilter checks a tail's filters as they arrive: status is
// "failed", "all" or empty, type an event type or pattern.
func ParseTailFilter(endpointID, typ, status string) (TailFilter, error) {
	f := TailFilter{EndpointID: endpointID, Type: typ}
	switch status {
	case "", "all":
	case "failed":
		f.FailedOnly = true
	default:
		return TailFilter{}, hookline.Invalid("status", "status must be \"failed\" or \"all\"")
	}
	if typ != "" && !hookline.ValidEventPattern(typ) {
		return TailFilter{}, hookline.Invalid("type", "%q is not an event type or a prefix wildcard like \"invoice.*\"", typ)
	}
	return f, nil
}

// Match reports whether the filter keeps an attempt at an event of
// eventType to endpointID that succeeded or not.
func (f TailFilter) Match(endpointID, eventType string, succeeded bool) bool {
	return (f.EndpointID == "" || f.EndpointID == endpointID) &&
		(f.Type == "" || hookline.MatchEvent([]string{f.Type}, eventType)) &&
		(!f.FailedOnly || !succeeded)
}

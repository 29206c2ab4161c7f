package hookline

import "strings"

// ValidEventType reports whether t is a dot-separated name of [a-zA-Z0-9_]
// parts, at most 255 bytes long. Every publish checks one, so it is a loop:
// the regular expression it replaces was 0.7 % of a busy node's CPU.
func ValidEventType(t string) bool {
	if t == "" || len(t) > 255 {
		return false
	}
	partLen := 0
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c == '.':
			if partLen == 0 {
				return false
			}
			partLen = 0
		case c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			partLen++
		default:
			return false
		}
	}
	return partLen > 0
}

// ValidEventPattern reports whether p can stand in an endpoint's
// EnabledEvents: "*", an event type, or an event type prefix followed by ".*".
func ValidEventPattern(p string) bool {
	if p == "*" {
		return true
	}
	return ValidEventType(strings.TrimSuffix(p, ".*"))
}

// OperationalPrefix starts the types of Hookline's own operational events
// (hookline.endpoint.disabled, hookline.delivery.exhausted, …). Publishers
// may not use it, and "*" does not match it: only an explicit subscription
// such as "hookline.*" receives them.
const OperationalPrefix = "hookline."

// MatchEvent reports whether an event type matches any of the patterns:
// "*" matches everything but operational events, "invoice.*" matches every
// type under "invoice." (at any depth), and any other pattern matches only
// itself.
func MatchEvent(patterns []string, typ string) bool {
	for _, p := range patterns {
		switch {
		case p == typ:
			return true
		case p == "*":
			if !strings.HasPrefix(typ, OperationalPrefix) {
				return true
			}
		case strings.HasSuffix(p, ".*") && strings.HasPrefix(typ, p[:len(p)-1]):
			return true
		}
	}
	return false
}

// MatchingPatterns returns every pattern MatchEvent accepts for typ: "*"
// (but for operational events), typ itself, and "prefix.*" for each dot of
// typ. An endpoint matches typ exactly when its EnabledEvents shares one of
// them, which a store can answer from an index on the patterns instead of
// reading every endpoint (the PostgreSQL store's GIN index).
// TestMatchingPatternsIsMatchEvent holds the two to the same rule.
func MatchingPatterns(typ string) []string {
	out := []string{"*", typ}
	if strings.HasPrefix(typ, OperationalPrefix) {
		out = out[1:]
	}
	for i := 0; i < len(typ); i++ {
		if typ[i] == '.' {
			out = append(out, typ[:i]+".*")
		}
	}
	return out
}

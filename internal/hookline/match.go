package hookline

import (
	"regexp"
	"strings"
)

var eventTypeRE = regexp.MustCompile(`^[a-zA-Z0-9_]+(\.[a-zA-Z0-9_]+)*$`)

// ValidEventType reports whether t is a dot-separated name of [a-zA-Z0-9_]
// parts, at most 255 bytes long.
func ValidEventType(t string) bool {
	return len(t) <= 255 && eventTypeRE.MatchString(t)
}

// ValidEventPattern reports whether p can stand in an endpoint's
// EnabledEvents: "*", an event type, or an event type prefix followed by ".*".
func ValidEventPattern(p string) bool {
	if p == "*" {
		return true
	}
	return ValidEventType(strings.TrimSuffix(p, ".*"))
}

// MatchEvent reports whether an event type matches any of the patterns:
// "*" matches everything, "invoice.*" matches every type under "invoice."
// (at any depth), and any other pattern matches only itself.
func MatchEvent(patterns []string, typ string) bool {
	for _, p := range patterns {
		switch {
		case p == "*" || p == typ:
			return true
		case strings.HasSuffix(p, ".*") && strings.HasPrefix(typ, p[:len(p)-1]):
			return true
		}
	}
	return false
}

package trigger

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
)

// Edit operations on generated data.
const (
	OpOverride = "override" // set a value where the path already exists
	OpAdd      = "add"      // set a value, creating the path
	OpRemove   = "remove"   // delete the path where it exists
)

// Edit changes generated data: [type:]path[=value]. Path is dot-separated
// keys and array indexes (object.items.data.0.price). With a type (exact or
// a prefix wildcard like charge.*) only those events are edited; without,
// every event of the flow.
type Edit struct {
	Op    string
	Event string // event type pattern; "" for every event
	Path  []string
	Value any
	Raw   string // as given, for messages
}

// ParseEdit reads the argument of --override, --add or --remove. A value
// that is valid JSON is taken as JSON (5000, true, {"a":1}, "quoted"), any
// other as a string.
func ParseEdit(op, s string) (Edit, error) {
	e := Edit{Op: op, Raw: s}
	target := s
	if op != OpRemove {
		var value string
		var ok bool
		target, value, ok = strings.Cut(s, "=")
		if !ok {
			return e, fmt.Errorf("--%s %q: want [event-type:]path=value", op, s)
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(value))
		dec.UseNumber()
		if err := dec.Decode(&v); err == nil && !dec.More() {
			e.Value = v
		} else {
			e.Value = value
		}
	}
	if ev, p, ok := strings.Cut(target, ":"); ok {
		if !hookline.ValidEventPattern(ev) {
			return e, fmt.Errorf("--%s %q: %q is not an event type or a prefix wildcard like charge.*", op, s, ev)
		}
		e.Event, target = ev, p
	}
	if target == "" {
		return e, fmt.Errorf("--%s %q: empty path", op, s)
	}
	e.Path = strings.Split(target, ".")
	for _, k := range e.Path {
		if k == "" {
			return e, fmt.Errorf("--%s %q: empty path element", op, s)
		}
	}
	return e, nil
}

// Apply makes the edits on events in order. An override or remove that
// finds its path in no event is an error, so a typo does not pass silently.
func Apply(events []Event, edits []Edit) error {
	for _, ed := range edits {
		hits := 0
		for i := range events {
			if ed.Event != "" && !hookline.MatchEvent([]string{ed.Event}, events[i].Type) {
				continue
			}
			ok, err := edit(&events[i].Data, ed.Path, ed)
			if err != nil {
				return fmt.Errorf("--%s %s: event %d (%s): %w", ed.Op, ed.Raw, i+1, events[i].Type, err)
			}
			if ok {
				hits++
			}
		}
		if hits == 0 {
			return fmt.Errorf("--%s %s: no event has %s; run with --dry-run to see the generated data", ed.Op, ed.Raw, strings.Join(ed.Path, "."))
		}
	}
	return nil
}

// edit applies ed at path under *v and reports whether it did.
func edit(v *any, path []string, ed Edit) (bool, error) {
	key, last := path[0], len(path) == 1
	switch x := (*v).(type) {
	case map[string]any:
		child, exists := x[key]
		if last {
			switch {
			case ed.Op == OpRemove:
				delete(x, key)
				return exists, nil
			case ed.Op == OpOverride && !exists:
				return false, nil
			}
			x[key] = ed.Value
			return true, nil
		}
		if !exists {
			if ed.Op != OpAdd {
				return false, nil
			}
			child = map[string]any{}
			x[key] = child
		}
		ok, err := edit(&child, path[1:], ed)
		x[key] = child
		return ok, err
	case []any:
		i, err := strconv.Atoi(key)
		if err != nil || i < 0 {
			return false, nil
		}
		if i >= len(x) {
			if ed.Op == OpAdd && last && i == len(x) {
				*v = append(x, ed.Value)
				return true, nil
			}
			return false, nil
		}
		if last {
			if ed.Op == OpRemove {
				*v = append(x[:i:i], x[i+1:]...)
				return true, nil
			}
			x[i] = ed.Value
			return true, nil
		}
		return edit(&x[i], path[1:], ed)
	default:
		if ed.Op == OpAdd && *v == nil {
			*v = map[string]any{}
			return edit(v, path, ed)
		}
		return false, nil
	}
}

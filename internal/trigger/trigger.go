package trigger

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

//go:embed catalog/*.json
var catalogFS embed.FS

// Fixture is one trigger: a named flow of events.
type Fixture struct {
	Name string `json:"name"`
	// Aliases are other names Lookup finds it by, as Stripe's CLI has
	// (invoice.payment_succeeded runs the invoice flow).
	Aliases     []string       `json:"aliases,omitempty"`
	Description string         `json:"description"`
	Vars        map[string]any `json:"vars"`
	Events      []FixtureEvent `json:"events"`
	// Tenant, when set, says the flow only makes sense for one tenant (a
	// connected account, as Stripe's account.application.* events always
	// carry one): it is the variable spec ("id:acct") of the tenant used
	// when --tenant is not given. See DefaultTenant.
	Tenant string `json:"tenant,omitempty"`
}

// FixtureEvent is one event of a flow, before its variables are filled in.
type FixtureEvent struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// Event is one generated event, ready to publish.
type Event struct {
	Type string
	Data any // JSON-ready: maps, slices, strings, json.Number, bools, nil
}

// Parse reads and checks a fixture file.
func Parse(b []byte) (*Fixture, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var f Fixture
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("reading fixture: %w", err)
	}
	if len(f.Events) == 0 {
		return nil, errors.New("fixture has no events")
	}
	for i, e := range f.Events {
		if !hookline.ValidEventType(e.Type) {
			return nil, fmt.Errorf("fixture event %d: type %q is not a dot-separated name of letters, digits and _", i+1, e.Type)
		}
		if _, ok := e.Data.(map[string]any); !ok {
			return nil, fmt.Errorf("fixture event %d (%s): data must be a JSON object", i+1, e.Type)
		}
	}
	if f.Name == "" {
		f.Name = f.Events[len(f.Events)-1].Type
	}
	if f.Tenant != "" {
		if _, err := f.DefaultTenant(); err != nil {
			return nil, fmt.Errorf("fixture tenant: %w", err)
		}
	}
	return &f, nil
}

// DefaultTenant is the tenant to publish for when --tenant is not given:
// "" for most flows, a fresh one (acct_…) for those that need one.
func (f *Fixture) DefaultTenant() (string, error) {
	if f.Tenant == "" {
		return "", nil
	}
	v, err := genVar(f.Tenant)
	if err != nil {
		return "", err
	}
	t, ok := v.(string)
	if !ok || t == "" {
		return "", fmt.Errorf("%q does not make a tenant", f.Tenant)
	}
	return t, nil
}

// Catalog returns the built-in fixtures, sorted by name.
func Catalog() ([]*Fixture, error) {
	entries, err := fs.ReadDir(catalogFS, "catalog")
	if err != nil {
		return nil, fmt.Errorf("reading the trigger catalog: %w", err)
	}
	var out []*Fixture
	for _, e := range entries {
		b, err := catalogFS.ReadFile(path.Join("catalog", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading trigger %s: %w", e.Name(), err)
		}
		f, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("trigger %s: %w", e.Name(), err)
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *Fixture) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Lookup returns the built-in fixture with that name. The error for an
// unknown name suggests close ones.
func Lookup(name string) (*Fixture, error) {
	all, err := Catalog()
	if err != nil {
		return nil, err
	}
	var near []string
	for _, f := range all {
		if f.Name == name || slices.Contains(f.Aliases, name) {
			return f, nil
		}
		if strings.HasPrefix(f.Name, name) || strings.HasPrefix(name, strings.SplitN(f.Name, ".", 2)[0]+".") {
			near = append(near, f.Name)
		}
	}
	msg := fmt.Sprintf("no trigger named %q; 'hookline trigger --list' shows them all", name)
	if len(near) > 0 {
		msg += "; similar: " + strings.Join(near, ", ")
	}
	return nil, errors.New(msg)
}

var refRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*(?:[+-][0-9]+)?)\}`)

// Generate fills in a fresh run of the flow at now.
func (f *Fixture) Generate(now time.Time) ([]Event, error) {
	vars := map[string]any{"now": json.Number(strconv.FormatInt(now.Unix(), 10)), "now_iso": now.UTC().Format(time.RFC3339)}
	for name, spec := range f.Vars {
		v, err := genVar(spec)
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", name, err)
		}
		vars[name] = v
	}
	lookup := func(ref string) (any, error) {
		if v, ok := vars[ref]; ok {
			return v, nil
		}
		if strings.HasPrefix(ref, "now+") || strings.HasPrefix(ref, "now-") {
			n, err := strconv.ParseInt(ref[3:], 10, 64)
			if err == nil {
				return json.Number(strconv.FormatInt(now.Unix()+n, 10)), nil
			}
		}
		return nil, fmt.Errorf("${%s} is not defined in vars", ref)
	}
	out := make([]Event, len(f.Events))
	for i, e := range f.Events {
		d, err := fill(e.Data, lookup)
		if err != nil {
			return nil, fmt.Errorf("event %d (%s): %w", i+1, e.Type, err)
		}
		out[i] = Event{Type: e.Type, Data: d}
	}
	return out, nil
}

func genVar(spec any) (any, error) {
	s, ok := spec.(string)
	if !ok {
		return spec, nil
	}
	kind, arg, ok := strings.Cut(s, ":")
	if !ok {
		return s, nil
	}
	switch kind {
	case "id":
		return arg + "_" + randomText("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 24), nil
	case "hex":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > 128 {
			return nil, fmt.Errorf("%q: want hex:<length from 1 to 128>", s)
		}
		return randomText("0123456789abcdef", n), nil
	case "num":
		digits := len(arg)
		if digits < 1 || digits > 18 {
			return nil, fmt.Errorf("%q: want num:<example of 1 to 18 digits>", s)
		}
		return json.Number("1" + randomText("0123456789", digits-1)), nil
	}
	return s, nil // a plain string with a colon in it
}

func randomText(alphabet string, n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		x, _ := rand.Int(rand.Reader, max) // crypto/rand never fails
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}

// fill returns a copy of v with every ${ref} replaced.
func fill(v any, lookup func(string) (any, error)) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			f, err := fill(e, lookup)
			if err != nil {
				return nil, err
			}
			m[k] = f
		}
		return m, nil
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			f, err := fill(e, lookup)
			if err != nil {
				return nil, err
			}
			s[i] = f
		}
		return s, nil
	case string:
		if m := refRE.FindStringSubmatchIndex(x); m != nil && m[0] == 0 && m[1] == len(x) {
			return lookup(x[m[2]:m[3]]) // the whole string: keep the value's type
		}
		var firstErr error
		s := refRE.ReplaceAllStringFunc(x, func(ref string) string {
			val, err := lookup(ref[2 : len(ref)-1])
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return ref
			}
			if s, ok := val.(string); ok {
				return s
			}
			b, _ := json.Marshal(val)
			return string(b)
		})
		return s, firstErr
	}
	return v, nil
}

package trigger

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCatalogGeneratesEveryTrigger(t *testing.T) {
	t.Parallel()
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 30 {
		t.Fatalf("catalog has %d triggers, want at least 30", len(all))
	}
	now := time.Unix(1795430966, 0)
	seen := map[string]bool{}
	for _, f := range all {
		if seen[f.Name] {
			t.Errorf("trigger %s listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Description == "" {
			t.Errorf("trigger %s has no description for --list", f.Name)
		}
		evs, err := f.Generate(now)
		if err != nil {
			t.Errorf("trigger %s: %v", f.Name, err)
			continue
		}
		for _, e := range evs {
			b, err := json.Marshal(e.Data)
			if err != nil {
				t.Errorf("trigger %s: %s: %v", f.Name, e.Type, err)
			}
			if strings.Contains(string(b), "${") {
				t.Errorf("trigger %s: %s keeps an unfilled reference: %s", f.Name, e.Type, b)
			}
			// Stripe sends data.previous_attributes with every *.updated.
			if strings.HasPrefix(f.Name, "customer.") && strings.HasSuffix(e.Type, ".updated") {
				if _, ok := e.Data.(map[string]any)["previous_attributes"]; !ok {
					t.Errorf("trigger %s: %s has no data.previous_attributes", f.Name, e.Type)
				}
			}
		}
	}
	// The families the issue asks for.
	for _, want := range []string{
		"payment_intent.succeeded", "checkout.session.completed", "customer.created", "customer.subscription.updated",
		"invoice.paid", "charge.refunded", "charge.dispute.created", "push", "pull_request.opened", "issues.opened",
		"order.created", "order.fulfilled", "order.refunded",
	} {
		if !seen[want] {
			t.Errorf("catalog lacks %s", want)
		}
	}
}

// field follows a dot path through generated data.
func field(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func TestFlowHangsTogether(t *testing.T) {
	t.Parallel()
	f, err := Lookup("payment_intent.succeeded")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1795430966, 0)
	evs, err := f.Generate(now)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	if want := []string{"payment_intent.created", "charge.succeeded", "payment_intent.succeeded"}; !reflect.DeepEqual(types, want) {
		t.Fatalf("types %v, want %v", types, want)
	}
	pi := field(evs[0].Data, "object.id")
	if s, _ := pi.(string); !strings.HasPrefix(s, "pi_") || len(s) != len("pi_")+24 {
		t.Fatalf("payment intent id %v", pi)
	}
	if got := field(evs[1].Data, "object.payment_intent"); got != pi {
		t.Errorf("charge.payment_intent = %v, want %v", got, pi)
	}
	if got := field(evs[2].Data, "object.id"); got != pi {
		t.Errorf("succeeded intent id %v, want %v", got, pi)
	}
	if got := field(evs[2].Data, "object.latest_charge"); got != field(evs[1].Data, "object.id") {
		t.Errorf("latest_charge %v, want the charge's id %v", got, field(evs[1].Data, "object.id"))
	}
	if got := field(evs[1].Data, "object.amount"); got != json.Number("2000") {
		t.Errorf("amount %#v, want the number 2000", got)
	}
	if got := field(evs[0].Data, "object.created"); got != json.Number("1795430966") {
		t.Errorf("created %#v, want now", got)
	}
	again, _ := f.Generate(now)
	if field(again[0].Data, "object.id") == pi {
		t.Error("two runs made the same id")
	}
}

func TestEdits(t *testing.T) {
	t.Parallel()
	gen := func() []Event {
		return []Event{
			{Type: "payment_intent.created", Data: map[string]any{"object": map[string]any{"amount": json.Number("2000"), "items": []any{"a", "b"}}}},
			{Type: "charge.succeeded", Data: map[string]any{"object": map[string]any{"amount": json.Number("2000")}}},
		}
	}
	tests := []struct {
		op, arg string
		check   func([]Event) bool
		wantErr string
	}{
		{OpOverride, "object.amount=5000", func(e []Event) bool {
			return field(e[0].Data, "object.amount") == json.Number("5000") && field(e[1].Data, "object.amount") == json.Number("5000")
		}, ""},
		{OpOverride, "charge.succeeded:object.amount=7", func(e []Event) bool {
			return field(e[0].Data, "object.amount") == json.Number("2000") && field(e[1].Data, "object.amount") == json.Number("7")
		}, ""},
		{OpOverride, "object.currency=eur", nil, "no event has object.currency"},
		{OpAdd, "object.metadata.order=ord_1", func(e []Event) bool {
			return field(e[0].Data, "object.metadata.order") == "ord_1" && field(e[1].Data, "object.metadata.order") == "ord_1"
		}, ""},
		{OpAdd, `object.flag=true`, func(e []Event) bool { return field(e[1].Data, "object.flag") == true }, ""},
		{OpRemove, "object.amount", func(e []Event) bool {
			return field(e[0].Data, "object.amount") == nil && field(e[1].Data, "object.amount") == nil
		}, ""},
		{OpRemove, "object.items.0", func(e []Event) bool {
			return reflect.DeepEqual(field(e[0].Data, "object.items"), []any{"b"})
		}, ""},
		{OpRemove, "object.nothing", nil, "no event has object.nothing"},
		{OpOverride, "object.amount", nil, "want [event-type:]path=value"},
		{OpAdd, "bad type!:x=1", nil, "not an event type"},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.arg, func(t *testing.T) {
			t.Parallel()
			evs := gen()
			ed, err := ParseEdit(tt.op, tt.arg)
			if err == nil {
				err = Apply(evs, []Edit{ed})
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(evs) {
				b, _ := json.Marshal(evs)
				t.Fatalf("unexpected result: %s", b)
			}
		})
	}
}

func TestLookupSuggests(t *testing.T) {
	t.Parallel()
	_, err := Lookup("payment_intent.succeded")
	if err == nil || !strings.Contains(err.Error(), "payment_intent.succeeded") || !strings.Contains(err.Error(), "--list") {
		t.Fatalf("error %v should point at --list and the close names", err)
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"events": []}`, `{"events": [{"type": "bad type", "data": {}}]}`,
		`{"events": [{"type": "a.b", "data": [1]}]}`, `{"events": [{"type": "a.b", "data": {}}], "extra": 1}`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%s) accepted it", in)
		}
	}
}

func TestLookupFindsStripesNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, flow string
		tenant     bool // the flow publishes for a tenant of its own when --tenant is not given
	}{
		{"invoice.payment_succeeded", "invoice.paid", false},
		{"invoice.paid", "invoice.paid", false},
		{"account.application.authorized", "account.application.authorized", true},
		{"account.application.deauthorized", "account.application.deauthorized", true},
	} {
		f, err := Lookup(tc.name)
		if err != nil {
			t.Errorf("Lookup(%s): %v", tc.name, err)
			continue
		}
		if f.Name != tc.flow {
			t.Errorf("Lookup(%s) = %s, want %s", tc.name, f.Name, tc.flow)
		}
		tenant, err := f.DefaultTenant()
		if err != nil {
			t.Errorf("%s: DefaultTenant: %v", tc.name, err)
		}
		if got := strings.HasPrefix(tenant, "acct_"); got != tc.tenant {
			t.Errorf("%s: DefaultTenant() = %q, want an acct_ one: %v", tc.name, tenant, tc.tenant)
		}
	}
	if _, err := Parse([]byte(`{"tenant": {"x": 1}, "events": [{"type": "a.b", "data": {}}]}`)); err == nil {
		t.Error("Parse accepted a fixture tenant that is not a string")
	}
	if _, err := Parse([]byte(`{"tenant": "hex:0", "events": [{"type": "a.b", "data": {}}]}`)); err == nil ||
		!strings.Contains(err.Error(), "fixture tenant") {
		t.Errorf("Parse of a bad tenant spec: %v", err)
	}
}

package hookline

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestNewIDSortsInCreationOrder(t *testing.T) {
	t.Parallel()
	ids := make([]string, 5000)
	for i := range ids {
		ids[i] = NewID("evt")
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids made in sequence do not sort in sequence")
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
		if !strings.HasPrefix(id, "evt_") || len(id) != len("evt_")+24 {
			t.Fatalf("malformed id %q", id)
		}
	}
	before := NewID("evt")
	time.Sleep(2 * time.Millisecond)
	if after := NewID("evt"); after <= before {
		t.Fatalf("id %s made later sorts before %s", after, before)
	}
}

func TestMatchEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		patterns []string
		typ      string
		want     bool
	}{
		{[]string{"*"}, "invoice.paid", true},
		{[]string{"invoice.paid"}, "invoice.paid", true},
		{[]string{"invoice.paid"}, "invoice.payment_failed", false},
		{[]string{"invoice.*"}, "invoice.paid", true},
		{[]string{"invoice.*"}, "invoice.line_item.created", true},
		{[]string{"invoice.*"}, "invoice", false},
		{[]string{"invoice.*"}, "invoiceitem.created", false},
		{[]string{"charge.succeeded", "invoice.*"}, "charge.succeeded", true},
		{nil, "charge.succeeded", false},
	}
	for _, tt := range tests {
		if got := MatchEvent(tt.patterns, tt.typ); got != tt.want {
			t.Errorf("MatchEvent(%q, %q) = %v, want %v", tt.patterns, tt.typ, got, tt.want)
		}
	}
}

func TestValidEventTypeAndPattern(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s            string
		typ, pattern bool
	}{
		{"invoice.paid", true, true},
		{"a_b.C9", true, true},
		{"*", false, true},
		{"invoice.*", false, true},
		{"", false, false},
		{"invoice.", false, false},
		{".paid", false, false},
		{"invoice..paid", false, false},
		{"invoice paid", false, false},
		{"invoice-paid", false, false},
		{"*.paid", false, false},
		{"a", true, true},
		{".", false, false},
		{"invoice.paid\n", false, false},
		{"invoicé.paid", false, false},
		{strings.Repeat("a", 255), true, true},
		{strings.Repeat("a", 256), false, false},
	} {
		if got := ValidEventType(tt.s); got != tt.typ {
			t.Errorf("ValidEventType(%q) = %v", tt.s, got)
		}
		if got := ValidEventPattern(tt.s); got != tt.pattern {
			t.Errorf("ValidEventPattern(%q) = %v", tt.s, got)
		}
	}
}

func TestNewEventPayloadKeepsDataBytes(t *testing.T) {
	t.Parallel()
	data := json.RawMessage("{ \"b\": 1,\n  \"a\": [1, 2.50, \"\\u00e9\"] }")
	created := time.Unix(1700000000, 0)
	p, err := NewEventPayload("evt_1", "invoice.paid", created, "acme \"co\"", data)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"evt_1","object":"event","type":"invoice.paid","created":1700000000,"data":` + string(data) + `,"tenant":"acme \"co\""}`
	if string(p) != want {
		t.Fatalf("payload\n got %s\nwant %s", p, want)
	}
	var env struct {
		ID, Object, Type, Tenant string
		Created                  int64
		Data                     json.RawMessage
	}
	if err := json.Unmarshal(p, &env); err != nil {
		t.Fatalf("payload is not JSON: %v", err)
	}
	if env.Object != "event" || env.Created != 1700000000 || env.Tenant != `acme "co"` {
		t.Fatalf("decoded %+v", env)
	}
	if _, err := NewEventPayload("evt_2", "x", created, "", json.RawMessage(`{"a":`)); ErrorCode(err) != EINVALID {
		t.Fatalf("invalid data: err = %v, want %s", err, EINVALID)
	}
}

// TestNewEventPayloadEscapesLikeMarshal checks the envelope's strings are
// written as json.Marshal writes them, whether or not they need escaping.
func TestNewEventPayloadEscapesLikeMarshal(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"evt_06h0g14pk8000s1ceceb8sbr", "invoice.paid", "", "acme <&> \"quoted\" back\\slash", "tab\there\nnewline", "héllo ✓", "\x7f\x00"} {
		payload, err := NewEventPayload(s, s, time.Unix(1, 0), s, []byte(`{}`))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		q, _ := json.Marshal(s)
		want := `{"id":` + string(q) + `,"object":"event","type":` + string(q) + `,"created":1,"data":{}`
		if s != "" {
			want += `,"tenant":` + string(q)
		}
		want += "}"
		if string(payload) != want {
			t.Errorf("%q: payload\n%s\nwant\n%s", s, payload, want)
		}
	}
}

// TestMatchingPatternsIsMatchEvent: the patterns a store looks up for a
// type are exactly those MatchEvent accepts, so the SQLite store (which
// calls MatchEvent) and the PostgreSQL one (which looks MatchingPatterns
// up in its index) subscribe the same endpoints.
func TestMatchingPatternsIsMatchEvent(t *testing.T) {
	t.Parallel()
	types := []string{"a", "invoice", "invoice.paid", "invoice.paid.late", "invoices.paid", "hookline.endpoint.disabled", "hookline"}
	pats := []string{"*", "a", "a.*", "invoice", "invoice.*", "invoice.paid", "invoice.paid.*", "invoice.paid.late",
		"invoices.*", "hookline.*", "hookline.endpoint.*", "hookline.endpoint.disabled", "paid", "*.paid", "invoice.p.*"}
	for _, typ := range types {
		matching := MatchingPatterns(typ)
		for _, p := range pats {
			want := MatchEvent([]string{p}, typ)
			if got := slices.Contains(matching, p); got != want {
				t.Errorf("type %q, pattern %q: MatchingPatterns has it %v, MatchEvent says %v", typ, p, got, want)
			}
		}
		for _, p := range matching {
			if !MatchEvent([]string{p}, typ) {
				t.Errorf("type %q: MatchingPatterns gives %q, which MatchEvent refuses", typ, p)
			}
		}
	}
}

package hookline

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEventFilter(t *testing.T) {
	t.Parallel()
	payload, err := NewEventPayload("evt_1", "invoice.paid", time.Unix(1, 0), "acme",
		[]byte(`{"amount": 1200, "currency": "eur", "lines": [{"sku": "pro"}], "live": true, "big": 12345678901234567890, "ratio": 0.1}`))
	if err != nil {
		t.Fatal(err)
	}
	ev := &Event{ID: "evt_1", Type: "invoice.paid", Tenant: "acme", Payload: payload}
	noTenant := &Event{ID: "evt_2", Type: "invoice.paid", Payload: []byte(`{"data":{}}`)}
	for _, c := range []struct {
		name, filter string
		ev           *Event
		want         bool
		why          string // part of the first reason, when it does not match
	}{
		{"empty", ``, ev, true, ""},
		{"type wildcard", `{"type": {"in": ["invoice.*"]}}`, ev, true, ""},
		{"type miss", `{"type": "charge.failed"}`, ev, false, `type is "invoice.paid"`},
		{"tenant", `{"tenant": "acme"}`, ev, true, ""},
		{"tenant missing", `{"tenant": {"exists": true}}`, noTenant, false, "tenant is missing"},
		{"number", `{"data.amount": 1200}`, ev, true, ""},
		{"number miss", `{"data.amount": {"in": [1, 2]}}`, ev, false, "data.amount is 1200"},
		{"array index", `{"data.lines.0.sku": {"prefix": "pr"}}`, ev, true, ""},
		{"bool", `{"data.live": true}`, ev, true, ""},
		{"absent path", `{"data.refund": {"exists": false}}`, ev, true, ""},
		// Numbers compare exactly, beyond float64's 2^53 too.
		{"big integer", `{"data.big": 12345678901234567890}`, ev, true, ""},
		{"big integer off by one", `{"data.big": 12345678901234567891}`, ev, false, "data.big is 12345678901234567890"},
		{"big integer in", `{"data.big": {"in": [12345678901234567891, 12345678901234567892]}}`, ev, false, "data.big"},
		{"number written otherwise", `{"data.amount": 1.2e3}`, ev, true, ""},
		{"decimal", `{"data.ratio": 0.10}`, ev, true, ""},
		{"negative is not positive", `{"data.big": -12345678901234567890}`, ev, false, "data.big"},
		{"all must hold", `{"data.currency": "eur", "data.amount": 5}`, ev, false, "data.amount"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseFilter([]byte(c.filter), EventFilterFields)
			if err != nil {
				t.Fatal(err)
			}
			doc := &EventDocument{Event: c.ev}
			if got := f.Match(doc); got != c.want {
				t.Fatalf("Match = %v, want %v", got, c.want)
			}
			reasons := f.Explain(&EventDocument{Event: c.ev})
			if c.want != (len(reasons) == 0) || !c.want && !strings.Contains(reasons[0], c.why) {
				t.Fatalf("Explain = %q, want a reason containing %q", reasons, c.why)
			}
		})
	}
	// An error names the filter in JSON's words, never Go's types.
	for _, bad := range []string{`"x"`, `[1]`, `5`, `true`} {
		_, err := ParseFilter([]byte(bad), EventFilterFields)
		if msg := ErrorMessage(err); strings.Contains(msg, "Go value") || strings.Contains(msg, "interface {}") || !strings.Contains(msg, "JSON object") {
			t.Errorf("ParseFilter(%s): message %q", bad, msg)
		}
	}
	for _, bad := range []string{`[1]`, `{"headers.x": 1}`, `{"data": 1}`, `{"data.a": {"like": 1}}`, `"x"`,
		"{\"data.x\": \"\xff\"}", "{\"data.\xc3\": 1}", "{\"tenant\": {\"in\": [\"a\xed\xa0\x80\"]}}"} {
		if _, err := ParseFilter([]byte(bad), EventFilterFields); ErrorCode(err) != EINVALID || ErrorParam(err) != "filter" {
			t.Errorf("ParseFilter(%s) = %v, want EINVALID naming filter", bad, err)
		}
	}
}

func TestAcceptsAndOperationalEvents(t *testing.T) {
	t.Parallel()
	f, _ := ParseFilter([]byte(`{"data.n": 1}`), EventFilterFields)
	ev := func(typ, tenant, data string) *EventDocument {
		p, _ := NewEventPayload("evt_x", typ, time.Unix(1, 0), tenant, []byte(data))
		return &EventDocument{Event: &Event{Type: typ, Tenant: tenant, Payload: p}}
	}
	for _, c := range []struct {
		name string
		ep   Endpoint
		doc  *EventDocument
		want bool
	}{
		{"* takes ordinary events", Endpoint{EnabledEvents: []string{"*"}}, ev("a.b", "", `{}`), true},
		{"* does not take operational ones", Endpoint{EnabledEvents: []string{"*"}}, ev("hookline.delivery.exhausted", "", `{}`), false},
		{"hookline.* does", Endpoint{EnabledEvents: []string{"hookline.*"}}, ev("hookline.delivery.exhausted", "", `{}`), true},
		{"another tenant's", Endpoint{EnabledEvents: []string{"hookline.*"}, Tenant: "a"}, ev("hookline.endpoint.disabled", "b", `{}`), false},
		{"filter holds", Endpoint{EnabledEvents: []string{"*"}, Filter: f}, ev("a.b", "", `{"n": 1}`), true},
		{"filter fails", Endpoint{EnabledEvents: []string{"*"}, Filter: f}, ev("a.b", "", `{"n": 2}`), false},
	} {
		if got := c.ep.Accepts(c.doc); got != c.want {
			t.Errorf("%s: Accepts = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCheckHeaders(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		h     map[string]string
		param string // "" when valid
	}{
		{map[string]string{"Authorization": "Basic dTpw", "X-Api-Key": "k"}, ""},
		{map[string]string{"webhook-signature": "v1,x"}, "headers[webhook-signature]"},
		{map[string]string{"Stripe-Signature": "t=1"}, "headers[Stripe-Signature]"},
		{map[string]string{"Content-Length": "1"}, "headers[Content-Length]"},
		{map[string]string{"X Y": "1"}, "headers[X Y]"},
		{map[string]string{"X-A": "a\nb"}, "headers[X-A]"},
		{map[string]string{"X-A": strings.Repeat("a", MaxHeaderValueLen+1)}, "headers[X-A]"},
		// Names that differ only in case are one header: refused under the
		// canonical name, whichever spelling sorts first.
		{map[string]string{"x-a": "1", "X-A": "2"}, "headers[X-A]"},
		{map[string]string{"x-api-KEY": "1", "X-Api-Key": "2", "Authorization": "Basic dTpw"}, "headers[X-Api-Key]"},
		{map[string]string{"authorization": "a", "AUTHORIZATION": "b"}, "headers[Authorization]"},
	} {
		err := CheckHeaders(c.h)
		if ErrorParam(err) != c.param || (c.param == "") != (err == nil) {
			t.Errorf("CheckHeaders(%v) = %v, want param %q", c.h, err, c.param)
		}
	}
}

// TestCheckHeadersReserved: every name the README lists as refused is
// refused in any case, with a message naming the header and why; names
// that only resemble them are taken.
func TestCheckHeadersReserved(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		why  string // a part of the message; "" when the name is taken
	}{
		{"webhook-id", "signature"},
		{"Webhook-Timestamp", "signature"},
		{"WEBHOOK-SIGNATURE", "signature"},
		{"webhook-foo", "signature"},
		{"Webhook-Anything-Else", "signature"},
		{"Stripe-Signature", "signature"},
		{"stripe-signature", "signature"},
		{"svix-id", "signature"},
		{"Svix-Signature", "signature"},
		{"Content-Type", "Hookline's own"},
		{"User-Agent", "Hookline's own"},
		{"Host", "transport"},
		{"Content-Length", "transport"},
		{"Transfer-Encoding", "transport"},
		{"Connection", "transport"},
		{"Expect", "transport"},
		{"Accept-Encoding", "transport"},
		{"TE", "transport"},
		{"te", "transport"},
		{"Upgrade", "transport"},
		{"Trailer", "transport"},
		{"Keep-Alive", "transport"},
		{"Proxy-Authorization", "transport"},
		{"Proxy-Connection", "transport"},
		{"proxy-anything", "transport"},
		// Near misses stay allowed.
		{"X-Webhook-Id", ""},
		{"Webhook", ""},
		{"Webhooks-Id", ""},
		{"Stripe-Account", ""},
		{"X-Proxy-Token", ""},
		{"Accept", ""},
		{"Tes", ""},
		{"Authorization", ""},
	} {
		// A header saved before its name was refused is not sent either.
		sent := false
		EachSendableHeader(map[string]string{c.name: "v"}, func(string, string) { sent = true })
		if sent != (c.why == "") {
			t.Errorf("%s: sent %v, want %v", c.name, sent, c.why == "")
		}
		err := CheckHeaders(map[string]string{c.name: "v"})
		if c.why == "" {
			if err != nil {
				t.Errorf("%s: refused: %v", c.name, err)
			}
			continue
		}
		if param := "headers[" + c.name + "]"; ErrorParam(err) != param {
			t.Errorf("%s: CheckHeaders = %v, want param %q", c.name, err, param)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.name) || !strings.Contains(msg, c.why) {
			t.Errorf("%s: message %q does not name the header and %q", c.name, msg, c.why)
		}
	}
}

// Two saved names that differ only in case (saved before CheckHeaders
// refused them) reach a delivery in the same order every time.
func TestEachSendableHeaderOrder(t *testing.T) {
	t.Parallel()
	h := map[string]string{"x-a": "lower", "X-A": "upper", "B": "b", "x-b": "x"}
	var first []string
	for i := range 20 {
		var got []string
		EachSendableHeader(h, func(name, value string) { got = append(got, name+"="+value) })
		if i == 0 {
			first = got
			if want := []string{"B=b", "X-A=upper", "x-a=lower", "x-b=x"}; !slices.Equal(got, want) {
				t.Fatalf("sent %v, want %v", got, want)
			}
		} else if !slices.Equal(got, first) {
			t.Fatalf("round %d sent %v, round 0 %v", i, got, first)
		}
	}
}

// Header values are secrets: a log line shows names only.
func TestHeadersLogValue(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("endpoint", "headers", Headers{"Authorization": "Bearer topsecret"})
	if strings.Contains(buf.String(), "topsecret") || !strings.Contains(buf.String(), "Authorization") {
		t.Fatalf("logged %s", buf.String())
	}
}

func TestParseRetrySchedule(t *testing.T) {
	t.Parallel()
	got, err := ParseRetrySchedule([]string{"0s", "30s", "5m"})
	if err != nil || len(got) != 3 || got[0] != 0 || got[2] != 5*time.Minute {
		t.Fatalf("ParseRetrySchedule = %v, %v", got, err)
	}
	if s := strings.Join(FormatRetrySchedule(got), ","); s != "0s,30s,5m0s" {
		t.Fatalf("FormatRetrySchedule = %s", s)
	}
	for _, bad := range [][]string{{"1s", "-1s"}, {"x"}, {"200h"}, make([]string, MaxRetryScheduleLen+1)} {
		if _, err := ParseRetrySchedule(bad); ErrorCode(err) != EINVALID || !strings.HasPrefix(ErrorParam(err), "retry_schedule") {
			t.Errorf("ParseRetrySchedule(%q) = %v", bad, err)
		}
	}
	// An empty entry is named as such, wherever it came from.
	if _, err := ParseRetrySchedule([]string{"5s", " ", "10s"}); ErrorParam(err) != "retry_schedule[1]" || !strings.Contains(ErrorMessage(err), "is empty") {
		t.Errorf("an empty entry: %v", err)
	}
	for in, want := range map[string]string{"none": "", " NONE ": "", "0s, 5m": "0s|5m"} {
		got, err := SplitRetrySchedule(in)
		if err != nil || got == nil || strings.Join(got, "|") != want {
			t.Errorf("SplitRetrySchedule(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"5s,,10s", "5s,", ",5s", " "} {
		if _, err := SplitRetrySchedule(in); err == nil || !strings.Contains(err.Error(), "is empty") {
			t.Errorf("SplitRetrySchedule(%q) = %v, want an empty entry refused", in, err)
		}
	}
	// For a form, an empty entry stays, for ParseRetrySchedule to name.
	for in, want := range map[string]string{" None ": "", "0s, 1m,,10m": "0s|1m||10m", "5s,": "5s|"} {
		if got := RetryScheduleEntries(in); got == nil || strings.Join(got, "|") != want {
			t.Errorf("RetryScheduleEntries(%q) = %q, want %q", in, got, want)
		}
	}
}

package inbound

import (
	"net/http"
	"testing"

	"github.com/hookline/hookline/internal/hookline"
)

func TestFilter(t *testing.T) {
	t.Parallel()
	jsonIn := func() *Input {
		return &Input{Method: "POST", Path: "/in/src_1", Query: "env=prod&x=1",
			Header: http.Header{"X-Github-Event": {"push"}, "Content-Type": {"application/json"}},
			Body:   []byte(`{"type":"payment_intent.succeeded","livemode":true,"amount":1200,"data":{"object":{"currency":"eur","items":[{"id":"it_1"}]}}}`)}
	}
	cases := []struct {
		name, filter string
		want         bool
	}{
		{"empty", ``, true},
		{"null", `null`, true},
		{"in with wildcard", `{"body.type": {"in": ["payment_intent.*"]}}`, true},
		{"bare array is in", `{"body.type": ["charge.*", "payment_intent.succeeded"]}`, true},
		{"in misses", `{"body.type": {"in": ["charge.*"]}}`, false},
		{"equals string", `{"body.type": "payment_intent.succeeded"}`, true},
		{"equals number", `{"body.amount": 1200}`, true},
		{"equals number differs", `{"body.amount": 1201}`, false},
		{"equals bool", `{"body.livemode": true}`, true},
		{"nested path and index", `{"body.data.object.items.0.id": "it_1"}`, true},
		{"prefix", `{"body.data.object.currency": {"prefix": "eu"}}`, true},
		{"exists", `{"body.data.object": {"exists": true}}`, true},
		{"not exists", `{"body.refund": {"exists": false}}`, true},
		{"exists fails", `{"body.refund": {"exists": true}}`, false},
		{"header any case", `{"headers.x-github-event": "push"}`, true},
		{"query", `{"query.env": {"in": ["prod", "staging"]}}`, true},
		{"all must hold", `{"query.env": "prod", "body.type": "charge.failed"}`, false},
		{"method", `{"method": "POST"}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseFilter([]byte(c.filter))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(jsonIn()); got != c.want {
				t.Fatalf("Match = %v, want %v", got, c.want)
			}
		})
	}
	// Form bodies are filtered by field too (Twilio, Slack commands).
	f, err := ParseFilter([]byte(`{"body.command": "/deploy"}`))
	if err != nil {
		t.Fatal(err)
	}
	form := &Input{Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte("command=%2Fdeploy&text=x")}
	if !f.Match(form) {
		t.Fatal("form field did not match")
	}
	if f.Match(&Input{Header: http.Header{}, Body: []byte{0xff, 0x00}}) {
		t.Fatal("binary body matched a body condition")
	}
}

func TestParseFilterErrors(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{`[1]`, `{"body": 1}`, `{"cookies.x": 1}`, `{"body.a": {"equals": 1, "in": [1]}}`,
		`{"body.a": {"like": "x"}}`, `{"body.a": {"in": "x"}}`, `{"body.a": {"exists": "yes"}}`, `{"body.a": {"prefix": 1}}`} {
		if _, err := ParseFilter([]byte(bad)); hookline.ErrorCode(err) != hookline.EINVALID {
			t.Errorf("ParseFilter(%s) = %v, want EINVALID", bad, err)
		}
	}
}

package cli

import "testing"

func TestParseForwardTo(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"8000", "http://localhost:8000/"},
		{"8000/webhook", "http://localhost:8000/webhook"},
		{"/webhook", "http://localhost/webhook"},
		{":3000/hooks?x=1", "http://localhost:3000/hooks?x=1"},
		{"localhost:8000/webhook", "http://localhost:8000/webhook"},
		{"localhost:8000/webhook?token=a&b=2", "http://localhost:8000/webhook?token=a&b=2"},
		{"127.0.0.1:9000", "http://127.0.0.1:9000/"},
		{"https://app.test:8443/in?k=v", "https://app.test:8443/in?k=v"},
		{"myapp.local/webhooks", "http://myapp.local/webhooks"},
		{"[::1]:8000/hook", "http://[::1]:8000/hook"},
		{"my_app:8000", "http://my_app:8000/"},
	}
	for _, tt := range tests {
		got, err := parseForwardTo("--forward-to", tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseForwardTo(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "ftp://x/y", "localhost:0/x", "localhost:70000", "99999", "99999/webhook", "0",
		"localhost:/x", "local host:8000", "-bad-.test:8000", "a..b/x", "http://exa mple.com/", "http://:8000/x"} {
		if got, err := parseForwardTo("--forward-to", bad); err == nil {
			t.Errorf("parseForwardTo(%q) = %q, want an error", bad, got)
		}
	}
}

func TestDestinationFirstMatchWins(t *testing.T) {
	t.Parallel()
	routes, err := parseRoutes([]string{"invoice.paid=9001/paid", "invoice.*=9000/billing", "*=9002"})
	if err != nil {
		t.Fatal(err)
	}
	for typ, want := range map[string]string{
		"invoice.paid":      "http://localhost:9001/paid",
		"invoice.finalized": "http://localhost:9000/billing",
		"charge.succeeded":  "http://localhost:9002/",
	} {
		if got := destination(routes, "http://fallback/", typ); got != want {
			t.Errorf("destination(%s) = %s, want %s", typ, got, want)
		}
	}
	if got := destination(routes[:1], "http://fallback/", "charge.succeeded"); got != "http://fallback/" {
		t.Errorf("no route matched but got %s, want the fallback", got)
	}
}

package listen

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httperr"
)

// TestTailCarriesMethod: the tail stream tells each attempt's method, so
// that `hookline tail` prints PUT for a forwarded PUT rather than POST.
func TestTailCarriesMethod(t *testing.T) {
	t.Parallel()
	attempts := app.NewTail()
	t.Cleanup(attempts.Close)
	tail := NewTail(app.New(app.Config{Tail: attempts}))
	srv := httptest.NewServer(httperr.Handler(slog.New(slog.DiscardHandler), tail.ServeStream))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), ": tailing") {
		t.Fatalf("stream starts with %q", lines.Text())
	}

	cases := []struct {
		name string
		req  *hookline.InboundRequest
		want string
	}{
		{"event", nil, "POST"},
		{"forwarded PUT", &hookline.InboundRequest{ID: "req_1", Method: "PUT"}, "PUT"},
		{"forwarded DELETE", &hookline.InboundRequest{ID: "req_2", Method: "DELETE"}, "DELETE"},
		{"forwarded, method unrecorded", &hookline.InboundRequest{ID: "req_3"}, "POST"},
	}
	for i, c := range cases {
		id := hookline.NewID("atm")
		attempts.OnAttempt(delivery.Result{
			Task: &hookline.Task{Event: &hookline.Event{ID: "evt_1", Type: "a.b"}, Request: c.req},
			Completion: hookline.Completion{Attempt: hookline.Attempt{
				ID: id, EventID: "evt_1", EndpointID: "ep_1", Attempt: 1, URL: "http://127.0.0.1:1/x",
				ResponseStatus: 200, Created: time.Now(),
			}},
		})
		var got TailEvent
		for lines.Scan() {
			if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				if err := json.Unmarshal([]byte(data), &got); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				break
			}
		}
		if got.AttemptID != id || got.Method != c.want {
			t.Errorf("case %d (%s): streamed %+v, want attempt %s with method %s", i, c.name, got, id, c.want)
		}
	}
}

package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/listen"
)

// TestPrintTailMethod: tail lines show the attempt's method, and POST for
// a server too old to send it.
func TestPrintTailMethod(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method, want string
	}{
		{"PUT", "PUT"},
		{"PATCH", "PATCH"},
		{"POST", "POST"},
		{"", "POST"},
	}
	for _, c := range cases {
		t.Run(c.want+"/"+c.method, func(t *testing.T) {
			t.Parallel()
			e := listen.TailEvent{
				AttemptID: "atm_1", EventID: "req_1", EventType: "/in/src_1", EndpointID: "ep_1",
				URL: "http://127.0.0.1:3000/hooks", Method: c.method, Attempt: 1, Status: 204, DurationMS: 7,
				Created: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixMilli(), Succeeded: true,
			}
			var text, js bytes.Buffer
			printTail(&lineWriter{w: &text}, e)
			if want := "] " + c.want + " http://127.0.0.1:3000/hooks [req_1] (7 ms)"; !strings.Contains(text.String(), want) {
				t.Errorf("text output %q lacks %q", text.String(), want)
			}
			printTail(&lineWriter{w: &js, json: true}, e)
			lines := strings.Split(strings.TrimSpace(js.String()), "\n")
			var resp lineEvent
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &resp); err != nil || resp.Kind != "response" || resp.Method != c.want {
				t.Errorf("json response line %q (%v): want kind response, method %s", lines[len(lines)-1], err, c.want)
			}
		})
	}
}

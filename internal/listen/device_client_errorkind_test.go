package listen

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// quietDisplay shows nothing.
type quietDisplay struct{}

func (quietDisplay) Arrived(Message)                                  {}
func (quietDisplay) Answered(Message, Message, string, time.Duration) {}
func (quietDisplay) Unrouted(Message)                                 {}
func (quietDisplay) Note(string, ...any)                              {}

// TestForwardErrorKind checks that the result a device sends back when its
// local app gave no answer says why in one word, decided from the error
// itself: the hub gets only text otherwise, and recorded every such attempt
// as "error" (issue 16, item 12).
func TestForwardErrorKind(t *testing.T) {
	t.Parallel()
	// An app that never answers, until the test ends (Close waits for it).
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hang.Close()
	defer close(release)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/hook"
	ln.Close() // nothing listens there any more: connections are refused

	for _, tc := range []struct {
		name, url, kind, msg string
	}{
		{"app too slow", hang.URL + "/hook", hookline.AttemptErrorTimeout, "the local app did not answer within 14 s"},
		{"app down", down, hookline.AttemptErrorRefused, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dc := &DeviceClient{Local: &http.Client{Timeout: 200 * time.Millisecond}, Display: quietDisplay{},
				Route: func(Message) string { return tc.url }}
			res := dc.forward(t.Context(), Message{Type: TypeDeliver, ID: "msg_1", EventID: "evt_1",
				EventType: "invoice.paid", Attempt: 1, Body: []byte(`{}`)})
			if res.Status != 0 || res.ErrorKind != tc.kind || !strings.Contains(res.Error, tc.msg) {
				t.Fatalf("result = status %d, error %q, kind %q; want no status, %q, kind %q", res.Status, res.Error, res.ErrorKind, tc.msg, tc.kind)
			}
		})
	}
}

package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

func TestIndentJSON(t *testing.T) {
	t.Parallel()
	past := strings.Repeat(`{"a":`, maxIndentDepth+1) + "1" + strings.Repeat("}", maxIndentDepth+1)
	atCap := strings.Repeat("[", maxIndentDepth) + strings.Repeat("]", maxIndentDepth) // innermost [] is on one line
	atCap2 := strings.Repeat("[", maxIndentDepth) + "1" + strings.Repeat("]", maxIndentDepth)
	wide := "[" + strings.Repeat(`"`+strings.Repeat("x", 1000)+`",`, maxIndentOutput/1000) + "0]"
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"object", `{"z":1,"a":[true,null,"x"]}`, true},
		{"empty containers stay on one line", `{"a":{},"b":[ ],"c":[{}]}`, true},
		{"strings keep escapes and brackets", `{"s":"a\"b\\c{[,:]}\\","u":"\u00e9\ud83d\ude00"}`, true},
		{"whitespace is replaced", " {\n\t\"a\" :  [1 , 2]\r\n} ", true},
		{"a scalar", `"just a string"`, true},
		{"numbers", `[-1.5e+10,0,3]`, true},
		{"nested to the cap", atCap, true},
		{"nested to the cap with a value", atCap2, true},
		{"nested past the cap", past, false},
		{"output past the cap", wide, false},
		{"not JSON", `{"a":`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := indentJSON([]byte(tc.in))
			if ok != tc.ok {
				t.Fatalf("indentJSON: ok %v, want %v", ok, tc.ok)
			}
			if !ok {
				if got != "" {
					t.Fatalf("declined, yet returned %d bytes", len(got))
				}
				return
			}
			var want bytes.Buffer
			if err := json.Indent(&want, []byte(strings.TrimSpace(tc.in)), "", "  "); err != nil {
				t.Fatal(err)
			}
			if got != want.String() {
				t.Fatalf("indentJSON(%q) =\n%s\nwant, as json.Indent,\n%s", tc.in, got, want.String())
			}
		})
	}
}

// nested returns a JSON document of size bytes (at least 60 KB) that nests
// objects 9,000 deep (json.Valid allows 10,000 levels): the shape that made
// json.Indent's output grow with the square of the depth.
func nested(size int) []byte {
	const depth = 9_000 // an event payload wraps data in one more level
	inner := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	pad := max(size-len(inner)-len(`{"pad":"","a":}`), 0)
	return []byte(`{"pad":"` + strings.Repeat("x", pad) + `","a":` + inner + "}")
}

// allocatedDuring reports the bytes the process allocated while f ran.
// The test calling it does not run in parallel, so the count is f's (and
// the server goroutines' it wakes).
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestNestedBodyPagesRenderWithinBudget opens the pages of an inbound
// request and of an event whose JSON nests as deep as JSON may, as an admin
// would, and bounds what rendering them allocates and sends. Before the
// bound, the 80 KB request page allocated about 800 MB.
//
// Not parallel: it measures the process's allocations.
func TestNestedBodyPagesRenderWithinBudget(t *testing.T) {
	const budget = 32 << 20 // bytes allocated per page
	d, srv := newTestDashboard(t)
	cookie := signIn(t, d)
	c := noRedirects()
	ctx := context.Background()

	body := nested(80 << 10)
	req := captured(t, d, hookline.RequestRejected, map[string][]string{"Content-Type": {"application/json"}}, body)

	now := time.Now()
	ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "nested.test", Created: now.Truncate(time.Second)}
	var err error
	if ev.Payload, err = hookline.NewEventPayload(ev.ID, ev.Type, ev.Created, "", nested(900<<10)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.store.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: now}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, path, note string }{
		{"inbound request", "/requests/" + req.ID, "shown as received"},
		{"event", "/events/" + ev.ID, "Shown as stored, not indented"},
	} {
		var resp *http.Response
		var page []byte
		alloc := allocatedDuring(func() { resp, page = get(t, c, srv.URL+tc.path, cookie) })
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s page: %s", tc.name, resp.Status)
		}
		if !bytes.Contains(page, []byte(tc.note)) || !bytes.Contains(page, []byte(`{&#34;a&#34;:{&#34;a&#34;:1}}`)) {
			t.Errorf("%s page lacks %q or the body as received", tc.name, tc.note)
		}
		t.Logf("%s page: %d bytes sent, %d MB allocated", tc.name, len(page), alloc>>20)
		if len(page) > 4<<20 {
			t.Errorf("%s page is %d bytes, over 4 MiB", tc.name, len(page))
		}
		if alloc > budget {
			t.Errorf("%s page allocated %d MB, over the %d MB budget", tc.name, alloc>>20, budget>>20)
		}
	}
}

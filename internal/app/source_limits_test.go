package app_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
)

// TestSourceLimitsNullRemovesThem: a source's limits follow the endpoint
// rule for optional objects: absent keeps them, an object replaces them,
// null removes them (the server's defaults, any address), and a value of
// the wrong shape is a 400 on limits, never ignored.
func TestSourceLimitsNullRemovesThem(t *testing.T) {
	t.Parallel()
	a, store, _ := newApp(t)
	ctx := t.Context()
	name, typ := "limited", hookline.SourceNone
	src, err := a.CreateSource(ctx, app.SourceParams{Name: &name, Type: &typ,
		Limits: json.RawMessage(`{"allowed_ips": ["192.0.2.0/24"], "requests_per_minute": 60}`)}, app.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	limited := hookline.SourceLimits{AllowedIPs: []string{"192.0.2.0/24"}, RequestsPerMinute: 60}
	stored := func(want hookline.SourceLimits) *hookline.Source {
		t.Helper()
		got, err := store.Source(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Limits, want) {
			t.Fatalf("stored limits %+v, want %+v", got.Limits, want)
		}
		return got
	}
	got := stored(limited)
	_, err = a.AdmitInbound(ctx, got, "127.0.0.1:1", 2, 1<<20)
	wantErr(t, err, hookline.EFORBIDDEN, "")

	renamed := "still-limited"
	if _, err := a.UpdateSource(ctx, src.ID, app.SourceParams{Name: &renamed}); err != nil {
		t.Fatal(err)
	}
	stored(limited)

	for _, tc := range []struct {
		name, limits, param string
	}{
		{"a number", `5`, "limits"},
		{"a string", `"none"`, "limits"},
		{"an unknown field", `{"requests_per_hour": 5}`, "limits.requests_per_hour"},
		{"a bad address", `{"allowed_ips": ["nope"]}`, "limits.allowed_ips"},
	} {
		_, err := a.UpdateSource(ctx, src.ID, app.SourceParams{Limits: json.RawMessage(tc.limits)})
		if hookline.ErrorCode(err) != hookline.EINVALID || hookline.ErrorParam(err) != tc.param {
			t.Errorf("limits %s: error %v, want %s on %s", tc.name, err, hookline.EINVALID, tc.param)
		}
		stored(limited)
	}

	up, err := a.UpdateSource(ctx, src.ID, app.SourceParams{Limits: json.RawMessage(`null`)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(up.Limits, hookline.SourceLimits{}) {
		t.Fatalf("answered limits %+v after null, want none", up.Limits)
	}
	got = stored(hookline.SourceLimits{})
	ticket, err := a.AdmitInbound(ctx, got, "127.0.0.1:1", 2, 1<<20)
	if err != nil {
		t.Fatalf("after limits: null, a request from outside the old allowed_ips: %v", err)
	}
	ticket.Done(2)
}

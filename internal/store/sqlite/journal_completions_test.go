package sqlite

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite/journal"
)

// TestCompletionRecordKeepsEveryField: a journaled completion decodes to
// the completion that was encoded, every field of its attempt included.
// The fields are filled by reflection, so that a field added to
// hookline.Attempt and left out of the record fails here, as ErrorKind
// once was. Breaker is not journaled: a completion that may move a
// circuit goes to SQLite (movesCircuit).
func TestCompletionRecordKeepsEveryField(t *testing.T) {
	t.Parallel()
	var a hookline.Attempt
	v := reflect.ValueOf(&a).Elem()
	at := time.UnixMilli(1_900_000_000_123).UTC()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch {
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(at.Add(time.Duration(i) * time.Second)))
		case f.Kind() == reflect.String:
			f.SetString(name + " value")
		case f.CanInt():
			f.SetInt(int64(100 + i))
		default:
			t.Fatalf("Attempt.%s is a %s: teach this test (and encodeCompletions) about it", name, f.Type())
		}
	}
	want := []hookline.Completion{{Status: hookline.DeliveryFailed, DisableEndpoint: "disabled for a reason", Attempt: a}}
	rec := encodeCompletions(want, 1_900_000_000_456)
	if rec[journal.RecordHeader] != recordCompletions {
		t.Fatalf("kind %q, want %q", rec[journal.RecordHeader], recordCompletions)
	}
	got, updated, err := decodeCompletions(rec[journal.RecordHeader+1:], true)
	if err != nil {
		t.Fatal(err)
	}
	if updated != 1_900_000_000_456 || !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %+v at %d,\nwant    %+v at 1900000000456", got, updated, want)
	}
}

// TestReplayedCompletionKeepsErrorKind: an attempt completed while its
// delivery is only in the journal keeps its error_kind through a crash and
// the replay of its record. A record of the layout before error kinds,
// left by a crash before an upgrade, still replays, its attempt without a
// kind.
//
// The completions are appended as CompleteTasks appends them (absorb):
// today a failed attempt goes to SQLite rather than to the journal,
// because it may move its endpoint's circuit, but the record must not
// depend on that to keep what it is given.
func TestReplayedCompletionKeepsErrorKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		encode func(hookline.Completion, int64) []byte
		want   string
	}{
		{"current layout", func(c hookline.Completion, at int64) []byte {
			return encodeCompletions([]hookline.Completion{c}, at)
		}, hookline.AttemptErrorTimeout},
		{"layout before error kinds", encodeCompletionV1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			dir := t.TempDir()
			path := filepath.Join(dir, "hookline.db")
			now := time.Now().UTC().Truncate(time.Millisecond)
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ep := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://example.test/", EnabledEvents: []string{"*"},
				Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x", Created: now, Updated: now}
			if err := s.CreateEndpoint(ctx, ep); err != nil {
				t.Fatal(err)
			}
			PauseFlushes(s)
			ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{}`)}
			ps, err := s.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: now, LeaseOwner: "n1", LeaseExpires: now.Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			c := hookline.Completion{Status: hookline.DeliveryPending, Attempt: hookline.Attempt{
				ID: hookline.NewID("atm"), DeliveryID: ps[0].Tasks[0].DeliveryID, EventID: ev.ID, EndpointID: ep.ID,
				Attempt: 1, Created: now, URL: ep.URL, DurationMS: 30_000, NextRetry: now.Add(time.Minute),
				Error: "timed out waiting for the endpoint", ErrorKind: hookline.AttemptErrorTimeout,
			}}
			s.jmu.Lock()
			durable, err := s.appendRecord(tc.encode(c, ms(now)))
			s.jmu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			if err := durable(); err != nil {
				t.Fatal(err)
			}
			crashed := t.TempDir() // the record is durable: SIGKILL now
			if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}

			r, err := Open(ctx, filepath.Join(crashed, "hookline.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			atts, _, err := r.ListAttempts(ctx, hookline.AttemptFilter{EventID: ev.ID})
			if err != nil || len(atts) != 1 {
				t.Fatalf("attempts after the crash = %+v, %v; want the journaled one", atts, err)
			}
			if a := atts[0]; a.ID != c.Attempt.ID || a.Error != c.Attempt.Error || a.ErrorKind != tc.want || !a.NextRetry.Equal(c.Attempt.NextRetry) {
				t.Errorf("attempt after the crash = %+v; want %s with error_kind %q", a, c.Attempt.ID, tc.want)
			}
			ds, err := r.Deliveries(ctx, ev.ID)
			if err != nil || len(ds) != 1 || ds[0].Status != hookline.DeliveryPending || ds[0].Attempts != 1 {
				t.Fatalf("deliveries after the crash = %+v, %v; want one pending after 1 attempt", ds, err)
			}
		})
	}
}

// encodeCompletionV1 encodes c in the layout of recordCompletionsV1, as
// a store before error kinds wrote it.
func encodeCompletionV1(c hookline.Completion, updated int64) []byte {
	a := &c.Attempt
	b := append(make([]byte, journal.RecordHeader), recordCompletionsV1)
	b = binary.AppendVarint(b, updated)
	b = binary.AppendUvarint(b, 1)
	for _, s := range []string{c.Status, c.DisableEndpoint, a.ID, a.DeliveryID, a.EventID, a.EndpointID} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, int64(a.Attempt))
	b = binary.AppendVarint(b, ms(a.Created))
	b = appendString(b, a.URL)
	b = binary.AppendVarint(b, int64(a.ResponseStatus))
	b = binary.AppendVarint(b, a.DurationMS)
	b = appendString(b, a.Error)
	b = appendString(b, a.ResponseBody)
	return binary.AppendVarint(b, ms(a.NextRetry))
}

package hookline

import (
	"slices"
	"testing"
	"time"
)

func TestFairOrder(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	type cand struct {
		name string
		due  time.Duration
	}
	busy := []cand{{"b1", 0}, {"b2", 1}, {"b3", 2}, {"b4", 3}}
	quiet := []cand{{"q1", 10}, {"q2", 11}}
	late := []cand{{"l1", 5}}
	tests := []struct {
		name  string
		lists [][]cand
		limit int
		want  []string
	}{
		{"round robin, by due within a round", [][]cand{busy, quiet, late}, 100, []string{"b1", "l1", "q1", "b2", "q2", "b3", "b4"}},
		{"a limit keeps the first rounds", [][]cand{busy, quiet, late}, 4, []string{"b1", "l1", "q1", "b2"}},
		{"one endpoint alone, oldest first", [][]cand{busy}, 3, []string{"b1", "b2", "b3"}},
		{"nothing", nil, 10, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FairOrder(tt.lists, func(c cand) time.Time { return t0.Add(c.due * time.Second) }, tt.limit)
			names := []string{}
			for _, c := range got {
				names = append(names, c.name)
			}
			if !slices.Equal(names, tt.want) {
				t.Fatalf("got %v, want %v", names, tt.want)
			}
		})
	}
}

func TestClaimRequestRoomAndLease(t *testing.T) {
	r := ClaimRequest{Limit: 50, Lease: 40 * time.Second, Timeout: 5 * time.Second, Held: map[string]int{"ep_a": 4}}
	tests := []struct {
		name          string
		id            string
		limit, others int
		want          int
	}{
		{"held counts", "ep_a", 10, 0, 6},
		{"other owners count", "ep_a", 10, 3, 3},
		{"full", "ep_a", 10, 6, 0},
		{"over full is none, not negative", "ep_a", 3, 5, 0},
		{"the claim's limit bounds it", "ep_b", 1000, 0, 50},
	}
	for _, tt := range tests {
		if got := r.Room(tt.id, tt.limit, tt.others); got != tt.want {
			t.Errorf("%s: Room = %d, want %d", tt.name, got, tt.want)
		}
	}
	if got := r.EndpointLease(&Endpoint{Timeout: 20 * time.Second}); got != 70*time.Second {
		t.Errorf("lease of an endpoint with a 20 s timeout: %s, want 70s", got)
	}
	if got := r.EndpointLease(&Endpoint{Timeout: 2 * time.Second}); got != 40*time.Second {
		t.Errorf("lease of an endpoint with a 2 s timeout: %s, want the default 40s", got)
	}
	if got := ConcurrencyOf(&Endpoint{}, 0); got != DefaultMaxConcurrency {
		t.Errorf("default concurrency %d", got)
	}
}

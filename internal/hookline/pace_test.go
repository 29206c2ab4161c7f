package hookline

import (
	"testing"
	"time"
)

func TestPaceRoom(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	limited := &Endpoint{RateLimit: &RateLimit{PerSecond: 4, Burst: 6}}
	for _, c := range []struct {
		name string
		ep   *Endpoint
		b    Bucket
		now  time.Time
		room int
		want int
	}{
		{"unpaced", &Endpoint{}, Bucket{}, t0, 10, 10},
		{"held", &Endpoint{}, Bucket{Until: t0.Add(time.Second)}, t0, 10, 0},
		{"hold over", &Endpoint{}, Bucket{Until: t0}, t0, 10, 10},
		{"never taken: full", limited, Bucket{}, t0, 10, 6},
		{"room below the tokens", limited, Bucket{}, t0, 2, 2},
		{"empty", limited, Bucket{Tokens: 0, At: t0}, t0, 10, 0},
		{"refilled a quarter second", limited, Bucket{Tokens: 0, At: t0}, t0.Add(250 * time.Millisecond), 10, 1},
		{"part of a token is none", limited, Bucket{Tokens: 0.5, At: t0}, t0.Add(100 * time.Millisecond), 10, 0},
		{"refill stops at the burst", limited, Bucket{Tokens: 0, At: t0}, t0.Add(time.Hour), 10, 6},
		{"held beats tokens", limited, Bucket{Tokens: 6, At: t0, Until: t0.Add(time.Second)}, t0, 10, 0},
		{"default burst: a second's worth", &Endpoint{RateLimit: &RateLimit{PerSecond: 2.5}}, Bucket{}, t0, 10, 3},
		{"default burst at least 1", &Endpoint{RateLimit: &RateLimit{PerSecond: 0.1}}, Bucket{}, t0, 10, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := PaceRoom(c.ep, c.b, c.now, c.room); got != c.want {
				t.Fatalf("PaceRoom = %d, want %d", got, c.want)
			}
		})
	}
}

func TestBucketTake(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rl := &RateLimit{PerSecond: 10, Burst: 5}
	ep := &Endpoint{RateLimit: rl}
	b := Bucket{}.Take(rl, t0, 5)
	if got := PaceRoom(ep, b, t0, 100); got != 0 {
		t.Fatalf("after taking the burst %d left", got)
	}
	if got := PaceRoom(ep, b, t0.Add(300*time.Millisecond), 100); got != 3 {
		t.Fatalf("300 ms later %d, want 3", got)
	}
	b = b.Take(rl, t0.Add(300*time.Millisecond), 2)
	if got := PaceRoom(ep, b, t0.Add(300*time.Millisecond), 100); got != 1 {
		t.Fatalf("after taking 2 of 3, %d left, want 1", got)
	}
	held := Bucket{Until: t0.Add(time.Minute)}
	if got := held.Take(nil, t0, 3); got != held {
		t.Fatalf("an unlimited endpoint's bucket changed: %+v", got)
	}
}

func TestFIFOCapsConcurrencyAtOne(t *testing.T) {
	if got := ConcurrencyOf(&Endpoint{Ordering: OrderingFIFO, MaxConcurrency: 50}, 10); got != 1 {
		t.Fatalf("a FIFO endpoint's cap is %d, want 1", got)
	}
	if !(&Endpoint{Ordering: OrderingFIFO}).Paced() || !(&Endpoint{RateLimit: &RateLimit{PerSecond: 1}}).Paced() || (&Endpoint{}).Paced() {
		t.Fatal("Paced is wrong")
	}
	o := PublishOptions{LeaseOwner: "n"}
	if o.Leases(&Endpoint{Ordering: OrderingFIFO}, 0) || !o.Leases(&Endpoint{}, 0) {
		t.Fatal("a publish leases a FIFO endpoint's delivery, or not an unordered one's")
	}
}

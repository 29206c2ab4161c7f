package hookline

import (
	"context"
	"time"
)

// StatsStore keeps per-minute aggregates of attempts, so that charts and
// per-endpoint health read a few thousand small rows instead of scanning
// attempts. Adapters update the aggregates in the same transaction as
// CompleteTasks records the attempts, so they never drift from them.
type StatsStore interface {
	// AttemptStats sums the attempts made from f.From (inclusive) to f.To
	// (exclusive) into buckets of f.Step, oldest first. Only buckets that
	// saw attempts are returned. f.EndpointID "" means every endpoint.
	// Returns EINVALID for a step that is not a positive whole number of
	// minutes.
	AttemptStats(ctx context.Context, f StatsFilter) ([]StatsBucket, error)
	// EndpointStats sums each listed endpoint's attempts since since; an
	// endpoint without attempts is missing from the map.
	EndpointStats(ctx context.Context, since time.Time, endpointIDs []string) (map[string]StatsBucket, error)
	// RecordBacklog stores a sample of the backlog taken at at, replacing
	// any sample of the same minute.
	RecordBacklog(ctx context.Context, at time.Time, b Backlog) error
	// BacklogStats returns the largest backlog and oldest-pending age
	// sampled in each bucket of f.Step from f.From to f.To, oldest first.
	// f.EndpointID is ignored.
	BacklogStats(ctx context.Context, f StatsFilter) ([]BacklogBucket, error)
	// PruneStats deletes aggregates and samples of minutes before before.
	PruneStats(ctx context.Context, before time.Time) error
	// FailedDeliveries returns up to limit failed deliveries of an endpoint
	// created in [from, to), in id order, after the delivery id after (""
	// for the start): the work of a bulk resend.
	FailedDeliveries(ctx context.Context, endpointID string, from, to time.Time, after string, limit int) ([]*Delivery, error)
}

// StatsFilter selects the range and bucket size of AttemptStats and
// BacklogStats.
type StatsFilter struct {
	EndpointID string
	From, To   time.Time
	Step       time.Duration // a whole number of minutes
}

// LatencyBounds are the upper bounds, in milliseconds, of the latency
// histogram buckets kept in the aggregates; a last bucket holds the rest.
var LatencyBounds = []int64{10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000}

// StatsBucket is the sum of the attempts of one time bucket.
type StatsBucket struct {
	Start     time.Time // the bucket's first minute (zero in EndpointStats)
	Attempts  int64
	Successes int64 // attempts that got a 2xx
	Failures  int64
	LatencyMS int64 // the sum of the attempts' durations
	// Latency counts the attempts per LatencyBounds bucket, plus one more
	// for those slower than the last bound.
	Latency []int64
}

// Add sums o into b (its Start is kept).
func (b *StatsBucket) Add(o StatsBucket) {
	b.Attempts += o.Attempts
	b.Successes += o.Successes
	b.Failures += o.Failures
	b.LatencyMS += o.LatencyMS
	if len(b.Latency) < len(LatencyBounds)+1 {
		b.Latency = append(b.Latency, make([]int64, len(LatencyBounds)+1-len(b.Latency))...)
	}
	for i, n := range o.Latency {
		b.Latency[i] += n
	}
}

// SuccessRate is Successes/Attempts, 0 without attempts.
func (b StatsBucket) SuccessRate() float64 {
	if b.Attempts == 0 {
		return 0
	}
	return float64(b.Successes) / float64(b.Attempts)
}

// Quantile estimates the q-quantile (0..1) of the latency in milliseconds
// from the histogram, interpolating linearly inside the bucket it falls
// in, as Prometheus's histogram_quantile does. It returns 0 without
// attempts; for the open last bucket, the last bound.
func (b StatsBucket) Quantile(q float64) float64 {
	var total int64
	for _, n := range b.Latency {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen int64
	for i, n := range b.Latency {
		if n == 0 || float64(seen+n) < rank {
			seen += n
			continue
		}
		if i >= len(LatencyBounds) {
			return float64(LatencyBounds[len(LatencyBounds)-1])
		}
		lo := 0.0
		if i > 0 {
			lo = float64(LatencyBounds[i-1])
		}
		hi := float64(LatencyBounds[i])
		return lo + (hi-lo)*(rank-float64(seen))/float64(n)
	}
	return float64(LatencyBounds[len(LatencyBounds)-1])
}

// LatencyBucket returns the index of the histogram bucket for ms.
func LatencyBucket(ms int64) int {
	for i, b := range LatencyBounds {
		if ms <= b {
			return i
		}
	}
	return len(LatencyBounds)
}

// BacklogBucket is the backlog sampled in one time bucket.
type BacklogBucket struct {
	Start       time.Time
	Pending     int64 // the largest sample
	OldestAgeMS int64 // the largest age of the oldest pending delivery
}

// StatsDelta is what a batch of completions adds to the aggregates of one
// endpoint (EndpointID "" for the total over all endpoints) in one minute.
type StatsDelta struct {
	Minute     int64 // unix minutes
	EndpointID string
	StatsBucket
}

// StatsMinute is t in whole Unix minutes, rounded down: the key of the
// per-minute aggregates and of the backlog samples.
func StatsMinute(t time.Time) int64 { return t.Unix() / 60 }

// StatsDeltas folds completions into per-minute, per-endpoint deltas, plus
// the per-minute totals under EndpointID "", in a stable order. lookup
// supplies the endpoint of an attempt that lacks one (from its delivery).
// Both adapters call it inside CompleteTasks's transaction.
func StatsDeltas(cs []Completion, lookup func(deliveryID string) (string, error)) ([]StatsDelta, error) {
	type key struct {
		minute   int64
		endpoint string
	}
	idx := map[key]int{}
	var out []StatsDelta
	add := func(k key, a *Attempt) {
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, StatsDelta{Minute: k.minute, EndpointID: k.endpoint,
				StatsBucket: StatsBucket{Latency: make([]int64, len(LatencyBounds)+1)}})
		}
		d := &out[i]
		d.Attempts++
		if a.Succeeded() {
			d.Successes++
		} else {
			d.Failures++
		}
		d.LatencyMS += a.DurationMS
		d.Latency[LatencyBucket(a.DurationMS)]++
	}
	for i := range cs {
		a := &cs[i].Attempt
		endpoint := a.EndpointID
		if endpoint == "" && lookup != nil {
			var err error
			if endpoint, err = lookup(a.DeliveryID); err != nil {
				return nil, err
			}
		}
		created := a.Created
		if created.IsZero() {
			created = time.Now()
		}
		minute := StatsMinute(created)
		add(key{minute, endpoint}, a)
		add(key{minute, ""}, a)
	}
	return out, nil
}

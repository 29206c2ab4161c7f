package hookline

import (
	"math"
	"testing"
)

func TestStatsBucketQuantile(t *testing.T) {
	t.Parallel()
	hist := func(ms ...int64) StatsBucket {
		b := StatsBucket{Latency: make([]int64, len(LatencyBounds)+1)}
		for _, m := range ms {
			b.Latency[LatencyBucket(m)]++
			b.Attempts++
		}
		return b
	}
	cases := []struct {
		name string
		b    StatsBucket
		q    float64
		want float64
	}{
		{"empty", hist(), 0.5, 0},
		{"one bucket, middle", hist(60, 70, 80, 90), 0.5, 75},    // 50..100, rank 2 of 4
		{"one bucket, top", hist(60, 70, 80, 90), 1, 100},        // the bucket's bound
		{"two buckets", hist(5, 5, 5, 5, 300, 300), 0.95, 462.5}, // 250..500, rank 5.7: 4 below, 1.7 of 2 inside
		{"slowest bucket", hist(40000), 0.5, 30000},              // open bucket: the last bound
		{"first bucket", hist(1, 2), 0.5, 5},                     // 0..10, rank 1 of 2
	}
	for _, c := range cases {
		if got := c.b.Quantile(c.q); math.Abs(got-c.want) > 0.001 {
			t.Errorf("%s: Quantile(%v) = %v, want %v", c.name, c.q, got, c.want)
		}
	}
}

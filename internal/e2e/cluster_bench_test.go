package e2e

import (
	"testing"
	"time"
)

// BenchmarkCluster measures delivered events per second, in one run, on
// SQLite (one node), on PostgreSQL with one node and with two nodes sharing
// the database: 32 concurrent publishers spread over the nodes, one
// loopback receiver. Run it with
//
//	go test ./internal/e2e -run '^$' -bench Cluster -benchtime 1x
func BenchmarkCluster(b *testing.B) {
	const (
		events     = 20000
		publishers = 32
	)
	for range b.N {
		rc := newBenchReceiver(b)
		rates := map[string]float64{}
		for _, c := range []struct {
			name  string
			nodes int
			pg    bool
		}{{"sqlite_1node", 1, false}, {"postgres_1node", 1, true}, {"postgres_2nodes", 2, true}} {
			b.StopTimer()
			var args []string
			if c.pg {
				args = []string{"--db", postgresDSN(b)}
			}
			var urls []string
			for range c.nodes {
				urls = append(urls, startBenchNode(b, 20*time.Second, args...))
			}
			createBenchEndpoint(b, urls[0], rc.url)
			b.StartTimer()
			rates[c.name] = throughputAcross(b, rc, urls, events, publishers)
			b.ReportMetric(rates[c.name], c.name+"_events/s")
		}
		b.Logf("delivered events/s: SQLite %.0f; PostgreSQL one node %.0f, two nodes %.0f",
			rates["sqlite_1node"], rates["postgres_1node"], rates["postgres_2nodes"])
	}
}

// throughputAcross is throughput with the publishers spread over several
// nodes.
func throughputAcross(b *testing.B, rc *benchReceiver, nodes []string, events, publishers int) float64 {
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = n + "/v1/events"
	}
	return throughput(b, rc, urls, testAPIKey, events, publishers)
}

package e2e

import (
	"bytes"
	"net/http"
	"testing"
	"time"
)

// BenchmarkRelayRateLimited measures what a rate limit costs when it never
// binds: one node's endpoint has no limit, another's a limit far above
// what the machine delivers (100,000/s, burst 100,000: the most allowed),
// so that only the path differs. A publish leases none of a limited endpoint's deliveries
// (the claims take them as tokens come), and on SQLite a claim that takes
// tokens goes through the writer. The two nodes take turns in alternating
// order for several rounds; the ratio limited ÷ unlimited of each round is
// reported, its median the result. Run it with
//
//	go test ./internal/e2e -run '^$' -bench RelayRateLimited -benchtime 1x
func BenchmarkRelayRateLimited(b *testing.B) {
	const (
		events     = 20000
		warmUp     = 2000
		rounds     = 4
		publishers = 32
	)
	rc := newBenchReceiver(b)
	free := startBenchNode(b, 10*time.Second)
	limited := startBenchNode(b, 10*time.Second)
	createBenchEndpoint(b, free, rc.url)
	createBenchEndpointJSON(b, limited, `{"url":"`+rc.url+`","rate_limit":{"per_second":100000,"burst":100000}}`)
	throughput(b, rc, []string{free + "/v1/events"}, testAPIKey, warmUp, publishers)
	throughput(b, rc, []string{limited + "/v1/events"}, testAPIKey, warmUp, publishers)
	var ratios []float64
	for r := range rounds {
		order := []string{free, limited}
		if r%2 == 1 {
			order = []string{limited, free}
		}
		got := map[string]float64{}
		for _, url := range order {
			got[url] = throughput(b, rc, []string{url + "/v1/events"}, testAPIKey, events, publishers)
		}
		ratios = append(ratios, got[limited]/got[free])
		b.Logf("round %d: unlimited %.0f events/s; limited %.0f events/s (%.2f×)", r, got[free], got[limited], got[limited]/got[free])
	}
	b.ReportMetric(median(ratios), "limited_vs_unlimited")
	b.Logf("median of %d rounds: a limit that never binds delivers %.2f× the unlimited rate", rounds, median(ratios))
}

// createBenchEndpointJSON creates an endpoint from a JSON body.
func createBenchEndpointJSON(b *testing.B, base, body string) {
	req, _ := http.NewRequest("POST", base+"/v1/endpoints", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		b.Fatalf("creating endpoint: %v %v", err, resp)
	}
	resp.Body.Close()
}

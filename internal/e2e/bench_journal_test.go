package e2e

import (
	"testing"
	"time"
)

// BenchmarkRelayJournal decides whether the SQLite journal pays for
// itself: a node with it and one without (--no-journal: each publish batch
// a synchronous=FULL transaction behind the same group commit) take turns,
// in alternating order, after the null relay in each round, and each is
// reported as a ratio to the null relay of its round, so that load from
// elsewhere on a shared machine cancels out. The journal stays while it
// delivers at least 20 % more. Run it with
//
//	go test ./internal/e2e -run '^$' -bench RelayJournal -benchtime 1x
func BenchmarkRelayJournal(b *testing.B) {
	const (
		events     = 20000
		warmUp     = 2000
		rounds     = 8
		publishers = 32
	)
	nullBin := buildNullRelay(b)
	rc := newBenchReceiver(b)
	relayURL, _ := startProcess(b, nullBin, "-addr", "127.0.0.1:0", "-target", rc.url)
	journal := startBenchNode(b, 10*time.Second)
	plain := startBenchNode(b, 10*time.Second, "--no-journal")
	createBenchEndpoint(b, journal, rc.url)
	createBenchEndpoint(b, plain, rc.url)
	throughput(b, rc, []string{relayURL + "/v1/events"}, "", warmUp, publishers)
	throughput(b, rc, []string{journal + "/v1/events"}, testAPIKey, warmUp, publishers)
	throughput(b, rc, []string{plain + "/v1/events"}, testAPIKey, warmUp, publishers)
	var jr, pr []float64
	for r := range rounds {
		order := []string{"journal", "plain"}
		if r%2 == 1 {
			order = []string{"plain", "journal"}
		}
		null := throughput(b, rc, []string{relayURL + "/v1/events"}, "", events, publishers)
		got := map[string]float64{}
		for _, name := range order {
			url := journal
			if name == "plain" {
				url = plain
			}
			got[name] = throughput(b, rc, []string{url + "/v1/events"}, testAPIKey, events, publishers)
		}
		jr, pr = append(jr, got["journal"]/null), append(pr, got["plain"]/null)
		b.Logf("round %d (%v after null): null %.0f/s; journal %.0f/s (%.3f×); plain %.0f/s (%.3f×); journal/plain %.3f",
			r, order, null, got["journal"], got["journal"]/null, got["plain"], got["plain"]/null, got["journal"]/got["plain"])
	}
	b.ReportMetric(median(jr), "journal_ratio")
	b.ReportMetric(median(pr), "plain_ratio")
	b.Logf("median ratio to null: journal %.3f×, plain %.3f×; journal/plain %.3f", median(jr), median(pr), median(jr)/median(pr))
}

package e2e

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkIsolation reproduces issue 18's measurement: 5,000 events of
// 1 KB from 32 publishers, delivered by `hookline serve --timeout 5s
// --retry-schedule 10m,10m`, counted at one healthy endpoint, in four
// set-ups measured in turn in the same run:
//
//   - alone: the healthy endpoint is the only one;
//   - four healthy: beside three more healthy endpoints (the issue's
//     baseline: every event fans out to four);
//   - bad elsewhere: beside three bad endpoints on another host
//     (127.0.0.2): one holds every request past the attempt timeout, one
//     refuses connections, one answers 500;
//   - bad same host: the same three on the healthy endpoint's host and port
//     (other paths), the refusing one on its host at a closed port (a port
//     that listens cannot refuse).
//
// Each node is new, so a set-up does not inherit another's backlog. It
// reports the median rate of each and the median ratios of the bad set-ups
// to the two baselines; issue 18's target is a ratio of at least 0.90.
// Run it with
//
//	go test ./internal/e2e -run '^$' -bench Isolation -benchtime 1x
func BenchmarkIsolation(b *testing.B) {
	const (
		events     = 5000
		rounds     = 3
		publishers = 32
	)
	other := net.JoinHostPort("127.0.0.2", "0")
	if ln, err := net.Listen("tcp", other); err != nil {
		b.Skipf("no second loopback address to put the bad endpoints on: %v", err)
	} else {
		ln.Close()
	}
	for range b.N {
		b.StopTimer()
		home := newIsolationReceiver(b, "127.0.0.1:0")
		away := newIsolationReceiver(b, other)
		homeRefused, awayRefused := closedPort(b, "127.0.0.1"), closedPort(b, "127.0.0.2")
		setups := []struct {
			name      string
			neighbors []string
		}{
			{"alone", nil},
			{"four_healthy", []string{home.base + "/ok1", home.base + "/ok2", home.base + "/ok3"}},
			{"bad_elsewhere", []string{away.base + "/hang", awayRefused + "/hook", away.base + "/fail"}},
			{"bad_same_host", []string{home.base + "/hang", homeRefused + "/hook", home.base + "/fail"}},
		}
		// A warm-up, so that the first set-up measured does not pay for
		// the page cache and the CPU's frequency.
		isolationRun(b, home, nil, events/5, publishers)
		b.StartTimer()

		rates := map[string][]float64{}
		var vsAlone, vsFour [2][]float64
		for range rounds {
			round := map[string]float64{}
			for _, s := range setups {
				round[s.name] = isolationRun(b, home, s.neighbors, events, publishers)
				rates[s.name] = append(rates[s.name], round[s.name])
			}
			for i, bad := range []string{"bad_elsewhere", "bad_same_host"} {
				vsAlone[i] = append(vsAlone[i], round[bad]/round["alone"])
				vsFour[i] = append(vsFour[i], round[bad]/round["four_healthy"])
			}
			b.Logf("round: alone %.0f/s; four healthy %.0f/s; bad elsewhere %.0f/s; bad same host %.0f/s",
				round["alone"], round["four_healthy"], round["bad_elsewhere"], round["bad_same_host"])
		}
		for _, s := range setups {
			b.ReportMetric(median(rates[s.name]), s.name+"_events/s")
		}
		b.ReportMetric(median(vsFour[0]), "ratio_elsewhere_vs_four")
		b.ReportMetric(median(vsFour[1]), "ratio_same_host_vs_four")
		b.ReportMetric(median(vsAlone[0]), "ratio_elsewhere_vs_alone")
		b.ReportMetric(median(vsAlone[1]), "ratio_same_host_vs_alone")
		b.Logf("median of %d rounds: healthy endpoint beside bad ones elsewhere %.2f× and on its host %.2f× its rate beside healthy ones (%.2f× and %.2f× its rate alone)",
			rounds, median(vsFour[0]), median(vsFour[1]), median(vsAlone[0]), median(vsAlone[1]))
	}
}

// isolationRun starts a node, creates the healthy endpoint and its
// neighbors, publishes events and returns the rate at which they reached
// the healthy endpoint. The node is stopped before it returns.
func isolationRun(b *testing.B, healthy *isolationReceiver, neighbors []string, events, publishers int) float64 {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", b.TempDir(), "--dev", "--log-level", "error",
		"--timeout", "5s", "--retry-schedule", "10m,10m"}
	url, stop := startProcess(b, binary, args...)
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("hookline did not become healthy")
		}
		time.Sleep(20 * time.Millisecond)
	}
	createBenchEndpoint(b, url, healthy.base+"/hook")
	for _, n := range neighbors {
		createBenchEndpoint(b, url, n)
	}
	return throughput(b, &healthy.benchReceiver, []string{url + "/v1/events"}, testAPIKey, events, publishers)
}

// isolationReceiver counts the requests to /hook (through the embedded
// benchReceiver, as throughput expects), answers 200 on /ok…, 500 on
// /fail, and holds requests to /hang until the sender gives up.
type isolationReceiver struct {
	benchReceiver
	base string
}

func newIsolationReceiver(b *testing.B, addr string) *isolationReceiver {
	rc := &isolationReceiver{}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 4096)
		for {
			if _, err := r.Body.Read(buf); err != nil {
				break
			}
		}
		switch {
		case r.URL.Path == "/hook":
			rc.count.Add(1)
		case r.URL.Path == "/fail":
			w.WriteHeader(500)
			return
		case r.URL.Path == "/hang":
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			return
		case strings.HasPrefix(r.URL.Path, "/ok"):
		default:
			w.WriteHeader(404)
			return
		}
		w.WriteHeader(200)
	})}
	go srv.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
	})
	rc.base = "http://" + ln.Addr().String()
	return rc
}

// closedPort returns http://host:port for a port on host that nothing
// listens on, so connections to it are refused.
func closedPort(b *testing.B, host string) string {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

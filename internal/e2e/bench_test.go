package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRelay measures Hookline against the null relay in the same run:
// 32 concurrent publishers of 1 KB events (benchData), one loopback
// receiver. Each is warmed up, then
// the two take turns for three rounds, so that a burst of load from
// elsewhere on a shared machine lands on one round of one of them, not on
// the whole measure. It reports the median delivered events per second of
// each, the median of the rounds' ratios, and publish→receipt latency at a
// steady 200 events/s. Run it with
//
//	go test ./internal/e2e -run '^$' -bench Relay -benchtime 1x
func BenchmarkRelay(b *testing.B) {
	const (
		events     = 20000
		warmUp     = 2000
		rounds     = 3
		publishers = 32
	)
	nullBin := buildNullRelay(b)
	for range b.N {
		rc := newBenchReceiver(b)
		b.StopTimer()
		relayURL, _ := startProcess(b, nullBin, "-addr", "127.0.0.1:0", "-target", rc.url)
		hl := startBenchNode(b, 10*time.Second)
		createBenchEndpoint(b, hl, rc.url)
		throughput(b, rc, []string{relayURL + "/v1/events"}, "", warmUp, publishers)
		throughput(b, rc, []string{hl + "/v1/events"}, testAPIKey, warmUp, publishers)
		b.StartTimer()

		var nullRates, hlRates, ratios []float64
		for range rounds {
			nullRate := throughput(b, rc, []string{relayURL + "/v1/events"}, "", events, publishers)
			hlRate := throughput(b, rc, []string{hl + "/v1/events"}, testAPIKey, events, publishers)
			nullRates, hlRates, ratios = append(nullRates, nullRate), append(hlRates, hlRate), append(ratios, hlRate/nullRate)
			b.Logf("round: null relay %.0f events/s; hookline %.0f events/s (%.2f×)", nullRate, hlRate, hlRate/nullRate)
		}
		p50, p99 := steadyLatency(b, rc, hl+"/v1/events", testAPIKey, 200, 5*time.Second)

		nullRate, hlRate, ratio := median(nullRates), median(hlRates), median(ratios)
		b.ReportMetric(nullRate, "null_events/s")
		b.ReportMetric(hlRate, "hookline_events/s")
		b.ReportMetric(ratio, "ratio")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
		b.Logf("median of %d rounds: null relay %.0f events/s; hookline %.0f events/s; ratio %.2f×; latency at 200/s p50 %s p99 %s",
			rounds, nullRate, hlRate, ratio, p50, p99)
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

var nullRelayOnce struct {
	sync.Once
	path string
	err  error
}

func buildNullRelay(b *testing.B) string {
	nullRelayOnce.Do(func() {
		nullRelayOnce.path = filepath.Join(filepath.Dir(binary), "nullrelay")
		out, err := exec.Command("go", "build", "-o", nullRelayOnce.path, "github.com/hookline/hookline/internal/bench/nullrelay").CombinedOutput()
		if err != nil {
			nullRelayOnce.err = fmt.Errorf("%v: %s", err, out)
		}
	})
	if nullRelayOnce.err != nil {
		b.Fatal(nullRelayOnce.err)
	}
	return nullRelayOnce.path
}

// startProcess runs a binary that prints "listening on http://ADDR".
func startProcess(b *testing.B, bin string, args ...string) (string, func()) {
	cmd := exec.Command(bin, args...)
	// Every benchmark node gets the same sealing key, as nodes sharing a
	// PostgreSQL database must: with a key file per data directory, the
	// second node could not read the secrets the first one sealed.
	cmd.Env = append(os.Environ(), "HOOKLINE_API_KEY="+testAPIKey, "HOOKLINE_SECRET_KEY="+testSecretKey)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, out)
			stop := func() { cmd.Process.Kill(); cmd.Wait() }
			b.Cleanup(stop)
			return m[1], stop
		}
	}
	b.Fatalf("%s did not start", bin)
	return "", nil
}

// startBenchNode runs a dev `hookline serve` with extra args until the
// benchmark ends and returns its URL once /healthz answers 200, failing the
// benchmark if that takes longer than healthy.
func startBenchNode(b *testing.B, healthy time.Duration, args ...string) string {
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--data", b.TempDir(), "--dev", "--log-level", "warn"}, args...)
	url, _ := startProcess(b, binary, args...)
	deadline := time.Now().Add(healthy)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatal("hookline did not become healthy")
	return ""
}

func createBenchEndpoint(b *testing.B, base, target string) {
	createBenchEndpointJSON(b, base, `{"url":"`+target+`"}`)
}

// benchReceiver counts deliveries and measures publish→receipt latency from
// the publish time carried in each body ("t":<unix nanos>).
type benchReceiver struct {
	url   string
	count atomic.Int64
	mu    sync.Mutex
	lat   []time.Duration
}

func newBenchReceiver(b *testing.B) *benchReceiver {
	rc := &benchReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if i := bytes.Index(body, []byte(`"t":`)); i >= 0 {
			rest := body[i+4:]
			end := bytes.IndexAny(rest, ",}")
			if ns, err := strconv.ParseInt(string(rest[:end]), 10, 64); err == nil && ns > 0 {
				d := time.Since(time.Unix(0, ns))
				rc.mu.Lock()
				rc.lat = append(rc.lat, d)
				rc.mu.Unlock()
			}
		}
		rc.count.Add(1)
		w.WriteHeader(200)
	})}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	rc.url = "http://" + ln.Addr().String() + "/hook"
	return rc
}

func (rc *benchReceiver) reset() {
	rc.count.Store(0)
	rc.mu.Lock()
	rc.lat = rc.lat[:0]
	rc.mu.Unlock()
}

func benchClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 64}}
}

// benchData is the rest of a benchmark event's data after its "t" field:
// a small Stripe invoice.paid, so that with the envelope an event is about
// 1 KB, the size real webhooks start at.
const benchData = `,"object":"invoice","account_country":"US","account_name":"Hookline Bench, Inc.",` +
	`"amount_due":4200,"amount_paid":4200,"amount_remaining":0,"attempt_count":1,"attempted":true,` +
	`"billing_reason":"subscription_cycle","collection_method":"charge_automatically","currency":"usd",` +
	`"customer":"cus_R3kq9Vd8lLw2Xa","customer_email":"jenny.rosen@example.com","customer_name":"Jenny Rosen",` +
	`"hosted_invoice_url":"https://invoice.example.com/i/acct_1Nv0FGQ9RKHgCVdK/test_YWNjdF8xTnYwRkdROVJLSGdDVmRLLF9SM2txOVZkOGxMdzJYYQ",` +
	`"lines":{"object":"list","data":[{"id":"il_1QBdyMQ9RKHgCVdK","object":"line_item","amount":4200,` +
	`"currency":"usd","description":"1 × Pro plan (at $42.00 / month)","period":{"end":1798761600,"start":1796083200},` +
	`"price":{"id":"price_1Nv0HbQ9RKHgCVdKp2Wc","product":"prod_OiQ7cAbCdEfGhI","unit_amount":4200},"quantity":1}],` +
	`"has_more":false,"total_count":1},"number":"B7A3C1D2-0042","paid":true,"period_end":1796083200,` +
	`"period_start":1793404800,"status":"paid","subscription":"sub_1Nv0IcQ9RKHgCVdKxYz","subtotal":4200,"tax":0,` +
	`"total":4200,"metadata":{"order_id":"6735","plan":"pro"}}`

func publishOne(c *http.Client, url, key string, t int64) error {
	body := `{"type":"bench.event","data":{"t":` + strconv.FormatInt(t, 10) + benchData + `}`
	req, _ := http.NewRequest("POST", url, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		return fmt.Errorf("publish answered %d", resp.StatusCode)
	}
	return nil
}

// throughput publishes events from concurrent publishers, publisher p
// posting to urls[p%len(urls)], and returns delivered events per second,
// publish start to last receipt.
func throughput(b *testing.B, rc *benchReceiver, urls []string, key string, events, publishers int) float64 {
	rc.reset()
	c := benchClient()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := urls[p%len(urls)]
			for next.Add(1) <= int64(events) {
				if err := publishOne(c, url, key, 0); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Minute)
	for rc.count.Load() < int64(events) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d delivered", rc.count.Load(), events)
		}
		time.Sleep(time.Millisecond)
	}
	return float64(events) / time.Since(start).Seconds()
}

// steadyLatency publishes at rate per second for d and returns the p50 and
// p99 publish→receipt latency.
func steadyLatency(b *testing.B, rc *benchReceiver, url, key string, rate int, d time.Duration) (time.Duration, time.Duration) {
	rc.reset()
	c := benchClient()
	total := int(d.Seconds() * float64(rate))
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for range total {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := publishOne(c, url, key, time.Now().UnixNano()); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for rc.count.Load() < int64(total) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	rc.mu.Lock()
	lat := slices.Clone(rc.lat)
	rc.mu.Unlock()
	if len(lat) == 0 {
		b.Fatal("no latency samples")
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100]
}

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

// listenProc is a running `hookline listen`.
type listenProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    *syncBuffer
	Secret string
	exited chan struct{}
}

var readyRE = regexp.MustCompile(`> Ready! Your webhook signing secret is (whsec_\S+) \(\^C to quit\)`)

// startListen runs the real binary's listen against server with args.
func startListen(t *testing.T, server string, args ...string) *listenProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"listen", "--server", server}, args...)...)
	cmd.Env = append(os.Environ(), "HOOKLINE_API_KEY="+testAPIKey)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &listenProc{t: t, cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting listen: %v", err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(p.out, sc.Text())
			if m := readyRE.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
	}()
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.stop)
	select {
	case p.Secret = <-ready:
	case <-p.exited:
		t.Fatalf("listen exited at start:\n%s", p.out)
	case <-time.After(15 * time.Second):
		t.Fatalf("listen not ready:\n%s", p.out)
	}
	return p
}

// stop ends listen as ^C would.
func (p *listenProc) stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// hookline runs a client command of the real binary and returns its stdout.
func runCLI(t *testing.T, server string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append(args, "--server", server)...)
	cmd.Env = append(os.Environ(), "HOOKLINE_API_KEY="+testAPIKey)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("hookline %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return string(out)
}

// verifyingReceiver is a local app that verifies every request with the
// public receiver library, as a developer's handler would.
type verifyingReceiver struct {
	URL    string
	mu     sync.Mutex
	secret string
	got    []delivered
}

type delivered struct {
	Path     string
	ID, Type string
	Err      error // the verification's outcome
}

func newVerifyingReceiver(t *testing.T) *verifyingReceiver {
	t.Helper()
	vr := &verifyingReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		vr.mu.Lock()
		defer vr.mu.Unlock()
		d := delivered{Path: r.URL.RequestURI()}
		v, err := webhook.NewVerifier(vr.secret)
		if err == nil {
			err = v.Verify(r.Header, body)
		}
		d.Err = err
		var ev struct{ ID, Type string }
		if jerr := json.Unmarshal(body, &ev); jerr != nil && d.Err == nil {
			d.Err = jerr
		}
		d.ID, d.Type = ev.ID, ev.Type
		vr.got = append(vr.got, d)
		if d.Err != nil {
			http.Error(w, d.Err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	vr.URL = "http://" + ln.Addr().String()
	return vr
}

func (vr *verifyingReceiver) setSecret(s string) {
	vr.mu.Lock()
	defer vr.mu.Unlock()
	vr.secret = s
}

func (vr *verifyingReceiver) all() []delivered {
	vr.mu.Lock()
	defer vr.mu.Unlock()
	return slices.Clone(vr.got)
}

// distinct returns the ids of verified deliveries, first arrival order.
func (vr *verifyingReceiver) distinct() []string {
	var ids []string
	for _, d := range vr.all() {
		if d.Err == nil && !slices.Contains(ids, d.ID) {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var publishedRE = regexp.MustCompile(`published (\S+) \[(evt_\w+)\]`)

func TestListenDeliversTriggerFlowInOrder(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	app := newVerifyingReceiver(t)
	tail := exec.Command(binary, "tail", "--server", n.URL, "--format", "json", "--type", "charge.*")
	tail.Env = append(os.Environ(), "HOOKLINE_API_KEY="+testAPIKey)
	tailOut := &syncBuffer{}
	tail.Stdout = tailOut
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tail.Process.Kill(); tail.Wait() })

	l := startListen(t, n.URL, "--name", "flow", "--forward-to", app.URL+"/webhook?src=hookline")
	app.setSecret(l.Secret)
	waitFor(t, 5*time.Second, "tail to connect", func() bool { return strings.Contains(tailOut.String(), "Tailing attempts") })

	out := runCLI(t, n.URL, "trigger", "payment_intent.succeeded")
	if !strings.HasSuffix(strings.TrimSpace(out), "Trigger succeeded!") {
		t.Fatalf("trigger said:\n%s", out)
	}
	var wantIDs, wantTypes []string
	for _, m := range publishedRE.FindAllStringSubmatch(out, -1) {
		wantTypes, wantIDs = append(wantTypes, m[1]), append(wantIDs, m[2])
	}
	if want := []string{"payment_intent.created", "charge.succeeded", "payment_intent.succeeded"}; !slices.Equal(wantTypes, want) {
		t.Fatalf("trigger published %v, want %v", wantTypes, want)
	}
	waitFor(t, 10*time.Second, "3 deliveries", func() bool { return len(app.all()) >= 3 })
	got := app.all()
	for i, d := range got[:3] {
		if d.Err != nil {
			t.Errorf("delivery %d did not verify: %v", i+1, d.Err)
		}
		if d.ID != wantIDs[i] || d.Type != wantTypes[i] {
			t.Errorf("delivery %d is %s %s, want %s %s (in publish order)", i+1, d.Type, d.ID, wantTypes[i], wantIDs[i])
		}
		if d.Path != "/webhook?src=hookline" {
			t.Errorf("delivery %d went to %s; the query string must be kept", i+1, d.Path)
		}
	}
	// Each forward's result is the server's attempt.
	for _, id := range wantIDs {
		waitFor(t, 5*time.Second, "attempt of "+id, func() bool {
			as := n.attempts("/v1/events/" + id + "/attempts")
			return len(as) == 1 && as[0].ResponseStatus == 200
		})
	}
	waitFor(t, 5*time.Second, "listen's response lines", func() bool {
		return strings.Count(l.out.String(), "  <--  [200] POST "+app.URL+"/webhook?src=hookline [evt_") == 3
	})
	if !strings.Contains(l.out.String(), "   --> charge.succeeded ["+wantIDs[1]+"]") {
		t.Errorf("listen did not print the event line:\n%s", l.out)
	}
	// tail --type charge.* saw the charge and nothing else.
	waitFor(t, 5*time.Second, "tail line", func() bool { return strings.Contains(tailOut.String(), wantIDs[1]) })
	if strings.Contains(tailOut.String(), wantIDs[0]) {
		t.Errorf("tail --type charge.* showed a payment_intent event:\n%s", tailOut)
	}
}

func TestListenRoutesInvoicesElsewhere(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	app, billing := newVerifyingReceiver(t), newVerifyingReceiver(t)
	l := startListen(t, n.URL, "--name", "routes", "--forward-to", app.URL+"/webhook",
		"--forward", "invoice.*="+strings.TrimPrefix(billing.URL, "http://")+"/billing")
	app.setSecret(l.Secret)
	billing.setSecret(l.Secret)

	out := runCLI(t, n.URL, "trigger", "invoice.paid")
	total := len(publishedRE.FindAllString(out, -1))
	waitFor(t, 10*time.Second, "every event", func() bool { return len(app.distinct())+len(billing.distinct()) == total })
	for _, d := range billing.all() {
		if !strings.HasPrefix(d.Type, "invoice.") || d.Path != "/billing" || d.Err != nil {
			t.Errorf("billing got %s at %s (verify: %v)", d.Type, d.Path, d.Err)
		}
	}
	for _, d := range app.all() {
		if strings.HasPrefix(d.Type, "invoice.") || d.Path != "/webhook" || d.Err != nil {
			t.Errorf("the fallback got %s at %s (verify: %v)", d.Type, d.Path, d.Err)
		}
	}
	if len(billing.distinct()) == 0 || len(app.distinct()) == 0 {
		t.Fatalf("billing got %d, the app %d: both should get some", len(billing.distinct()), len(app.distinct()))
	}
}

func TestListenLosesNothingWhenTheServerRestarts(t *testing.T) {
	t.Parallel()
	addr := freePort(t)
	n := startNode(t, t.TempDir(), "--dev", "--addr", addr)
	app := newVerifyingReceiver(t)
	l := startListen(t, n.URL, "--name", "restart", "--forward-to", app.URL)
	app.setSecret(l.Secret)

	var ids []string
	for i := range 10 {
		ids = append(ids, n.publish("order.created", map[string]any{"n": i}).ID)
	}
	n.kill() // SIGKILL right after the last publish was stored, deliveries in flight
	waitFor(t, 10*time.Second, "listen to notice", func() bool { return strings.Contains(l.out.String(), "> Lost the connection") })
	n.restart()
	for i := range 5 {
		ids = append(ids, n.publish("order.created", map[string]any{"after": i}).ID)
	}
	waitFor(t, 20*time.Second, "all 15 events", func() bool { return len(app.distinct()) == 15 })
	if got := app.distinct(); !sameSet(got, ids) {
		t.Fatalf("received %v, want %v", got, ids)
	}
	for _, d := range app.all() {
		if d.Err != nil {
			t.Errorf("%s did not verify: %v", d.ID, d.Err)
		}
	}
	if !strings.Contains(l.out.String(), "> Reconnected after") {
		t.Errorf("listen did not say it reconnected:\n%s", l.out)
	}
}

func TestListenGetsEventsPublishedWhileStopped(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	app := newVerifyingReceiver(t)
	first := startListen(t, n.URL, "--name", "laptop", "--forward-to", app.URL)
	first.stop()

	var ids []string
	for i := range 3 {
		ids = append(ids, n.publish("customer.created", map[string]any{"n": i}).ID)
	}
	// While the device is away its deliveries wait without spending attempts.
	time.Sleep(1500 * time.Millisecond)
	for _, id := range ids {
		if as := n.attempts("/v1/events/" + id + "/attempts"); len(as) != 0 {
			t.Fatalf("%s has %d attempts while listen was stopped; want none", id, len(as))
		}
	}
	if app.all() != nil {
		t.Fatal("the app got requests while listen was stopped")
	}

	second := startListen(t, n.URL, "--name", "laptop", "--forward-to", app.URL)
	if second.Secret != first.Secret {
		t.Fatalf("secret changed across restarts: %s, then %s", first.Secret, second.Secret)
	}
	app.setSecret(second.Secret)
	waitFor(t, 10*time.Second, "the 3 events", func() bool { return len(app.distinct()) == 3 })
	if got := app.distinct(); !slices.Equal(got, ids) {
		t.Errorf("received %v, want %v in publish order", got, ids)
	}
	// events resend can target the listen session: the device is an endpoint.
	m := regexp.MustCompile(`Device laptop is endpoint (ep_\w+)`).FindStringSubmatch(second.out.String())
	if m == nil {
		t.Fatalf("listen did not print its endpoint:\n%s", second.out)
	}
	if out := runCLI(t, n.URL, "events", "resend", ids[0], "--endpoint", m[1]); !strings.Contains(out, "Resending "+ids[0]+" to "+m[1]) {
		t.Fatalf("resend said %q", out)
	}
	waitFor(t, 10*time.Second, "the resent event", func() bool { return len(app.all()) == 4 })
	if d := app.all()[3]; d.ID != ids[0] || d.Err != nil {
		t.Errorf("resent delivery is %s (verify: %v), want %s", d.ID, d.Err, ids[0])
	}
	secret := strings.TrimSpace(runCLI(t, n.URL, "listen", "--name", "laptop", "--print-secret"))
	if secret != first.Secret {
		t.Errorf("--print-secret printed %q, want %q", secret, first.Secret)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

package e2e

import (
	"bufio"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The README's own instructions, followed as a newcomer would (issue 16,
// items 4 and 6).

// cleanEnv is the environment without any HOOKLINE_ variable, as a new
// user's shell has it.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKLINE_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// goBuild builds a package of this module into dir and returns the binary.
func goBuild(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

var evtRE = regexp.MustCompile(`Published (evt_\w+)`)

// TestQuickStart runs the Quick start: serve --dev in a directory, and in
// the same directory, with no HOOKLINE_API_KEY, the example receiver, an
// endpoint for it, a publish and the attempts, which show a 200 that the
// receiver printed. Its URL is not the Develop section's, so a handler
// running there gets nothing twice.
func TestQuickStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	receiver := goBuild(t, t.TempDir(), "github.com/hookline/hookline/examples/receiver")

	serve := exec.Command(binary, "serve", "--dev", "--addr", "127.0.0.1:0")
	serve.Dir, serve.Env = dir, cleanEnv()
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	lines := bufio.NewScanner(stdout)
	var server, printedKey string
	for server == "" && lines.Scan() {
		if m := regexp.MustCompile(`Your API key \(shown once; also kept in (\S+)\): (\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			printedKey = m[2]
		}
		if m := listenRE.FindStringSubmatch(lines.Text()); m != nil {
			server = m[1]
		}
	}
	go func() {
		for lines.Scan() {
		}
	}()
	if server == "" || printedKey == "" {
		t.Fatalf("serve printed no address or key (server %q, key %q)", server, printedKey)
	}
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, append(args, "--server", server)...)
		cmd.Dir, cmd.Env = dir, cleanEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hookline %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	addr := freePort(t)
	recv := exec.Command(receiver, "-addr", addr)
	recv.Env = cleanEnv("WEBHOOK_SECRET=" + secret)
	got := &syncBuffer{}
	recv.Stdout, recv.Stderr = got, got
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { recv.Process.Kill(); recv.Wait() })
	waitFor(t, 10*time.Second, "the receiver", func() bool { return strings.Contains(got.String(), "receiving webhooks on") })

	url := "http://" + addr + "/quickstart"
	cli("endpoints", "create", "--url", url, "--events", "invoice.*", "--secret", secret)
	m := evtRE.FindStringSubmatch(cli("events", "publish", "invoice.paid", "--data", `{"invoice": "in_123", "amount_paid": 4200}`))
	if m == nil {
		t.Fatal("publish printed no event id")
	}
	waitFor(t, 10*time.Second, "the receiver to print the event", func() bool {
		return strings.Contains(got.String(), "verified invoice.paid "+m[1]+" at /quickstart")
	})
	waitFor(t, 10*time.Second, "a 200 among the attempts", func() bool {
		return regexp.MustCompile(`ep_\w+ +1 +200 `).MatchString(cli("events", "attempts", m[1])) // attempt 1, status 200
	})
}

// TestInstallAndUseFromAnotherModule follows the README's Install section:
// `go install ./cmd/hookline` puts a working hookline in GOBIN, and a
// module elsewhere uses the webhook package through a replace directive
// before it is published, building offline from the module cache.
func TestInstallAndUseFromAnotherModule(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	gobin := t.TempDir()
	install := exec.Command("go", "install", "./cmd/hookline")
	install.Dir, install.Env = root, append(os.Environ(), "GOBIN="+gobin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install ./cmd/hookline: %v\n%s", err, out)
	}
	if out, err := exec.Command(filepath.Join(gobin, "hookline"), "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), "hookline version") {
		t.Fatalf("installed hookline --version: %v\n%s", err, out)
	}

	app := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(app, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("main.go", `package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/hookline/hookline/webhook"
)

func main() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	v, err := webhook.NewVerifier(secret)
	if err != nil {
		panic(err)
	}
	s, _ := webhook.NewSigner(secret)
	body := `+"`"+`{"type":"invoice.paid"}`+"`"+`
	now := time.Now()
	r := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(body))
	r.Header.Set(webhook.HeaderID, "msg_1")
	r.Header.Set(webhook.HeaderTimestamp, fmt.Sprint(now.Unix()))
	r.Header.Set(webhook.HeaderSignature, s.Sign("msg_1", now, []byte(body)))
	w := httptest.NewRecorder()
	v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(w, r)
	fmt.Println("status", w.Code)
}
`)
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		// GOFLAGS=-mod=mod lets go add what go.sum lacks; GOPROXY=off
		// proves nothing is fetched: the README's steps work before
		// publication and offline.
		cmd.Dir, cmd.Env = app, append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=-mod=mod", "GOSUMDB=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// The README's commands, with the clone's path.
	goCmd("mod", "init", "example.com/receiver")
	goCmd("mod", "edit", "-require", "github.com/hookline/hookline@v0.0.0", "-replace", "github.com/hookline/hookline="+root)
	goCmd("mod", "tidy")
	if out := goCmd("run", "."); strings.TrimSpace(out) != "status 200" {
		t.Fatalf("the other module's receiver said %q, want status 200", out)
	}
}

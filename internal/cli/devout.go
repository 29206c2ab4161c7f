package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// lineWriter prints the developer loop's event and response lines, shared
// by listen and tail: text with local times (coloured on a terminal), or
// one JSON object per line. Safe for concurrent use.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	json   bool
	colour bool
}

func newLineWriter(env Env, format string) *lineWriter {
	return &lineWriter{w: env.Stdout, json: format == "json", colour: isTerminal(env.Stdout) && env.Getenv("NO_COLOR") == ""}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const timeLayout = "2006-01-02 15:04:05"

// lineEvent is one line of --format json output.
type lineEvent struct {
	Time       string `json:"time"`
	Kind       string `json:"kind"` // "event", "request", "response", "error" or "status"
	EventType  string `json:"event_type,omitempty"`
	EventID    string `json:"event_id,omitempty"`
	Method     string `json:"method,omitempty"`
	URL        string `json:"url,omitempty"`
	Status     int    `json:"status,omitempty"`
	DurationMS *int64 `json:"duration_ms,omitempty"`
	Attempt    int    `json:"attempt,omitempty"`
	Tenant     string `json:"tenant,omitempty"` // a connect event's tenant (listen)
	EndpointID string `json:"endpoint_id,omitempty"`
	Source     string `json:"source,omitempty"` // a forwarded request's source
	Error      string `json:"error,omitempty"`
	Message    string `json:"message,omitempty"`
}

func (lw *lineWriter) emit(text string, ev lineEvent) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.json {
		b, _ := json.Marshal(ev) // plain struct: cannot fail
		fmt.Fprintf(lw.w, "%s\n", b)
		return
	}
	fmt.Fprintln(lw.w, text)
}

// event prints "2026-11-23 15:31:18   --> payment_intent.created [evt_…]",
// or, for an event with a tenant (a connected account), as Stripe's CLI
// marks connect events, "--> connect payment_intent.created [evt_…] (tenant acct_1)".
func (lw *lineWriter) event(at time.Time, typ, id string, extra lineEvent) {
	ts := at.Local().Format(timeLayout)
	extra.Time, extra.Kind, extra.EventType, extra.EventID = at.Format(time.RFC3339Nano), "event", typ, id
	if extra.Tenant != "" {
		lw.emit(fmt.Sprintf("%s   --> connect %s [%s] (tenant %s)", ts, typ, id, extra.Tenant), extra)
		return
	}
	lw.emit(fmt.Sprintf("%s   --> %s [%s]", ts, typ, id), extra)
}

// response prints "2026-11-23 15:31:18  <--  [200] POST http://… [evt_…] (12 ms)"
// or, when no answer came, the error on its own line.
func (lw *lineWriter) response(at time.Time, status int, url, id string, d time.Duration, errText string, extra lineEvent) {
	ts := at.Local().Format(timeLayout)
	ms := d.Milliseconds()
	if extra.Method == "" { // events are POSTed; a forwarded request keeps its method
		extra.Method = "POST"
	}
	extra.Time, extra.EventID, extra.URL, extra.Status, extra.DurationMS, extra.Error =
		at.Format(time.RFC3339Nano), id, url, status, &ms, errText
	if status == 0 {
		extra.Kind = "error"
		lw.emit(fmt.Sprintf("%s            [ERROR] Failed to %s %s [%s]: %s", ts, extra.Method, url, id, errText), extra)
		return
	}
	extra.Kind = "response"
	lw.emit(fmt.Sprintf("%s  <--  [%s] %s %s [%s] (%d ms)", ts, lw.status(status), extra.Method, url, id, ms), extra)
}

// note prints a status line such as "> Reconnected".
func (lw *lineWriter) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	lw.emit("> "+msg, lineEvent{Time: time.Now().Format(time.RFC3339Nano), Kind: "status", Message: msg})
}

// status colours a status code: green below 300, yellow below 500, red
// from 500, only on a terminal.
func (lw *lineWriter) status(code int) string {
	s := fmt.Sprint(code)
	if !lw.colour {
		return s
	}
	switch {
	case code < 300:
		return "\x1b[32m" + s + "\x1b[0m"
	case code < 500:
		return "\x1b[33m" + s + "\x1b[0m"
	}
	return "\x1b[31m" + s + "\x1b[0m"
}

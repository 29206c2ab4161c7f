package dashboard

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httperr"
)

const (
	// maxShownBody is how much of a captured body the request page prints;
	// the raw download has all of it.
	maxShownBody = 256 << 10
	// maxEditBody is the largest body the edit-and-replay form offers to
	// edit: a form post is capped at 1 MiB and base64 grows a body by 4/3.
	maxEditBody = 512 << 10
	// hexDumpBytes is how much of a binary body the page dumps in hex.
	hexDumpBytes = 1024
)

// requestStatuses are the statuses the requests list filters by.
var requestStatuses = app.RequestStatuses

// The captured-request pages: list, a request as it arrived, its raw
// body, resend, replay and edit-and-replay.

type requestRow struct {
	R          *hookline.InboundRequest
	SourceName string // "" once the source is deleted
}

type sourceOption struct {
	ID, Name string
}

type requestsData struct {
	Source   string // the filter's source id
	Status   string
	Statuses []string
	Sources  []sourceOption
	Rows     []requestRow
	Next     string
	Err      string
}

func (q requestsData) formError() string { return q.Err }

// NextQuery is the query string of the next page, keeping the filters.
func (q requestsData) NextQuery() string {
	v := url.Values{"after": {q.Next}}
	if q.Source != "" {
		v.Set("source", q.Source)
	}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	return v.Encode()
}

func (d *Dashboard) Requests(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	data := requestsData{Source: q.Get("source"), Status: q.Get("status"), Statuses: requestStatuses}
	// The filter's choice of sources is the newest hundred: a list, like
	// every other, never read whole.
	srcs, _, err := d.store.ListSources(ctx, hookline.Page{Limit: 100})
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, s := range srcs {
		data.Sources = append(data.Sources, sourceOption{ID: s.ID, Name: s.Name})
		names[s.ID] = s.Name
	}
	if data.Source != "" {
		if _, ok := names[data.Source]; !ok {
			s, err := d.store.Source(ctx, data.Source)
			if err != nil {
				if hookline.ErrorCode(err) != hookline.ENOTFOUND {
					return err
				}
				// A deleted source's requests stay; filter by its id still.
				data.Sources = append(data.Sources, sourceOption{ID: data.Source, Name: data.Source + " (deleted)"})
			} else {
				data.Sources = append(data.Sources, sourceOption{ID: s.ID, Name: s.Name})
				names[s.ID] = s.Name
			}
		}
	}
	list, more, err := d.app.ListRequests(ctx, hookline.RequestFilter{SourceID: data.Source, Status: data.Status,
		Page: hookline.Page{Limit: pageSize, StartingAfter: q.Get("after")}})
	if formError(err) {
		data.Err = hookline.ErrorMessage(err)
		return d.Render(w, r, httperr.Status(err), "requests", "Requests", data)
	}
	if err != nil {
		return err
	}
	for _, req := range list {
		name, ok := names[req.SourceID]
		if !ok {
			if s, err := d.store.Source(ctx, req.SourceID); err == nil {
				name = s.Name
			}
			names[req.SourceID] = name
		}
		data.Rows = append(data.Rows, requestRow{R: req, SourceName: name})
	}
	if more && len(list) > 0 {
		data.Next = list[len(list)-1].ID
	}
	return d.Render(w, r, http.StatusOK, "requests", "Requests", data)
}

// body is a captured body as the request page shows it.
type body struct {
	Size      int
	Text      string // the text, indented when it is JSON
	JSON      bool
	Binary    bool
	Hex       string // a dump of the first hexDumpBytes of a binary body
	Truncated bool   // Text or Hex shows only the beginning
}

// isText reports whether b reads as text: valid UTF-8 without NUL bytes.
func isText(b []byte) bool { return utf8.Valid(b) && !bytes.ContainsRune(b, 0) }

func viewBody(b []byte) body {
	v := body{Size: len(b)}
	if !isText(b) {
		v.Binary = true
		n := min(len(b), hexDumpBytes)
		v.Hex, v.Truncated = hex.Dump(b[:n]), n < len(b)
		return v
	}
	if len(b) > maxShownBody {
		shown, _ := cutAtRune(b, maxShownBody)
		v.Text, v.Truncated = string(shown), true
		return v
	}
	if text, ok := indentJSON(b); ok {
		v.Text, v.JSON = text, true
		return v
	}
	v.Text = string(b)
	return v
}

type headerLine struct {
	Name, Value string
}

// sortedHeaders lists headers by name, values in arrival order.
func sortedHeaders(h map[string][]string) []headerLine {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []headerLine
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, headerLine{k, v})
		}
	}
	return out
}

// replayForm is the edit-and-replay form.
type replayForm struct {
	URL      string
	Method   string
	Headers  string // "Name: value" lines
	Body     string
	Encoding string // text or base64
	TooLarge bool   // the body is too large to edit in a form
}

type requestTimeline struct {
	Delivery   *hookline.Delivery
	Connection *hookline.Connection // nil for a replay to a URL, or once deleted
	Attempts   []*hookline.Attempt
}

// ShowURL tells the shared "timeline" block to name each attempt's URL: a
// replay to a URL has no connection to name it in the card's head.
func (requestTimeline) ShowURL() bool { return true }

type requestData struct {
	R          *hookline.InboundRequest
	Source     *hookline.Source // nil once deleted
	Headers    []headerLine
	Body       body
	Timelines  []requestTimeline
	Methods    []string
	Form       replayForm
	HasTargets bool // the source has connections to replay to
	Err        string
}

func (q requestData) formError() string { return q.Err }

func (d *Dashboard) loadRequest(ctx context.Context, id string, form *replayForm) (requestData, error) {
	req, err := d.store.Request(ctx, id)
	if err != nil {
		return requestData{}, err
	}
	data := requestData{R: req, Headers: sortedHeaders(req.Headers), Body: viewBody(req.Body),
		Methods: []string{"POST", "PUT", "PATCH", "GET", "DELETE"}}
	if !slices.Contains(data.Methods, req.Method) {
		data.Methods = append(data.Methods, req.Method)
	}
	if s, err := d.store.Source(ctx, req.SourceID); err == nil {
		data.Source = s
		cons, _, err := d.store.ListConnections(ctx, hookline.ConnectionFilter{SourceID: s.ID, Page: hookline.Page{Limit: 1}})
		if err != nil {
			return data, err
		}
		data.HasTargets = len(cons) > 0
	} else if hookline.ErrorCode(err) != hookline.ENOTFOUND {
		return data, err
	}
	if form != nil {
		data.Form = *form
	} else {
		data.Form = newReplayForm(req)
	}
	ds, err := d.store.Deliveries(ctx, req.ID)
	if err != nil {
		return data, err
	}
	// One page of attempts: 100 covers a delivery's whole retry schedule
	// many times over, as on the event page.
	attempts, _, err := d.store.ListAttempts(ctx, hookline.AttemptFilter{EventID: req.ID, Page: hookline.Page{Limit: 100}})
	if err != nil {
		return data, err
	}
	for _, dl := range ds {
		t := requestTimeline{Delivery: dl}
		if dl.EndpointID != "" {
			if c, err := d.store.Connection(ctx, dl.EndpointID); err == nil {
				t.Connection = c
			}
		}
		for _, a := range attempts {
			if a.DeliveryID == dl.ID {
				t.Attempts = append(t.Attempts, a)
			}
		}
		slices.Reverse(t.Attempts) // oldest first reads as a timeline
		data.Timelines = append(data.Timelines, t)
	}
	return data, nil
}

// newReplayForm fills the edit-and-replay form with the request as it
// arrived. Host and Content-Length are left out: the transport sets them
// from the target and the body.
func newReplayForm(req *hookline.InboundRequest) replayForm {
	f := replayForm{Method: req.Method, Encoding: "text"}
	var hs strings.Builder
	for _, h := range sortedHeaders(req.Headers) {
		if h.Name == "Host" || h.Name == "Content-Length" {
			continue
		}
		fmt.Fprintf(&hs, "%s: %s\n", h.Name, h.Value)
	}
	f.Headers = hs.String()
	switch {
	case len(req.Body) > maxEditBody:
		f.TooLarge = true
	case isText(req.Body):
		f.Body = string(req.Body)
	default:
		f.Body, f.Encoding = base64.StdEncoding.EncodeToString(req.Body), "base64"
	}
	return f
}

func (d *Dashboard) Request(w http.ResponseWriter, r *http.Request) error {
	data, err := d.loadRequest(r.Context(), r.PathValue("id"), nil)
	if err != nil {
		return err
	}
	return d.Render(w, r, http.StatusOK, "request", data.R.Method+" "+data.R.ID, data)
}

// rawRequest downloads the body bytes as received. Unlike the API's raw
// view it never answers with the captured content type: served from the
// dashboard's origin, a captured HTML or SVG body would otherwise run
// there with the session's rights. An attachment of octet-stream, not
// sniffed and sandboxed, is only ever saved.
func (d *Dashboard) RawRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := d.store.Request(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.bin"`, req.ID))
	h.Set("Content-Length", strconv.Itoa(len(req.Body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(req.Body)
	return nil
}

// ResendRequest is POST /requests/{id}/resend.
func (d *Dashboard) ResendRequest(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ds, err := d.app.ResendRequest(r.Context(), id, r.PostFormValue("connection_id"))
	if err != nil {
		return err
	}
	redirect(w, r, "/requests/"+id, fmt.Sprintf("Resending to %d connection(s).", len(ds)))
	return nil
}

// ReplayRequest is POST /requests/{id}/replay: an unchanged copy to the
// source's connections that take it, now.
func (d *Dashboard) ReplayRequest(w http.ResponseWriter, r *http.Request) error {
	id, res, err := d.replay(r, r.PathValue("id"), app.ReplayParams{})
	if err != nil {
		return err
	}
	redirect(w, r, "/requests/"+id, res)
	return nil
}

// EditReplayRequest is POST /requests/{id}/edit-replay: an edited copy to
// a URL, or to the source's connections when the URL is empty.
func (d *Dashboard) EditReplayRequest(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	orig, err := d.store.Request(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	f := replayForm{URL: strings.TrimSpace(r.PostFormValue("url")), Method: r.PostFormValue("method"),
		Headers: r.PostFormValue("headers"), Body: r.PostFormValue("body"), Encoding: r.PostFormValue("encoding")}
	cp := *orig
	err = readReplayForm(&f, orig, &cp)
	var id, res string
	if err == nil {
		id, res, err = d.replay(r, orig.ID, app.ReplayParams{URL: f.URL, Method: cp.Method, Headers: cp.Headers, Body: &cp.Body})
	}
	if err != nil {
		if !formError(err) {
			return err
		}
		data, lerr := d.loadRequest(ctx, orig.ID, &f)
		if lerr != nil {
			return lerr
		}
		data.Err = hookline.ErrorMessage(err)
		return d.Render(w, r, httperr.Status(err), "request", orig.Method+" "+orig.ID, data)
	}
	redirect(w, r, "/requests/"+id, res)
	return nil
}

// readReplayForm applies the edit-and-replay form to cp, a copy of orig.
func readReplayForm(f *replayForm, orig, cp *hookline.InboundRequest) error {
	if strings.TrimSpace(f.Method) == "" {
		return hookline.Invalid("method", "the method must be an HTTP method such as POST")
	}
	cp.Headers = map[string][]string{}
	for i, line := range strings.Split(f.Headers, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok {
			return hookline.Invalid("headers", "header line %d is not \"Name: value\"", i+1)
		}
		http.Header(cp.Headers).Add(name, strings.TrimSpace(value))
	}
	// The method and the headers are checked as the API's are.
	p := app.ReplayParams{Method: f.Method, Headers: cp.Headers}
	if err := p.Check(); err != nil {
		return err
	}
	cp.Method = p.Method
	switch f.Encoding {
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(f.Body), ""))
		if err != nil {
			return hookline.Invalid("body", "the body is not valid base64")
		}
		cp.Body = b
	case "text", "":
		b := f.Body
		// Browsers submit a textarea's line breaks as CRLF; a body that
		// arrived with bare LFs keeps them, so that an unedited body
		// replays byte for byte (and its signature still checks).
		if !bytes.Contains(orig.Body, []byte("\r")) {
			b = strings.ReplaceAll(b, "\r\n", "\n")
		}
		cp.Body = []byte(b)
	default:
		return hookline.Invalid("encoding", "the body encoding is text or base64")
	}
	return nil
}

// replay has app.Replay send a copy of request id, with p's edits, and
// returns the copy's id and a line saying how it went.
func (d *Dashboard) replay(r *http.Request, id string, p app.ReplayParams) (string, string, error) {
	p.RemoteAddr = r.RemoteAddr
	res, err := d.app.Replay(r.Context(), id, p, app.ByDashboard)
	if err != nil {
		return "", "", err
	}
	outcomes := make([]string, 0, len(res.Sends))
	for _, sent := range res.Sends {
		switch a := sent.Attempt; {
		case a == nil:
			outcomes = append(outcomes, "queued for "+sent.URL)
		case sent.Err != nil:
			outcomes = append(outcomes, sent.URL+": "+a.Error)
		default:
			outcomes = append(outcomes, fmt.Sprintf("%s answered %d", sent.URL, a.ResponseStatus))
		}
	}
	return res.Request.ID, "Replayed: " + strings.Join(outcomes, "; ") + ".", nil
}

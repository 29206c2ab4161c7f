package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httperr"
	"github.com/hookline/hookline/internal/inbound"
)

// The source pages and forms: list, create, delete, and a source's
// connections.

type sourceRow struct {
	S           *hookline.Source
	IngestURL   string
	Connections string // "3", or "100+"
	LastRequest time.Time
}

type sourcesData struct {
	Rows []sourceRow
	Next string
}

func (d *Dashboard) Sources(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	list, more, err := d.app.ListSources(ctx, hookline.Page{Limit: pageSize, StartingAfter: r.URL.Query().Get("after")})
	if err != nil {
		return err
	}
	data := sourcesData{}
	base := inbound.BaseURL(r)
	for _, s := range list {
		row := sourceRow{S: s, IngestURL: base + "/in/" + s.ID}
		// Two indexed reads per row, (source_id, id) both: cheap beside a
		// count over a source's millions of requests, which is not.
		cons, moreCons, err := d.app.ListConnections(ctx, hookline.ConnectionFilter{SourceID: s.ID, Page: hookline.Page{Limit: 100}})
		if err != nil {
			return err
		}
		row.Connections = strconv.Itoa(len(cons))
		if moreCons {
			row.Connections += "+"
		}
		last, _, err := d.app.ListRequests(ctx, app.RequestQuery{RequestFilter: hookline.RequestFilter{SourceID: s.ID, Page: hookline.Page{Limit: 1}}})
		if err != nil {
			return err
		}
		if len(last) > 0 {
			row.LastRequest = last[0].Received
		}
		data.Rows = append(data.Rows, row)
	}
	if more && len(list) > 0 {
		data.Next = list[len(list)-1].ID
	}
	return d.Render(w, r, http.StatusOK, "sources", "Sources", data)
}

type sourceForm struct {
	ID      string // the source edited; "" on the new-source form
	Name    string
	Type    string
	Options string // JSON
	Types   []string
	// The limit boxes as typed: addresses one a line (or comma-separated),
	// and two numbers; empty is no limit of the source's own.
	AllowedIPs        string
	RequestsPerMinute string
	BytesPerDay       string
	Err               string
	ErrCode           string
	ErrParam          string
}

func (f sourceForm) formError() string { return f.Err }

// setError shows err on the form as the API would answer it: the message,
// the code and the parameter at fault.
func (f *sourceForm) setError(err error) {
	f.Err, f.ErrCode, f.ErrParam = hookline.ErrorMessage(err), hookline.ErrorCode(err), hookline.ErrorParam(err)
}

// Invalid reports whether the error names param or one of its members:
// the field to mark.
func (f sourceForm) Invalid(param string) bool {
	return f.ErrParam == param || strings.HasPrefix(f.ErrParam, param+"[") || strings.HasPrefix(f.ErrParam, param+".")
}

func (d *Dashboard) NewSource(w http.ResponseWriter, r *http.Request) error {
	return d.Render(w, r, http.StatusOK, "source_new", "New source", sourceForm{Type: hookline.SourceNone, Types: inbound.Types()})
}

// readSource reads the new-source form into the parameters the API takes.
// Options arrive as a JSON object; a misspelt option would otherwise be
// dropped without a word, so unknown fields are refused.
func readSource(r *http.Request) (sourceForm, app.SourceParams, error) {
	f := sourceForm{Name: strings.TrimSpace(r.PostFormValue("name")), Type: r.PostFormValue("type"),
		Options: strings.TrimSpace(r.PostFormValue("options")), Types: inbound.Types()}
	secret := r.PostFormValue("secret")
	p := app.SourceParams{Name: &f.Name, Type: &f.Type, Secret: &secret}
	readSourceLimits(r, &f, &p)
	if f.Options != "" {
		var opts hookline.SourceOptions
		if err := hookline.DecodeStrict([]byte(f.Options), "options", &opts); err != nil {
			// The form has one options box: the error marks it, its
			// message naming the option at fault.
			return f, p, hookline.Invalid("options", "%s", hookline.ErrorMessage(err))
		}
		p.Options = &opts
	}
	return f, p, nil
}

// readSourceLimits sets the source's limits the form sends, as the API's
// limits object: every box empty is null (no limits of its own: the
// server's defaults, any address), and what is typed goes to the app as
// it is, which judges it, so that a bad value gets the API's error naming
// the API's field (limits.allowed_ips, limits.requests_per_minute,
// limits.bytes_per_day). A form without the boxes leaves the limits alone.
func readSourceLimits(r *http.Request, f *sourceForm, p *app.SourceParams) {
	f.AllowedIPs = strings.TrimSpace(r.PostFormValue("allowed_ips"))
	f.RequestsPerMinute = strings.TrimSpace(r.PostFormValue("requests_per_minute"))
	f.BytesPerDay = strings.TrimSpace(r.PostFormValue("bytes_per_day"))
	if _, ok := r.PostForm["allowed_ips"]; !ok {
		return
	}
	p.Limits = json.RawMessage("null")
	limits := map[string]json.RawMessage{}
	if ips := strings.FieldsFunc(f.AllowedIPs, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' }); len(ips) > 0 {
		limits["allowed_ips"], _ = json.Marshal(ips) // strings always marshal
	}
	if f.RequestsPerMinute != "" {
		limits["requests_per_minute"] = formNumber(f.RequestsPerMinute)
	}
	if f.BytesPerDay != "" {
		limits["bytes_per_day"] = formNumber(f.BytesPerDay)
	}
	if len(limits) > 0 {
		p.Limits, _ = json.Marshal(limits) // valid JSON values always marshal
	}
}

// sourceLimitsForm is src's own limits as the form shows them: blank
// where it has none of its own.
func sourceLimitsForm(src *hookline.Source) sourceForm {
	f := sourceForm{ID: src.ID, AllowedIPs: strings.Join(src.Limits.AllowedIPs, "\n")}
	if n := src.Limits.RequestsPerMinute; n > 0 {
		f.RequestsPerMinute = strconv.Itoa(n)
	}
	if n := src.Limits.BytesPerDay; n > 0 {
		f.BytesPerDay = strconv.FormatInt(n, 10)
	}
	return f
}

// CreateSource is POST /sources.
func (d *Dashboard) CreateSource(w http.ResponseWriter, r *http.Request) error {
	f, p, err := readSource(r)
	var src *hookline.Source
	if err == nil {
		src, err = d.app.CreateSource(r.Context(), p, app.ByDashboard)
	}
	if err != nil {
		if formError(err) {
			f.setError(err)
			return d.Render(w, r, httperr.Status(err), "source_new", "New source", f)
		}
		return err
	}
	redirect(w, r, "/sources/"+src.ID, "Source created. Point the provider at its ingest URL.")
	return nil
}

// UpdateSource is POST /sources/{id}: the source's limits, through
// app.UpdateSource as PATCH /v1/sources/{id} takes them.
func (d *Dashboard) UpdateSource(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	src, err := d.app.Source(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	f := sourceForm{ID: src.ID}
	var p app.SourceParams
	readSourceLimits(r, &f, &p)
	if _, err := d.app.UpdateSource(ctx, src.ID, p); err != nil {
		if !formError(err) {
			return err
		}
		data, lerr := d.loadSource(r, src.ID)
		if lerr != nil {
			return lerr
		}
		f.setError(err)
		data.Limits = f
		return d.Render(w, r, httperr.Status(err), "source", src.Name, data)
	}
	redirect(w, r, "/sources/"+src.ID, "Limits saved.")
	return nil
}

type connectionRow struct {
	C      *hookline.Connection
	Filter string
}

type sourceData struct {
	S           *hookline.Source
	IngestURL   string
	Options     string
	Connections []connectionRow
	MoreCons    bool
	Requests    []*hookline.InboundRequest
	MoreReqs    bool
	ConURL      string
	ConFilter   string
	Err         string
	// Limits is the limits form: the source's own, or what was typed
	// when the app refused it, with its error.
	Limits sourceForm
	// The limits in force, in words.
	AllowFrom, RateLimit, Quota string
}

func (s sourceData) formError() string {
	if s.Err != "" {
		return s.Err
	}
	return s.Limits.Err
}

func (d *Dashboard) loadSource(r *http.Request, id string) (sourceData, error) {
	ctx := r.Context()
	src, err := d.app.Source(ctx, id)
	if err != nil {
		return sourceData{}, err
	}
	data := sourceData{S: src, IngestURL: inbound.BaseURL(r) + "/in/" + src.ID, Limits: sourceLimitsForm(src),
		AllowFrom: "any address", RateLimit: "the server's default", Quota: "the server's default"}
	if ips := src.Limits.AllowedIPs; len(ips) > 0 {
		data.AllowFrom = strings.Join(ips, ", ")
	}
	if n := src.Limits.RequestsPerMinute; n > 0 {
		data.RateLimit = strconv.Itoa(n) + " requests a minute"
	}
	if n := src.Limits.BytesPerDay; n > 0 {
		data.Quota = fmt.Sprintf("%s a day (%d bytes)", humanize.IBytes(uint64(n)), n)
	}
	if opts, _ := json.MarshalIndent(src.Options, "", "  "); string(opts) != "{}" {
		data.Options = string(opts)
	}
	cons, more, err := d.app.ListConnections(ctx, hookline.ConnectionFilter{SourceID: src.ID, Page: hookline.Page{Limit: 100}})
	if err != nil {
		return data, err
	}
	for _, c := range cons {
		data.Connections = append(data.Connections, connectionRow{C: c, Filter: indentedOrRaw(c.Filter)})
	}
	data.MoreCons = more
	data.Requests, data.MoreReqs, err = d.app.ListRequests(ctx, app.RequestQuery{RequestFilter: hookline.RequestFilter{SourceID: src.ID, Page: hookline.Page{Limit: 10}}})
	return data, err
}

func (d *Dashboard) Source(w http.ResponseWriter, r *http.Request) error {
	data, err := d.loadSource(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	return d.Render(w, r, http.StatusOK, "source", data.S.Name, data)
}

// DeleteSource is POST /sources/{id}/delete.
func (d *Dashboard) DeleteSource(w http.ResponseWriter, r *http.Request) error {
	if _, err := d.app.DeleteSource(r.Context(), r.PathValue("id"), app.ByDashboard); err != nil {
		return err
	}
	redirect(w, r, "/sources", "Source deleted; its captured requests stay.")
	return nil
}

// CreateConnection is POST /sources/{id}/connections.
func (d *Dashboard) CreateConnection(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	src, err := d.app.Source(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	url, rawFilter := strings.TrimSpace(r.PostFormValue("url")), strings.TrimSpace(r.PostFormValue("filter"))
	p := app.ConnectionParams{SourceID: &src.ID, URL: &url}
	if rawFilter != "" {
		p.Filter = json.RawMessage(rawFilter)
	}
	c, err := d.app.CreateConnection(ctx, p, app.ByDashboard)
	if err != nil {
		if !formError(err) {
			return err
		}
		data, lerr := d.loadSource(r, src.ID)
		if lerr != nil {
			return lerr
		}
		data.ConURL, data.ConFilter, data.Err = url, rawFilter, hookline.ErrorMessage(err)
		return d.Render(w, r, httperr.Status(err), "source", src.Name, data)
	}
	redirect(w, r, "/sources/"+src.ID, "Connection added: verified requests that match go to "+c.URL+".")
	return nil
}

// DeleteConnection is POST /connections/{id}/delete.
func (d *Dashboard) DeleteConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := d.app.DeleteConnection(r.Context(), r.PathValue("id"), app.ByDashboard)
	if err != nil {
		return err
	}
	redirect(w, r, "/sources/"+c.SourceID, "Connection deleted.")
	return nil
}

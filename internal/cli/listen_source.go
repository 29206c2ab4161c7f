package cli

import (
	"context"
	"fmt"
	"time"

	application "github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/client"
)

// This file is `hookline listen --source`: a source's captured requests
// forwarded to the local app over the device's session, as they arrived.

// sourceLink is a source whose requests a listen device gets.
type sourceLink struct {
	ID, Name     string
	ConnectionID string
	Created      bool // the connection was made by this listen
}

// ensureSourceConnections makes sure each source (a name or src_… id) has
// a connection to the device's listen:// URL, creating it when missing and
// reusing it otherwise, so that requests captured while listen is stopped
// wait for the device as pending deliveries.
func ensureSourceConnections(ctx context.Context, c *client.Client, device string, sources []string) ([]sourceLink, error) {
	target := application.ListenScheme + "://" + device
	var links []sourceLink
	seen := map[string]bool{}
	for _, s := range sources {
		src, err := c.Source(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("--source %s: %w", s, err)
		}
		if seen[src.ID] {
			continue
		}
		seen[src.ID] = true
		link := sourceLink{ID: src.ID, Name: src.Name}
		id, err := findConnection(ctx, c, src.ID, target)
		if err != nil {
			return nil, fmt.Errorf("--source %s: %w", s, err)
		}
		if id == "" {
			con, err := c.CreateConnection(ctx, client.ConnectionParams{SourceID: src.ID, URL: target})
			if err != nil {
				return nil, fmt.Errorf("--source %s: connecting it to %s: %w", s, target, err)
			}
			id, link.Created = con.ID, true
		}
		link.ConnectionID = id
		links = append(links, link)
	}
	return links, nil
}

// findConnection returns the id of sourceID's connection to target, or ""
// when it has none.
func findConnection(ctx context.Context, c *client.Client, sourceID, target string) (string, error) {
	p := client.Page{Limit: 100}
	for {
		page, err := c.ListConnections(ctx, p, sourceID)
		if err != nil {
			return "", fmt.Errorf("listing connections: %w", err)
		}
		for _, con := range page.Data {
			if con.URL == target {
				return con.ID, nil
			}
		}
		if !page.HasMore || len(page.Data) == 0 {
			return "", nil
		}
		p.StartingAfter = page.Data[len(page.Data)-1].ID
	}
}

// noteSources says which sources the device forwards, and where to.
func noteSources(out *lineWriter, fallback string, links []sourceLink) {
	where := fallback
	if where == "" {
		where = "the --forward routes"
	}
	for _, s := range links {
		verb := "reusing"
		if s.Created {
			verb = "created"
		}
		out.note("Forwarding requests from source %s (%s) to %s, unchanged (connection %s, %s)", s.Name, s.ID, where, s.ConnectionID, verb)
	}
}

// sourceName is how a source is shown: its name when this listen was
// given it, else its id (a connection to the device made by other means).
func (d *listenDisplay) sourceName(id string) string {
	for _, s := range d.sources {
		if s.ID == id {
			return s.Name
		}
	}
	return id
}

// request prints "2026-11-23 15:31:18   --> POST payment_intent.succeeded
// [req_…] from stripe": a captured request arriving from a source.
func (lw *lineWriter) request(at time.Time, source, method, label, id string, attempt int) {
	ts := at.Local().Format(timeLayout)
	ev := lineEvent{Time: at.Format(time.RFC3339Nano), Kind: "request", EventType: label, EventID: id,
		Method: method, Source: source, Attempt: attempt}
	lw.emit(fmt.Sprintf("%s   --> %s %s [%s] from %s", ts, method, label, id, source), ev)
}

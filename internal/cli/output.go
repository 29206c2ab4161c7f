package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/client"
)

// printJSON pretty-prints raw JSON.
func printJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		return fmt.Errorf("server answered malformed JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// printValue writes an answer as JSON, indented: byte for byte what
// printJSON makes of the server's bytes, since both encode the same
// apijson shape.
func printValue(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the answer: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// show prints one answer: as JSON with --format json, else by render.
func show[T any](a *app, v T, render func(T) error) error {
	if a.format == "json" {
		return printValue(a.env.Stdout, v)
	}
	return render(v)
}

// showByID is the RunE of a command that shows one resource, named by its
// only argument: fetched by a client method such as
// (*client.Client).Endpoint, then shown.
func showByID[T any](a *app, fetch func(*client.Client, context.Context, string) (T, error), render func(T) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := a.checkFormat(); err != nil {
			return err
		}
		v, err := fetch(a.client(), cmd.Context(), args[0])
		if err != nil {
			return err
		}
		return show(a, v, render)
	}
}

// listing is how a list command shows a page as a table.
type listing[T any] struct {
	header []string
	row    func(T) []string
	// id, when set, names an item, so that a page with more after it ends
	// with the flag that asks for the next.
	id func(T) string
}

// printList prints a page: as JSON with --format json, else as a table.
func printList[T any](a *app, l apijson.List[T], how listing[T]) error {
	if a.format == "json" {
		return printValue(a.env.Stdout, l)
	}
	rows := make([][]string, len(l.Data))
	for i, v := range l.Data {
		rows[i] = how.row(v)
	}
	if err := table(a.env.Stdout, how.header, rows); err != nil {
		return err
	}
	if how.id != nil && l.HasMore && len(l.Data) > 0 {
		fmt.Fprintf(a.env.Stdout, "(more: --starting-after %s)\n", how.id(l.Data[len(l.Data)-1]))
	}
	return nil
}

// showDeleted prints a DELETE's answer: as JSON with --format json, else
// "Deleted <id>" with the id as the user gave it (a source's may be its
// name).
func (a *app) showDeleted(d apijson.Deleted, given string) error {
	return show(a, d, func(apijson.Deleted) error {
		_, err := fmt.Fprintf(a.env.Stdout, "Deleted %s\n", given)
		return err
	})
}

// table writes rows under a header, aligned.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// fields writes name: value lines, aligned.
func fields(w io.Writer, kv [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range kv {
		fmt.Fprintf(tw, "%s:\t%s\n", p[0], p[1])
	}
	return tw.Flush()
}

func unixTime(sec int64) string {
	if sec == 0 {
		return "-"
	}
	return time.Unix(sec, 0).Local().Format("2006-01-02 15:04:05")
}

// attemptStatus is an attempt's STATUS cell: the answer's status, or why
// no answer came (refused, timeout, tls, …) instead of a 0.
func attemptStatus(status int, errorKind string) string {
	if status == 0 {
		return orDash(errorKind)
	}
	return strconv.Itoa(status)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// flagError rewrites a server error about a request field into one naming
// the flag that set it.
func flagError(err error, flags map[string]string) error {
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Param == "" {
		return err
	}
	param := ce.Param
	if i := strings.IndexAny(param, "[."); i > 0 {
		param = param[:i]
	}
	if flag, ok := flags[param]; ok {
		return fmt.Errorf("%s: %s", flag, ce.Message)
	}
	return err
}

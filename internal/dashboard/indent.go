package dashboard

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// This file bounds the rendering of JSON that strangers (inbound bodies)
// and publishers (event data) control.

const (
	// maxIndentDepth is the deepest nesting the dashboard indents. Indented
	// JSON grows with the square of its depth (each of 2d lines carries up
	// to 2d spaces), so an 80 KB body nested thousands deep became an 800 MB
	// page under json.Indent; real payloads stay under a dozen levels.
	maxIndentDepth = 64
	// maxIndentOutput caps the indented text: beyond it the page shows the
	// JSON as it was received.
	maxIndentOutput = 2 << 20
)

// indentJSON indents valid JSON for reading, keeping its key order, within
// maxIndentDepth and maxIndentOutput. ok is false, and out empty, for
// input that is not JSON or is nested or sized beyond the caps: callers
// then show the bytes as received. The work is linear in len(b) plus the
// output, and the output is bounded, whatever a stranger nests.
func indentJSON(b []byte) (out string, ok bool) {
	if !json.Valid(b) {
		return "", false
	}
	var buf bytes.Buffer
	buf.Grow(min(2*len(b), maxIndentOutput))
	depth := 0
	newline := func() {
		buf.WriteByte('\n')
		for range depth {
			buf.WriteString("  ")
		}
	}
	for i := 0; i < len(b); i++ {
		if buf.Len() > maxIndentOutput {
			return "", false
		}
		c := b[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			// Insignificant whitespace; the indentation replaces it.
		case '"':
			// Copy the string whole; json.Valid vouched for its escapes.
			j := i + 1
			for ; b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			buf.Write(b[i : j+1])
			i = j
		case '{', '[':
			buf.WriteByte(c)
			if k := nextSignificant(b, i+1); b[k] == '}' || b[k] == ']' {
				buf.WriteByte(b[k]) // empty: {} or [] on one line, as json.Indent
				i = k
				continue
			}
			depth++
			if depth > maxIndentDepth {
				return "", false
			}
			newline()
		case '}', ']':
			depth--
			newline()
			buf.WriteByte(c)
		case ',':
			buf.WriteByte(c)
			newline()
		case ':':
			buf.WriteString(": ")
		default:
			buf.WriteByte(c)
		}
	}
	return buf.String(), true
}

// nextSignificant returns the index of the first byte at or after i that
// is not JSON whitespace (valid JSON always has one after an opening
// bracket).
func nextSignificant(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// maxShownPayload is how much of an event payload the event page prints
// when it cannot be indented (the API caps a publish at --max-body, which
// an operator may raise).
const maxShownPayload = 1 << 20

// indentedOrRaw is b indented, or b as it is when indentJSON declines.
func indentedOrRaw(b []byte) string {
	if text, ok := indentJSON(b); ok {
		return text
	}
	return string(b)
}

// cutAtRune returns at most the first n bytes of b, cut at a rune boundary
// so that the page stays valid UTF-8, and whether it cut anything.
func cutAtRune(b []byte, n int) ([]byte, bool) {
	if len(b) <= n {
		return b, false
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return b[:n], true
}

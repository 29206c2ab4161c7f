package cli

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/server"
)

// keySearch is where the CLI looked for the API key of one server, and
// what it found, so that a 401 can say so.
type keySearch struct {
	key    string
	from   string   // where the key came from; "" when none was found
	looked []string // one line per place looked at
	// others are the servers whose keys were found instead, in the order
	// found: the server the user meant may be one of them.
	others []string
	// file is, when the key came from HOOKLINE_API_KEY, the key file the
	// CLI would have used without it ("" when none holds another key for
	// this server): the usual cause of a refused key is a stale variable.
	file string
}

// help is the text added to a "missing or wrong API key" error.
func (k keySearch) help(server string) string {
	var b strings.Builder
	if k.from == "HOOKLINE_API_KEY" {
		// The variable wins over every key file: say what unsetting it
		// would send instead.
		b.WriteString("the key sent was from HOOKLINE_API_KEY; ")
		if k.file != "" {
			fmt.Fprintf(&b, "unset HOOKLINE_API_KEY to use the key in %s instead, or set it to the right key", k.file)
		} else {
			fmt.Fprintf(&b, "no key file holds another key of %s to use instead:", server)
			for _, l := range k.looked {
				b.WriteString("\n  " + l)
			}
			b.WriteString("\nset HOOKLINE_API_KEY to the key that server printed when it first started")
		}
		return b.String()
	}
	if k.from != "" {
		fmt.Fprintf(&b, "the key sent was from %s; ", k.from)
	}
	fmt.Fprintf(&b, "looked for the key of %s in:", server)
	for _, l := range k.looked {
		b.WriteString("\n  " + l)
	}
	for _, o := range k.others {
		fmt.Fprintf(&b, "\nto talk to the server at %s, whose key was found, add --server %s (or set HOOKLINE_URL=%s)", o, o, o)
	}
	fmt.Fprintf(&b, "\nset HOOKLINE_API_KEY to the key that server printed when it first started (or run the command where its data directory is, or set HOOKLINE_DATA to it)")
	return b.String()
}

// findAPIKey returns the API key for the server at base: HOOKLINE_API_KEY
// when set; else the key of the data directory whose server last listened
// at base (server.URLFile beside server.APIKeyFile), the most recently
// started one when several did. Candidates are --data's default
// (./hookline-data, or HOOKLINE_DATA) and the data of the server `hookline
// listen` embeds, in embedded. A directory with a key but no URL recorded (a server
// older than this CLI) is used only when no directory names base.
func findAPIKey(getenv func(string) string, base, embedded string) keySearch {
	if key := getenv("HOOKLINE_API_KEY"); key != "" {
		files := findKeyFile(getenv, base, embedded)
		ks := keySearch{key: key, from: "HOOKLINE_API_KEY", looked: files.looked}
		if files.key != "" && files.key != key {
			ks.file = files.from
		}
		return ks
	}
	ks := findKeyFile(getenv, base, embedded)
	ks.looked = append([]string{"HOOKLINE_API_KEY: not set"}, ks.looked...)
	return ks
}

// findKeyFile is findAPIKey's search of the data directories.
func findKeyFile(getenv func(string) string, base, embedded string) keySearch {
	var ks keySearch
	dir := getenv("HOOKLINE_DATA")
	if dir == "" {
		dir = server.DefaultDataDir
	}
	dirs := []string{dir}
	if emb := embedded; filepath.Clean(emb) != filepath.Clean(dir) {
		dirs = append(dirs, emb)
	}
	var (
		best, legacy       string
		bestKey, legacyKey string
		bestAt             time.Time
	)
	for _, d := range dirs {
		keyPath := filepath.Join(d, server.APIKeyFile)
		b, err := os.ReadFile(keyPath)
		key := strings.TrimSpace(string(b))
		if err != nil || key == "" {
			ks.looked = append(ks.looked, keyPath+": no key there")
			continue
		}
		urlPath := filepath.Join(d, server.URLFile)
		ub, err := os.ReadFile(urlPath)
		recorded := strings.TrimSpace(string(ub))
		switch {
		case err != nil || recorded == "":
			ks.looked = append(ks.looked, keyPath+": a key, but no server URL recorded beside it")
			if legacy == "" {
				legacy, legacyKey = keyPath, key
			}
		case !sameServer(recorded, base):
			ks.looked = append(ks.looked, keyPath+": the key of "+recorded+", not of "+base)
			if !slices.Contains(ks.others, recorded) {
				ks.others = append(ks.others, recorded)
			}
		default:
			var at time.Time
			if fi, err := os.Stat(urlPath); err == nil {
				at = fi.ModTime()
			}
			ks.looked = append(ks.looked, keyPath+": the key of "+recorded)
			if best == "" || at.After(bestAt) {
				best, bestKey, bestAt = keyPath, key, at
			}
		}
	}
	switch {
	case best != "":
		ks.key, ks.from = bestKey, best
	case legacy != "":
		ks.key, ks.from = legacyKey, legacy
	}
	return ks
}

// sameServer reports whether two server URLs reach the same listener from
// this machine: same scheme and port, and the same host, counting every
// loopback name (localhost, 127.0.0.1, ::1) as one.
func sameServer(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return ua.Scheme == ub.Scheme && hostClass(ua.Hostname()) == hostClass(ub.Hostname()) && portOf(ua) == portOf(ub)
}

func hostClass(h string) string {
	h = strings.ToLower(h)
	if h == "localhost" {
		return "loopback"
	}
	if ip := net.ParseIP(h); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		return "loopback"
	}
	return h
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

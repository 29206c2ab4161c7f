package server

// RouteSpec is an entry of the route map as the route test walks it.
type RouteSpec struct {
	Pattern string
	Access  string // "public", "key" or "session"
}

// Routes returns the route map's patterns and access. The map is built over
// absent surfaces: it takes their handlers as method values and calls none.
func Routes() []RouteSpec {
	var out []RouteSpec
	for _, r := range (&surfaces{}).routes() {
		out = append(out, RouteSpec{Pattern: r.pattern, Access: [...]string{public: "public", keyed: "key", session: "session"}[r.access]})
	}
	return out
}

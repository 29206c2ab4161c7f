// Package server assembles a running Hookline node: it locks the data
// directory, opens the store, loads or makes the admin API key, starts the
// delivery engine and publisher, serves the HTTP API, and shuts all of it
// down in order when its context ends. It bounds the connections it
// accepts (conns.go): how many are open at once, and how long and how
// slowly a request body may arrive.
package server

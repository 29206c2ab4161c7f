package api

// routes registers the whole API surface.
func (s *Server) routes() {
	m := s.mux
	auth := s.Authenticated
	m.HandleFunc("GET /healthz", s.healthz)

	m.Handle("POST /v1/endpoints", auth(s.handle(s.createEndpoint)))
	m.Handle("GET /v1/endpoints", auth(s.handle(s.listEndpoints)))
	m.Handle("GET /v1/endpoints/{id}", auth(s.handle(s.getEndpoint)))
	m.Handle("PATCH /v1/endpoints/{id}", auth(s.handle(s.updateEndpoint)))
	m.Handle("DELETE /v1/endpoints/{id}", auth(s.handle(s.deleteEndpoint)))
	m.Handle("GET /v1/endpoints/{id}/secret", auth(s.handle(s.getSecret)))
	m.Handle("POST /v1/endpoints/{id}/secret/rotate", auth(s.handle(s.rotateSecret)))
	m.Handle("GET /v1/endpoints/{id}/attempts", auth(s.handle(s.listEndpointAttempts)))
	m.Handle("POST /v1/endpoints/{id}/test", auth(s.handle(s.sendTestEvent))) // testevent.go

	m.Handle("POST /v1/filters/test", auth(s.handle(s.testFilter))) // filters.go

	m.Handle("POST /v1/events", auth(s.handle(s.publishEvent)))
	m.Handle("GET /v1/events", auth(s.handle(s.listEvents)))
	m.Handle("GET /v1/events/{id}", auth(s.handle(s.getEvent)))
	m.Handle("GET /v1/events/{id}/attempts", auth(s.handle(s.listEventAttempts)))
	m.Handle("GET /v1/events/{id}/deliveries", auth(s.handle(s.listDeliveries)))
	m.Handle("POST /v1/events/{id}/resend", auth(s.handle(s.resendEvent)))

	s.inboundRoutes() // sources, connections, captured requests, /in/{id}: inbound.go

	m.Handle("/v1/", auth(s.handle(s.notFound)))
}

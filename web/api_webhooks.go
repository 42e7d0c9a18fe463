package web

import (
	"net/http"

	"github.com/learnloop/learnloop/webhooks"
)

// webhookRoutes registers the outbound webhook endpoints and their
// delivery log.
func (s *Server) webhookRoutes(mux *http.ServeMux) {
	if s.Webhooks == nil {
		return
	}
	mux.HandleFunc("GET /webhooks", s.listWebhooks)
	mux.HandleFunc("POST /webhooks", s.createWebhook)
	mux.HandleFunc("GET /webhooks/{id}", withID(s.getWebhook))
	mux.HandleFunc("PATCH /webhooks/{id}", withID(s.patchWebhook))
	mux.HandleFunc("DELETE /webhooks/{id}", withID(s.deleteWebhook))
	mux.HandleFunc("GET /webhooks/{id}/deliveries", withID(s.listWebhookDeliveries))
	mux.HandleFunc("POST /webhooks/{id}/deliveries/{delivery_id}/redeliver", withID(s.redeliverWebhook))
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	p, ok := readPage(w, r)
	if !ok {
		return
	}
	es, err := s.Webhooks.List(r.Context(), p.offset, p.limit+1)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, p, nil, "webhooks", es)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhooks.Input
	if !decode(w, r, &in) {
		return
	}
	e, err := s.Webhooks.Create(r.Context(), in, actor(r.Context()))
	if err != nil {
		s.commandError(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, id uint64) {
	e, err := s.Webhooks.Get(r.Context(), id)
	if err != nil {
		s.commandError(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) patchWebhook(w http.ResponseWriter, r *http.Request, id uint64) {
	var in webhooks.Input
	if !decode(w, r, &in) {
		return
	}
	e, err := s.Webhooks.Update(r.Context(), id, in, actor(r.Context()))
	if err != nil {
		s.commandError(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, id uint64) {
	if err := s.Webhooks.Delete(r.Context(), id, actor(r.Context())); err != nil {
		s.commandError(w, r, err, nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, id uint64) {
	p, ok := readPage(w, r)
	if !ok {
		return
	}
	ds, err := s.Webhooks.Deliveries(r.Context(), id, p.offset, p.limit+1)
	if err != nil {
		s.commandError(w, r, err, nil)
		return
	}
	writePage(w, p, map[string]any{"webhook_id": id}, "deliveries", ds)
}

func (s *Server) redeliverWebhook(w http.ResponseWriter, r *http.Request, id uint64) {
	did, ok := pathID(w, r, "delivery_id")
	if !ok {
		return
	}
	d, err := s.Webhooks.Redeliver(r.Context(), id, did, actor(r.Context()))
	if err != nil {
		s.commandError(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

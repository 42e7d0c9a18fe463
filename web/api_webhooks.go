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
	mux.HandleFunc("GET /webhooks", pageOf(s, "webhooks", s.listWebhooks))
	mux.HandleFunc("POST /webhooks", opBody(s, http.StatusCreated, s.createWebhook))
	mux.HandleFunc("GET /webhooks/{id}", opID(s, http.StatusOK, s.getWebhook))
	mux.HandleFunc("PATCH /webhooks/{id}", opIDBody(s, http.StatusOK, s.patchWebhook))
	mux.HandleFunc("DELETE /webhooks/{id}", opNoContent(s, s.deleteWebhook))
	mux.HandleFunc("GET /webhooks/{id}/deliveries", pageOfID(s, "webhook_id", "deliveries", s.listWebhookDeliveries))
	mux.HandleFunc("POST /webhooks/{id}/deliveries/{delivery_id}/redeliver", withID(s.redeliverWebhook))
}

func (s *Server) listWebhooks(r *http.Request, p page) ([]webhooks.Endpoint, error) {
	return s.Webhooks.List(r.Context(), p.offset, p.limit+1)
}

func (s *Server) createWebhook(r *http.Request, in webhooks.Input) (webhooks.Endpoint, error) {
	return s.Webhooks.Create(r.Context(), in, actor(r.Context()))
}

func (s *Server) getWebhook(r *http.Request, id uint64) (webhooks.Endpoint, error) {
	return s.Webhooks.Get(r.Context(), id)
}

func (s *Server) patchWebhook(r *http.Request, id uint64, in webhooks.Input) (webhooks.Endpoint, error) {
	return s.Webhooks.Update(r.Context(), id, in, actor(r.Context()))
}

func (s *Server) deleteWebhook(r *http.Request, id uint64) error {
	return s.Webhooks.Delete(r.Context(), id, actor(r.Context()))
}

func (s *Server) listWebhookDeliveries(r *http.Request, id uint64, p page) ([]webhooks.Delivery, error) {
	return s.Webhooks.Deliveries(r.Context(), id, p.offset, p.limit+1)
}

func (s *Server) redeliverWebhook(w http.ResponseWriter, r *http.Request, id uint64) {
	did, ok := pathID(w, r, "delivery_id")
	if !ok {
		return
	}
	d, err := s.Webhooks.Redeliver(r.Context(), id, did, actor(r.Context()))
	answer(s, w, r, http.StatusOK, d, err)
}

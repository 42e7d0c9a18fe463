package web

import (
	"net/http"

	"github.com/learnloop/learnloop/digests"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
)

// digestRoutes registers the digest subscriptions.
func (s *Server) digestRoutes(mux *http.ServeMux) {
	if s.Digests == nil {
		return
	}
	mux.HandleFunc("GET /digests", pageOf(s, "digests", s.listDigests))
	mux.HandleFunc("POST /digests", opBody(s, http.StatusCreated, s.createDigest))
	mux.HandleFunc("GET /digests/{id}", opID(s, http.StatusOK, s.getDigest))
	mux.HandleFunc("DELETE /digests/{id}", opNoContent(s, s.deleteDigest))
	mux.HandleFunc("GET /digests/{id}/preview", opID(s, http.StatusOK, s.previewDigest))
	mux.HandleFunc("POST /digests/{id}/send-test", opID(s, http.StatusAccepted, s.sendTestDigest))
}

// digestActor is the API token: it acts as an admin.
func digestActor(r *http.Request) digests.Actor {
	return digests.Actor{Username: actor(r.Context()), Role: store.RoleAdmin}
}

func (s *Server) listDigests(r *http.Request, p page) ([]digests.Subscription, error) {
	return s.Digests.List(r.Context(), digestActor(r), p.offset, p.limit+1)
}

func (s *Server) createDigest(r *http.Request, in digests.Input) (digests.Subscription, error) {
	return s.Digests.Create(r.Context(), in, digestActor(r))
}

func (s *Server) getDigest(r *http.Request, id uint64) (digests.Subscription, error) {
	return s.Digests.Get(r.Context(), id, digestActor(r))
}

func (s *Server) deleteDigest(r *http.Request, id uint64) error {
	return s.Digests.Delete(r.Context(), id, digestActor(r))
}

func (s *Server) previewDigest(r *http.Request, id uint64) (*reports.DigestReport, error) {
	return s.Digests.Preview(r.Context(), id, digestActor(r))
}

// sentTestJSON is the job that sends a digest's test card.
type sentTestJSON struct {
	DigestID uint64 `json:"digest_id"`
	JobID    uint64 `json:"job_id"`
}

func (s *Server) sendTestDigest(r *http.Request, id uint64) (sentTestJSON, error) {
	job, err := s.Digests.SendTest(r.Context(), id, digestActor(r))
	if err != nil {
		return sentTestJSON{}, err
	}
	return sentTestJSON{DigestID: id, JobID: job}, nil
}

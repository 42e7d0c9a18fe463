package web

import (
	"net/http"

	"github.com/learnloop/learnloop/digests"
	"github.com/learnloop/learnloop/store"
)

// digestRoutes registers the digest subscriptions.
func (s *Server) digestRoutes(mux *http.ServeMux) {
	if s.Digests == nil {
		return
	}
	mux.HandleFunc("GET /digests", s.listDigests)
	mux.HandleFunc("POST /digests", s.createDigest)
	mux.HandleFunc("GET /digests/{id}", withID(s.getDigest))
	mux.HandleFunc("DELETE /digests/{id}", withID(s.deleteDigest))
	mux.HandleFunc("GET /digests/{id}/preview", withID(s.previewDigest))
	mux.HandleFunc("POST /digests/{id}/send-test", withID(s.sendTestDigest))
}

// digestActor is the API token: it acts as an admin.
func digestActor(r *http.Request) digests.Actor {
	return digests.Actor{Username: actor(r.Context()), Role: store.RoleAdmin}
}

func (s *Server) listDigests(w http.ResponseWriter, r *http.Request) {
	p, ok := readPage(w, r)
	if !ok {
		return
	}
	ds, err := s.Digests.List(r.Context(), digestActor(r), p.offset, p.limit+1)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, p, nil, "digests", ds)
}

func (s *Server) createDigest(w http.ResponseWriter, r *http.Request) {
	var in digests.Input
	if !decode(w, r, &in) {
		return
	}
	d, err := s.Digests.Create(r.Context(), in, digestActor(r))
	if err != nil {
		s.commandError(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

func (s *Server) getDigest(w http.ResponseWriter, r *http.Request, id uint64) {
	d, err := s.Digests.Get(r.Context(), id, digestActor(r))
	if err != nil {
		s.commandError(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) deleteDigest(w http.ResponseWriter, r *http.Request, id uint64) {
	if err := s.Digests.Delete(r.Context(), id, digestActor(r)); err != nil {
		s.commandError(w, r, err, nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) previewDigest(w http.ResponseWriter, r *http.Request, id uint64) {
	rep, err := s.Digests.Preview(r.Context(), id, digestActor(r))
	if err != nil {
		s.commandError(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) sendTestDigest(w http.ResponseWriter, r *http.Request, id uint64) {
	job, err := s.Digests.SendTest(r.Context(), id, digestActor(r))
	if err != nil {
		s.commandError(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"digest_id": id, "job_id": job})
}

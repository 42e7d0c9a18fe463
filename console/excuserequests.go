package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// excuseRequestRow is one excuse request (请假 in chat) on the roster page,
// its time in the session's zone.
type excuseRequestRow struct {
	ID               uint64
	Name, ExternalID string
	Reason           string
	Asked            string
	Status           string
	Pending          bool
	DecidedBy        string
}

// excuseRequests lists the session's excuse requests for the roster page.
func (c *Console) excuseRequests(r *http.Request, v *viewer, sc sessionCtx, lang text.Locale) ([]excuseRequestRow, error) {
	rows, err := c.commands().ExcuseRequests(r.Context(), v.actor(), sc.Sess.ID)
	if err != nil {
		return nil, err
	}
	out := make([]excuseRequestRow, 0, len(rows))
	for _, x := range rows {
		out = append(out, excuseRequestRow{
			ID: x.Request.ID, Name: x.Employee.Name, ExternalID: x.Employee.ExternalID, Reason: x.Request.Reason,
			Asked:  x.Request.CreatedAt.In(sc.Loc).Format("2006-01-02 15:04"),
			Status: text.T(lang, "excuse_request.status."+x.Request.Status), Pending: x.Request.Status == store.ExcusePending,
			DecidedBy: x.Request.DecidedBy,
		})
	}
	return out, nil
}

// decideExcuseRequest approves or rejects an excuse request from the
// roster page (POST …/excuse-requests/{rid}/approve|reject); the employee
// is told through chat by a queued message.
func (c *Console) decideExcuseRequest(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return
	}
	rid, err := strconv.ParseUint(r.PathValue("rid"), 10, 64)
	decision := r.PathValue("decision")
	if err != nil || (decision != "approve" && decision != "reject") {
		c.renderError(w, r, v, http.StatusNotFound, "error.not_found")
		return
	}
	back := fmt.Sprintf("/sessions/%d/roster", sc.Sess.ID)
	req, err := c.commands().DecideExcuseRequest(r.Context(), v.actor(), sc.Sess.ID, rid, decision == "approve")
	switch {
	case errors.Is(err, command.ErrDecided):
		c.redirectOK(w, r, back, "excuse_request_decided")
	case errors.Is(err, command.ErrCancelled):
		c.renderError(w, r, v, http.StatusConflict, "session.err_cancelled")
	case errors.Is(err, command.ErrNotFound):
		c.renderError(w, r, v, http.StatusNotFound, "error.not_found")
	case errors.Is(err, command.ErrForbidden):
		c.renderError(w, r, v, http.StatusForbidden, "error.forbidden")
	case err != nil:
		c.internal(w, r, v, err)
	default:
		c.redirectOK(w, r, back, "excuse_request_"+req.Status)
	}
}

package dashboard

import (
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// jobView is a bulk resend as its progress page and the page's script see
// it. The job itself is a recover job kept in the store (run by
// delivery.JobRunner), so any node shows its progress and it survives a
// restart.
type jobView struct {
	ID         string    `json:"id"`
	EndpointID string    `json:"endpoint_id"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Status     string    `json:"status"`
	Total      int       `json:"total"`  // failed deliveries found in the range
	Resent     int       `json:"resent"` // made pending again so far
	Done       bool      `json:"done"`   // finished, or stopped by an error
	Error      string    `json:"error,omitempty"`
	Started    time.Time `json:"started"`
}

func viewJob(j *hookline.Job) jobView {
	return jobView{ID: j.ID, EndpointID: j.EndpointID, From: j.Since, To: j.Until, Status: j.Status,
		Total: j.Total, Resent: j.Done, Done: j.Finished(), Error: j.Error, Started: j.Created}
}

// Percent is the progress for the page's bar.
func (j jobView) Percent() int {
	if j.Total == 0 {
		if j.Done {
			return 100
		}
		return 0
	}
	return j.Resent * 100 / j.Total
}

package circle

import (
	"context"

	"github.com/gathering/gathering/internal/store"
)

// MemberMetrics is what a member did in a circle and what it cost.
type MemberMetrics struct {
	store.CircleMemberMetrics
	// ApprovalRate is the share of the reviews of its work that approved
	// it, from 0 to 1; nil before its first review.
	ApprovalRate *float64
}

// Metrics returns the figures of each member of the named circle, by
// agent id: its tasks completed and failed, its workload, its approval
// rate, and the tokens and cost of its provider calls (the usage ledger)
// since it joined, all of them, in this circle or not. ENOTFOUND.
func (s *Service) Metrics(ctx context.Context, circleName string) ([]MemberMetrics, error) {
	c, err := s.db.CircleGet(ctx, circleName)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.CircleMetrics(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]MemberMetrics, len(rows))
	for i, m := range rows {
		out[i].CircleMemberMetrics = m
		if m.Reviews > 0 {
			rate := float64(m.Approvals) / float64(m.Reviews)
			out[i].ApprovalRate = &rate
		}
	}
	return out, nil
}

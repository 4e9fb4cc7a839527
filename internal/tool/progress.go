package tool

import "context"

// Progress is how far a running tool has got.
type Progress struct {
	// Fraction done, from 0 to 1; negative when unknown.
	Fraction float64 `json:"fraction"`
	// Message says what the tool is doing.
	Message string `json:"message,omitempty"`
}

type progressKey struct{}

// withProgress returns a context whose ReportProgress calls report.
func withProgress(ctx context.Context, report func(Progress)) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}

// ReportProgress tells whoever runs the tool how far it has got. A tool body
// calls it with the context it received; outside an Executor it does
// nothing.
func ReportProgress(ctx context.Context, p Progress) {
	if report, ok := ctx.Value(progressKey{}).(func(Progress)); ok {
		report(p)
	}
}

package workspace

import (
	"context"
	"errors"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
)

// notAllowed is the message of every refused path.
const notAllowed = "The path is not allowed in this project."

// withDir resolves projectID, opens its root with fsguard for the duration
// of f, and closes it afterwards.
func withDir[T any](ctx context.Context, s *Service, projectID string, f func(root string, d *fsguard.Dir) (T, error)) (T, error) {
	var zero T
	root, err := s.Root(ctx, projectID)
	if err != nil {
		return zero, err
	}
	d, err := fsguard.Open(root)
	if err != nil {
		return zero, err
	}
	defer d.Close()
	return f(root, d)
}

// cleanPath validates a caller's path with fsguard.CleanPath: EINVALID on
// the field "path" when it is empty, the one refusal otherwise.
func cleanPath(p string) (string, error) {
	clean, err := fsguard.CleanPath(p)
	return clean, pathError(err)
}

// pathError gives an error from fsguard the field "path": every EFORBIDDEN
// becomes the one refusal, whatever fsguard said; other codes keep their
// message; errors without a code pass unchanged.
func pathError(err error) error {
	e, ok := errors.AsType[*gathering.Error](err)
	if !ok || e.Code == gathering.EINTERNAL {
		return err
	}
	if e.Code == gathering.EFORBIDDEN {
		return &gathering.Error{Code: gathering.EFORBIDDEN, Message: notAllowed,
			Fields: []gathering.FieldError{{Field: "path", Message: notAllowed}}, Err: err}
	}
	c := *e
	c.Fields = []gathering.FieldError{{Field: "path", Message: e.Message}}
	return &c
}

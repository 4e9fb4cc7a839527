package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gathering/gathering/internal/gathering"
)

// Problem is an RFC 9457 problem detail, the body of every error response.
type Problem struct {
	Type      string                 `json:"type" doc:"URI naming the kind of problem"`
	Title     string                 `json:"title" doc:"short summary of the kind of problem"`
	Status    int                    `json:"status" doc:"HTTP status code"`
	Detail    string                 `json:"detail,omitempty" doc:"what went wrong with this request"`
	RequestID string                 `json:"request_id,omitempty" doc:"id of the request, as in X-Request-ID"`
	Errors    []gathering.FieldError `json:"errors,omitempty" doc:"field-level validation failures"`
}

// problemTypePrefix starts every problem type URI; the error code ends it.
const problemTypePrefix = "urn:gathering:problem:"

// Codes only the HTTP layer produces.
const (
	codeMethodNotAllowed   = "method_not_allowed"
	codeRouteNotFound      = "route_not_found"
	codeUpgradeRequired    = "upgrade_required"
	codePreconditionFailed = "precondition_failed"
)

var statusByCode = map[string]int{
	gathering.EMALFORMED:    http.StatusBadRequest,
	gathering.EUNAUTHORIZED: http.StatusUnauthorized,
	gathering.EFORBIDDEN:    http.StatusForbidden,
	gathering.ENOTFOUND:     http.StatusNotFound,
	codeRouteNotFound:       http.StatusNotFound,
	codeMethodNotAllowed:    http.StatusMethodNotAllowed,
	codeUpgradeRequired:     http.StatusUpgradeRequired,
	codePreconditionFailed:  http.StatusPreconditionFailed,
	gathering.ECONFLICT:     http.StatusConflict,
	gathering.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	gathering.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	gathering.EINVALID:      http.StatusUnprocessableEntity,
	gathering.EINTERNAL:     http.StatusInternalServerError,
	gathering.EUNAVAILABLE:  http.StatusServiceUnavailable,
	gathering.ERATELIMITED:  http.StatusTooManyRequests,
	gathering.ETIMEOUT:      http.StatusServiceUnavailable,
}

// writeError answers with the problem for err. An internal error's cause
// goes to the access log line only; the caller sees a generic message.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.DeadlineExceeded) && gathering.ErrorCode(err) == gathering.EINTERNAL {
		err = gathering.Errorf(gathering.ETIMEOUT, "The request did not finish in time.")
	}
	code := gathering.ErrorCode(err)
	switch code {
	case gathering.EINTERNAL:
		recordFailure(r, err)
	case gathering.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="gathering"`)
	}
	if retry := gathering.ErrorRetryAfter(err); retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(retry)))
	}
	writeProblem(w, r, code, gathering.ErrorMessage(err), gathering.ErrorFields(err))
}

// problemStatus is the HTTP status err is answered with.
func problemStatus(err error) int {
	if status, ok := statusByCode[gathering.ErrorCode(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// writeProblem writes a problem+json response for an error code.
func writeProblem(w http.ResponseWriter, r *http.Request, code, detail string, fields []gathering.FieldError) {
	status, ok := statusByCode[code]
	if !ok {
		status, code = http.StatusInternalServerError, gathering.EINTERNAL
	}
	p := Problem{
		Type:      problemTypePrefix + code,
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		RequestID: gathering.RequestID(r.Context()),
		Errors:    fields,
	}
	if (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "5")
	}
	writeBody(w, status, "application/problem+json", p)
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeBody(w, status, "application/json", v)
}

func writeBody(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T response: %v", v, err)) // only our own types are written: a bug
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// APIKeyRequest is the body of POST /auth/api-keys.
type APIKeyRequest struct {
	Name      string     `json:"name"`
	Role      string     `json:"role,omitempty" enum:"admin,member,viewer" doc:"at most your own role; yours when omitted"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// APIKeyResponse is an API key as lists show it: never the key itself.
type APIKeyResponse struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Prefix     string     `json:"prefix" doc:"the first characters of the key, to recognise it"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreatedAPIKey answers POST /auth/api-keys: the only time the key is shown.
type CreatedAPIKey struct {
	APIKeyResponse
	Key string `json:"key" doc:"send as Authorization: Bearer <key>; shown only once"`
}

func apiKeyResponse(k gathering.APIKey) APIKeyResponse {
	return APIKeyResponse{ID: k.ID, UserID: k.UserID, Name: k.Name, Role: string(k.Role), Prefix: k.Prefix, CreatedAt: k.CreatedAt,
		ExpiresAt: optionalTime(k.ExpiresAt), LastUsedAt: optionalTime(k.LastUsedAt), RevokedAt: optionalTime(k.RevokedAt)}
}

func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req APIKeyRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	p, _ := principal(r.Context())
	var expires time.Time
	if req.ExpiresAt != nil {
		expires = *req.ExpiresAt
	}
	key, k, err := a.auth.CreateAPIKey(r.Context(), p, req.Name, gathering.Role(req.Role), expires, meta(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/auth/api-keys/"+strconv.FormatInt(k.ID, 10))
	writeJSON(w, http.StatusCreated, CreatedAPIKey{APIKeyResponse: apiKeyResponse(k), Key: key})
	return nil
}

func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	p, _ := principal(r.Context())
	keys, err := a.auth.ListAPIKeys(r.Context(), p, r.URL.Query().Get("all") == "true")
	if err != nil {
		return err
	}
	out := List[APIKeyResponse]{Items: []APIKeyResponse{}, Total: len(keys)}
	for _, k := range keys {
		out.Items = append(out.Items, apiKeyResponse(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, _ := principal(r.Context())
	if err := a.auth.RevokeAPIKey(r.Context(), p, id, meta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// UserPatch is the body of PATCH /users/{id}; absent fields stay as they are.
type UserPatch struct {
	Name     *string `json:"name,omitempty"`
	Role     *string `json:"role,omitempty" enum:"admin,member,viewer"`
	IsActive *bool   `json:"is_active,omitempty"`
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	users, total, err := a.store.UserList(r.Context(), pg)
	if err != nil {
		return err
	}
	out := List[UserResponse]{Items: []UserResponse{}, Total: total}
	for _, u := range users {
		out.Items = append(out.Items, userResponse(u))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := a.store.UserGetByID(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userResponse(u))
	return nil
}

func (a *API) patchUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req UserPatch
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	patch := auth.UserPatch{Name: req.Name, IsActive: req.IsActive}
	if req.Role != nil {
		role := gathering.Role(*req.Role)
		patch.Role = &role
	}
	p, _ := principal(r.Context())
	u, err := a.auth.UpdateUser(r.Context(), p, id, patch, meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userResponse(u))
	return nil
}

// deactivateUser is DELETE /users/{id}: accounts are deactivated, never
// erased, so the audit trail keeps its actors.
func (a *API) deactivateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	inactive := false
	p, _ := principal(r.Context())
	if _, err := a.auth.UpdateUser(r.Context(), p, id, auth.UserPatch{IsActive: &inactive}, meta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// AuditEventResponse is one entry of the audit trail.
type AuditEventResponse struct {
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	Event     string          `json:"event"`
	ActorID   *int64          `json:"actor_id,omitempty"`
	ActorIP   string          `json:"actor_ip,omitempty"`
	UserAgent string          `json:"user_agent,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	Target    string          `json:"target,omitempty"`
	Details   json.RawMessage `json:"details"`
}

func auditResponse(e gathering.AuditEvent) AuditEventResponse {
	out := AuditEventResponse{ID: e.ID, At: e.At, Event: e.Event, UserAgent: e.UserAgent, RequestID: e.RequestID, Target: e.Target, Details: e.Details}
	if e.ActorID != 0 {
		out.ActorID = &e.ActorID
	}
	if e.ActorIP.IsValid() {
		out.ActorIP = e.ActorIP.String()
	}
	if len(out.Details) == 0 {
		out.Details = json.RawMessage("{}")
	}
	return out
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	events, total, err := a.store.AuditList(r.Context(), f)
	if err != nil {
		return err
	}
	out := List[AuditEventResponse]{Items: []AuditEventResponse{}, Total: total}
	for _, e := range events {
		out.Items = append(out.Items, auditResponse(e))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// auditFilter reads event, actor, since, until, limit and offset.
func auditFilter(r *http.Request) (store.AuditFilter, error) {
	q := r.URL.Query()
	pg, err := page(r)
	var fields []gathering.FieldError
	if err != nil {
		fields = gathering.ErrorFields(err)
	}
	f := store.AuditFilter{Event: q.Get("event"), Page: pg}
	if v := q.Get("actor"); v != "" {
		if f.ActorID, err = strconv.ParseInt(v, 10, 64); err != nil || f.ActorID <= 0 {
			fields = append(fields, gathering.FieldError{Field: "actor", Message: "must be a user id"})
		}
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			if *dst, err = time.Parse(time.RFC3339, v); err != nil {
				fields = append(fields, gathering.FieldError{Field: name, Message: "must be an RFC 3339 time like 2026-01-02T15:04:05Z"})
			}
		}
	}
	if len(fields) > 0 {
		return f, gathering.Invalid("The query is invalid.", fields...)
	}
	return f, nil
}

package httpapi

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// UserResponse is a user as the API shows it (never its password hash).
type UserResponse struct {
	ID          int64      `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        string     `json:"role" enum:"admin,member,viewer"`
	IsActive    bool       `json:"is_active"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

func userResponse(u gathering.User) UserResponse {
	return UserResponse{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), IsActive: u.IsActive,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, LastLoginAt: optionalTime(u.LastLoginAt)}
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// List is the shape of every list response.
type List[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// RegisterRequest is the body of POST /auth/register.
type RegisterRequest struct {
	Email    string `json:"email" format:"email"`
	Password string `json:"password" doc:"8 to 128 characters"`
	Name     string `json:"name"`
}

// LoginRequest is the body of POST /auth/login/json.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// LoginForm is the body of POST /auth/login (OAuth2 password flow).
type LoginForm struct {
	Username string `json:"username" doc:"the email"`
	Password string `json:"password"`
}

// RefreshRequest is the body of POST /auth/refresh.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// TokenResponse answers a login or a refresh.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type" enum:"bearer"`
	ExpiresIn    int    `json:"expires_in" doc:"seconds until the access token expires"`
	RefreshToken string `json:"refresh_token"`
}

// VerifyResponse answers POST /auth/verify.
type VerifyResponse struct {
	Valid     bool       `json:"valid"`
	UserID    int64      `json:"user_id,omitempty"`
	Email     string     `json:"email,omitempty"`
	Role      string     `json:"role,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func tokenResponse(t auth.TokenPair) TokenResponse {
	return TokenResponse{AccessToken: t.AccessToken, TokenType: "bearer", ExpiresIn: t.ExpiresIn, RefreshToken: t.RefreshToken}
}

func (a *API) register(w http.ResponseWriter, r *http.Request) error {
	if !a.opts.OpenRegistration {
		return gathering.Errorf(gathering.EFORBIDDEN, "Registration is closed; ask an administrator for an account.")
	}
	var req RegisterRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	u, err := a.auth.Register(r.Context(), auth.RegisterParams{Email: req.Email, Password: req.Password, Name: req.Name, Role: gathering.RoleMember}, meta(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/users/"+strconv.FormatInt(u.ID, 10))
	writeJSON(w, http.StatusCreated, userResponse(u))
	return nil
}

func (a *API) loginForm(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return gathering.Errorf(gathering.EUNSUPPORTED, "Send the form as application/x-www-form-urlencoded (or use /auth/login/json).")
	}
	if err := r.ParseForm(); err != nil {
		return decodeError(err)
	}
	return a.login(w, r, r.PostForm.Get("username"), r.PostForm.Get("password"))
}

func (a *API) loginJSON(w http.ResponseWriter, r *http.Request) error {
	var req LoginRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	return a.login(w, r, req.Email, req.Password)
}

func (a *API) login(w http.ResponseWriter, r *http.Request, email, password string) error {
	pair, _, err := a.auth.Login(r.Context(), email, password, meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenResponse(pair))
	return nil
}

func (a *API) refresh(w http.ResponseWriter, r *http.Request) error {
	var req RefreshRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	pair, err := a.auth.Refresh(r.Context(), req.RefreshToken, meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenResponse(pair))
	return nil
}

// me answers with the account authentication loaded for this request.
func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	p, _ := principal(r.Context())
	if p.User.ID == 0 { // authentication disabled: no account behind the request
		return gathering.Errorf(gathering.ENOTFOUND, "No account: authentication is disabled.")
	}
	writeJSON(w, http.StatusOK, userResponse(p.User))
	return nil
}

// verify tells whether the request's bearer token is valid; it answers
// 200 either way.
func (a *API) verify(w http.ResponseWriter, r *http.Request) error {
	token, _, err := auth.BearerFromRequest(r)
	if err != nil || token == "" {
		writeJSON(w, http.StatusOK, VerifyResponse{})
		return nil
	}
	p, err := a.auth.Authenticate(r.Context(), token)
	switch gathering.ErrorCode(err) {
	case "":
		writeJSON(w, http.StatusOK, VerifyResponse{Valid: true, UserID: p.UserID, Email: p.Email, Role: string(p.Role), ExpiresAt: optionalTime(p.ExpiresAt)})
		return nil
	case gathering.EUNAUTHORIZED:
		writeJSON(w, http.StatusOK, VerifyResponse{})
		return nil
	default:
		return err
	}
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	p, _ := principal(r.Context())
	if err := a.auth.Logout(r.Context(), p, meta(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pathID reads a positive integer path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, gathering.Errorf(gathering.ENOTFOUND, "No %s %q.", name, r.PathValue(name))
	}
	return id, nil
}

// queryAgentID reads an optional agent id from the query (0 when absent),
// adding a field error to fields when it is not one.
func queryAgentID(q url.Values, fields *[]gathering.FieldError) int64 {
	return queryID(q, "agent_id", "must be an agent's id", fields)
}

// queryID reads an optional positive id from the query parameter name (0
// when absent), adding a field error with message to fields when it is not
// one.
func queryID(q url.Values, name, message string, fields *[]gathering.FieldError) int64 {
	v := q.Get(name)
	if v == "" {
		return 0
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		*fields = append(*fields, gathering.FieldError{Field: name, Message: message})
	}
	return id
}

// page reads limit and offset (default 50, at most 200).
func page(r *http.Request) (store.Page, error) {
	q := r.URL.Query()
	p := store.Page{Limit: 50}
	var fields []gathering.FieldError
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			fields = append(fields, gathering.FieldError{Field: "limit", Message: "must be a whole number from 1 to 200"})
		}
		p.Limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fields = append(fields, gathering.FieldError{Field: "offset", Message: "must be a whole number, 0 or more"})
		}
		p.Offset = n
	}
	if len(fields) > 0 {
		return p, gathering.Invalid("The query is invalid.", fields...)
	}
	return p, nil
}

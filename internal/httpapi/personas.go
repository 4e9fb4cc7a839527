package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// PersonaRequest is the body that creates or replaces a persona.
type PersonaRequest struct {
	DisplayName        string   `json:"display_name"`
	Role               string   `json:"role"`
	Traits             []string `json:"traits,omitempty"`
	CommunicationStyle string   `json:"communication_style,omitempty"`
	Specializations    []string `json:"specializations,omitempty"`
	Languages          []string `json:"languages,omitempty"`
	BasePrompt         string   `json:"base_prompt"`
	Motto              string   `json:"motto,omitempty"`
	Description        string   `json:"description,omitempty"`
	DefaultModelID     int64    `json:"default_model_id,omitempty"`
}

// Limits of a persona's fields.
const (
	maxPersonaText   = 200
	maxPersonaPrompt = 20_000
	maxPersonaList   = 20
)

// Validate implements validator.
func (p PersonaRequest) Validate() error {
	fields := p.problems("")
	if len(fields) > 0 {
		return gathering.Invalid("The persona is invalid.", fields...)
	}
	return nil
}

// problems lists what is wrong, with field names under prefix.
func (p PersonaRequest) problems(prefix string) []gathering.FieldError {
	var fields []gathering.FieldError
	text := func(name, v string, min, max int) {
		if n := len([]rune(v)); n < min || n > max {
			fields = append(fields, gathering.FieldError{Field: prefix + name, Message: "must be " + strconv.Itoa(min) + " to " + strconv.Itoa(max) + " characters"})
		}
	}
	text("display_name", p.DisplayName, 1, maxPersonaText)
	text("role", p.Role, 1, maxPersonaText)
	text("communication_style", p.CommunicationStyle, 0, 1000)
	text("base_prompt", p.BasePrompt, 1, maxPersonaPrompt)
	text("motto", p.Motto, 0, 1000)
	text("description", p.Description, 0, 2000)
	for name, list := range map[string][]string{"traits": p.Traits, "specializations": p.Specializations, "languages": p.Languages} {
		if len(list) > maxPersonaList {
			fields = append(fields, gathering.FieldError{Field: prefix + name, Message: "at most 20 entries"})
		}
		for _, v := range list {
			if v == "" || len(v) > maxPersonaText {
				fields = append(fields, gathering.FieldError{Field: prefix + name, Message: "entries must be 1 to 200 characters"})
				break
			}
		}
	}
	return fields
}

func (p PersonaRequest) persona(now time.Time) store.Persona {
	return store.Persona{DisplayName: p.DisplayName, Role: p.Role, Traits: p.Traits, CommunicationStyle: p.CommunicationStyle,
		Specializations: p.Specializations, Languages: p.Languages, BasePrompt: p.BasePrompt, Motto: p.Motto,
		Description: p.Description, DefaultModelID: p.DefaultModelID, CreatedAt: now, UpdatedAt: now}
}

// PersonaResponse is a persona.
type PersonaResponse struct {
	ID int64 `json:"id"`
	PersonaRequest
	IsBuiltin bool      `json:"is_builtin"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func personaResponse(p store.Persona) PersonaResponse {
	return PersonaResponse{ID: p.ID, IsBuiltin: p.IsBuiltin, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, PersonaRequest: PersonaRequest{
		DisplayName: p.DisplayName, Role: p.Role, Traits: cmpSlice(p.Traits), CommunicationStyle: p.CommunicationStyle,
		Specializations: cmpSlice(p.Specializations), Languages: cmpSlice(p.Languages), BasePrompt: p.BasePrompt,
		Motto: p.Motto, Description: p.Description, DefaultModelID: p.DefaultModelID}}
}

func (a *API) listPersonas(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	ps, total, err := a.store.PersonaList(r.Context(), pg)
	if err != nil {
		return err
	}
	out := List[PersonaResponse]{Items: make([]PersonaResponse, 0, len(ps)), Total: total}
	for _, p := range ps {
		out.Items = append(out.Items, personaResponse(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getPersona(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := a.store.PersonaGet(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, personaResponse(p))
	return nil
}

func (a *API) createPersona(w http.ResponseWriter, r *http.Request) error {
	var req PersonaRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	p, err := a.store.PersonaCreate(r.Context(), req.persona(time.Now()))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/personas/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, personaResponse(p))
	return nil
}

// updatePersona replaces a persona; a built-in one only by an
// administrator.
func (a *API) updatePersona(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req PersonaRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	old, err := a.store.PersonaGet(r.Context(), id)
	if err != nil {
		return err
	}
	if p, _ := principal(r.Context()); old.IsBuiltin && p.Role != gathering.RoleAdmin {
		return gathering.Errorf(gathering.EFORBIDDEN, "Only an administrator may change a built-in persona.")
	}
	upd := req.persona(time.Now())
	upd.ID, upd.IsBuiltin, upd.CreatedAt = id, old.IsBuiltin, old.CreatedAt
	p, err := a.store.PersonaUpdate(r.Context(), upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, personaResponse(p))
	return nil
}

func (a *API) deletePersona(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.store.PersonaDelete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

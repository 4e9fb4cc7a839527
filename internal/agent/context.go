package agent

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/store"
)

// historyFetch bounds how many stored messages a turn looks at before
// fitting them to the token budget.
const historyFetch = 500

// estimateTokens is a provider-neutral estimate: about four characters a
// token, rounded up, plus a little per message for its framing.
func estimateTokens(s string) int { return (len([]rune(s))+3)/4 + 4 }

// buildContext fills the model request: the persona's system prompt with
// recalled memories, the history that fits the window, the new message and
// the tools the agent may use.
func (s *Service) buildContext(ctx context.Context, t *turn) error {
	persona, err := s.st.PersonaGet(ctx, t.agent.PersonaID)
	if err != nil {
		return err
	}
	system := systemPrompt(t.agent, persona)
	projects, err := s.projectSection(ctx, t.agent.ID)
	if err != nil {
		return err
	}
	system += projects
	if t.req.IncludeMemories && s.memories != nil {
		mems, err := s.memories.Recall(ctx, t.agent.ID, t.req.Message, s.opts.RecallLimit)
		if err != nil {
			return err
		}
		system += memorySection(mems)
	}
	if t.req.AllowTools && t.model.Tools {
		if t.tools, err = s.toolsFor(ctx, t.agent.ID); err != nil {
			return err
		}
	}
	t.llmReq = llm.Request{Model: t.model.Name, System: system, Tools: t.tools.specs, MaxTokens: t.maxTokens()}
	if t.agent.Temperature > 0 {
		temp := t.agent.Temperature
		t.llmReq.Temperature = &temp
	}
	budget := t.model.ContextWindow - t.llmReq.MaxTokens - estimateTokens(system) - estimateTokens(t.req.Message) - t.tools.tokens
	history, err := s.history(ctx, t.result.SessionID, budget)
	if err != nil {
		return err
	}
	user := store.ChatMessage{SessionID: t.result.SessionID, AgentID: t.agent.ID, Role: string(llm.RoleUser), Content: t.req.Message, Tokens: estimateTokens(t.req.Message), CreatedAt: s.now()}
	t.newMsgs = append(t.newMsgs, user)
	t.llmReq.Messages = append(history, llm.Message{Role: llm.RoleUser, Content: t.req.Message})
	return nil
}

// maxTokens is the answer budget: the agent's setting within the model's
// maximum output.
func (t *turn) maxTokens() int {
	n := t.agent.MaxTokens
	if t.model.MaxOutput > 0 && (n <= 0 || n > t.model.MaxOutput) {
		n = min(t.model.MaxOutput, 4096)
	}
	return max(n, 1)
}

// systemPrompt renders the persona for the model.
func systemPrompt(a store.Agent, p store.Persona) string {
	var b strings.Builder
	b.WriteString("You are " + a.Name + ", " + p.DisplayName + " (" + p.Role + ").\n")
	b.WriteString(p.BasePrompt + "\n")
	if len(p.Traits) > 0 {
		b.WriteString("Traits: " + strings.Join(p.Traits, ", ") + ".\n")
	}
	if p.CommunicationStyle != "" {
		b.WriteString("Communication style: " + p.CommunicationStyle + ".\n")
	}
	if len(p.Specializations) > 0 {
		b.WriteString("Specializations: " + strings.Join(p.Specializations, ", ") + ".\n")
	}
	if len(a.Competencies) > 0 {
		b.WriteString("Competencies: " + strings.Join(a.Competencies, ", ") + ".\n")
	}
	if len(p.Languages) > 0 {
		b.WriteString("Languages: " + strings.Join(p.Languages, ", ") + ".\n")
	}
	return b.String()
}

func memorySection(mems []string) string {
	if len(mems) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nWhat you remember that may be relevant:\n")
	for i, m := range mems {
		b.WriteString(strconv.Itoa(i+1) + ". " + m + "\n")
	}
	return b.String()
}

// Bounds of the project context a turn carries.
const (
	maxContextProjects   = 3
	maxContextActivities = 5
	maxContextFiles      = 10
)

// projectSection tells the agent about the projects it is linked to (at
// most maxContextProjects): name, id, description, the latest activity and
// the files it touched lately.
func (s *Service) projectSection(ctx context.Context, agentID int64) (string, error) {
	ids, err := s.st.AgentProjects(ctx, agentID)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	var b strings.Builder
	b.WriteString("\nProjects you work on (project_id for the fs, git and shell tools):\n")
	for _, id := range ids[:min(len(ids), maxContextProjects)] {
		p, err := s.st.ProjectGet(ctx, id)
		if err != nil {
			return "", err
		}
		b.WriteString("- " + p.Name + " (project_id " + strconv.FormatInt(p.ID, 10) + ")")
		if p.Description != "" {
			b.WriteString(": " + p.Description)
		}
		b.WriteString("\n")
		if err := s.projectActivity(ctx, &b, p.ID, agentID); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// projectActivity writes a project's latest activity and the files the
// agent touched in it lately.
func (s *Service) projectActivity(ctx context.Context, b *strings.Builder, projectID, agentID int64) error {
	recent, _, err := s.st.ActivityList(ctx, store.ActivityFilter{ProjectID: projectID}, store.Page{Limit: maxContextActivities})
	if err != nil {
		return err
	}
	for _, a := range recent {
		b.WriteString("  - " + a.At.UTC().Format("2006-01-02 15:04") + " " + a.Summary + "\n")
	}
	mine, _, err := s.st.ActivityList(ctx, store.ActivityFilter{ProjectID: projectID, AgentID: agentID}, store.Page{Limit: 50})
	if err != nil {
		return err
	}
	var files []string
	for _, a := range mine {
		if a.Path != "" && !slices.Contains(files, a.Path) && len(files) < maxContextFiles {
			files = append(files, a.Path)
		}
	}
	if len(files) > 0 {
		b.WriteString("  Files you touched lately: " + strings.Join(files, ", ") + "\n")
	}
	return nil
}

// history returns the latest messages of the session that fit budget
// tokens, oldest first, never starting with a tool result whose call was
// cut off.
func (s *Service) history(ctx context.Context, sessionID string, budget int) ([]llm.Message, error) {
	stored, err := s.st.MessagesRecent(ctx, sessionID, historyFetch)
	if err != nil {
		return nil, err
	}
	first := len(stored)
	for i := len(stored) - 1; i >= 0; i-- {
		if budget -= max(stored[i].Tokens, estimateTokens(stored[i].Content)); budget < 0 {
			break
		}
		first = i
	}
	for first < len(stored) && stored[first].Role == string(llm.RoleTool) {
		first++
	}
	out := make([]llm.Message, 0, len(stored)-first)
	for _, m := range stored[first:] {
		out = append(out, toLLM(m))
	}
	return out, nil
}

// toLLM turns a stored message back into a model message.
func toLLM(m store.ChatMessage) llm.Message {
	msg := llm.Message{Role: llm.Role(m.Role), Content: m.Content, ToolCallID: m.ToolCallID, IsError: m.IsError}
	if len(m.ToolCalls) > 0 {
		_ = json.Unmarshal(m.ToolCalls, &msg.ToolCalls)
	}
	return msg
}

func agentTopic(id int64) string { return "agent:" + strconv.FormatInt(id, 10) }
func userTopic(id int64) string  { return "user:" + strconv.FormatInt(id, 10) }

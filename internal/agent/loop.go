package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// toolSet is what a turn offers the model: the specs under wire names
// (providers refuse dots in tool names) and the way back to the registry.
type toolSet struct {
	specs  []llm.ToolSpec
	byWire map[string]string // wire name → registry name
	skills []string
	tokens int // estimated tokens of the specs
}

// wireName turns "fs.read" into "fs__read", a name every provider accepts.
func wireName(name string) string { return strings.ReplaceAll(name, ".", "__") }

// toolsFor offers the tools of the agent's enabled skills that are
// available now.
func (s *Service) toolsFor(ctx context.Context, agentID int64) (toolSet, error) {
	skills, err := s.st.AgentSkills(ctx, agentID)
	if err != nil {
		return toolSet{}, err
	}
	set := toolSet{byWire: map[string]string{}, skills: skills}
	caller := tool.AgentCaller(skills...)
	for _, t := range s.tools.Registry().List() {
		if !caller.Allowed(&t.Tool) || len(wireName(t.Name)) > 64 || (t.Check != nil && t.Check() != nil) {
			continue
		}
		spec := llm.ToolSpec{Name: wireName(t.Name), Description: t.Description, Parameters: t.Input}
		set.specs = append(set.specs, spec)
		set.byWire[spec.Name] = t.Name
		set.tokens += estimateTokens(spec.Description) + len(spec.Parameters)/4
	}
	return set, nil
}

// loop calls the model and runs the tools it asks for until it answers
// without tool calls or MaxRounds model calls were made.
func (s *Service) loop(ctx context.Context, t *turn) error {
	for round := 1; ; round++ {
		resp, err := s.call(ctx, t)
		if err != nil {
			return err
		}
		t.result.Content = resp.Content
		t.addAssistant(resp, s)
		if len(resp.ToolCalls) == 0 {
			return nil
		}
		for _, c := range resp.ToolCalls {
			res := s.answerCall(ctx, t, c, round >= s.opts.MaxRounds)
			if err := t.addToolResult(c, res, s); err != nil {
				return err
			}
		}
		if round >= s.opts.MaxRounds {
			return nil
		}
	}
}

// call makes one model call, streaming tokens when the caller streams, and
// records it in the usage ledger.
func (s *Service) call(ctx context.Context, t *turn) (llm.Response, error) {
	start := s.now()
	var resp llm.Response
	var err error
	if t.req.Emit != nil && t.model.Streaming {
		resp, err = t.provider.Stream(ctx, t.llmReq, func(d llm.Delta) error {
			if d.Kind != llm.DeltaToken {
				return nil
			}
			return t.emit(Frame{Type: "token", Content: d.Text})
		})
	} else {
		resp, err = t.provider.Chat(ctx, t.llmReq)
	}
	cost := Cost(t.model, resp.Usage)
	t.result.Usage = t.result.Usage.Add(resp.Usage)
	t.result.Cost += cost
	s.recordUsage(ctx, t, resp.Usage, cost, s.now().Sub(start).Milliseconds(), err)
	return resp, err
}

// Cost prices usage at the model's rates (US dollars per million tokens);
// cached input tokens cost the cached rate, or the input rate when the
// model has none.
func Cost(m store.Model, u llm.Usage) float64 {
	cachedRate := m.PriceCached
	if cachedRate == 0 {
		cachedRate = m.PriceInput
	}
	fresh := max(u.InputTokens-u.CachedTokens, 0)
	return (float64(fresh)*m.PriceInput + float64(u.CachedTokens)*cachedRate + float64(u.OutputTokens)*m.PriceOutput) / 1e6
}

func (s *Service) recordUsage(ctx context.Context, t *turn, u llm.Usage, cost float64, latency int64, callErr error) {
	outcome := "ok"
	if callErr != nil {
		outcome = gathering.ErrorCode(callErr)
	}
	rec := store.UsageRecord{
		At: s.now(), AgentID: t.agent.ID, SessionID: t.result.SessionID, UserID: t.req.UserID,
		Provider: t.agent.Provider, Model: t.model.Name, InputTokens: u.InputTokens, OutputTokens: u.OutputTokens,
		CachedTokens: u.CachedTokens, Cost: cost, LatencyMS: latency, Outcome: outcome,
	}
	_ = s.st.UsageRecord(context.WithoutCancel(ctx), rec)
}

// addAssistant appends the model's answer to the conversation.
func (t *turn) addAssistant(resp llm.Response, s *Service) {
	msg := llm.Message{Role: llm.RoleAssistant, Content: resp.Content, ToolCalls: resp.ToolCalls}
	t.llmReq.Messages = append(t.llmReq.Messages, msg)
	stored := store.ChatMessage{SessionID: t.result.SessionID, AgentID: t.agent.ID, Role: string(llm.RoleAssistant), Content: resp.Content, Tokens: estimateTokens(resp.Content), CreatedAt: s.now()}
	if len(resp.ToolCalls) > 0 {
		stored.ToolCalls, _ = json.Marshal(resp.ToolCalls)
		stored.Tokens += len(stored.ToolCalls) / 4
	}
	t.newMsgs = append(t.newMsgs, stored)
}

// addToolResult reports a call's result to the model and the caller.
func (t *turn) addToolResult(c llm.ToolCall, res ToolResult, s *Service) error {
	content, isErr := resultContent(res)
	t.llmReq.Messages = append(t.llmReq.Messages, llm.Message{Role: llm.RoleTool, Content: content, ToolCallID: c.ID, IsError: isErr})
	t.newMsgs = append(t.newMsgs, store.ChatMessage{SessionID: t.result.SessionID, AgentID: t.agent.ID, Role: string(llm.RoleTool), Content: content, ToolCallID: c.ID, IsError: isErr, Tokens: estimateTokens(content), CreatedAt: s.now()})
	t.result.ToolResults = append(t.result.ToolResults, res)
	return t.emit(Frame{Type: "tool_result", ToolResult: &res})
}

// resultContent is what the model reads of a result.
func resultContent(res ToolResult) (string, bool) {
	switch res.Status {
	case string(store.ToolSucceeded):
		return string(res.Output), false
	case string(store.ToolAwaitingConfirmation), string(store.ToolPending), string(store.ToolRunning):
		b, _ := json.Marshal(map[string]string{"status": res.Status, "execution_id": res.ExecutionID,
			"note": "The call has not finished: " + res.Status + ". Tell the user; a person may have to confirm it."})
		return string(b), false
	}
	b, _ := json.Marshal(map[string]any{"error": res.Error, "details": json.RawMessage(cmpJSON(res.Output))})
	return string(b), true
}

func cmpJSON(b json.RawMessage) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}

// answerCall runs one tool call through the executor, or refuses it: an
// unknown tool, an identical repeat, or a call past the round limit. Every
// refusal and failure is a result the model can read and correct.
func (s *Service) answerCall(ctx context.Context, t *turn, c llm.ToolCall, last bool) ToolResult {
	name, known := t.tools.byWire[c.Name]
	call := ToolCall{ID: c.ID, Tool: name, Arguments: c.Arguments}
	res := ToolResult{CallID: c.ID, Tool: name, Status: "rejected"}
	key := c.Name + "\x00" + canonical(c.Arguments)
	switch {
	case !known:
		call.Tool, res.Tool = c.Name, c.Name
		res.Error = "There is no tool " + strconv.Quote(c.Name) + " among the tools offered."
	case last:
		res.Error = "Not run: this turn reached its limit of model calls. Answer with what you have."
	case t.seen[key]:
		res.Error = "Not run: the identical call was already made in this turn; its result is above."
	}
	t.result.ToolCalls = append(t.result.ToolCalls, call)
	if err := t.emit(Frame{Type: "tool_call", ToolCall: &call}); err != nil || res.Error != "" {
		return res
	}
	t.seen[key] = true
	e, err := s.tools.Execute(ctx, tool.Request{Tool: name, Input: c.Arguments, Caller: tool.AgentCaller(t.tools.skills...), UserID: t.req.UserID, AgentID: t.agent.ID})
	res.ExecutionID, res.Output = e.ID, e.Output
	if e.ID != "" {
		res.Status = string(e.Status)
	}
	if err != nil {
		res.Error = gathering.ErrorMessage(err)
		if fields := gathering.ErrorFields(err); len(fields) > 0 {
			res.Output, _ = json.Marshal(fields)
		}
	}
	return res
}

// canonical re-encodes JSON so that equal arguments compare equal.
func canonical(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(bytes.TrimSpace(raw))
	}
	b, _ := json.Marshal(v)
	return string(b)
}

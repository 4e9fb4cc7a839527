package conversation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// writeTimeout bounds the records made after a worker's context ended.
const writeTimeout = 10 * time.Second

// worker runs one claimed conversation until it ends, is cancelled, or
// loses its lease.
type worker struct {
	s     *Service
	conv  store.Conversation // as last read
	lease store.Lease
	ctx   context.Context // cancelled with the cause: cancel, lost lease or shutdown
	ps    []Participant
	msgs  []store.ConversationMessage // every message so far, by Seq
}

// stopping reports whether the service is stopping: the worker releases
// its conversation once the turn in flight ends.
func (w *worker) stopping() bool {
	select {
	case <-w.s.workers.Stopping():
		return true
	default:
		return false
	}
}

// run takes turns until the conversation ends or the worker must stop.
func (w *worker) run() {
	ps, err := w.s.Participants(w.ctx, w.conv)
	if err != nil {
		w.leave(err)
		return
	}
	w.ps = ps
	for {
		if w.stopping() || w.ctx.Err() != nil {
			w.leave(nil)
			return
		}
		if held, err := w.refresh(); !held {
			w.leave(err)
			return
		}
		var stop bool
		if w.conv.TurnsTaken >= w.conv.MaxTurns || w.declaredDone() {
			stop = w.complete()
		} else {
			stop = w.turn()
		}
		if stop {
			return
		}
	}
}

// refresh reads the conversation and the messages written since the last
// read; false when the lease no longer holds (or the read failed).
func (w *worker) refresh() (bool, error) {
	c, err := w.s.db.ConversationGet(w.ctx, w.conv.ID)
	if err != nil {
		return false, err
	}
	if store.ConversationLeaseOf(c) != w.lease || c.Status != store.ConversationActive {
		return false, nil
	}
	w.conv = c
	for len(w.msgs) < c.MessageCount {
		page, _, err := w.s.db.ConversationMessages(w.ctx, c.ID, store.Page{Limit: 500, Offset: len(w.msgs)})
		if err != nil || len(page) == 0 {
			return false, err
		}
		w.msgs = append(w.msgs, page...)
	}
	return true, nil
}

// declaredDone reports whether the last message is an agent's that
// declares the conversation done.
func (w *worker) declaredDone() bool {
	n := len(w.msgs)
	return n > 0 && w.msgs[n-1].AgentID != 0 && Done(w.msgs[n-1].Content)
}

// turn runs the next turn and records it; true when the worker must stop.
func (w *worker) turn() bool {
	i, sel := w.next()
	if w.ctx.Err() != nil {
		return false // the loop leaves
	}
	speaker := w.ps[i]
	res, err := w.s.chat.Chat(w.ctx, agent.ChatRequest{AgentID: speaker.AgentID, UserID: w.conv.CreatedBy,
		Message: turnPrompt(w.conv, w.ps, speaker, w.msgs), LeaseOwner: "conversation:" + w.conv.ID})
	if w.ctx.Err() != nil {
		return false // cancelled, lease lost or shutdown: the turn is not recorded
	}
	if err != nil {
		return w.finish(store.ConversationEnd{Status: store.ConversationFailed, ErrorCode: gathering.ErrorCode(err),
			Error: fmt.Sprintf("Turn %d of %s failed: %s", w.conv.TurnsTaken+1, speaker.Name, gathering.ErrorMessage(err))}, nil)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), writeTimeout)
	defer cancel()
	m, err := w.s.db.ConversationTurn(ctx, w.lease, store.ConversationMessage{ConversationID: w.conv.ID,
		AgentID: speaker.AgentID, Speaker: speaker.Name, Content: res.Content, Mentions: Mentions(res.Content, w.ps, speaker.AgentID),
		InputTokens: res.Usage.InputTokens, OutputTokens: res.Usage.OutputTokens, Cost: res.Cost, At: time.Now()})
	if err != nil {
		w.lost("recording a turn", err)
		return true
	}
	c := w.conv
	c.TurnsTaken, c.MessageCount = c.TurnsTaken+1, m.Seq
	w.s.publish(ctx, "turn", c, "agent:"+strconv.FormatInt(m.AgentID, 10),
		map[string]any{"message": messageData(m), "selection": sel})
	return false
}

// next picks the next speaker by the conversation's strategy.
func (w *worker) next() (int, Selection) {
	if w.conv.Strategy != store.SelectorBased {
		return choose(w.conv.Strategy, w.ps, w.msgs)
	}
	sel := Selection{Strategy: store.SelectorBased, By: "selector"}
	selector := w.conv.SelectorAgentID
	if selector == 0 {
		selector = w.ps[0].AgentID
	}
	res, err := w.s.chat.Chat(w.ctx, agent.ChatRequest{AgentID: selector, UserID: w.conv.CreatedBy,
		Message: selectorPrompt(w.conv, w.ps, w.msgs), LeaseOwner: "conversation:" + w.conv.ID})
	sel.Answer = clip(res.Content, 200)
	i, ok := parseChoice(res.Content, w.ps)
	switch {
	case err != nil:
		sel.Reason = "the selector failed: " + gathering.ErrorMessage(err)
	case !ok:
		sel.Reason = "the answer names no participant"
	default:
		return i, sel
	}
	sel.By = "fallback"
	return roundRobin(w.ps, w.msgs), sel
}

// complete asks for the summary and ends the conversation completed; true
// when the worker must stop (false: a prompt came in, it goes on).
func (w *worker) complete() bool {
	summary, err := w.s.chat.Chat(w.ctx, agent.ChatRequest{AgentID: w.ps[0].AgentID, UserID: w.conv.CreatedBy,
		Message: summaryPrompt(w.conv, w.ps, w.msgs), LeaseOwner: "conversation:" + w.conv.ID})
	if w.ctx.Err() != nil {
		return false // the loop leaves
	}
	if err != nil {
		w.s.opts.Logger.Warn("the summary of a conversation failed", "conversation_id", w.conv.ID, "err", err)
	}
	return w.finish(store.ConversationEnd{Status: store.ConversationCompleted, Summary: summary.Content}, err)
}

// finish ends the conversation and announces its end (with the summary's
// failure, if any); true when the worker must stop (false: a prompt came
// in, it goes on).
func (w *worker) finish(end store.ConversationEnd, summaryErr error) bool {
	end.Messages, end.At = len(w.msgs), time.Now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), writeTimeout)
	defer cancel()
	c, err := w.s.db.ConversationFinish(ctx, w.lease, end)
	if err != nil {
		w.lost("ending the conversation", err)
		return gathering.ErrorCode(err) != gathering.ECONFLICT // ECONFLICT: moved on, or the next read finds the lease lost
	}
	extra := map[string]any{}
	switch {
	case c.Status == store.ConversationFailed:
		extra["error_code"], extra["error"] = c.ErrorCode, c.Error
	case summaryErr != nil:
		extra["summary"], extra["summary_error"] = c.Summary, gathering.ErrorMessage(summaryErr)
	default:
		extra["summary"] = c.Summary
	}
	w.s.publish(ctx, string(c.Status), c, "", extra)
	return true
}

// leave stops running the conversation: at shutdown it releases it for
// another instance; after a cancel or a lost lease there is nothing to
// record, the store has done it. why, when not nil, is logged.
func (w *worker) leave(why error) {
	if why != nil && w.ctx.Err() == nil {
		w.s.opts.Logger.Warn("running a conversation failed", "conversation_id", w.conv.ID, "err", why)
	}
	if w.stopping() || errors.Is(context.Cause(w.ctx), errShutdown) {
		w.s.release(w.ctx, w.lease)
	}
}

// lost logs a refused write: expected when the conversation was cancelled,
// advanced or taken over meanwhile.
func (w *worker) lost(what string, err error) {
	level := w.s.opts.Logger.Warn
	if gathering.ErrorCode(err) == gathering.ECONFLICT {
		level = w.s.opts.Logger.Info
	}
	level(what+" of a conversation was refused", "conversation_id", w.conv.ID, "err", err)
}

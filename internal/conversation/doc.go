// Package conversation runs conversations between agents: on a topic, turn
// by turn, each turn one chat turn of the speaking agent with the
// transcript so far, until the turns run out or an agent declares the
// conversation done; then the first participant summarises it.
//
// # Speakers
//
// The turn strategy picks each speaker: round_robin takes the participants
// in order; mention_based follows the first @name of another participant
// in the last message, else goes round robin; free_form follows a mention,
// else gives the turn to the participant who spoke least recently, never
// to the last speaker; selector asks a model (a chat turn of the selector
// agent) to name the next speaker, and goes round robin when its answer
// names no participant. Mentions are matched case-insensitively against
// the participants' names. An agent ends the conversation by writing
// [DONE] on a line of its own.
//
// # Running
//
// Starting a conversation only marks it active: an active conversation is
// run by the one instance that holds its lease (store.ConversationStore),
// renewed every third of the lease, so that it survives a restart and
// another instance continues it when its owner dies. Each turn is recorded,
// with its usage and cost, as it ends; a turn cut off by a cancel, a
// shutdown or a lost lease is not recorded and is taken again by whoever
// continues. A cancel, from any instance, is announced on the event bus:
// the running instance cancels the turn in flight at once (its heartbeat
// notices within a third of the lease if the announcement is lost). A
// provider error on a turn fails the conversation; a failed summary does
// not. A human's prompt (advance) adds turns to an active or completed
// conversation, which then goes on.
//
// Events conversation.created, started, turn, advanced, completed,
// cancelled and failed are published on the topic conversation:<id> (and
// circle:<name> for a circle's conversation).
package conversation

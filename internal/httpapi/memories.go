package httpapi

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/memory"
	"github.com/gathering/gathering/internal/store"
)

// Limits of the memory routes.
const (
	maxMemoryContent    = 20_000  // characters of one memory
	maxKnowledgeContent = 100_000 // characters of a knowledge entry sent as JSON (upload longer ones)
	maxQuery            = 2_000   // characters of a recall or search query
	maxTags             = 20      // tags of a memory or document
	maxTag              = 100     // characters of one tag
	maxTitle            = 200     // characters of a document's title
	maxCategory         = 100     // characters of a document's category
	maxSource           = 2_048   // characters of a document's source
	maxMetadataBytes    = 16 << 10
	maxUploadBytes      = 5 << 20 // an uploaded document
	maxFormFieldBytes   = 16 << 10
	// uploadBodyLimit lets the form around a document of maxUploadBytes
	// through; the document itself is held to maxUploadBytes.
	uploadBodyLimit = maxUploadBytes + 64<<10
)

// memoryTypeEnum lists store.MemoryTypes, as the enum tags of memory_type
// fields do for the OpenAPI document (a test keeps all of them equal).
const memoryTypeEnum = "fact,preference,episode,task,learning,document,knowledge"

// memoryRoutes are an agent's memories and the knowledge base; none when
// the API has no embedder.
func (a *API) memoryRoutes() []Route {
	if a.embedder == nil {
		return nil
	}
	const agentPath, kb = "/memories/agents/{agent_id}", "/memories/knowledge"
	return []Route{
		{Method: "POST", Pattern: agentPath + "/remember", Access: Member, Handler: HandlerFunc(a.remember), Request: RememberRequest{}, Response: MemoryResponse{}, Status: http.StatusCreated, Tag: "memories", Summary: "Remember something for an agent"},
		{Method: "POST", Pattern: agentPath + "/recall", Access: Viewer, Handler: HandlerFunc(a.recall), Request: RecallRequest{}, Response: List[RecallResult]{}, Tag: "memories", Summary: "An agent's memories most like a query, best first"},
		{Method: "GET", Pattern: agentPath + "/memories/{memory_id}", Access: Viewer, Handler: HandlerFunc(a.getMemory), Response: MemoryResponse{}, Tag: "memories", Summary: "One memory of an agent"},
		{Method: "DELETE", Pattern: agentPath + "/memories/{memory_id}", Access: Member, Handler: HandlerFunc(a.forget), Status: http.StatusNoContent, Tag: "memories", Summary: "Forget one memory of an agent"},
		{Method: "GET", Pattern: agentPath + "/stats", Access: Viewer, Handler: HandlerFunc(a.memoryStats), Response: MemoryStatsResponse{}, Tag: "memories", Summary: "How many memories an agent has, by type and by embedder"},
		{Method: "GET", Pattern: agentPath, Access: Viewer, Handler: HandlerFunc(a.listMemories), Response: List[MemoryResponse]{}, Tag: "memories", Summary: "An agent's memories, newest first (?memory_type=)"},
		{Method: "POST", Pattern: kb, Access: Member, Handler: HandlerFunc(a.addKnowledge), Request: KnowledgeRequest{}, Response: KnowledgeDocument{}, Status: http.StatusCreated, Tag: "memories", Summary: "Add a document to the knowledge base (cut into chunks)"},
		{Method: "GET", Pattern: kb, Access: Viewer, Handler: HandlerFunc(a.listKnowledge), Response: List[MemoryResponse]{}, Tag: "memories", Summary: "Knowledge-base entries, newest first (?category=, ?document_id=)"},
		{Method: "POST", Pattern: kb + "/search", Access: Viewer, Handler: HandlerFunc(a.searchKnowledge), Request: KnowledgeSearchRequest{}, Response: List[RecallResult]{}, Tag: "memories", Summary: "Knowledge-base entries most like a query, best first"},
		{Method: "POST", Pattern: kb + "/upload", Access: Member, Handler: HandlerFunc(a.uploadKnowledge), Response: KnowledgeDocument{}, Status: http.StatusCreated, BodyLimit: uploadBodyLimit, Tag: "memories",
			Summary: "Upload a document (multipart/form-data: file .txt, .md, .markdown or .csv up to 5 MiB; title, category, tags)"},
		{Method: "GET", Pattern: kb + "/{document_id}", Access: Viewer, Handler: HandlerFunc(a.getDocument), Response: KnowledgeDocument{}, Tag: "memories", Summary: "One knowledge-base document"},
		{Method: "DELETE", Pattern: kb + "/{document_id}", Access: Member, Handler: HandlerFunc(a.deleteDocument), Status: http.StatusNoContent, Tag: "memories", Summary: "Delete a knowledge-base document with all its chunks"},
	}
}

// MemoryResponse is one memory or knowledge-base entry, without its vector.
type MemoryResponse struct {
	ID             int64             `json:"id"`
	Scope          store.MemoryScope `json:"scope" enum:"agent,knowledge"`
	AgentID        int64             `json:"agent_id,omitempty"`
	MemoryType     store.MemoryType  `json:"memory_type" enum:"fact,preference,episode,task,learning,document,knowledge"`
	Content        string            `json:"content"`
	Title          string            `json:"title,omitempty"`
	Source         string            `json:"source,omitempty"`
	Category       string            `json:"category,omitempty"`
	DocumentID     string            `json:"document_id,omitempty"`
	ChunkIndex     int               `json:"chunk_index" doc:"The chunk's position in its document (0 outside documents)."`
	Importance     float64           `json:"importance"`
	Tags           []string          `json:"tags"`
	Metadata       json.RawMessage   `json:"metadata,omitempty"`
	Embedder       string            `json:"embedder" doc:"The embedder that made its vector."`
	CreatedAt      time.Time         `json:"created_at"`
	LastAccessedAt *time.Time        `json:"last_accessed_at,omitempty" doc:"When it was last recalled."`
	AccessCount    int               `json:"access_count"`
}

func memoryResponse(m store.Memory) MemoryResponse {
	return MemoryResponse{ID: m.ID, Scope: m.Scope, AgentID: m.AgentID, MemoryType: m.Type, Content: m.Content,
		Title: m.Title, Source: m.Source, Category: m.Category, DocumentID: m.DocumentID, ChunkIndex: m.ChunkIndex,
		Importance: m.Importance, Tags: cmpSlice(m.Tags), Metadata: m.Metadata, Embedder: m.Embedder,
		CreatedAt: m.CreatedAt, LastAccessedAt: optionalTime(m.LastAccessedAt), AccessCount: m.AccessCount}
}

// RememberRequest is the body of POST /memories/agents/{agent_id}/remember.
type RememberRequest struct {
	Content    string           `json:"content" doc:"1 to 20000 characters."`
	MemoryType store.MemoryType `json:"memory_type" enum:"fact,preference,episode,task,learning,document,knowledge"`
	Importance *float64         `json:"importance,omitempty" doc:"0 to 1; 0.5 when absent."`
	Tags       []string         `json:"tags,omitempty" doc:"At most 20, each 1 to 100 characters."`
	Metadata   json.RawMessage  `json:"metadata,omitempty" doc:"A JSON object of at most 16 KiB."`
}

// defaultImportance is the importance of a memory given none.
const defaultImportance = 0.5

// Validate implements validator.
func (q RememberRequest) Validate() error {
	var fields []gathering.FieldError
	add := func(f, m string) { fields = append(fields, gathering.FieldError{Field: f, Message: m}) }
	if n := len([]rune(q.Content)); n > maxMemoryContent || strings.TrimSpace(q.Content) == "" {
		add("content", fmt.Sprintf("must be 1 to %d characters, not all blank", maxMemoryContent))
	}
	if !q.MemoryType.Valid() {
		add("memory_type", "must be one of "+memoryTypeList())
	}
	if q.Importance != nil && (*q.Importance < 0 || *q.Importance > 1) {
		add("importance", "must be between 0 and 1")
	}
	fields = append(fields, tagProblems(q.Tags)...)
	if len(q.Metadata) > maxMetadataBytes || (len(q.Metadata) > 0 && q.Metadata[0] != '{' && string(q.Metadata) != "null") {
		add("metadata", fmt.Sprintf("must be a JSON object of at most %d bytes", maxMetadataBytes))
	}
	if len(fields) > 0 {
		return gathering.Invalid("The memory is invalid.", fields...)
	}
	return nil
}

func memoryTypeList() string {
	return strings.ReplaceAll(memoryTypeEnum, ",", ", ")
}

func tagProblems(tags []string) []gathering.FieldError {
	if len(tags) > maxTags {
		return []gathering.FieldError{{Field: "tags", Message: fmt.Sprintf("at most %d tags", maxTags)}}
	}
	for _, t := range tags {
		if n := len([]rune(t)); n < 1 || n > maxTag {
			return []gathering.FieldError{{Field: "tags", Message: fmt.Sprintf("each tag must be 1 to %d characters", maxTag)}}
		}
	}
	return nil
}

// pathAgent reads {agent_id} and checks that the agent exists.
func (a *API) pathAgent(r *http.Request) (int64, error) {
	id, err := pathID(r, "agent_id")
	if err != nil {
		return 0, err
	}
	if _, err := a.store.AgentGet(r.Context(), id); err != nil {
		return 0, err
	}
	return id, nil
}

func (a *API) remember(w http.ResponseWriter, r *http.Request) error {
	agentID, err := a.pathAgent(r)
	if err != nil {
		return err
	}
	var req RememberRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	m := store.Memory{Scope: store.ScopeAgent, AgentID: agentID, Type: req.MemoryType, Content: req.Content,
		Importance: defaultImportance, Tags: req.Tags}
	if req.Importance != nil {
		m.Importance = *req.Importance
	}
	if string(req.Metadata) != "null" {
		m.Metadata = req.Metadata
	}
	saved, err := memory.Remember(r.Context(), a.store, a.embedder, []store.Memory{m})
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/memories/agents/%d/memories/%d", agentID, saved[0].ID))
	writeJSON(w, http.StatusCreated, memoryResponse(saved[0]))
	return nil
}

// RecallRequest is the body of POST /memories/agents/{agent_id}/recall.
type RecallRequest struct {
	Query            string           `json:"query" doc:"1 to 2000 characters."`
	Limit            int              `json:"limit,omitempty" doc:"1 to 100; 5 when absent."`
	Threshold        float64          `json:"threshold,omitempty" doc:"The least cosine similarity of a result, -1 to 1; 0 when absent."`
	MemoryType       store.MemoryType `json:"memory_type,omitempty" enum:"fact,preference,episode,task,learning,document,knowledge"`
	RecencyWeight    float64          `json:"recency_weight,omitempty" doc:"0 to 1: how much recency counts in the score."`
	ImportanceWeight float64          `json:"importance_weight,omitempty" doc:"0 to 1: how much importance counts; with recency_weight at most 1."`
}

// Validate implements validator; the numbers are checked by the recall.
func (q RecallRequest) Validate() error {
	fields := queryProblems(q.Query)
	if q.MemoryType != "" && !q.MemoryType.Valid() {
		fields = append(fields, gathering.FieldError{Field: "memory_type", Message: "must be one of " + memoryTypeList()})
	}
	if len(fields) > 0 {
		return gathering.Invalid("The recall query is invalid.", fields...)
	}
	return nil
}

func queryProblems(query string) []gathering.FieldError {
	if n := len([]rune(query)); n > maxQuery || strings.TrimSpace(query) == "" {
		return []gathering.FieldError{{Field: "query", Message: fmt.Sprintf("must be 1 to %d characters, not all blank", maxQuery)}}
	}
	return nil
}

// RecallResult is one recalled memory or knowledge-base entry.
type RecallResult struct {
	Memory     MemoryResponse `json:"memory"`
	Similarity float64        `json:"similarity" doc:"Cosine similarity of the entry and the query, -1 to 1."`
	Score      float64        `json:"score" doc:"What results are ranked by: similarity blended with recency and importance."`
}

func (a *API) recall(w http.ResponseWriter, r *http.Request) error {
	agentID, err := a.pathAgent(r)
	if err != nil {
		return err
	}
	var req RecallRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	return a.writeRecall(w, r, memory.Query{
		Filter: store.MemoryFilter{Scope: store.ScopeAgent, AgentID: agentID, Type: req.MemoryType},
		Text:   req.Query, Limit: req.Limit, Threshold: req.Threshold,
		RecencyWeight: req.RecencyWeight, ImportanceWeight: req.ImportanceWeight,
	})
}

// writeRecall runs a recall and answers its results.
func (a *API) writeRecall(w http.ResponseWriter, r *http.Request, q memory.Query) error {
	rs, err := memory.Recall(r.Context(), a.store, a.embedder, q)
	if err != nil {
		return err
	}
	out := List[RecallResult]{Items: make([]RecallResult, len(rs)), Total: len(rs)}
	for i, res := range rs {
		out.Items[i] = RecallResult{Memory: memoryResponse(res.Memory), Similarity: res.Similarity, Score: res.Score}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// agentMemory loads the memory of the path, which must be the path
// agent's.
func (a *API) agentMemory(r *http.Request) (store.Memory, error) {
	agentID, err := a.pathAgent(r)
	if err != nil {
		return store.Memory{}, err
	}
	id, err := pathID(r, "memory_id")
	if err != nil {
		return store.Memory{}, err
	}
	m, err := a.store.MemoryGet(r.Context(), id)
	if err != nil && gathering.ErrorCode(err) != gathering.ENOTFOUND {
		return m, err
	}
	if err != nil || m.Scope != store.ScopeAgent || m.AgentID != agentID {
		return store.Memory{}, gathering.Errorf(gathering.ENOTFOUND, "The agent %d has no memory %d.", agentID, id)
	}
	return m, nil
}

func (a *API) getMemory(w http.ResponseWriter, r *http.Request) error {
	m, err := a.agentMemory(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, memoryResponse(m))
	return nil
}

func (a *API) forget(w http.ResponseWriter, r *http.Request) error {
	m, err := a.agentMemory(r)
	if err != nil {
		return err
	}
	if err := a.store.MemoryDelete(r.Context(), m.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// MemoryStatsResponse counts an agent's memories.
type MemoryStatsResponse struct {
	AgentID    int64                    `json:"agent_id"`
	Total      int                      `json:"total"`
	ByType     map[store.MemoryType]int `json:"by_type" doc:"Every memory type, with 0 when none."`
	ByEmbedder map[string]int           `json:"by_embedder"`
	Embedder   string                   `json:"embedder" doc:"The configured embedder: recall ranks only its entries."`
	Stale      int                      `json:"stale" doc:"Memories made by another embedder: recall skips them until gathering memory reembed."`
}

func (a *API) memoryStats(w http.ResponseWriter, r *http.Request) error {
	agentID, err := a.pathAgent(r)
	if err != nil {
		return err
	}
	st, err := a.store.MemoryStats(r.Context(), store.MemoryFilter{Scope: store.ScopeAgent, AgentID: agentID})
	if err != nil {
		return err
	}
	byType := make(map[store.MemoryType]int, len(store.MemoryTypes))
	for _, t := range store.MemoryTypes {
		byType[t] = st.ByType[t]
	}
	name := a.embedder.Name()
	writeJSON(w, http.StatusOK, MemoryStatsResponse{AgentID: agentID, Total: st.Total, ByType: byType,
		ByEmbedder: st.ByEmbedder, Embedder: name, Stale: st.Total - st.ByEmbedder[name]})
	return nil
}

func (a *API) listMemories(w http.ResponseWriter, r *http.Request) error {
	agentID, err := a.pathAgent(r)
	if err != nil {
		return err
	}
	typ := store.MemoryType(r.URL.Query().Get("memory_type"))
	if typ != "" && !typ.Valid() {
		return gathering.Invalid("The query is invalid.", gathering.FieldError{Field: "memory_type", Message: "must be one of " + memoryTypeList()})
	}
	return a.writeMemoryList(w, r, store.MemoryFilter{Scope: store.ScopeAgent, AgentID: agentID, Type: typ})
}

// writeMemoryList answers a page of the entries of f.
func (a *API) writeMemoryList(w http.ResponseWriter, r *http.Request, f store.MemoryFilter) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	ms, total, err := a.store.MemoryList(r.Context(), f, pg)
	if err != nil {
		return err
	}
	out := List[MemoryResponse]{Items: make([]MemoryResponse, len(ms)), Total: total}
	for i, m := range ms {
		out.Items[i] = memoryResponse(m)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// KnowledgeFields describe a knowledge-base document.
type KnowledgeFields struct {
	Title    string   `json:"title" doc:"1 to 200 characters."`
	Category string   `json:"category,omitempty" doc:"A free grouping (docs, best_practice, decision, faq…), at most 100 characters."`
	Tags     []string `json:"tags,omitempty" doc:"At most 20, each 1 to 100 characters."`
	Source   string   `json:"source,omitempty" doc:"Where it came from (a URL, a file name), at most 2048 characters."`
}

func (f KnowledgeFields) problems() []gathering.FieldError {
	var fields []gathering.FieldError
	text := func(name, v string, min, max int) {
		if n := len([]rune(v)); n < min || n > max {
			fields = append(fields, gathering.FieldError{Field: name, Message: fmt.Sprintf("must be %d to %d characters", min, max)})
		}
	}
	text("title", strings.TrimSpace(f.Title), 1, maxTitle)
	text("category", f.Category, 0, maxCategory)
	text("source", f.Source, 0, maxSource)
	return append(fields, tagProblems(f.Tags)...)
}

// KnowledgeRequest is the body of POST /memories/knowledge.
type KnowledgeRequest struct {
	KnowledgeFields
	Content string `json:"content" doc:"1 to 100000 characters; upload longer documents."`
}

// Validate implements validator.
func (q KnowledgeRequest) Validate() error {
	fields := q.problems()
	if n := len([]rune(q.Content)); n > maxKnowledgeContent || strings.TrimSpace(q.Content) == "" {
		fields = append(fields, gathering.FieldError{Field: "content", Message: fmt.Sprintf("must be 1 to %d characters, not all blank", maxKnowledgeContent)})
	}
	if len(fields) > 0 {
		return gathering.Invalid("The knowledge entry is invalid.", fields...)
	}
	return nil
}

// KnowledgeDocument is a document of the knowledge base: one entry per
// chunk, sharing its document_id.
type KnowledgeDocument struct {
	DocumentID string `json:"document_id"`
	KnowledgeFields
	Chunks    int       `json:"chunks" doc:"How many entries the document was cut into."`
	CreatedAt time.Time `json:"created_at"`
}

func knowledgeDocument(m store.Memory, chunks int) KnowledgeDocument {
	return KnowledgeDocument{DocumentID: m.DocumentID, Chunks: chunks, CreatedAt: m.CreatedAt,
		KnowledgeFields: KnowledgeFields{Title: m.Title, Category: m.Category, Tags: m.Tags, Source: m.Source}}
}

func (a *API) addKnowledge(w http.ResponseWriter, r *http.Request) error {
	var req KnowledgeRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	return a.storeDocument(w, r, req.KnowledgeFields, req.Content, store.MemoryKnowledge)
}

// storeDocument cuts text into chunks, remembers each as an entry of a new
// document, and answers the document.
func (a *API) storeDocument(w http.ResponseWriter, r *http.Request, f KnowledgeFields, text string, typ store.MemoryType) error {
	chunks := memory.Chunk(text, memory.DefaultChunkSize, memory.DefaultChunkOverlap)
	if len(chunks) == 0 {
		return gathering.Invalid("The document is empty.", gathering.FieldError{Field: "file", Message: "has no text"})
	}
	docID, now := rand.Text(), time.Now()
	ms := make([]store.Memory, len(chunks))
	for i, c := range chunks {
		ms[i] = store.Memory{Scope: store.ScopeKnowledge, Type: typ, Content: c, Title: strings.TrimSpace(f.Title), Source: f.Source,
			Category: f.Category, DocumentID: docID, ChunkIndex: i, Tags: f.Tags, CreatedAt: now}
	}
	saved, err := memory.Remember(r.Context(), a.store, a.embedder, ms)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/memories/knowledge/"+docID)
	writeJSON(w, http.StatusCreated, knowledgeDocument(saved[0], len(saved)))
	return nil
}

func (a *API) listKnowledge(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	return a.writeMemoryList(w, r, store.MemoryFilter{Scope: store.ScopeKnowledge, Category: q.Get("category"), DocumentID: q.Get("document_id")})
}

// KnowledgeSearchRequest is the body of POST /memories/knowledge/search.
type KnowledgeSearchRequest struct {
	Query     string  `json:"query" doc:"1 to 2000 characters."`
	Limit     int     `json:"limit,omitempty" doc:"1 to 100; 5 when absent."`
	Category  string  `json:"category,omitempty"`
	Threshold float64 `json:"threshold,omitempty" doc:"The least cosine similarity of a result, -1 to 1; 0 when absent."`
}

// Validate implements validator; the numbers are checked by the search.
func (q KnowledgeSearchRequest) Validate() error {
	if fields := queryProblems(q.Query); len(fields) > 0 {
		return gathering.Invalid("The search is invalid.", fields...)
	}
	return nil
}

func (a *API) searchKnowledge(w http.ResponseWriter, r *http.Request) error {
	var req KnowledgeSearchRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	return a.writeRecall(w, r, memory.Query{Filter: store.MemoryFilter{Scope: store.ScopeKnowledge, Category: req.Category},
		Text: req.Query, Limit: req.Limit, Threshold: req.Threshold})
}

// documentFilter selects the chunks of the path's document.
func documentFilter(r *http.Request) store.MemoryFilter {
	return store.MemoryFilter{Scope: store.ScopeKnowledge, DocumentID: r.PathValue("document_id")}
}

func noDocument(r *http.Request) error {
	return gathering.Errorf(gathering.ENOTFOUND, "No knowledge-base document %q.", r.PathValue("document_id"))
}

func (a *API) getDocument(w http.ResponseWriter, r *http.Request) error {
	ms, total, err := a.store.MemoryList(r.Context(), documentFilter(r), store.Page{Limit: 1})
	if err != nil {
		return err
	}
	if total == 0 {
		return noDocument(r)
	}
	writeJSON(w, http.StatusOK, knowledgeDocument(ms[0], total))
	return nil
}

// deleteDocument deletes every chunk of a document, a page at a time.
func (a *API) deleteDocument(w http.ResponseWriter, r *http.Request) error {
	n, err := a.store.MemoryDeleteMatching(r.Context(), documentFilter(r))
	if err != nil {
		return err
	}
	if n == 0 {
		return noDocument(r)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// uploadFormats are the document formats an upload may have, by file
// extension or, for a name without one, by media type.
var uploadFormats = map[string]memory.Format{
	".txt": memory.FormatText, ".md": memory.FormatMarkdown, ".markdown": memory.FormatMarkdown, ".csv": memory.FormatCSV,
	"text/plain": memory.FormatText, "text/markdown": memory.FormatMarkdown, "text/csv": memory.FormatCSV,
}

// upload is what an upload form holds.
type upload struct {
	fields KnowledgeFields
	text   string
	file   bool
}

func (a *API) uploadKnowledge(w http.ResponseWriter, r *http.Request) error {
	up, err := readUpload(r)
	if err != nil {
		return err
	}
	return a.storeDocument(w, r, up.fields, up.text, store.MemoryDocument)
}

// readUpload reads the multipart form of an upload, part by part, and
// checks it.
func readUpload(r *http.Request) (upload, error) {
	var up upload
	mr, err := r.MultipartReader()
	if err != nil {
		return up, gathering.Errorf(gathering.EUNSUPPORTED, "The upload must be multipart/form-data with a file field.")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return up, uploadError(err)
		}
		if err := up.read(part); err != nil {
			return up, err
		}
	}
	if !up.file {
		return up, gathering.Invalid("The upload is invalid.", gathering.FieldError{Field: "file", Message: "is required"})
	}
	if fields := up.fields.problems(); len(fields) > 0 {
		return up, gathering.Invalid("The upload is invalid.", fields...)
	}
	return up, nil
}

// read takes one part of the form.
func (up *upload) read(part *multipart.Part) error {
	name := part.FormName()
	if name == "file" {
		return up.readFile(part)
	}
	value, err := io.ReadAll(io.LimitReader(part, maxFormFieldBytes+1))
	if err != nil {
		return uploadError(err)
	}
	if len(value) > maxFormFieldBytes {
		return gathering.Invalid("The upload is invalid.", gathering.FieldError{Field: name, Message: fmt.Sprintf("exceeds %d bytes", maxFormFieldBytes)})
	}
	switch v := strings.TrimSpace(string(value)); name {
	case "title":
		up.fields.Title = v
	case "category":
		up.fields.Category = v
	case "tags":
		up.fields.Tags = splitTags(v)
	default:
		return gathering.Invalid("The upload has an unknown field.", gathering.FieldError{Field: name, Message: "unknown field (file, title, category, tags)"})
	}
	return nil
}

// readFile reads the document, in the format its name or media type says.
func (up *upload) readFile(part *multipart.Part) error {
	if up.file {
		return gathering.Invalid("The upload is invalid.", gathering.FieldError{Field: "file", Message: "give one file"})
	}
	name := part.FileName()
	format, err := uploadFormat(name, part.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	if up.text, err = memory.ParseDocument(part, format, maxUploadBytes); err != nil {
		return uploadError(err)
	}
	up.file, up.fields.Source = true, name
	if up.fields.Title == "" {
		up.fields.Title = name
	}
	return nil
}

// uploadFormat picks the format by the file's extension, or by its media
// type when the name has none; anything else is EUNSUPPORTED.
func uploadFormat(name, contentType string) (memory.Format, error) {
	key := strings.ToLower(path.Ext(name))
	if key == "" {
		key, _, _ = mime.ParseMediaType(contentType)
	}
	if f, ok := uploadFormats[key]; ok {
		return f, nil
	}
	return "", gathering.Errorf(gathering.EUNSUPPORTED,
		"Only text, Markdown and CSV documents can be uploaded (.txt, .md, .markdown, .csv, or text/plain, text/markdown, text/csv without an extension); not %q.", name)
}

// uploadError is ETOOLARGE for a body over the route's limit, EMALFORMED
// for a broken form, and err itself when it has a code.
func uploadError(err error) error {
	if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return gathering.Errorf(gathering.ETOOLARGE, "The upload exceeds the limit of %d bytes.", tooLarge.Limit)
	}
	if _, ok := errors.AsType[*gathering.Error](err); ok {
		return err
	}
	return gathering.Errorf(gathering.EMALFORMED, "The multipart form cannot be read.")
}

// splitTags reads comma-separated tags.
func splitTags(v string) []string {
	var tags []string
	for t := range strings.SplitSeq(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

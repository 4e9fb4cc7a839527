package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/store"
)

// memoryAgent creates an agent and returns the base path of its memories.
func memoryAgent(t *testing.T, s setup, token, name string) string {
	t.Helper()
	code, body := api(t, "POST", s.srv.URL+"/agents", token, `{"name":"`+name+`","persona_id":1,"provider":"openai","model":"gpt-4o"}`)
	mustStatus(t, 201, code, body, "create an agent")
	var ag AgentResponse
	if err := json.Unmarshal([]byte(body), &ag); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s/memories/agents/%d", s.srv.URL, ag.ID)
}

// post sends a JSON body and returns the response with its body read.
func post(t *testing.T, method, url, token, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// problemFields returns the field names of a problem's errors, sorted.
func problemFields(t *testing.T, body string) []string {
	t.Helper()
	var p Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("problem %s: %v", body, err)
	}
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

func TestRememberRecallForget(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	ada, bob := memoryAgent(t, s, member, "Ada"), memoryAgent(t, s, member, "Bob")
	facts := []struct{ typ, content string }{
		{"preference", "Ada prefers green tea over coffee in the morning."},
		{"fact", "The billing service is written in Go and deployed on Fridays."},
		{"episode", "The deploy failed last Friday because the database migration timed out."},
		{"fact", "Ada's cat is called Pixel and sleeps on the keyboard."},
	}
	var locations []string
	for _, f := range facts {
		resp, body := post(t, "POST", ada+"/remember", member, `{"content":"`+f.content+`","memory_type":"`+f.typ+`","tags":["t"]}`)
		mustStatus(t, 201, resp.StatusCode, body, "remember")
		if strings.Contains(body, "vector") || !strings.Contains(body, `"importance":0.5`) || !strings.Contains(body, `"embedder":"local-ngram-384"`) {
			t.Fatalf("remembered: %s", body)
		}
		locations = append(locations, resp.Header.Get("Location"))
	}
	code, body := api(t, "GET", s.srv.URL+locations[0], viewer, "")
	if code != 200 || !strings.Contains(body, "green tea") || !strings.Contains(body, `"tags":["t"]`) {
		t.Fatalf("GET %s: %d %s", locations[0], code, body)
	}
	expectStatus(t, 201, "POST", bob+"/remember", member, `{"content":"Bob drinks green tea in the morning too.","memory_type":"preference"}`)

	// Recall ranks Ada's memories only, best first.
	code, body = api(t, "POST", ada+"/recall", viewer, `{"query":"which tea does Ada drink in the morning?","limit":2}`)
	got := decodeList[RecallResult](t, body)
	if code != 200 || got.Total != len(got.Items) || len(got.Items) == 0 || got.Items[0].Memory.Content != facts[0].content ||
		got.Items[0].Similarity <= 0 || got.Items[0].Score != got.Items[0].Similarity || strings.Contains(body, "vector") {
		t.Fatalf("recall: %d %s", code, body)
	}
	code, body = api(t, "POST", ada+"/recall", viewer, `{"query":"why did the deploy fail on Friday","memory_type":"fact"}`)
	for _, r := range decodeList[RecallResult](t, body).Items {
		if code != 200 || r.Memory.MemoryType != store.MemoryFact {
			t.Fatalf("recall of facts: %d %s", code, body)
		}
	}

	// Lists and stats.
	code, body = api(t, "GET", ada+"?memory_type=fact", viewer, "")
	if list := decodeList[MemoryResponse](t, body); code != 200 || list.Total != 2 {
		t.Fatalf("list of facts: %d %s", code, body)
	}
	code, body = api(t, "GET", ada+"/stats", viewer, "")
	var stats MemoryStatsResponse
	if err := json.Unmarshal([]byte(body), &stats); err != nil || code != 200 || stats.Total != 4 || stats.ByType[store.MemoryFact] != 2 ||
		len(stats.ByType) != len(store.MemoryTypes) || stats.ByEmbedder["local-ngram-384"] != 4 || stats.Embedder != "local-ngram-384" || stats.Stale != 0 {
		t.Fatalf("stats: %d %s", code, body)
	}

	// Forget: only the agent's own memory, once.
	expectStatus(t, 204, "DELETE", s.srv.URL+locations[1], member, "")
	expectStatus(t, 404, "DELETE", s.srv.URL+locations[1], member, "")
	otherAgents := strings.Replace(s.srv.URL+locations[2], ada[len(s.srv.URL):], bob[len(s.srv.URL):], 1)
	expectStatus(t, 404, "DELETE", otherAgents, member, "")
	expectStatus(t, 404, "GET", otherAgents, viewer, "")
	code, body = api(t, "GET", ada, viewer, "")
	if list := decodeList[MemoryResponse](t, body); code != 200 || list.Total != 3 {
		t.Fatalf("after forgetting: %d %s", code, body)
	}
}

// expectStatus sends a request and checks the status of the answer.
func expectStatus(t *testing.T, want int, method, url, token, body string) {
	t.Helper()
	code, got := api(t, method, url, token, body)
	mustStatus(t, want, code, got, method+" "+url)
}

func TestMemoryRoutesRefuseUnknownAgentsAndBadInput(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	ada := memoryAgent(t, s, member, "Ada")
	unknown := s.srv.URL + "/memories/agents/999999"
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/remember", `{"content":"x","memory_type":"fact"}`}, {"POST", "/recall", `{"query":"x"}`},
		{"GET", "/stats", ""}, {"GET", "", ""}, {"DELETE", "/memories/1", ""}, {"GET", "/memories/x", ""},
	} {
		if code, body := api(t, c.method, unknown+c.path, member, c.body); code != 404 {
			t.Errorf("%s %s of an unknown agent: %d %s", c.method, c.path, code, body)
		}
	}
	long := strings.Repeat("x", maxMemoryContent+1)
	tags := `["` + strings.Repeat(`t","`, maxTags) + `t"]`
	metadata := `{"k":"` + strings.Repeat("m", maxMetadataBytes) + `"}`
	for _, c := range []struct {
		path, body string
		fields     []string
	}{
		{"/remember", `{"content":" ","memory_type":"opinion","importance":1.5,"tags":` + tags + `,"metadata":[1]}`, []string{"content", "importance", "memory_type", "metadata", "tags"}},
		{"/remember", `{"content":"` + long + `","memory_type":"fact","tags":["` + strings.Repeat("t", maxTag+1) + `"],"metadata":` + metadata + `}`, []string{"content", "metadata", "tags"}},
		{"/remember", `{"content":"x","memory_type":"fact","colour":"red"}`, []string{"colour"}},
		{"/recall", `{"query":"` + strings.Repeat("q", maxQuery+1) + `","memory_type":"opinion"}`, []string{"memory_type", "query"}},
		{"/recall", `{"query":"x","limit":101}`, []string{"limit"}},
		{"/recall", `{"query":"x","threshold":1.5}`, []string{"threshold"}},
		{"/recall", `{"query":"x","recency_weight":0.6,"importance_weight":0.6}`, []string{"importance_weight"}},
	} {
		code, body := api(t, "POST", ada+c.path, member, c.body)
		if got := problemFields(t, body); code != 422 || !slices.Equal(got, c.fields) {
			t.Errorf("%s %.80s: %d %v, want 422 %v", c.path, c.body, code, got, c.fields)
		}
	}
	// The limits themselves are allowed.
	atLimit := `{"content":"` + strings.Repeat("x", maxMemoryContent) + `","memory_type":"fact","importance":1,"tags":` + strings.Replace(tags, `"t",`, "", 1) +
		`,"metadata":{"k":"` + strings.Repeat("m", maxMetadataBytes-len(`{"k":""}`)) + `"}}`
	expectStatus(t, 201, "POST", ada+"/remember", member, atLimit)
	expectStatus(t, 422, "GET", ada+"?memory_type=opinion", member, "")
}

func TestMemoryTypeEnumMatchesTheStore(t *testing.T) {
	t.Parallel()
	var types []string
	for _, typ := range store.MemoryTypes {
		types = append(types, string(typ))
	}
	if strings.Join(types, ",") != memoryTypeEnum {
		t.Fatalf("memoryTypeEnum %q, store.MemoryTypes %v", memoryTypeEnum, types)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[RememberRequest](), reflect.TypeFor[RecallRequest](), reflect.TypeFor[MemoryResponse]()} {
		if f, _ := typ.FieldByName("MemoryType"); f.Tag.Get("enum") != memoryTypeEnum {
			t.Errorf("%s.MemoryType: enum %q", typ.Name(), f.Tag.Get("enum"))
		}
	}
}

func TestKnowledgeBase(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	kb := s.srv.URL + "/memories/knowledge"
	long := strings.Repeat("Rotate the signing keys every ninety days and keep the previous key for verification. ", 40)
	resp, body := post(t, "POST", kb, member, `{"title":"Key rotation","content":"`+long+`","category":"docs","tags":["security"],"source":"https://wiki.example/keys"}`)
	mustStatus(t, 201, resp.StatusCode, body, "add a long document")
	var doc KnowledgeDocument
	if err := json.Unmarshal([]byte(body), &doc); err != nil || doc.Chunks < 2 || doc.DocumentID == "" || resp.Header.Get("Location") != "/memories/knowledge/"+doc.DocumentID {
		t.Fatalf("document: %s %v %q", body, err, resp.Header.Get("Location"))
	}
	code, body := api(t, "POST", kb, member, `{"title":"Office hours","content":"The support desk answers on weekdays from nine to five.","category":"faq"}`)
	mustStatus(t, 201, code, body, "add a short document")
	var faq KnowledgeDocument
	_ = json.Unmarshal([]byte(body), &faq)

	code, body = api(t, "GET", kb+"/"+doc.DocumentID, viewer, "")
	if code != 200 || !strings.Contains(body, fmt.Sprintf(`"chunks":%d`, doc.Chunks)) || !strings.Contains(body, `"title":"Key rotation"`) {
		t.Fatalf("GET document: %d %s", code, body)
	}
	code, body = api(t, "POST", kb+"/search", viewer, `{"query":"when does the support desk answer?","limit":3}`)
	found := decodeList[RecallResult](t, body)
	if code != 200 || len(found.Items) == 0 || found.Items[0].Memory.DocumentID != faq.DocumentID || strings.Contains(body, "vector") {
		t.Fatalf("search: %d %s", code, body)
	}
	code, body = api(t, "POST", kb+"/search", viewer, `{"query":"when does the support desk answer?","category":"docs","limit":100}`)
	for _, r := range decodeList[RecallResult](t, body).Items {
		if code != 200 || r.Memory.Category != "docs" {
			t.Fatalf("search in docs: %d %s", code, body)
		}
	}
	for query, want := range map[string]int{"?category=docs": doc.Chunks, "?document_id=" + faq.DocumentID: 1, "": doc.Chunks + 1} {
		code, body = api(t, "GET", kb+query, viewer, "")
		if list := decodeList[MemoryResponse](t, body); code != 200 || list.Total != want {
			t.Errorf("list %q: %d %s, want %d", query, code, body, want)
		}
	}

	expectStatus(t, 204, "DELETE", kb+"/"+doc.DocumentID, member, "")
	expectStatus(t, 404, "GET", kb+"/"+doc.DocumentID, viewer, "")
	expectStatus(t, 404, "DELETE", kb+"/"+doc.DocumentID, member, "")
	if code, body := api(t, "GET", kb, viewer, ""); decodeList[MemoryResponse](t, body).Total != 1 {
		t.Fatalf("after delete: %d %s", code, body)
	}

	code, body = api(t, "POST", kb, member, `{"title":" ","content":"`+strings.Repeat("c", maxKnowledgeContent+1)+`","category":"`+strings.Repeat("c", maxCategory+1)+`"}`)
	if got := problemFields(t, body); code != 422 || !slices.Equal(got, []string{"category", "content", "title"}) {
		t.Fatalf("invalid document: %d %v", code, got)
	}
	code, body = api(t, "POST", kb+"/search", viewer, `{"query":""}`)
	if got := problemFields(t, body); code != 422 || !slices.Equal(got, []string{"query"}) {
		t.Fatalf("blank search: %d %v", code, got)
	}
}

// formPart is one part of a multipart upload.
type formPart struct {
	name, fileName, contentType string
	content                     []byte
}

// uploadForm posts a multipart form to the upload route.
func uploadForm(t *testing.T, s setup, token string, parts ...formPart) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disposition := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.fileName != "" {
			disposition += fmt.Sprintf(`; filename=%q`, p.fileName)
		}
		h.Set("Content-Disposition", disposition)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(p.content)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", s.srv.URL+"/memories/knowledge/upload", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestKnowledgeUpload(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	md := formPart{name: "file", fileName: "guide.md", contentType: "application/octet-stream",
		content: []byte("# Release guide\n\nTag the release, then publish the changelog on the blog.\n")}
	code, body := uploadForm(t, s, member, md, formPart{name: "category", content: []byte("docs")}, formPart{name: "tags", content: []byte("release, blog")})
	if code != 201 || !strings.Contains(body, `"title":"guide.md"`) || !strings.Contains(body, `"source":"guide.md"`) ||
		!strings.Contains(body, `"tags":["release","blog"]`) || !strings.Contains(body, `"chunks":1`) {
		t.Fatalf("upload a Markdown file: %d %s", code, body)
	}
	csv := formPart{name: "file", fileName: "team.csv", contentType: "text/csv",
		content: []byte("name,role\nGrace,compiler engineer\nLinus,kernel maintainer\n")}
	code, body = uploadForm(t, s, member, formPart{name: "title", content: []byte("The team")}, csv)
	if code != 201 || !strings.Contains(body, `"title":"The team"`) {
		t.Fatalf("upload a CSV file: %d %s", code, body)
	}
	code, body = api(t, "POST", s.srv.URL+"/memories/knowledge/search", viewer, `{"query":"who is the compiler engineer?","limit":1}`)
	if found := decodeList[RecallResult](t, body); code != 200 || len(found.Items) != 1 ||
		!strings.Contains(found.Items[0].Memory.Content, "name: Grace; role: compiler engineer") || found.Items[0].Memory.MemoryType != store.MemoryDocument {
		t.Fatalf("search the CSV: %d %s", code, body)
	}
	noExtension := formPart{name: "file", fileName: "NOTES", contentType: "text/markdown", content: []byte("Notes without an extension.")}
	if code, body := uploadForm(t, s, member, noExtension); code != 201 {
		t.Fatalf("noExtension: %d %s", code, body)
	}

	pdf := formPart{name: "file", fileName: "report.pdf", contentType: "application/pdf", content: []byte("%PDF-1.7")}
	if code, body := uploadForm(t, s, member, pdf); code != 415 {
		t.Fatalf("pdf: %d %s", code, body)
	}
	expectStatus(t, 415, "POST", s.srv.URL+"/memories/knowledge/upload", member, `{"file":"x"}`)
	tooLarge := formPart{name: "file", fileName: "big.txt", content: bytes.Repeat([]byte("a"), maxUploadBytes+1)}
	if code, body := uploadForm(t, s, member, tooLarge); code != 413 {
		t.Fatalf("tooLarge: %d %s", code, body)
	}
	for _, c := range []struct {
		parts  []formPart
		fields []string
	}{
		{[]formPart{{name: "title", content: []byte("no file")}}, []string{"file"}},
		{[]formPart{md, {name: "owner", content: []byte("me")}}, []string{"owner"}},
		{[]formPart{md, md}, []string{"file"}},
		{[]formPart{md, {name: "title", content: bytes.Repeat([]byte("t"), maxFormFieldBytes+1)}}, []string{"title"}},
		{[]formPart{md, {name: "title", content: bytes.Repeat([]byte("t"), maxTitle+1)}}, []string{"title"}},
		{[]formPart{{name: "file", fileName: "empty.txt", content: []byte(" \n")}}, []string{"file"}},
	} {
		code, body := uploadForm(t, s, member, c.parts...)
		if got := problemFields(t, body); code != 422 || !slices.Equal(got, c.fields) {
			t.Errorf("%v: %d %v, want 422 %v", c.fields, code, got, c.fields)
		}
	}
	binary := formPart{name: "file", fileName: "x.txt", content: []byte{0xff, 0xfe, 0x00}}
	if code, body := uploadForm(t, s, member, binary); code != 422 || !strings.Contains(body, "not UTF-8") {
		t.Fatalf("binary text: %d %s", code, body)
	}
	if code, body := api(t, "GET", s.srv.URL+"/memories/knowledge?category=docs", viewer, ""); decodeList[MemoryResponse](t, body).Total != 1 {
		t.Fatalf("list: %d %s", code, body)
	}
}

package auth

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   string // "" means an error
	}{
		{"Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"},
		{"bearer abc", "abc"},
		{"BEARER abc==", "abc=="},
		{"  Bearer   abc  ", "abc"},
		{"Bearer gth_ABCdef123-_", "gth_ABCdef123-_"},
		{"", ""},
		{"Bearer", ""},
		{"Bearer ", ""},
		{"Bearer a b", ""},
		{"Bearer a\tb", ""},
		{"Basic dXNlcjpwYXNz", ""},
		{"Token abc", ""},
		{"Bearerabc", ""},
		{"Bearer ===", ""},
		{"Bearer a=b", ""},
		{"Bearer a,b", ""},
		{"Bearer ünï", ""},
		{"Bearer " + strings.Repeat("a", maxTokenLen+1), ""},
	}
	for _, tt := range tests {
		got, err := ParseAuthorization(tt.header)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("ParseAuthorization(%q) = %q, %v; want %q", tt.header, got, err, tt.want)
		}
		if err != nil && gathering.ErrorCode(err) != gathering.EUNAUTHORIZED {
			t.Errorf("ParseAuthorization(%q): want EUNAUTHORIZED, got %v", tt.header, err)
		}
	}
}

func TestBearerFromRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		url     string
		headers map[string][]string
		token   string
		source  string
		noCreds bool
	}{
		{name: "header", url: "/", headers: map[string][]string{"Authorization": {"Bearer h1"}}, token: "h1", source: SourceHeader},
		{name: "header wins over query", url: "/?token=q1", headers: map[string][]string{"Authorization": {"Bearer h1"}}, token: "h1", source: SourceHeader},
		{name: "bad header does not fall through", url: "/?token=q1", headers: map[string][]string{"Authorization": {"Basic x"}}, source: SourceHeader},
		{name: "two headers", url: "/", headers: map[string][]string{"Authorization": {"Bearer a", "Bearer b"}}},
		{name: "query", url: "/?token=q1", token: "q1", source: SourceQuery},
		{name: "empty query", url: "/?token=", source: SourceQuery},
		{name: "two query tokens", url: "/?token=a&token=b", source: SourceQuery},
		{name: "websocket", url: "/", headers: map[string][]string{"Sec-Websocket-Protocol": {"bearer, w1"}}, token: "w1", source: SourceWebSocket},
		{name: "websocket split lines", url: "/", headers: map[string][]string{"Sec-Websocket-Protocol": {"chat", "Bearer", "w2"}}, token: "w2", source: SourceWebSocket},
		{name: "websocket no token", url: "/", headers: map[string][]string{"Sec-Websocket-Protocol": {"chat, bearer"}}, source: SourceWebSocket},
		{name: "websocket other protocol", url: "/", headers: map[string][]string{"Sec-Websocket-Protocol": {"chat"}}, source: SourceWebSocket, noCreds: true},
		{name: "nothing", url: "/", noCreds: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.url, nil)
			for k, vs := range tt.headers {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			tok, src, err := BearerFromRequest(r)
			if tok != tt.token || (tt.token != "") != (err == nil) {
				t.Fatalf("got %q %q %v, want token %q", tok, src, err, tt.token)
			}
			if tt.source != "" && src != tt.source {
				t.Fatalf("source %q, want %q", src, tt.source)
			}
			if tt.noCreds != (err == ErrNoCredentials) {
				t.Fatalf("err %v, want ErrNoCredentials=%v", err, tt.noCreds)
			}
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer a.b.c", "Basic x", "", "Bearer  ", "Bearer a b", "Bearer ==", "Bearer gth_x=", "\tBearer\ta"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := ParseAuthorization(header)
		if err != nil {
			if tok != "" || gathering.ErrorCode(err) != gathering.EUNAUTHORIZED {
				t.Fatalf("error %v with token %q", err, tok)
			}
			return
		}
		if tok == "" || len(tok) > maxTokenLen || !isToken68(tok) || !strings.Contains(header, tok) {
			t.Fatalf("ParseAuthorization(%q) accepted %q", header, tok)
		}
	})
}

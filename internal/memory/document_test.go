package memory

import (
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

func TestParseDocumentTextAndMarkdown(t *testing.T) {
	t.Parallel()
	md := "\uFEFF# Title\r\n\r\nSome *emphasis* and a [link](https://example.com).\r\n"
	for _, f := range []Format{FormatText, FormatMarkdown} {
		got, err := ParseDocument(strings.NewReader(md), f, 1000)
		if err != nil || got != "# Title\n\nSome *emphasis* and a [link](https://example.com).\n" {
			t.Fatalf("%s: %q %v", f, got, err)
		}
	}
}

func TestParseDocumentCSV(t *testing.T) {
	t.Parallel()
	csv := "name,city,,note\r\n" +
		"Ada,London,x,\"first\nprogrammer\"\r\n" +
		"Linus,,y\r\n" + // short row, empty value
		"Grace,Arlington,z,admiral,extra\r\n" // long row
	got, err := ParseDocument(strings.NewReader(csv), FormatCSV, 1000)
	want := "name: Ada; city: London; column 3: x; note: first programmer\n\n" +
		"name: Linus; column 3: y\n\n" +
		"name: Grace; city: Arlington; column 3: z; note: admiral; column 5: extra"
	if err != nil || got != want {
		t.Fatalf("got %q, %v\nwant %q", got, err, want)
	}
	// Rows are paragraphs, so chunks cut between them.
	for _, p := range Chunk(strings.Repeat(got+"\n\n", 20), 200, 0) {
		if !strings.HasPrefix(p, "name: ") {
			t.Fatalf("a chunk starts inside a row: %q", p)
		}
	}
	if got, err := ParseDocument(strings.NewReader("only,a,header\n"), FormatCSV, 1000); err != nil || got != "" {
		t.Fatalf("header only: %q %v", got, err)
	}
}

func TestParseDocumentRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, doc string
		format    Format
		limit     int
		code      string
	}{
		{"too large", strings.Repeat("x", 11), FormatText, 10, gathering.ETOOLARGE},
		{"rendered too large", "a_long_column_name,another_long_name\n1,2\n3,4\n", FormatCSV, 60, gathering.ETOOLARGE},
		{"not UTF-8", "caf\xe9", FormatText, 100, gathering.EINVALID},
		{"broken CSV", "a,b\n\"unterminated,2\n", FormatCSV, 100, gathering.EMALFORMED},
		{"unknown format", "x", Format("pdf"), 100, gathering.EUNSUPPORTED},
	} {
		if _, err := ParseDocument(strings.NewReader(c.doc), c.format, c.limit); gathering.ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	if got, err := ParseDocument(strings.NewReader(strings.Repeat("x", 10)), FormatText, 10); err != nil || len(got) != 10 {
		t.Fatalf("exactly the limit: %d %v", len(got), err)
	}
}

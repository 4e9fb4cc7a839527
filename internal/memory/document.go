package memory

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/gathering"
)

// Format is the kind of an uploaded document.
type Format string

// The document formats ParseDocument reads.
const (
	FormatText     Format = "text"
	FormatMarkdown Format = "markdown" // kept as written: its markup reads as text
	FormatCSV      Format = "csv"      // the first row names the columns
)

// ParseDocument reads a document of the given format and returns its text,
// ready for Chunk. Text and Markdown come back as they are (without a
// byte-order mark, line endings normalised). A CSV comes back with one line
// per row, "column: value; column: value" (empty values left out, line
// breaks inside a value made spaces), rows separated by a blank line so
// chunks cut between them.
//
// limit caps, in bytes, both what is read and the text returned (a CSV's
// rendering repeats the column names): beyond it the error is ETOOLARGE
// (so a limit of 0 accepts only an empty document).
// Text that is not UTF-8 is EINVALID, a broken CSV EMALFORMED, an unknown
// format EUNSUPPORTED.
func ParseDocument(r io.Reader, format Format, limit int) (string, error) {
	raw, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return "", fmt.Errorf("read document: %w", err)
	}
	if len(raw) > limit {
		return "", tooLarge(limit)
	}
	if !utf8.Valid(raw) {
		return "", gathering.Errorf(gathering.EINVALID, "The document is not UTF-8 text.")
	}
	text := strings.ReplaceAll(string(bytes.TrimPrefix(raw, []byte("\uFEFF"))), "\r\n", "\n")
	switch format {
	case FormatText, FormatMarkdown:
		return text, nil
	case FormatCSV:
		return renderCSV(text, limit)
	}
	return "", gathering.Errorf(gathering.EUNSUPPORTED, "Documents of format %q are not supported (text, markdown, csv).", format)
}

func tooLarge(limit int) error {
	return gathering.Errorf(gathering.ETOOLARGE, "The document exceeds %d bytes.", limit)
}

// renderCSV renders each data row of a CSV as "column: value; …" lines.
func renderCSV(text string, limit int) (string, error) {
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return "", nil
	}
	var b strings.Builder
	for err == nil {
		var row []string
		if row, err = cr.Read(); err == nil {
			writeRow(&b, header, row)
			if b.Len() > limit {
				return "", tooLarge(limit)
			}
		}
	}
	if !errors.Is(err, io.EOF) {
		return "", &gathering.Error{Code: gathering.EMALFORMED, Message: "The CSV document cannot be read: " + err.Error(), Err: err}
	}
	return b.String(), nil
}

// writeRow writes one row, blank-line separated from the previous one, with
// each value's runs of white space (line breaks included) made one space.
func writeRow(b *strings.Builder, header, row []string) {
	n := 0
	for i, v := range row {
		if v = strings.Join(strings.Fields(v), " "); v == "" {
			continue
		}
		if n == 0 && b.Len() > 0 {
			b.WriteString("\n\n")
		} else if n > 0 {
			b.WriteString("; ")
		}
		b.WriteString(columnName(header, i) + ": " + v)
		n++
	}
}

// columnName names column i: its header, or "column N" when the header is
// blank or too short.
func columnName(header []string, i int) string {
	if i < len(header) {
		if h := strings.TrimSpace(header[i]); h != "" {
			return h
		}
	}
	return "column " + strconv.Itoa(i+1)
}

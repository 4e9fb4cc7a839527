package gitrepo

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
)

// fieldError is an error with code on the one field ptr (a JSON pointer).
func fieldError(code, ptr, msg string) *gathering.Error {
	return &gathering.Error{Code: code, Message: msg, Fields: []gathering.FieldError{{Field: ptr, Message: msg}}}
}

// pathspec validates a caller's path for the field ptr and returns it as a
// literal pathspec (no globs or magic).
func pathspec(p, ptr string) (string, error) {
	if strings.HasPrefix(p, "-") {
		return "", fieldError(gathering.EINVALID, ptr, "A path must not start with '-'.")
	}
	clean, err := fsguard.CleanPath(p)
	if err != nil {
		return "", fieldError(gathering.ErrorCode(err), ptr, gathering.ErrorMessage(err))
	}
	return literal + clean, nil
}

// optionalPathspec returns p as the one pathspec of the field "/path", or
// none when p is "".
func optionalPathspec(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	spec, err := pathspec(p, "/path")
	if err != nil {
		return nil, err
	}
	return []string{spec}, nil
}

// pathspecs validates a list of paths for the field "/paths".
func pathspecs(ps []string) ([]string, error) {
	if len(ps) == 0 {
		return nil, fieldError(gathering.EINVALID, "/paths", "Name at least one file or directory.")
	}
	specs := make([]string, len(ps))
	for i, p := range ps {
		spec, err := pathspec(p, "/paths/"+strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		specs[i] = spec
	}
	return specs, nil
}

// unliteral returns pathspecs as plain paths.
func unliteral(specs []string) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = strings.TrimPrefix(s, literal)
	}
	return out
}

// literal is the pathspec magic that turns off globs in a path.
const literal = ":(literal)"

// revRE is a commit, branch or tag name: hex or [A-Za-z0-9._/-], optionally
// followed by ancestry suffixes such as ~2 or ^.
var revRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}([~^][0-9]{0,3}){0,10}$`)

// checkRev validates a revision for the field ptr.
func checkRev(rev, ptr string) error {
	if strings.HasPrefix(rev, "-") {
		return fieldError(gathering.EINVALID, ptr, "A revision must not start with '-'.")
	}
	if !revRE.MatchString(rev) || strings.Contains(rev, "..") {
		return fieldError(gathering.EINVALID, ptr, "Give one commit hash, branch or tag name (optionally with ~N or ^), not a range or an expression.")
	}
	return nil
}

// checkLimit returns limit, or def when it is 0; EINVALID on the field
// "/limit" outside 1 to maxLimit.
func checkLimit(limit, def, maxLimit int) (int, error) {
	if limit == 0 {
		return def, nil
	}
	if limit < 1 || limit > maxLimit {
		return 0, fieldError(gathering.EINVALID, "/limit", "The limit must be between 1 and "+strconv.Itoa(maxLimit)+".")
	}
	return limit, nil
}

var (
	nameRE  = regexp.MustCompile(`^[^<>\x00-\x1f]{1,200}$`)
	emailRE = regexp.MustCompile(`^[^<>\s@]+@[^<>\s@]+$`)
)

// checkCommit validates a commit's message and author.
func checkCommit(o CommitOptions) error {
	switch {
	case strings.TrimSpace(o.Message) == "" || utf8.RuneCountInString(o.Message) > maxMessage:
		return fieldError(gathering.EINVALID, "/message", "The commit message must hold text, at most 64 KiB of it.")
	case o.AuthorName != "" && !nameRE.MatchString(o.AuthorName):
		return fieldError(gathering.EINVALID, "/author_name", "The author's name must be 1 to 200 characters without '<', '>' or control characters.")
	case o.AuthorEmail != "" && (utf8.RuneCountInString(o.AuthorEmail) > 254 || !emailRE.MatchString(o.AuthorEmail)):
		return fieldError(gathering.EINVALID, "/author_email", "The author's email must be an address such as ada@example.com.")
	}
	return nil
}

// checkAuthor validates a log's author filter: at most 200 characters
// without control characters.
func checkAuthor(a string) error {
	if utf8.RuneCountInString(a) > 200 || strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fieldError(gathering.EINVALID, "/author", "The author filter must be at most 200 characters without control characters.")
	}
	return nil
}

// secretGlobs are the names fsguard treats as secret, as git globs.
var secretGlobs = []string{".env", ".env.*", ".ssh", "*.pem", "*.key", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "credentials*"}

// paths returns "--", specs, and pathspecs excluding every secret-named
// file or directory, so that status, diff and add never show or stage one.
func paths(specs ...string) []string {
	out := append([]string{"--"}, specs...)
	for _, g := range secretGlobs {
		out = append(out, ":(exclude,glob,icase)**/"+g, ":(exclude,glob,icase)**/"+g+"/**")
	}
	return out
}

package fsguard

import (
	"path"
	"path/filepath"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
)

// maxDecodeRounds bounds how many layers of percent-encoding CleanPath
// undoes; a path still changing after that many rounds is refused.
const maxDecodeRounds = 3

// CleanPath validates a caller-supplied path and returns it cleaned,
// root-relative and slash-separated ("\" is taken as a separator; "." and ""
// segments are dropped; the root itself is "."). An empty path is EINVALID.
// Every refused path is EFORBIDDEN, whatever the reason, so callers answer
// all of them alike: NUL bytes, absolute paths, ".." segments,
// percent-encoded forms of any of these, and any segment that IsSecretName
// reports. Every layer of percent-decoding is checked, but the returned path
// is the literal name, not a decoded one.
func CleanPath(p string) (string, error) {
	if p == "" {
		return "", gathering.Errorf(gathering.EINVALID, "Path is empty.")
	}
	if err := checkLayer(p); err != nil {
		return "", err
	}
	s := p
	for round := 0; ; round++ {
		d := percentDecode(s)
		if d == s {
			break
		}
		if round == maxDecodeRounds {
			return "", gathering.Errorf(gathering.EFORBIDDEN, "Path %q is percent-encoded too many times.", p)
		}
		if err := checkLayer(d); err != nil {
			return "", err
		}
		s = d
	}
	return path.Clean(strings.ReplaceAll(p, `\`, "/")), nil
}

// IsSecretName reports whether one path segment names something that may
// hold secrets: .env and .env.*, .git, .ssh, *.pem, *.key, id_rsa* (and the
// other ssh key types) and credentials*. The comparison ignores case and
// trailing dots and spaces.
func IsSecretName(name string) bool {
	n := strings.TrimRight(strings.ToLower(name), ". ")
	switch {
	case n == ".env", strings.HasPrefix(n, ".env."), n == ".git", n == ".ssh":
		return true
	case strings.HasSuffix(n, ".pem"), strings.HasSuffix(n, ".key"):
		return true
	case strings.HasPrefix(n, "credentials"):
		return true
	}
	for _, prefix := range []string{"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"} {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

// checkLayer applies the syntactic and secret-name checks to one (possibly
// decoded) form of a path.
func checkLayer(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return gathering.Errorf(gathering.EFORBIDDEN, "Path must not contain NUL bytes.")
	}
	if isAbs(s) {
		return gathering.Errorf(gathering.EFORBIDDEN, "Path must be relative to the workspace root.")
	}
	for seg := range strings.SplitSeq(strings.ReplaceAll(s, `\`, "/"), "/") {
		if isDotSegment(seg) {
			return gathering.Errorf(gathering.EFORBIDDEN, "Path must not contain '..' segments.")
		}
		if IsSecretName(seg) {
			return gathering.Errorf(gathering.EFORBIDDEN, "Path %q names a secret-bearing file.", seg)
		}
	}
	return nil
}

// isAbs reports whether s is absolute on any platform: a leading "/" or "\",
// or a Windows drive letter.
func isAbs(s string) bool {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, `\`) || filepath.IsAbs(s) {
		return true
	}
	return len(s) >= 2 && s[1] == ':' && isLetter(s[0])
}

// isDotSegment reports whether seg is "..", or any other segment made only
// of dots and spaces except "." (which Windows may treat as "..").
func isDotSegment(seg string) bool {
	return seg != "" && seg != "." && strings.Trim(seg, ". ") == ""
}

// percentDecode undoes one layer of %XX escapes, leaving any "%" that is not
// followed by two hex digits as it is.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isHex(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

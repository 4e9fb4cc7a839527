package fsguard

import (
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

// refusedCorpus maps each refused path to the code CleanPath must give.
var refusedCorpus = map[string]string{
	"":                                 gathering.EINVALID,
	"../x":                             gathering.EFORBIDDEN,
	"..":                               gathering.EFORBIDDEN,
	"a/../../x":                        gathering.EFORBIDDEN,
	"a/b/..":                           gathering.EFORBIDDEN,
	`..\x`:                             gathering.EFORBIDDEN,
	`a\..\..\x`:                        gathering.EFORBIDDEN,
	"...":                              gathering.EFORBIDDEN,
	"a/.. /b":                          gathering.EFORBIDDEN,
	"%2e%2e%2fx":                       gathering.EFORBIDDEN,
	"%2E%2E%2Fx":                       gathering.EFORBIDDEN,
	"%2e%2e/x":                         gathering.EFORBIDDEN,
	"..%2fx":                           gathering.EFORBIDDEN,
	"a%2f..%2f..%2fx":                  gathering.EFORBIDDEN,
	"%2e%2e%5cx":                       gathering.EFORBIDDEN,
	"%252e%252e%252fx":                 gathering.EFORBIDDEN,
	"%25252e%25252e%25252fx":           gathering.EFORBIDDEN,
	"%2525252525252e%2525252525252e/x": gathering.EFORBIDDEN,
	"%2fetc%2fpasswd":                  gathering.EFORBIDDEN,
	"/etc/passwd":                      gathering.EFORBIDDEN,
	`\etc\passwd`:                      gathering.EFORBIDDEN,
	`C:\Windows`:                       gathering.EFORBIDDEN,
	"c:/windows/system32":              gathering.EFORBIDDEN,
	`\\server\share`:                   gathering.EFORBIDDEN,
	"a\x00b":                           gathering.EFORBIDDEN,
	"a%00b":                            gathering.EFORBIDDEN,
	".env":                             gathering.EFORBIDDEN,
	"sub/.env.local":                   gathering.EFORBIDDEN,
	".ENV.production":                  gathering.EFORBIDDEN,
	"%2eenv":                           gathering.EFORBIDDEN,
	".git":                             gathering.EFORBIDDEN,
	".git/config":                      gathering.EFORBIDDEN,
	"sub/.git/HEAD":                    gathering.EFORBIDDEN,
	`.git\objects\ab`:                  gathering.EFORBIDDEN,
	".ssh/id_rsa":                      gathering.EFORBIDDEN,
	"home/.ssh/known_hosts":            gathering.EFORBIDDEN,
	"keys/server.pem":                  gathering.EFORBIDDEN,
	"tls.KEY":                          gathering.EFORBIDDEN,
	"tls.key.":                         gathering.EFORBIDDEN,
	"id_rsa.pub":                       gathering.EFORBIDDEN,
	"id_ed25519":                       gathering.EFORBIDDEN,
	"Credentials.json":                 gathering.EFORBIDDEN,
	"aws/credentials":                  gathering.EFORBIDDEN,
}

func TestCleanPathRefusesCorpus(t *testing.T) {
	t.Parallel()
	if len(refusedCorpus) < 30 {
		t.Fatalf("corpus has only %d cases", len(refusedCorpus))
	}
	for p, code := range refusedCorpus {
		got, err := CleanPath(p)
		if err == nil {
			t.Errorf("CleanPath(%q) = %q, want refusal", p, got)
			continue
		}
		if gathering.ErrorCode(err) != code || gathering.ErrorMessage(err) == "" {
			t.Errorf("CleanPath(%q): code %q message %q, want %q", p, gathering.ErrorCode(err), gathering.ErrorMessage(err), code)
		}
	}
}

func TestCleanPathAllowsNestedPaths(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"src/main.go":      "src/main.go",
		"docs/a/b/c.md":    "docs/a/b/c.md",
		"notes..txt":       "notes..txt",
		"a.b/c":            "a.b/c",
		"..a/b..":          "..a/b..",
		"./src//x.go/":     "src/x.go",
		`src\win.go`:       "src/win.go",
		".":                ".",
		".gitignore":       ".gitignore",
		".github/ci.yml":   ".github/ci.yml",
		"environment.md":   "environment.md",
		"keyboard.txt":     "keyboard.txt",
		"100%25.txt":       "100%25.txt",
		"50%off":           "50%off",
		"a%20b":            "a%20b",
		"monkey.keynote/x": "monkey.keynote/x",
	}
	for in, want := range cases {
		got, err := CleanPath(in)
		if err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestIsSecretName(t *testing.T) {
	t.Parallel()
	for _, n := range []string{".env", ".env.test", ".Git", ".ssh", "a.pem", "b.Key", "id_rsa", "id_dsa.pub", "credentials", "CREDENTIALS.yml"} {
		if !IsSecretName(n) {
			t.Errorf("IsSecretName(%q) = false", n)
		}
	}
	for _, n := range []string{"env", ".envrc", ".gitignore", "pem", "key", "keys", "my_id_rsa_notes", "creds"} {
		if IsSecretName(n) {
			t.Errorf("IsSecretName(%q) = true", n)
		}
	}
}

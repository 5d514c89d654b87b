package runbook

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/mxmigrate/mxmigrate/internal/redact"
)

// minSecretLen keeps the leak guard from tripping over short values that
// occur in ordinary text anyway; such values are still redacted.
const minSecretLen = 6

// secretValues collects the secret values present in the plan's inputs, so
// that every output can be checked for them before it is returned.
func secretValues(p Plan) []string {
	var secrets []string
	texts := []string{p.Database.URL, p.Files.URL, p.Options.BackupPath, p.Backup.Name, p.Options.Staging}
	for _, c := range p.Checks {
		texts = append(texts, c.Detail)
	}
	for _, text := range texts {
		for _, s := range redact.Secrets(text) {
			if len(s) >= minSecretLen && !slices.Contains(secrets, s) {
				secrets = append(secrets, s)
			}
		}
	}
	return secrets
}

// errIfLeaks fails when out contains any of the secrets: a last line of
// defence should a future change print an input without redacting it.
func errIfLeaks(what string, out []byte, secrets []string) error {
	for _, s := range secrets {
		if strings.Contains(string(out), s) || strings.Contains(string(out), url.QueryEscape(s)) {
			return fmt.Errorf("runbook: refusing to write %s: it would contain a secret from the plan's inputs", what)
		}
	}
	return nil
}

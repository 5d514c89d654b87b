package runbook

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// redacted replaces every secret value; it is loud on purpose so that a
// pasted command fails instead of silently connecting with a wrong value.
const redacted = "REDACTED"

// sensitiveWords mark a query parameter or key=value pair as secret when
// its name contains one of them (case-insensitive). It errs on the side of
// hiding: "sslkey" is a path, but hiding it costs nothing.
var sensitiveWords = []string{"pass", "pwd", "secret", "token", "sig", "key", "credential", "auth"}

func isSensitiveName(name string) bool {
	name = strings.ToLower(name)
	return slices.ContainsFunc(sensitiveWords, func(w string) bool { return strings.Contains(name, w) })
}

// RedactURL returns raw with the userinfo password and every sensitive
// query parameter (password, sig, AccountKey, X-Amz-Signature, ...)
// replaced by REDACTED. A URL that does not parse is replaced whole:
// failing closed is better than printing half of a secret.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL " + redacted + ">"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redacted)
	}
	u.RawQuery = redactQuery(u.RawQuery)
	// Also catch name=value pairs the query parser does not split, such as
	// ";password=..." in a connection-string style URL.
	return keyValueSecret.ReplaceAllString(u.String(), "${1}${2}"+redacted)
}

// redactQuery replaces sensitive values in place, keeping the order and
// escaping of everything else so the URL still reads as the user wrote it.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	pairs := strings.Split(raw, "&")
	for i, pair := range pairs {
		name, _, _ := strings.Cut(pair, "=")
		unescaped, err := url.QueryUnescape(name)
		if err != nil || isSensitiveName(unescaped) {
			pairs[i] = name + "=" + redacted
		}
	}
	return strings.Join(pairs, "&")
}

var (
	urlInText = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"'<>`]+")
	// keyValueSecret matches name=value pairs as found in connection strings
	// (Password=...;AccountKey=...) and DSNs (password=...).
	keyValueSecret = regexp.MustCompile(`(?i)([A-Za-z0-9_.-]*(?:password|pwd|secret|token|accountkey|sharedaccesssignature|sig))(\s*=\s*)("[^"]*"|'[^']*'|[^\s;&,]+)`)
)

// RedactText redacts every URL and every secret-looking name=value pair in
// free text, such as a preflight check's detail message.
func RedactText(s string) string {
	s = urlInText.ReplaceAllStringFunc(s, RedactURL)
	return keyValueSecret.ReplaceAllString(s, "${1}${2}"+redacted)
}

// minSecretLen keeps the leak guard from tripping over short values that
// occur in ordinary text anyway; such values are still redacted.
const minSecretLen = 6

// secretValues collects the secret values present in the plan's inputs, so
// that every output can be checked for them before it is returned.
func secretValues(p Plan) []string {
	var secrets []string
	add := func(v, notEqual string) {
		if len(v) >= minSecretLen && v != redacted && v != notEqual && !slices.Contains(secrets, v) {
			secrets = append(secrets, v)
		}
	}
	texts := []string{p.Database.URL, p.Files.URL, p.Options.BackupPath, p.Backup.Name}
	for _, c := range p.Checks {
		texts = append(texts, c.Detail)
	}
	for _, text := range texts {
		for _, raw := range urlInText.FindAllString(text, -1) {
			u, err := url.Parse(raw)
			if err != nil {
				continue
			}
			if pw, has := u.User.Password(); has {
				add(pw, u.User.Username())
			}
			for name, values := range u.Query() {
				if isSensitiveName(name) {
					for _, v := range values {
						add(v, "")
					}
				}
			}
		}
		for _, m := range keyValueSecret.FindAllStringSubmatch(text, -1) {
			add(strings.Trim(m[3], `"'`), "")
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

// Package redact is mxmigrate's one way of keeping credentials out of what
// it prints: logs, errors, reports, plans and runbooks. It knows URLs
// (user:password@, secret query parameters such as password=, sig= or
// X-Amz-Signature=), connection strings (Password=, Pwd=, AccountKey=,
// SharedAccessSignature=), DSNs (password='a b') and AWS secrets, and
// replaces each secret value with Placeholder, keeping everything else so
// the text still says which endpoint it is about.
package redact

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Placeholder replaces every secret value. It is loud on purpose: a
// command pasted from a runbook fails instead of silently connecting with
// a wrong value.
const Placeholder = "REDACTED"

// sensitiveWords mark a URL query parameter as secret when its name
// contains one of them (case-insensitive). It errs on the side of hiding:
// "sslkey" is a path, but hiding it costs nothing.
var sensitiveWords = []string{"pass", "pwd", "secret", "token", "sig", "key", "credential", "auth"}

// IsSecretName reports whether a parameter of this name holds a secret.
func IsSecretName(name string) bool {
	name = strings.ToLower(name)
	return slices.ContainsFunc(sensitiveWords, func(w string) bool { return strings.Contains(name, w) })
}

var (
	urlInText = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"'<>`]+")
	// keyValueSecret matches name=value pairs as found in connection
	// strings (Password=...;AccountKey=...), DSNs (password='...') and
	// shell-style settings (AWS_SECRET_ACCESS_KEY=...).
	keyValueSecret = regexp.MustCompile(`(?i)([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|account_?key|access_?key|sharedaccesssignature|signature|credential)[A-Za-z0-9_.-]*|\bsig)(\s*=\s*)("[^"]*"|'[^']*'|[^\s;&,]+)`)
	// jsonSecret matches "password": "..." in JSON quoted in an error.
	jsonSecret = regexp.MustCompile(`(?i)("[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|accountkey|accesskey|signature|credential)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	// userinfoSecret is the password of user:password@host in a URL that
	// does not parse.
	userinfoSecret = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*:)([^/?#]*)@`)
	// queryPair is one name=value of a query that did not parse.
	queryPair = regexp.MustCompile(`([?&;])([^=&;#]*)=([^&;#]*)`)
)

// URL returns raw with the userinfo password and every sensitive query
// parameter replaced by Placeholder, keeping the order and escaping of
// everything else. A URL that does not parse keeps its endpoint: only the
// parts that look secret are replaced.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return rawURL(raw)
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), Placeholder)
	}
	u.RawQuery = redactQuery(u.RawQuery)
	// name=value pairs the query parser does not split, such as
	// ";password=..." in a connection-string style URL.
	return keyValueSecret.ReplaceAllString(u.String(), "${1}${2}"+Placeholder)
}

// rawURL redacts a URL that url.Parse refused, textually.
func rawURL(raw string) string {
	s := userinfoSecret.ReplaceAllString(raw, "${1}"+Placeholder+"@")
	s = queryPair.ReplaceAllStringFunc(s, func(pair string) string {
		m := queryPair.FindStringSubmatch(pair)
		if name, err := url.QueryUnescape(m[2]); err != nil || IsSecretName(name) {
			return m[1] + m[2] + "=" + Placeholder
		}
		return pair
	})
	return keyValueSecret.ReplaceAllString(s, "${1}${2}"+Placeholder)
}

// redactQuery replaces sensitive values in place.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	pairs := strings.Split(raw, "&")
	for i, pair := range pairs {
		name, _, _ := strings.Cut(pair, "=")
		unescaped, err := url.QueryUnescape(name)
		if err != nil || IsSecretName(unescaped) {
			pairs[i] = name + "=" + Placeholder
		}
	}
	return strings.Join(pairs, "&")
}

// Text redacts every URL and every secret-looking name=value pair in free
// text, such as an error message or a preflight check's detail.
func Text(s string) string {
	s = urlInText.ReplaceAllStringFunc(s, URL)
	s = keyValueSecret.ReplaceAllString(s, "${1}${2}"+Placeholder)
	return jsonSecret.ReplaceAllString(s, "${1}\""+Placeholder+"\"")
}

// minKnownLen keeps Known from replacing short values that occur in
// ordinary text anyway.
const minKnownLen = 4

// Known replaces each known secret value (a password mxmigrate holds)
// wherever it occurs in s: for text another program printed, which may
// quote it in any form.
func Known(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= minKnownLen {
			s = strings.ReplaceAll(s, secret, Placeholder)
		}
	}
	return s
}

// Secrets lists the secret values present in text: what Text would
// replace. Callers use it as a last check that an output they built does
// not contain any of them.
func Secrets(text string) []string {
	var out []string
	add := func(v, notEqual string) {
		if v != "" && v != Placeholder && v != notEqual && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, raw := range urlInText.FindAllString(text, -1) {
		u, err := url.Parse(raw)
		if err != nil {
			if m := userinfoSecret.FindStringSubmatch(raw); m != nil {
				add(m[2], "")
			}
			continue
		}
		if pw, has := u.User.Password(); has {
			add(pw, u.User.Username())
		}
		for name, values := range u.Query() {
			if IsSecretName(name) {
				for _, v := range values {
					add(v, "")
				}
			}
		}
	}
	for _, m := range keyValueSecret.FindAllStringSubmatch(text, -1) {
		add(strings.Trim(m[3], `"'`), "")
	}
	return out
}

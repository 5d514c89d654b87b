package postgres

import (
	"net/url"
	"os"
	"strings"

	"github.com/mxmigrate/mxmigrate/internal/redact"
)

// libpqParams are the URL query parameters libpq understands. Anything else
// (pgx's own pool settings, say) would make pg_restore refuse the URL.
// sslpassword is missing on purpose: it is a secret and libpq has no
// environment variable for it.
var libpqParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true,
	"passfile": true, "channel_binding": true, "connect_timeout": true,
	"client_encoding": true, "options": true, "keepalives": true,
	"keepalives_idle": true, "keepalives_interval": true, "keepalives_count": true,
	"tcp_user_timeout": true, "gssencmode": true,
	"sslmode": true, "sslnegotiation": true, "sslcompression": true, "sslcert": true,
	"sslkey": true, "sslcertmode": true, "sslrootcert": true, "sslcrl": true,
	"sslcrldir": true, "sslsni": true, "requirepeer": true,
	"ssl_min_protocol_version": true, "ssl_max_protocol_version": true,
	"krbsrvname": true, "gsslib": true, "gssdelegation": true, "service": true,
	"target_session_attrs": true, "load_balance_hosts": true, "require_auth": true,
}

// childConn is how a child process (pg_restore) reaches the target: a URL
// without any password for its command line, and an environment that
// carries the password.
type childConn struct {
	url      string
	password string
}

func newChildConn(u *url.URL) childConn {
	c := *u
	var password string
	if c.User != nil {
		password, _ = c.User.Password()
		c.User = url.User(c.User.Username())
	}
	q := url.Values{}
	for k, vs := range u.Query() {
		switch {
		case k == "password":
			if password == "" && len(vs) > 0 {
				password = vs[0]
			}
		case libpqParams[k]:
			q[k] = vs
		}
	}
	q.Set("application_name", restoreAppName)
	c.RawQuery = q.Encode()
	return childConn{url: c.String(), password: password}
}

// env is the child's environment: ours, with the password (when the URL
// had one) and English messages, which the output parser reads.
func (c childConn) env() []string {
	env := make([]string, 0, len(os.Environ())+3)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LC_ALL=") || (c.password != "" && strings.HasPrefix(kv, "PGPASSWORD=")) {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "LC_ALL=C", "PGAPPNAME="+restoreAppName)
	if c.password != "" {
		env = append(env, "PGPASSWORD="+c.password)
	}
	return env
}

// redact removes the password from text a child printed.
func (c childConn) redact(s string) string {
	// pg_restore does not print passwords anyway: a second line of
	// defence.
	return redact.Known(redact.Text(s), c.password)
}

package pipeline

import (
	"net/url"
	"os"
	"strings"

	"github.com/mxmigrate/mxmigrate/internal/redact"
	"github.com/mxmigrate/mxmigrate/runbook"
)

// databaseIdentity is how a database URL signs in, as runbook facts: the
// Entra ID flow of a fedauth= URL (kind and the client id it names), or
// nothing for a password login. said is what the opened target reported.
func databaseIdentity(rawURL, said string) (identity, kind, id string) {
	identity = redact.Text(said)
	u, err := url.Parse(rawURL)
	if err != nil {
		return identity, "", ""
	}
	clientID := u.User.Username()
	if at := strings.IndexByte(clientID, '@'); at > 0 {
		clientID = clientID[:at] // client id@tenant id
	}
	switch strings.ToLower(u.Query().Get("fedauth")) {
	case "activedirectoryworkloadidentity":
		return identity, runbook.IdentityAzureWorkload, firstNonEmpty(clientID, os.Getenv("AZURE_CLIENT_ID"))
	case "activedirectorymanagedidentity", "activedirectorymsi":
		return identity, runbook.IdentityAzureManaged, clientID
	case "activedirectorydefault":
		// The default chain picks workload identity where its token is.
		if os.Getenv("AZURE_FEDERATED_TOKEN_FILE") != "" {
			return identity, runbook.IdentityAzureWorkload, os.Getenv("AZURE_CLIENT_ID")
		}
		return identity, runbook.IdentityAzureOther, ""
	case "activedirectoryazcli":
		return identity, runbook.IdentityAzureOther, ""
	}
	return identity, "", "" // a SQL login or service principal: a secret
}

// storeIdentity is how an opened store signs in, as runbook facts, from
// what blobsync.IdentityOf said (its wording is blobsync's).
func storeIdentity(said string) (identity, kind, id string) {
	identity = redact.Text(said)
	switch {
	case strings.HasPrefix(said, "AWS web identity"):
		return identity, runbook.IdentityAWSWebIdentity, os.Getenv("AWS_ROLE_ARN")
	case strings.HasPrefix(said, "AWS access key"), strings.HasPrefix(said, "AWS IAM Identity Center"):
		return identity, "", "" // keys, or a person's sign-in
	case strings.HasPrefix(said, "AWS"):
		return identity, runbook.IdentityAWSRole, ""
	case strings.HasPrefix(said, "Microsoft Entra ID workload identity"):
		return identity, runbook.IdentityAzureWorkload, firstNonEmpty(clientIDIn(said), os.Getenv("AZURE_CLIENT_ID"))
	case strings.HasPrefix(said, "Microsoft Entra ID managed identity"):
		return identity, runbook.IdentityAzureManaged, clientIDIn(said)
	case strings.HasPrefix(said, "Microsoft Entra ID service principal"):
		return identity, "", "" // its secret or certificate is in the environment
	case strings.HasPrefix(said, "Microsoft Entra ID"):
		return identity, runbook.IdentityAzureOther, ""
	}
	return identity, "", ""
}

// clientIDIn finds "client id X" in an identity description.
func clientIDIn(s string) string {
	_, rest, ok := strings.Cut(s, "client id ")
	if !ok {
		return ""
	}
	end := strings.IndexAny(rest, " ),")
	if end < 0 {
		return rest
	}
	return rest[:end]
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

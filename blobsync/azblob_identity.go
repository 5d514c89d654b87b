package blobsync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Azure credential kinds for the identity= parameter of an Azure store
// URL. Without a key, SAS or connection string the store signs in with a
// Microsoft Entra ID token from one of them (AzureDefault when none is
// named).
const (
	AzureDefault          = "default"
	AzureManagedIdentity  = "managed-identity"
	AzureWorkloadIdentity = "workload-identity"
	AzureServicePrincipal = "service-principal"
	AzureCLI              = "azure-cli"
)

var azureCredentialKinds = []string{AzureDefault, AzureManagedIdentity, AzureWorkloadIdentity, AzureServicePrincipal, AzureCLI}

// Identity parameters of an Azure store URL; every other query parameter
// of an https:// URL is its SAS.
const (
	azureCredentialParam = "identity"
	azureClientIDParam   = "client-id"
)

// azureTokenCredential is an Entra ID credential that can say, for logs
// and reports, which kind of identity answered.
type azureTokenCredential struct {
	members []azureIdentity
	// answered is the member that issued the last token: a chain sticks
	// to it, as azidentity's DefaultAzureCredential does.
	answered atomic.Pointer[azureIdentity]
}

type azureIdentity struct {
	kind string // one of the Azure* kinds, never AzureDefault
	who  string // client id or similar, no secret; "" when not known
	cred azcore.TokenCredential
	// probe bounds a chain member's first attempt: the instance metadata
	// endpoint of a machine outside Azure may never answer.
	probe time.Duration
}

func (i *azureIdentity) String() string {
	s := strings.ReplaceAll(i.kind, "-", " ")
	if i.who != "" {
		s += " (" + i.who + ")"
	}
	return s
}

// describe is the identity for logs and reports.
func (c *azureTokenCredential) describe() string {
	if a := c.answered.Load(); a != nil {
		if len(c.members) > 1 {
			return "Microsoft Entra ID " + a.String() + ", from the default credential chain"
		}
		return "Microsoft Entra ID " + a.String()
	}
	if len(c.members) > 1 {
		names := make([]string, len(c.members))
		for i := range c.members {
			names[i] = c.members[i].String()
		}
		return "Microsoft Entra ID default credential chain (" + strings.Join(names, ", ") + ")"
	}
	return "Microsoft Entra ID " + c.members[0].String()
}

func (c *azureTokenCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if a := c.answered.Load(); a != nil {
		return a.cred.GetToken(ctx, opts)
	}
	var errs []error
	for i := range c.members {
		m := &c.members[i]
		attempt := ctx
		if m.probe > 0 && len(c.members) > 1 {
			var cancel context.CancelFunc
			attempt, cancel = context.WithTimeout(ctx, m.probe)
			defer cancel()
		}
		tok, err := m.cred.GetToken(attempt, opts)
		if err == nil {
			c.answered.Store(m)
			return tok, nil
		}
		if ctx.Err() != nil {
			return azcore.AccessToken{}, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("%s: %s", m, firstLine(safeText(err))))
	}
	return azcore.AccessToken{}, &azureTokenError{identity: c.describe(), errs: errs}
}

// azureTokenError: no identity could get a token. Its text names the
// identities tried and their first line of error (azidentity's messages
// carry no secret; the redactor still runs over every log line).
type azureTokenError struct {
	identity string
	errs     []error
}

func (e *azureTokenError) Error() string {
	return "no Microsoft Entra ID token for " + e.identity + ": " + errors.Join(e.errs...).Error()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// newAzureTokenCredential builds the credential a store URL asks for.
// Every credential talks through client, the store's own transport.
func newAzureTokenCredential(kind, clientID string, client *http.Client) (*azureTokenCredential, error) {
	opts := azcore.ClientOptions{Transport: client}
	envClientID := os.Getenv("AZURE_CLIENT_ID")
	build := map[string]func() (azureIdentity, error){
		AzureManagedIdentity: func() (azureIdentity, error) {
			o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
			who := "system-assigned"
			if id := cmp.Or(clientID, envClientID); id != "" {
				o.ID = azidentity.ClientID(id)
				who = "client id " + id
			}
			cred, err := azidentity.NewManagedIdentityCredential(o)
			probe := time.Duration(0)
			if os.Getenv("IDENTITY_ENDPOINT") == "" && os.Getenv("MSI_ENDPOINT") == "" {
				probe = 15 * time.Second // the instance metadata endpoint
			}
			return azureIdentity{kind: AzureManagedIdentity, who: who, cred: cred, probe: probe}, err
		},
		AzureWorkloadIdentity: func() (azureIdentity, error) {
			id := cmp.Or(clientID, envClientID)
			cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientOptions: opts, ClientID: id})
			return azureIdentity{kind: AzureWorkloadIdentity, who: whoClient(id), cred: cred}, err
		},
		AzureServicePrincipal: func() (azureIdentity, error) {
			cred, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: opts})
			how := "with a client secret"
			if os.Getenv("AZURE_CLIENT_SECRET") == "" {
				how = "with a certificate"
			}
			return azureIdentity{kind: AzureServicePrincipal, who: strings.TrimSpace(whoClient(envClientID) + " " + how), cred: cred}, err
		},
		AzureCLI: func() (azureIdentity, error) {
			cred, err := azidentity.NewAzureCLICredential(nil)
			return azureIdentity{kind: AzureCLI, who: "the signed-in account", cred: cred}, err
		},
	}
	kinds := []string{kind}
	if kind == AzureDefault {
		// azidentity's DefaultAzureCredential order, with only the members
		// whose settings are there, so that the log can say which answered.
		kinds = nil
		if os.Getenv("AZURE_CLIENT_SECRET") != "" || os.Getenv("AZURE_CLIENT_CERTIFICATE_PATH") != "" {
			kinds = append(kinds, AzureServicePrincipal)
		}
		if os.Getenv("AZURE_FEDERATED_TOKEN_FILE") != "" {
			kinds = append(kinds, AzureWorkloadIdentity)
		}
		kinds = append(kinds, AzureManagedIdentity, AzureCLI)
	}
	c := &azureTokenCredential{}
	for _, k := range kinds {
		newIdentity, ok := build[k]
		if !ok {
			return nil, fmt.Errorf("identity=%s: not an identity kind (want one of %s)", k, strings.Join(azureCredentialKinds, ", "))
		}
		id, err := newIdentity()
		if err != nil {
			if kind == AzureDefault {
				continue // not configured here: the chain goes on
			}
			return nil, fmt.Errorf("identity=%s: %s", k, firstLine(safeText(err)))
		}
		c.members = append(c.members, id)
	}
	return c, nil
}

func whoClient(id string) string {
	if id == "" {
		return ""
	}
	return "client id " + id
}

package blobsync

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
)

// azureAccount is where an Azure Blob store lives and how to sign in to it,
// resolved from the store URL and the environment. Only String-safe parts
// (endpoint, account name) ever reach messages.
type azureAccount struct {
	endpoint string // the account's blob endpoint, ending in "/"
	name     string
	key      string // shared key; empty when sas is used
	sas      string // SAS query without "?"; empty when key is used
	// credential is the Entra ID credential kind (Azure* constants) when
	// neither key nor sas is set; clientID picks a user-assigned identity.
	credential string
	clientID   string
	envErr     error // the environment's keys contradict the URL
}

// identity says how the account signs in, for logs and reports: never the
// key or SAS itself.
func (a azureAccount) identity() string {
	switch {
	case a.key != "":
		return "shared key of account " + a.name
	case a.sas != "":
		return "SAS token"
	}
	return "Microsoft Entra ID " + a.credential
}

// takeIdentityParams removes identity= and client-id= from q.
func (a *azureAccount) takeIdentityParams(q url.Values) error {
	a.credential, a.clientID = q.Get(azureCredentialParam), q.Get(azureClientIDParam)
	q.Del(azureCredentialParam)
	q.Del(azureClientIDParam)
	if a.credential != "" && !slices.Contains(azureCredentialKinds, a.credential) {
		return fmt.Errorf("identity=%s: not an identity kind (want one of %s)", a.credential, strings.Join(azureCredentialKinds, ", "))
	}
	if a.clientID != "" && a.credential == "" {
		a.credential = AzureManagedIdentity
	}
	return nil
}

// azureLocation splits an Azure store URL into account, container and path.
//
//	azblob://CONTAINER[/PREFIX]                         account from the environment
//	https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX][?SAS]
//	http://127.0.0.1:PORT/ACCOUNT/CONTAINER[/PREFIX]    emulators: account in the path
//
// Any of them may add ?identity=KIND[&client-id=ID] to sign in with
// Microsoft Entra ID (azureCredentialKinds; client-id alone means a
// user-assigned managed identity). Without a SAS, key or connection string
// the store signs in with the default credential chain.
func azureLocation(u *url.URL) (acct azureAccount, container, path string, err error) {
	q := u.Query()
	if err := acct.takeIdentityParams(q); err != nil {
		return acct, "", "", err
	}
	if u.Scheme == "azblob" {
		if len(q) > 0 {
			return acct, "", "", errors.New("azblob://: only identity= and client-id= are accepted; put a SAS in AZURE_STORAGE_SAS_TOKEN")
		}
		err = acct.fromEnv()
		return acct, u.Host, u.Path, err
	}
	if u.User != nil {
		return acct, "", "", errors.New("azure blob URL: user info is not supported")
	}
	segments := strings.SplitN(strings.TrimPrefix(u.Path, "/"), "/", 3)
	if isEmulatorHost(u.Hostname()) {
		if len(segments) < 2 {
			return acct, "", "", fmt.Errorf("%s://%s: want /ACCOUNT/CONTAINER[/PREFIX] after an emulator host", u.Scheme, u.Host)
		}
		acct.name = segments[0]
		acct.endpoint = u.Scheme + "://" + u.Host + "/" + acct.name + "/"
		segments = segments[1:]
	} else {
		name, _, _ := strings.Cut(u.Hostname(), ".")
		if !strings.Contains(u.Hostname(), ".blob.") {
			return acct, "", "", fmt.Errorf("%s://%s is not an Azure Blob endpoint (ACCOUNT.blob.core.windows.net)", u.Scheme, u.Host)
		}
		acct.name = name
		acct.endpoint = u.Scheme + "://" + u.Host + "/"
	}
	container = segments[0]
	if len(segments) > 1 {
		path = strings.Join(segments[1:], "/")
	}
	if len(q) > 0 {
		if acct.credential != "" {
			return acct, "", "", errors.New("azure blob URL: a SAS and identity= exclude each other")
		}
		// The SAS as given, less the identity parameters (none here).
		acct.sas = u.RawQuery
		return acct, container, path, nil
	}
	if acct.credential == "" && !acct.credentialsFromEnv() {
		acct.credential = AzureDefault
	}
	return acct, container, path, acct.envErr
}

func isEmulatorHost(host string) bool {
	return host == "localhost" || net.ParseIP(host) != nil
}

// fromEnv resolves the account of an azblob:// URL: the connection
// string, else AZURE_STORAGE_ACCOUNT with a key, a SAS token or, without
// either, an Entra ID credential. An identity= in the URL wins over keys
// in the environment.
func (a *azureAccount) fromEnv() error {
	name := os.Getenv("AZURE_STORAGE_ACCOUNT")
	if cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING"); cs != "" && (a.credential == "" || name == "") {
		fromCS, err := parseConnectionStringFor(cs, a.credential != "")
		if err != nil {
			return err
		}
		if a.credential != "" {
			fromCS.key, fromCS.sas = "", ""
		}
		fromCS.credential, fromCS.clientID = a.credential, a.clientID
		*a = fromCS
		return nil
	}
	if name == "" {
		return errors.New("azblob://: no account; set AZURE_STORAGE_ACCOUNT (with AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN " +
			"or an Entra ID identity) or AZURE_STORAGE_CONNECTION_STRING, or use the account's https URL")
	}
	a.name, a.endpoint = name, "https://"+name+".blob.core.windows.net/"
	if a.credential == "" && !a.credentialsFromEnv() {
		a.credential = AzureDefault
	}
	return a.envErr
}

// credentialsFromEnv finds a key or SAS for an account named by its URL:
// AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_KEY, or a connection string for
// the same account. It reports whether it found one; an inconsistent
// environment is left in envErr.
func (a *azureAccount) credentialsFromEnv() bool {
	if sas := os.Getenv("AZURE_STORAGE_SAS_TOKEN"); sas != "" {
		a.sas = strings.TrimPrefix(sas, "?")
		return true
	}
	if key := os.Getenv("AZURE_STORAGE_KEY"); key != "" {
		if env := os.Getenv("AZURE_STORAGE_ACCOUNT"); env != "" && env != a.name {
			a.envErr = fmt.Errorf("AZURE_STORAGE_ACCOUNT is %q but the URL names account %q", env, a.name)
			return true
		}
		a.key = key
		return true
	}
	if cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING"); cs != "" {
		fromCS, err := parseConnectionString(cs)
		if err != nil {
			a.envErr = err
			return true
		}
		if fromCS.name == a.name {
			a.key, a.sas = fromCS.key, fromCS.sas
			return true
		}
	}
	return false
}

// Azurite's fixed development account, for UseDevelopmentStorage=true. The
// key is published by Microsoft; it is no secret.
const (
	devStoreAccount  = "devstoreaccount1"
	devStoreKey      = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	devStoreEndpoint = "http://127.0.0.1:10000/devstoreaccount1/"
)

// parseConnectionString reads an Azure Storage connection string. Errors
// name the missing field, never a value: the string holds the key.
func parseConnectionString(cs string) (azureAccount, error) {
	return parseConnectionStringFor(cs, false)
}

// parseConnectionStringFor reads a connection string; with identity the
// string only locates the account (an Entra ID token signs in), so it may
// lack a key and SAS.
func parseConnectionStringFor(cs string, identity bool) (azureAccount, error) {
	fields := map[string]string{}
	for part := range strings.SplitSeq(strings.TrimSpace(cs), ";") {
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return azureAccount{}, errors.New("AZURE_STORAGE_CONNECTION_STRING: malformed (want Key=Value;...)")
		}
		fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if strings.EqualFold(fields["usedevelopmentstorage"], "true") {
		return azureAccount{name: devStoreAccount, key: devStoreKey, endpoint: devStoreEndpoint}, nil
	}
	acct := azureAccount{name: fields["accountname"], key: fields["accountkey"],
		sas: strings.TrimPrefix(fields["sharedaccesssignature"], "?")}
	switch endpoint := fields["blobendpoint"]; {
	case endpoint != "":
		acct.endpoint = strings.TrimSuffix(endpoint, "/") + "/"
	case acct.name != "":
		protocol, suffix := fields["defaultendpointsprotocol"], fields["endpointsuffix"]
		if protocol == "" {
			protocol = "https"
		}
		if suffix == "" {
			suffix = "core.windows.net"
		}
		acct.endpoint = protocol + "://" + acct.name + ".blob." + suffix + "/"
	default:
		return azureAccount{}, errors.New("AZURE_STORAGE_CONNECTION_STRING: needs AccountName or BlobEndpoint")
	}
	if acct.key != "" && acct.name == "" {
		return azureAccount{}, errors.New("AZURE_STORAGE_CONNECTION_STRING: AccountKey needs AccountName")
	}
	if acct.key == "" && acct.sas == "" && !identity {
		return azureAccount{}, errors.New("AZURE_STORAGE_CONNECTION_STRING: needs AccountKey or SharedAccessSignature")
	}
	return acct, nil
}

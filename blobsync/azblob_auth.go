package blobsync

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
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
}

// azureLocation splits an Azure store URL into account, container and path.
//
//	azblob://CONTAINER[/PREFIX]                         account from the environment
//	https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX][?SAS]
//	http://127.0.0.1:PORT/ACCOUNT/CONTAINER[/PREFIX]    emulators: account in the path
func azureLocation(u *url.URL) (acct azureAccount, container, path string, err error) {
	if u.Scheme == "azblob" {
		if u.RawQuery != "" {
			return acct, "", "", errors.New("azblob://: query parameters are not supported; put a SAS in AZURE_STORAGE_SAS_TOKEN")
		}
		acct, err = azureAccountFromEnv()
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
	if u.RawQuery != "" {
		acct.sas = u.RawQuery
		return acct, container, path, nil
	}
	err = acct.credentialsFromEnv()
	return acct, container, path, err
}

func isEmulatorHost(host string) bool {
	return host == "localhost" || net.ParseIP(host) != nil
}

// azureAccountFromEnv resolves the account of an azblob:// URL: the
// connection string, else AZURE_STORAGE_ACCOUNT with a key or SAS token.
func azureAccountFromEnv() (azureAccount, error) {
	if cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING"); cs != "" {
		return parseConnectionString(cs)
	}
	name := os.Getenv("AZURE_STORAGE_ACCOUNT")
	if name == "" {
		return azureAccount{}, errors.New("azblob://: no account; set AZURE_STORAGE_CONNECTION_STRING, " +
			"or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, or use the account's https URL")
	}
	acct := azureAccount{name: name, endpoint: "https://" + name + ".blob.core.windows.net/"}
	return acct, acct.credentialsFromEnv()
}

// credentialsFromEnv finds credentials for an account named by its URL:
// AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_KEY, or a connection string for
// the same account.
func (a *azureAccount) credentialsFromEnv() error {
	if sas := os.Getenv("AZURE_STORAGE_SAS_TOKEN"); sas != "" {
		a.sas = strings.TrimPrefix(sas, "?")
		return nil
	}
	if key := os.Getenv("AZURE_STORAGE_KEY"); key != "" {
		if env := os.Getenv("AZURE_STORAGE_ACCOUNT"); env != "" && env != a.name {
			return fmt.Errorf("AZURE_STORAGE_ACCOUNT is %q but the URL names account %q", env, a.name)
		}
		a.key = key
		return nil
	}
	if cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING"); cs != "" {
		fromCS, err := parseConnectionString(cs)
		if err != nil {
			return err
		}
		if fromCS.name == a.name {
			a.key, a.sas = fromCS.key, fromCS.sas
			return nil
		}
	}
	return fmt.Errorf("no credentials for account %q; add a SAS to the URL or set AZURE_STORAGE_SAS_TOKEN, "+
		"AZURE_STORAGE_KEY or AZURE_STORAGE_CONNECTION_STRING", a.name)
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
	if acct.key == "" && acct.sas == "" {
		return azureAccount{}, errors.New("AZURE_STORAGE_CONNECTION_STRING: needs AccountKey or SharedAccessSignature")
	}
	return acct, nil
}

package blobsync

import (
	"net/url"
	"strings"
	"testing"
)

func TestAzureLocation(t *testing.T) {
	const key = "a2V5a2V5a2V5"
	tests := []struct {
		name      string
		raw       string
		env       map[string]string
		want      azureAccount
		container string
		path      string
		wantErr   string
	}{
		{
			name:      "account URL with SAS",
			raw:       "https://acct.blob.core.windows.net/files/app?sv=2024&sig=abc",
			want:      azureAccount{endpoint: "https://acct.blob.core.windows.net/", name: "acct", sas: "sv=2024&sig=abc"},
			container: "files", path: "app",
		},
		{
			name:      "account URL with key from env",
			raw:       "https://acct.blob.core.windows.net/files",
			env:       map[string]string{"AZURE_STORAGE_KEY": key},
			want:      azureAccount{endpoint: "https://acct.blob.core.windows.net/", name: "acct", key: key},
			container: "files",
		},
		{
			name:      "account URL with SAS token from env",
			raw:       "https://acct.blob.core.windows.net/files/a/b",
			env:       map[string]string{"AZURE_STORAGE_SAS_TOKEN": "?sv=1&sig=x"},
			want:      azureAccount{endpoint: "https://acct.blob.core.windows.net/", name: "acct", sas: "sv=1&sig=x"},
			container: "files", path: "a/b",
		},
		{
			name:    "account URL, key for another account",
			raw:     "https://acct.blob.core.windows.net/files",
			env:     map[string]string{"AZURE_STORAGE_KEY": key, "AZURE_STORAGE_ACCOUNT": "other"},
			wantErr: `names account "acct"`,
		},
		{
			name:      "account URL, connection string of the same account",
			raw:       "https://acct.blob.core.windows.net/files",
			env:       map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "AccountName=acct;AccountKey=" + key},
			want:      azureAccount{endpoint: "https://acct.blob.core.windows.net/", name: "acct", key: key},
			container: "files",
		},
		{
			name:      "account URL without credentials: the default identity chain",
			raw:       "https://acct.blob.core.windows.net/files",
			want:      azureAccount{endpoint: "https://acct.blob.core.windows.net/", name: "acct", credential: AzureDefault},
			container: "files",
		},
		{
			name:      "account URL with a credential kind wins over a key",
			raw:       "https://acct.blob.core.windows.net/files/app?identity=workload-identity",
			env:       map[string]string{"AZURE_STORAGE_KEY": key},
			want:      azureAccount{endpoint: "https://acct.blob.core.windows.net/", name: "acct", credential: AzureWorkloadIdentity},
			container: "files", path: "app",
		},
		{
			name:      "account URL with a client id: user-assigned managed identity",
			raw:       "https://acct.blob.core.windows.net/files?client-id=cid",
			want:      azureAccount{endpoint: "https://acct.blob.core.windows.net/", name: "acct", credential: AzureManagedIdentity, clientID: "cid"},
			container: "files",
		},
		{
			name:    "account URL with SAS and a credential",
			raw:     "https://acct.blob.core.windows.net/files?sv=1&sig=x&identity=azure-cli",
			wantErr: "exclude each other",
		},
		{
			name:    "unknown credential kind",
			raw:     "azblob://files?identity=password",
			wantErr: "identity=password: not an identity kind",
		},
		{
			name:      "azblob with account only: the default identity chain",
			raw:       "azblob://files",
			env:       map[string]string{"AZURE_STORAGE_ACCOUNT": "acct"},
			want:      azureAccount{endpoint: "https://acct.blob.core.windows.net/", name: "acct", credential: AzureDefault},
			container: "files",
		},
		{
			name:      "azblob with a credential and a connection string: the string only locates the account",
			raw:       "azblob://files?identity=service-principal",
			env:       map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "AccountName=acct;AccountKey=" + key},
			want:      azureAccount{endpoint: "https://acct.blob.core.windows.net/", name: "acct", credential: AzureServicePrincipal},
			container: "files",
		},
		{
			name:    "azblob with another query parameter",
			raw:     "azblob://files?sig=x",
			wantErr: "only identity= and client-id=",
		},
		{
			name:      "emulator URL",
			raw:       "http://127.0.0.1:10000/devstoreaccount1/files/app",
			env:       map[string]string{"AZURE_STORAGE_KEY": key},
			want:      azureAccount{endpoint: "http://127.0.0.1:10000/devstoreaccount1/", name: "devstoreaccount1", key: key},
			container: "files", path: "app",
		},
		{
			name: "azblob with connection string",
			raw:  "azblob://files/app",
			env: map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + key +
				";EndpointSuffix=core.chinacloudapi.cn"},
			want:      azureAccount{endpoint: "https://acct.blob.core.chinacloudapi.cn/", name: "acct", key: key},
			container: "files", path: "/app",
		},
		{
			name:      "azblob with account and key",
			raw:       "azblob://files",
			env:       map[string]string{"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_STORAGE_KEY": key},
			want:      azureAccount{endpoint: "https://acct.blob.core.windows.net/", name: "acct", key: key},
			container: "files",
		},
		{
			name:    "azblob without account",
			raw:     "azblob://files",
			wantErr: "no account",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"} {
				t.Setenv(k, tt.env[k])
			}
			u, err := url.Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			acct, container, path, err := azureLocation(u)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), key) {
					t.Errorf("error %q contains the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if acct != tt.want || container != tt.container || path != tt.path {
				t.Errorf("got %+v %q %q, want %+v %q %q", acct, container, path, tt.want, tt.container, tt.path)
			}
		})
	}
}

func TestParseConnectionString(t *testing.T) {
	tests := []struct {
		name, cs string
		want     azureAccount
		wantErr  string
	}{
		{"azurite style", "DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=k==;BlobEndpoint=http://127.0.0.1:1/dev;",
			azureAccount{endpoint: "http://127.0.0.1:1/dev/", name: "dev", key: "k=="}, ""},
		{"development storage", "UseDevelopmentStorage=true",
			azureAccount{endpoint: devStoreEndpoint, name: devStoreAccount, key: devStoreKey}, ""},
		{"SAS only", "BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=1&sig=x",
			azureAccount{endpoint: "https://a.blob.core.windows.net/", sas: "sv=1&sig=x"}, ""},
		{"no endpoint", "AccountKey=k", azureAccount{}, "AccountName or BlobEndpoint"},
		{"no credentials", "AccountName=a", azureAccount{}, "AccountKey or SharedAccessSignature"},
		{"malformed", "AccountName", azureAccount{}, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConnectionString(tt.cs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseConnectionString = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestAzureIdentityNeedsHTTPS(t *testing.T) {
	for _, k := range []string{"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"} {
		t.Setenv(k, "")
	}
	_, err := Open(t.Context(), "http://127.0.0.1:1/devstoreaccount1/files", Options{})
	if err == nil || !strings.Contains(err.Error(), "only sent over HTTPS") {
		t.Fatalf("got %v, want the HTTPS requirement named", err)
	}
}

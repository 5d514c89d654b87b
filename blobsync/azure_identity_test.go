package blobsync

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

// identityEndpoint is a local stand-in for a managed identity endpoint
// (the App Service kind: IDENTITY_ENDPOINT and IDENTITY_HEADER). It issues
// unsigned JWTs with the claims Azurite's "--oauth basic" checks.
type identityEndpoint struct {
	*httptest.Server
	header string

	mu       sync.Mutex
	audience string // "" issues one for the requested resource
	refuse   bool   // answer 400 "identity not found"
	requests []url.Values
}

func newIdentityEndpoint(t *testing.T) *identityEndpoint {
	e := &identityEndpoint{header: "test-identity-header"}
	e.Server = httptest.NewTLSServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.Close)
	return e
}

func (e *identityEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = append(e.requests, r.URL.Query())
	if r.Header.Get("X-IDENTITY-HEADER") != e.header {
		http.Error(w, `{"error":"invalid_request","error_description":"missing identity header"}`, http.StatusUnauthorized)
		return
	}
	if e.refuse {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_request","error_description":"Identity not found"}`)
		return
	}
	resource := r.URL.Query().Get("resource")
	aud := e.audience
	if aud == "" {
		aud = resource
	}
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{
		"aud": aud, "iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000000/",
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
		"oid": "11111111-1111-1111-1111-111111111111",
	})
	enc := base64.RawURLEncoding.EncodeToString
	token := enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(claims) + "." + enc([]byte("not-signed"))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{
		"access_token": token, "expires_on": fmt.Sprint(now.Add(time.Hour).Unix()),
		"resource": resource, "token_type": "Bearer",
	})
}

func (e *identityEndpoint) lastRequest() url.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.requests) == 0 {
		return nil
	}
	return e.requests[len(e.requests)-1]
}

// oauthAzurite starts Azurite over HTTPS with OAuth, points the stores'
// transport at its certificate and at the identity endpoint's, and returns
// a function that makes a container.
func oauthAzurite(t *testing.T) (*testenv.AzuriteServer, *identityEndpoint, func() string) {
	azurite := testenv.AzuriteWith(t, testenv.AzuriteOptions{OAuth: true})
	isolateFromUserConfig(t)
	for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
		"AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT"} {
		t.Setenv(k, "")
	}
	endpoint := newIdentityEndpoint(t)
	pool := azurite.RootCAs.Clone()
	pool.AddCert(endpoint.Certificate())
	testRootCAs = pool
	t.Cleanup(func() { testRootCAs = nil })
	t.Setenv("IDENTITY_ENDPOINT", endpoint.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", endpoint.header)

	admin, err := azblob.NewClientFromConnectionString(azurite.ConnectionString, &azblob.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: newHTTPTransport()}}})
	if err != nil {
		t.Fatal(err)
	}
	mkContainer := func() string {
		name := uniqueName("identity")
		if _, err := admin.CreateContainer(t.Context(), name, nil); err != nil {
			t.Fatalf("create container %s: %v", name, err)
		}
		return name
	}
	return azurite, endpoint, mkContainer
}

func TestAzureEntraIDAgainstAzurite(t *testing.T) {
	azurite, endpoint, mkContainer := oauthAzurite(t)
	// Each case has an identity of its own: tokens are cached per identity
	// for the whole process.
	tests := []struct {
		name     string
		query    string
		env      string // AZURE_CLIENT_ID
		identity string
		clientID string
	}{
		{"system-assigned managed identity", "?identity=managed-identity", "",
			"Microsoft Entra ID managed identity (system-assigned)", ""},
		{"user-assigned managed identity", "?client-id=22222222-aaaa", "",
			"Microsoft Entra ID managed identity (client id 22222222-aaaa)", "22222222-aaaa"},
		{"default chain", "", "33333333-bbbb",
			"Microsoft Entra ID managed identity (client id 33333333-bbbb), from the default credential chain", "33333333-bbbb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AZURE_CLIENT_ID", tc.env)
			raw := azurite.Endpoint + "/" + mkContainer() + "/app" + tc.query
			s := openStore(t, raw)
			if got := IdentityOf(WithRetry(s, RetryPolicy{})); got != tc.identity {
				t.Errorf("identity %q, want %q", got, tc.identity)
			}
			req := endpoint.lastRequest()
			if req.Get("resource") != "https://storage.azure.com" || req.Get("client_id") != tc.clientID {
				t.Errorf("token request %v: want resource https://storage.azure.com and client_id %q", req, tc.clientID)
			}
			ctx := t.Context()
			data := []byte("bytes signed in with a token")
			if _, err := s.Put(ctx, "k/1", BytesPayload(data)); err != nil {
				t.Fatalf("Put: %v", err)
			}
			r, err := s.Open(ctx, "k/1")
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || string(got) != string(data) {
				t.Fatalf("read back %q, %v", got, err)
			}
			if err := s.Delete(ctx, "k/1"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := s.Stat(ctx, "k/1"); !errors.Is(err, ErrNotExist) {
				t.Fatalf("Stat after Delete: %v", err)
			}
		})
	}
}

func TestAzureEntraIDWithoutAccess(t *testing.T) {
	azurite, endpoint, mkContainer := oauthAzurite(t)
	container := mkContainer()
	raw := func(clientID string) string { return azurite.Endpoint + "/" + container + "?client-id=" + clientID }

	// A token for another resource: Azurite refuses it, as Azure refuses
	// an identity without a role on the account.
	endpoint.mu.Lock()
	endpoint.audience = "https://vault.azure.net"
	endpoint.mu.Unlock()
	_, err := Open(t.Context(), raw("44444444-cccc"), Options{})
	if err == nil || !errors.Is(err, ErrAccessDenied) || exitcode.Of(err) != exitcode.BadInput {
		t.Fatalf("got %v (exit %d), want access denied, exit %d", err, exitcode.Of(err), exitcode.BadInput)
	}
	for _, want := range []string{"signed in as Microsoft Entra ID managed identity (client id 44444444-cccc)", "Storage Blob Data Contributor"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "eyJ") {
		t.Errorf("error shows the token: %v", err)
	}

	// No token at all: the identity endpoint does not know the identity.
	endpoint.mu.Lock()
	endpoint.refuse = true
	endpoint.mu.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	_, err = Open(ctx, raw("55555555-dddd"), Options{})
	if err == nil || !errors.Is(err, ErrAccessDenied) || exitcode.Of(err) != exitcode.BadInput ||
		!strings.Contains(err.Error(), "no Microsoft Entra ID token for Microsoft Entra ID managed identity") {
		t.Fatalf("got %v (exit %d), want the missing token named, access denied, exit %d", err, exitcode.Of(err), exitcode.BadInput)
	}
}

// A token credential and the shared key: Azurite in OAuth mode still
// accepts the key, and the store says which one it used.
func TestAzureIdentityNames(t *testing.T) {
	azurite, _, mkContainer := oauthAzurite(t)
	t.Setenv("AZURE_STORAGE_KEY", azurite.AccountKey)
	s := openStore(t, azurite.Endpoint+"/"+mkContainer())
	if got, want := IdentityOf(s), "shared key of account devstoreaccount1"; got != want {
		t.Errorf("identity %q, want %q", got, want)
	}
	if strings.Contains(IdentityOf(s), azurite.AccountKey) {
		t.Error("identity shows the key")
	}
}

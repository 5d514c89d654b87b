package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// The storage emulator's fixed development account. Its key is public
// (documented by Microsoft), so it is no secret.
const (
	AzuriteAccountName = "devstoreaccount1"
	AzuriteAccountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// AzuriteServer is an azurite-blob started for one test with its own
// workspace directory.
type AzuriteServer struct {
	Endpoint         string // "http://127.0.0.1:PORT/devstoreaccount1" (https with OAuth), the account's blob endpoint
	AccountName      string
	AccountKey       string
	ConnectionString string
	// RootCAs trusts the server's self-signed certificate; nil over HTTP.
	RootCAs *x509.CertPool
}

// AzuriteOptions change how Azurite is started. The zero value is plain
// HTTP with shared-key and SAS authentication.
type AzuriteOptions struct {
	// OAuth serves HTTPS with a certificate made for this test and accepts
	// bearer tokens ("--oauth basic": Azurite checks the token's lifetime,
	// issuer and audience, not its signature).
	OAuth bool
}

const azuriteStartAttempts = 3

// Azurite starts azurite-blob on a free 127.0.0.1 port and stops it when the
// test ends. The binary is $MXTEST_AZURITE, else
// CacheDir()/azurite/node_modules/.bin/azurite-blob, else azurite-blob on
// PATH; when none exists the test is skipped (or failed, see Unavailable).
func Azurite(t testing.TB) *AzuriteServer {
	t.Helper()
	return AzuriteWith(t, AzuriteOptions{})
}

// AzuriteWith is Azurite with options.
func AzuriteWith(t testing.TB, opts AzuriteOptions) *AzuriteServer {
	t.Helper()
	SkipIfShort(t, "Azurite")
	cached := filepath.Join(CacheDir(), "azurite", "node_modules", ".bin", "azurite-blob")
	bin := findBinary("MXTEST_AZURITE", cached, "azurite-blob")
	if bin == "" {
		Unavailable(t, "Azurite", "run `make test-deps` (npm install --prefix "+
			filepath.Join(CacheDir(), "azurite")+" azurite@3.37.0) or set MXTEST_AZURITE")
		return nil
	}
	var lastErr error
	for range azuriteStartAttempts {
		srv, err := startAzurite(t, bin, opts)
		if err == nil {
			return srv
		}
		lastErr = err
	}
	t.Fatalf("testenv: Azurite did not start: %v", lastErr)
	return nil
}

func startAzurite(t testing.TB, bin string, opts AzuriteOptions) (*AzuriteServer, error) {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if opts.OAuth {
		scheme = "https"
	}
	endpoint := scheme + "://127.0.0.1:" + strconv.Itoa(port) + "/" + AzuriteAccountName
	srv := &AzuriteServer{
		Endpoint:    endpoint,
		AccountName: AzuriteAccountName,
		AccountKey:  AzuriteAccountKey,
		ConnectionString: "DefaultEndpointsProtocol=" + scheme + ";AccountName=" + AzuriteAccountName +
			";AccountKey=" + AzuriteAccountKey + ";BlobEndpoint=" + endpoint + ";",
	}
	workspace := t.TempDir()
	args := []string{
		"--blobHost", "127.0.0.1",
		"--blobPort", strconv.Itoa(port),
		"--location", workspace,
		"--skipApiVersionCheck", // the Go SDK may be newer than the emulator
		"--loose",
		"--silent",
		"--disableTelemetry", // never call home
	}
	client := http.DefaultClient
	if opts.OAuth {
		certFile, keyFile, pool, err := SelfSignedCert(t.TempDir())
		if err != nil {
			return nil, err
		}
		srv.RootCAs = pool
		args = append(args, "--oauth", "basic", "--cert", certFile, "--key", keyFile)
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = workspace
	// Azurite switches to an external SQL metadata store whenever
	// AZURITE_DB is set, even to "": drop it.
	cmd.Env = environWithout("AZURITE_DB")
	proc, err := startProcess(t, "azurite-blob", cmd)
	if err != nil {
		return nil, err
	}
	// Any HTTP answer (an anonymous request gets an error status) means the
	// server is accepting requests.
	ready := func(ctx context.Context) error {
		if err := proc.alive(); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"?comp=list", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			return fmt.Errorf("azurite: %s", resp.Status)
		}
		return nil
	}
	if err := WaitFor(context.Background(), "azurite at "+endpoint, ready); err != nil {
		proc.stop()
		return nil, err
	}
	return srv, nil
}

// Env returns the variable that points blobsync's azblob store at this
// server, for t.Setenv or a child process.
func (a *AzuriteServer) Env() map[string]string {
	return map[string]string{"AZURE_STORAGE_CONNECTION_STRING": a.ConnectionString}
}

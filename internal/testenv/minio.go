package testenv

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// MinIOServer is a MinIO started for one test, with its own data directory
// and throwaway root credentials.
type MinIOServer struct {
	Endpoint  string // "http://127.0.0.1:PORT"
	AccessKey string
	SecretKey string
	Region    string // "us-east-1" unless MinIOOptions.Region
	// KMSKeyID names the server's built-in KMS key when MinIOOptions.KMS
	// is set (SSE-S3 and SSE-KMS then work); "" otherwise.
	KMSKeyID string
}

// MinIOOptions change how MinIO is started; the zero value is what MinIO
// starts.
type MinIOOptions struct {
	Region string // the server's region (MINIO_SITE_REGION); "" = us-east-1
	KMS    bool   // a built-in KMS key, for server-side encryption
}

// minioStartAttempts bounds the retries when another process takes the
// port between FreePort and MinIO binding it.
const minioStartAttempts = 3

// MinIO starts a MinIO server on a free 127.0.0.1 port and stops it when
// the test ends. The binary is $MXTEST_MINIO, else CacheDir()/bin/minio,
// else minio on PATH; when none exists the test is skipped (or failed, see
// Unavailable).
func MinIO(t testing.TB) *MinIOServer {
	t.Helper()
	return MinIOWith(t, MinIOOptions{})
}

// MinIOWith is MinIO with options.
func MinIOWith(t testing.TB, opts MinIOOptions) *MinIOServer {
	t.Helper()
	SkipIfShort(t, "MinIO")
	bin := findBinary("MXTEST_MINIO", filepath.Join(CacheDir(), "bin", "minio"), "minio")
	if bin == "" {
		Unavailable(t, "MinIO", "run `make test-deps` (or set MXTEST_MINIO to a minio binary)")
		return nil
	}
	var lastErr error
	for range minioStartAttempts {
		srv, err := startMinIO(t, bin, opts)
		if err == nil {
			return srv
		}
		lastErr = err
	}
	t.Fatalf("testenv: MinIO did not start: %v", lastErr)
	return nil
}

func startMinIO(t testing.TB, bin string, opts MinIOOptions) (*MinIOServer, error) {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	consolePort, err := FreePort()
	if err != nil {
		return nil, err
	}
	user, err := randomToken(8)
	if err != nil {
		return nil, err
	}
	password, err := randomToken(16)
	if err != nil {
		return nil, err
	}
	srv := &MinIOServer{
		Endpoint:  "http://127.0.0.1:" + strconv.Itoa(port),
		AccessKey: user,
		SecretKey: password,
		Region:    cmp.Or(opts.Region, "us-east-1"),
	}
	dataDir := t.TempDir()
	cmd := exec.Command(bin, "server", "--quiet", "--anonymous",
		"--address", "127.0.0.1:"+strconv.Itoa(port),
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort),
		dataDir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+user,
		"MINIO_ROOT_PASSWORD="+password,
		"MINIO_REGION="+srv.Region,
		"MINIO_SITE_REGION="+srv.Region,
		// Never call home: no console, no update check, no call-home.
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CALLHOME_ENABLE=off",
		// Test mode: relaxes the drive checks that a temp dir would fail.
		"MINIO_CI_CD=1",
		// Keep the server's own config out of the user's home.
		"HOME="+dataDir,
	)
	if opts.KMS {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		srv.KMSKeyID = "mxmigrate-test-key"
		cmd.Env = append(cmd.Env, "MINIO_KMS_SECRET_KEY="+srv.KMSKeyID+":"+base64.StdEncoding.EncodeToString(key))
	}
	proc, err := startProcess(t, "minio", cmd)
	if err != nil {
		return nil, err
	}
	ready := func(ctx context.Context) error {
		if err := proc.alive(); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.Endpoint+"/minio/health/ready", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health check: %s", resp.Status)
		}
		return nil
	}
	if err := WaitFor(context.Background(), "minio at "+srv.Endpoint, ready); err != nil {
		proc.stop()
		return nil, err
	}
	return srv, nil
}

// Client returns an S3 client for this server using path-style addressing.
func (m *MinIOServer) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       m.Region,
		BaseEndpoint: aws.String(m.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(m.AccessKey, m.SecretKey, ""),
	})
}

// CreateBucket creates an empty bucket and fails the test on error.
func (m *MinIOServer) CreateBucket(t testing.TB, name string) {
	t.Helper()
	_, err := m.Client().CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)})
	if err != nil {
		t.Fatalf("testenv: create bucket %q: %v", name, err)
	}
}

// Env returns the AWS_* variables that point the SDK's default chain at
// this server, for t.Setenv or a child process.
func (m *MinIOServer) Env() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":     m.AccessKey,
		"AWS_SECRET_ACCESS_KEY": m.SecretKey,
		"AWS_REGION":            m.Region,
		"AWS_ENDPOINT_URL_S3":   m.Endpoint,
	}
}

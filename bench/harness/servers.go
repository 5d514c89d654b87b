package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/internal/pgserver"
)

// minioServer is the MinIO both uploaders write to, on 127.0.0.1 only,
// with throwaway root credentials.
type minioServer struct {
	endpoint  string
	accessKey string
	secretKey string
	cmd       *exec.Cmd
	exited    chan struct{}
	client    *s3.Client
}

const region = "us-east-1"

// startMinIO starts MinIO on a free loopback port, retrying on a new port
// when another process takes the one probed first.
func startMinIO(ctx context.Context, bin, dataDir string) (*minioServer, error) {
	var lastErr error
	for range 3 {
		m, err := tryStartMinIO(ctx, bin, dataDir)
		if err == nil {
			return m, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("MinIO did not start: %w", lastErr)
}

func tryStartMinIO(ctx context.Context, bin, dataDir string) (*minioServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	consolePort, err := freePort()
	if err != nil {
		return nil, err
	}
	m := &minioServer{endpoint: "http://127.0.0.1:" + strconv.Itoa(port), accessKey: randomHex(8), secretKey: randomHex(16), exited: make(chan struct{})}
	m.cmd = exec.Command(bin, "server", "--quiet", "--address", "127.0.0.1:"+strconv.Itoa(port),
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort), dataDir)
	m.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.accessKey, "MINIO_ROOT_PASSWORD="+m.secretKey, "MINIO_REGION="+region,
		// Never call home; no console.
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CALLHOME_ENABLE=off",
		"HOME="+dataDir)
	// Its own process group: a Ctrl-C reaches the harness, which stops
	// MinIO itself after the current step.
	ownProcessGroup(m.cmd)
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start MinIO: %w", err)
	}
	go func() { m.cmd.Wait(); close(m.exited) }()
	m.client = s3.New(s3.Options{
		Region: region, BaseEndpoint: aws.String(m.endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(m.accessKey, m.secretKey, ""),
	})
	if err := m.waitReady(ctx); err != nil {
		m.stop()
		return nil, err
	}
	return m, nil
}

func (m *minioServer) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-m.exited:
			return errors.New("MinIO exited while starting")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := http.Get(m.endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("MinIO not ready within 60s")
}

// stop ends MinIO: SIGTERM, then SIGKILL after a grace period.
func (m *minioServer) stop() {
	select {
	case <-m.exited:
		return
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
}

// version is what the binary says, plus the module version scripts/deps.sh
// built it from (a `go install` build calls itself DEVELOPMENT).
func (m *minioServer) version() string {
	v := versionOf(m.cmd.Path, "--version")
	if pinned, err := os.ReadFile(m.cmd.Path + ".version"); err == nil {
		v += ", built from github.com/minio/minio@" + strings.TrimSpace(string(pinned))
	}
	return v
}

func (m *minioServer) createBucket(ctx context.Context, name string) error {
	_, err := m.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	return err
}

// removeBucket deletes every object, then the bucket, so disk use stays at
// one run's worth.
func (m *minioServer) removeBucket(ctx context.Context, name string) error {
	pages := s3.NewListObjectsV2Paginator(m.client, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list bucket %s: %w", name, err)
		}
		if len(page.Contents) == 0 {
			break
		}
		ids := make([]types.ObjectIdentifier, 0, len(page.Contents))
		for _, o := range page.Contents {
			ids = append(ids, types.ObjectIdentifier{Key: o.Key})
		}
		if _, err := m.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(name), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("empty bucket %s: %w", name, err)
		}
	}
	_, err := m.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	return err
}

// objectCount says how many objects a bucket holds: a baseline that
// exits 0 having uploaded nothing must not count as a fast run.
func (m *minioServer) objectCount(ctx context.Context, name string) (int, error) {
	n := 0
	pages := s3.NewListObjectsV2Paginator(m.client, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		n += len(page.Contents)
	}
	return n, nil
}

// dropDatabase removes a benchmark database, ending any session left on it.
func dropDatabase(ctx context.Context, c *pgserver.Cluster, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// relationSizes sums what the public schema's tables (heap and TOAST) and
// indexes take on disk, to turn verify's wall time into MB/s.
func relationSizes(ctx context.Context, c *pgserver.Cluster, db string) (tables, indexes int64, err error) {
	conn, err := pgx.Connect(ctx, c.URL(db))
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(context.Background())
	err = conn.QueryRow(ctx, `SELECT coalesce(sum(pg_table_size(c.oid)), 0)::bigint, coalesce(sum(pg_indexes_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind = 'r'`).Scan(&tables, &indexes)
	return tables, indexes, err
}

// rowCount counts a database's rows in the public schema, to check that
// a baseline that exited 0 really loaded the data.
func rowCount(ctx context.Context, c *pgserver.Cluster, db string) (int64, error) {
	conn, err := pgx.Connect(ctx, c.URL(db))
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
	if err != nil {
		return 0, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	var total int64
	for _, name := range names {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{"public", name}.Sanitize()).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

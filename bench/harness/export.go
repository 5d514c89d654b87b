package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// exportSource is the database and bucket the export comparison reads:
// the backup restored and uploaded once, untimed, and kept until the
// servers stop.
type exportSource struct {
	db, bucket string
}

// exportGroup compares `mxmigrate export` with what an operator runs to
// make a backup by hand: pg_dump -Fc, rclone copy of the bucket, tar czf.
// The baseline does less (no tree/xx/yy/ layout, no .metadata), which
// favours it.
func (b *bench) exportGroup() groupSpec {
	g := groupSpec{
		name:  "export",
		title: "Export: database and files back to a full-snapshot backup",
		speed: []speedClaim{{baseline: "pg_dump -Fc + rclone copy --transfers 16 + tar czf", maxTimeRatio: 1.2,
			text: "`mxmigrate export` within 1.2x of `pg_dump -Fc` + `rclone copy --transfers 16` + `tar czf`"}},
		memory: &memoryClaim{maxMiB: 200, text: "`mxmigrate export` peak memory under 200 MiB"},
	}
	g.contenders = append(g.contenders, contender{
		name: "mxmigrate export --jobs 2", mxmigrate: true,
		command: "mxmigrate export --db postgres://…/SOURCE --files s3://SOURCE-BUCKET -o backup.tar.gz --jobs " + restoreJobs,
		prepare: func(ctx context.Context) (*trial, error) {
			src, err := b.exportSourceOnce(ctx)
			if err != nil {
				return nil, err
			}
			work, err := b.scratch("mx-export")
			if err != nil {
				return nil, err
			}
			out := filepath.Join(work, "export.tar.gz")
			st, report := b.mxStep("mxmigrate export", work, "export", "--db", b.pg.URL(src.db), "--files", "s3://"+src.bucket, "-o", out, "--jobs", restoreJobs)
			return &trial{steps: []step{st}, report: report, check: nonEmptyFile(out),
				cleanup: func(ctx context.Context, ok bool) { os.RemoveAll(work) }}, nil
		},
	})
	g.contenders = append(g.contenders, contender{
		name:    "pg_dump -Fc + rclone copy --transfers 16 + tar czf",
		command: "pg_dump -Fc -O -x -f db/db.backup postgres://…/SOURCE && rclone copy --transfers 16 minio:SOURCE-BUCKET tree && tar czf backup.tar.gz db tree",
		prepare: func(ctx context.Context) (*trial, error) {
			src, err := b.exportSourceOnce(ctx)
			if err != nil {
				return nil, err
			}
			dir, err := b.scratch("manual-export")
			if err != nil {
				return nil, err
			}
			if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
				return nil, err
			}
			out := filepath.Join(dir, "backup.tar.gz")
			dump := step{name: "pg_dump -Fc", argv: []string{filepath.Join(b.tools.pgBin, "pg_dump"), "-Fc", "-O", "-x",
				"-f", filepath.Join(dir, "db", "db.backup"), "-d", b.pg.URL(src.db)}}
			download := b.rcloneStep(dir, src.bucket)
			download.name = "rclone copy --transfers 16 (download)"
			download.argv = []string{b.tools.rclone, "copy", "--transfers", "16", "minio:" + src.bucket, filepath.Join(dir, "tree")}
			tarball := step{name: "tar czf", argv: []string{b.tools.tar, "-czf", out, "-C", dir, "db", "tree"}}
			return &trial{steps: []step{dump, download, tarball}, check: nonEmptyFile(out),
				cleanup: func(ctx context.Context, ok bool) { os.RemoveAll(dir) }}, nil
		},
	})
	return g
}

// exportSourceOnce restores the backup into a database and uploads its
// blobs into a bucket, the first time it is called.
func (b *bench) exportSourceOnce(ctx context.Context) (*exportSource, error) {
	if b.exportSrc != nil {
		return b.exportSrc, nil
	}
	db, err := b.freshDatabase(ctx)
	if err != nil {
		return nil, err
	}
	bucket, err := b.freshBucket(ctx)
	if err != nil {
		return nil, err
	}
	work, err := b.scratch("export-source")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	b.log.Info("preparing the export source (untimed)", "db", db, "bucket", bucket)
	argv := []string{b.mx, "migrate", b.backup, "--db", b.pg.URL(db), "--files", "s3://" + bucket, "--jobs", restoreJobs,
		"--work-dir", work, "--progress", "none"}
	if err := runWithEnv(ctx, b.root, b.stepTimeout, b.s3Env(), argv...); err != nil {
		return nil, fmt.Errorf("prepare the export source: %w", err)
	}
	b.exportSrc = &exportSource{db: db, bucket: bucket}
	return b.exportSrc, nil
}

func nonEmptyFile(path string) func(context.Context) error {
	return func(context.Context) error {
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		if st.Size() == 0 {
			return fmt.Errorf("%s is empty", path)
		}
		return nil
	}
}

// runWithEnv runs argv with env added, failing with the output's last
// lines.
func runWithEnv(ctx context.Context, dir string, timeout time.Duration, env []string, argv ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv[:2], " "), err, tailLines(string(out), 5))
	}
	return nil
}

// onlyGroups keeps the comparisons BENCH_ONLY names (comma-separated,
// e.g. "export"), to time one job without the others; all when unset.
func onlyGroups(groups []groupSpec) []groupSpec {
	only := os.Getenv("BENCH_ONLY")
	if only == "" {
		return groups
	}
	var kept []groupSpec
	for _, g := range groups {
		for _, name := range strings.Split(only, ",") {
			if strings.TrimSpace(name) == g.name {
				kept = append(kept, g)
			}
		}
	}
	return kept
}

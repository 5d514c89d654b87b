package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The contenders of each comparison. Every trial starts from fresh, empty
// targets made before the clock starts, and checks afterwards (untimed)
// that the job was really done, so that a baseline that exits 0 having
// loaded nothing cannot look fast.

const restoreJobs = "2"

func (b *bench) groups() []groupSpec {
	groups := []groupSpec{b.dbGroup()}
	if b.tools.rclone != "" {
		groups = append(groups, b.filesGroup(), b.migrateGroup(), b.verifyGroup(), b.exportGroup(), b.preseedGroup())
	}
	groups = append(groups, b.sqlServerGroups()...)
	return onlyGroups(groups)
}

func (b *bench) dbGroup() groupSpec {
	g := groupSpec{
		name:   "db",
		title:  "Database to PostgreSQL",
		memory: &memoryClaim{maxMiB: 150, text: "`mxmigrate db` peak memory under 150 MiB"},
	}
	if x := b.dataset.Preset.DBSpeedup; x > 0 {
		g.speed = []speedClaim{{baseline: "pg_restore -j 2 (dump already extracted)", minSpeedup: x,
			text: fmt.Sprintf("`mxmigrate db` (native loader, verification included) at least %.2fx faster than a bare `pg_restore -j 2` of the same dump", x)}}
	} else {
		g.speed = []speedClaim{{baseline: "pg_restore -j 2 (dump already extracted)", maxTimeRatio: 1.10,
			text: "`mxmigrate db` wall time within 1.10x of a bare `pg_restore -j 2` of the same dump, verification included"}}
	}
	g.contenders = append(g.contenders, contender{
		name: "mxmigrate db --jobs 2", mxmigrate: true,
		command: "mxmigrate db BACKUP --db postgres://…/EMPTY --jobs " + restoreJobs + " --loader native",
		prepare: func(ctx context.Context) (*trial, error) {
			db, err := b.freshDatabase(ctx)
			if err != nil {
				return nil, err
			}
			work, err := b.scratch("mx-db")
			if err != nil {
				return nil, err
			}
			st, report := b.mxStep("mxmigrate db", work, "db", b.backup, "--db", b.pg.URL(db), "--jobs", restoreJobs, "--loader", "native")
			return &trial{steps: []step{st}, report: report, check: b.rowsCheck(db),
				cleanup: func(ctx context.Context, ok bool) { b.dropDB(ctx, db); os.RemoveAll(work) }}, nil
		},
	})
	g.contenders = append(g.contenders, contender{
		name:    "tar -xzf db/db.backup + pg_restore -j 2",
		command: "tar -xzf BACKUP db/db.backup && pg_restore -j " + restoreJobs + " --no-owner --no-privileges -d postgres://…/EMPTY db/db.backup",
		prepare: func(ctx context.Context) (*trial, error) {
			db, err := b.freshDatabase(ctx)
			if err != nil {
				return nil, err
			}
			dir, err := b.scratch("tar-db")
			if err != nil {
				return nil, err
			}
			return &trial{
				steps:   []step{b.tarStep(dir, "db/db.backup"), b.restoreStep(db, filepath.Join(dir, "db", "db.backup"))},
				check:   b.rowsCheck(db),
				cleanup: func(ctx context.Context, ok bool) { b.dropDB(ctx, db); os.RemoveAll(dir) },
			}, nil
		},
	})
	g.contenders = append(g.contenders, contender{
		name:    "pg_restore -j 2 (dump already extracted)",
		command: "pg_restore -j " + restoreJobs + " --no-owner --no-privileges -d postgres://…/EMPTY db.backup",
		prepare: func(ctx context.Context) (*trial, error) {
			db, err := b.freshDatabase(ctx)
			if err != nil {
				return nil, err
			}
			return &trial{steps: []step{b.restoreStep(db, b.extractedDump)}, check: b.rowsCheck(db),
				cleanup: func(ctx context.Context, ok bool) { b.dropDB(ctx, db) }}, nil
		},
	})
	// BENCH_NO_PGLOADER=1 leaves out pgloader, which takes minutes.
	if b.tools.pgloader != "" && os.Getenv("BENCH_NO_PGLOADER") == "" {
		g.contenders = append(g.contenders, contender{
			name:    "pgloader (PostgreSQL to PostgreSQL)",
			command: "pgloader pgsql://…/SOURCE pgsql://…/EMPTY (from a live database restored once, untimed)",
			prepare: func(ctx context.Context) (*trial, error) {
				db, err := b.freshDatabase(ctx)
				if err != nil {
					return nil, err
				}
				dir, err := b.scratch("pgloader")
				if err != nil {
					return nil, err
				}
				st := step{name: "pgloader", argv: []string{b.tools.pgloader, "--root-dir", dir, b.pgloaderURL(b.sourceDB), b.pgloaderURL(db)}}
				return &trial{steps: []step{st}, check: b.rowsCheck(db),
					cleanup: func(ctx context.Context, ok bool) { b.dropDB(ctx, db); os.RemoveAll(dir) }}, nil
			},
		})
	}
	return g
}

func (b *bench) filesGroup() groupSpec {
	g := groupSpec{
		name:  "files",
		title: "Files to MinIO (S3)",
		speed: []speedClaim{{baseline: "tar -xzf tree/ + flatten + rclone copy --transfers 16", minSpeedup: 1.3,
			text: "`mxmigrate files` at least 1.3x faster than extract + flatten + `rclone copy --transfers 16`"}},
		memory: &memoryClaim{maxMiB: 200, text: "`mxmigrate files` peak memory under 200 MiB"},
	}
	g.contenders = append(g.contenders, contender{
		name: "mxmigrate files", mxmigrate: true,
		command: "mxmigrate files BACKUP --files s3://EMPTY-BUCKET (AWS_ENDPOINT_URL=http://127.0.0.1:PORT)",
		prepare: func(ctx context.Context) (*trial, error) {
			bucket, err := b.freshBucket(ctx)
			if err != nil {
				return nil, err
			}
			work, err := b.scratch("mx-files")
			if err != nil {
				return nil, err
			}
			st, report := b.mxStep("mxmigrate files", work, "files", b.backup, "--files", "s3://"+bucket)
			return &trial{steps: []step{st}, report: report, check: b.objectsCheck(bucket),
				cleanup: func(ctx context.Context, ok bool) { b.dropBucket(ctx, bucket); os.RemoveAll(work) }}, nil
		},
	})
	g.contenders = append(g.contenders, contender{
		name:    "tar -xzf tree/ + flatten + rclone copy --transfers 16",
		command: "tar -xzf BACKUP tree && find tree -type f -exec mv -t flat {} + && rclone copy --transfers 16 flat minio:EMPTY-BUCKET",
		prepare: func(ctx context.Context) (*trial, error) {
			bucket, err := b.freshBucket(ctx)
			if err != nil {
				return nil, err
			}
			dir, err := b.scratch("rclone")
			if err != nil {
				return nil, err
			}
			return &trial{
				steps:   []step{b.tarStep(dir, "tree"), flattenStep(dir), b.rcloneStep(dir, bucket)},
				check:   b.objectsCheck(bucket),
				cleanup: func(ctx context.Context, ok bool) { b.dropBucket(ctx, bucket); os.RemoveAll(dir) },
			}, nil
		},
	})
	return g
}

func (b *bench) migrateGroup() groupSpec {
	g := groupSpec{name: "migrate", title: "Whole migration: database and files"}
	g.contenders = append(g.contenders, contender{
		name: "mxmigrate migrate --jobs 2", mxmigrate: true,
		command: "mxmigrate migrate BACKUP --db postgres://…/EMPTY --files s3://EMPTY-BUCKET --jobs " + restoreJobs,
		prepare: func(ctx context.Context) (*trial, error) {
			db, err := b.freshDatabase(ctx)
			if err != nil {
				return nil, err
			}
			bucket, err := b.freshBucket(ctx)
			if err != nil {
				return nil, err
			}
			work, err := b.scratch("mx-migrate")
			if err != nil {
				return nil, err
			}
			st, report := b.mxStep("mxmigrate migrate", work, "migrate", b.backup, "--db", b.pg.URL(db), "--files", "s3://"+bucket, "--jobs", restoreJobs)
			both := func(ctx context.Context) error { return errors.Join(b.rowsCheck(db)(ctx), b.objectsCheck(bucket)(ctx)) }
			return &trial{steps: []step{st}, report: report, check: both,
				cleanup: func(ctx context.Context, ok bool) {
					os.RemoveAll(work)
					if ok {
						// Verified next, then dropped.
						b.migrated = &migratedTargets{db: db, bucket: bucket}
						return
					}
					b.dropDB(ctx, db)
					b.dropBucket(ctx, bucket)
				}}, nil
		},
	})
	g.contenders = append(g.contenders, contender{
		name:    "manual: tar -xzf + pg_restore -j 2 + flatten + rclone copy",
		command: "tar -xzf BACKUP && pg_restore -j " + restoreJobs + " --no-owner --no-privileges -d postgres://…/EMPTY db/db.backup && find tree -type f -exec mv -t flat {} + && rclone copy --transfers 16 flat minio:EMPTY-BUCKET",
		prepare: func(ctx context.Context) (*trial, error) {
			db, err := b.freshDatabase(ctx)
			if err != nil {
				return nil, err
			}
			bucket, err := b.freshBucket(ctx)
			if err != nil {
				return nil, err
			}
			dir, err := b.scratch("manual")
			if err != nil {
				return nil, err
			}
			both := func(ctx context.Context) error { return errors.Join(b.rowsCheck(db)(ctx), b.objectsCheck(bucket)(ctx)) }
			return &trial{
				steps: []step{b.tarStep(dir), b.restoreStep(db, filepath.Join(dir, "db", "db.backup")), flattenStep(dir), b.rcloneStep(dir, bucket)},
				check: both,
				cleanup: func(ctx context.Context, ok bool) {
					b.dropDB(ctx, db)
					b.dropBucket(ctx, bucket)
					os.RemoveAll(dir)
				},
			}, nil
		},
	})
	return g
}

// verifyGroup checks what this run's `mxmigrate migrate` left behind, so
// it must follow the migrate group.
func (b *bench) verifyGroup() groupSpec {
	g := groupSpec{name: "verify", title: "Verification (`mxmigrate verify --checksums`)"}
	g.contenders = append(g.contenders, contender{
		name: "mxmigrate verify --checksums", mxmigrate: true,
		command: "mxmigrate verify BACKUP --db postgres://…/MIGRATED --files s3://MIGRATED-BUCKET --checksums",
		prepare: func(ctx context.Context) (*trial, error) {
			targets := b.migrated
			b.migrated = nil
			if targets == nil {
				return nil, errors.New("nothing to verify: `mxmigrate migrate` failed in this run")
			}
			work, err := b.scratch("mx-verify")
			if err != nil {
				return nil, err
			}
			st, report := b.mxStep("mxmigrate verify", work, "verify", b.backup, "--db", b.pg.URL(targets.db), "--files", "s3://"+targets.bucket, "--checksums")
			return &trial{steps: []step{st}, report: report,
				cleanup: func(ctx context.Context, ok bool) {
					b.dropDB(ctx, targets.db)
					b.dropBucket(ctx, targets.bucket)
					os.RemoveAll(work)
				}}, nil
		},
	})
	return g
}

// mxStep runs mxmigrate with its scratch files and report in work, and
// the S3 endpoint and credentials in the environment.
func (b *bench) mxStep(name, work string, args ...string) (step, string) {
	report := filepath.Join(work, "report.json")
	argv := append([]string{b.mx}, args...)
	argv = append(argv, "--work-dir", work, "--progress", "none", "--report", report)
	env := append(b.s3Env(), b.profileEnv...)
	return step{name: name, argv: argv, env: env}, report
}

func (b *bench) s3Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + b.minio.endpoint,
		"AWS_ACCESS_KEY_ID=" + b.minio.accessKey,
		"AWS_SECRET_ACCESS_KEY=" + b.minio.secretKey,
		"AWS_REGION=" + region,
		// Never ask an instance metadata service: only loopback here.
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// tarStep extracts members (all when none) of the backup into dir.
func (b *bench) tarStep(dir string, members ...string) step {
	name := "tar -xzf"
	if len(members) > 0 {
		name += " " + strings.Join(members, " ")
	}
	return step{name: name, argv: append([]string{b.tools.tar, "-xzf", b.backup, "-C", dir}, members...)}
}

func (b *bench) restoreStep(db, dump string) step {
	return step{name: "pg_restore -j " + restoreJobs, argv: []string{filepath.Join(b.tools.pgBin, "pg_restore"),
		"-j", restoreJobs, "--no-owner", "--no-privileges", "-d", b.pg.URL(db), dump}}
}

// flattenStep moves every tree/xx/yy/<uuid> into one folder, as an
// operator's one-liner does; the batched form (-exec ... {} +), not one mv
// per file, so as not to slow the baseline down.
func flattenStep(dir string) step {
	return step{name: "flatten", argv: []string{"sh", "-c", `mkdir -p "$1/flat" && find "$1/tree" -type f -exec mv -t "$1/flat" {} +`, "flatten", dir}}
}

// rcloneStep uploads the flattened folder with a remote configured by
// environment variables only (no config file is read or written).
func (b *bench) rcloneStep(dir, bucket string) step {
	return step{
		name: "rclone copy --transfers 16",
		argv: []string{b.tools.rclone, "copy", "--transfers", "16", filepath.Join(dir, "flat"), "minio:" + bucket},
		env: []string{
			"RCLONE_CONFIG=" + filepath.Join(dir, "rclone.conf"),
			"RCLONE_CONFIG_MINIO_TYPE=s3",
			"RCLONE_CONFIG_MINIO_PROVIDER=Minio",
			"RCLONE_CONFIG_MINIO_ENDPOINT=" + b.minio.endpoint,
			"RCLONE_CONFIG_MINIO_ACCESS_KEY_ID=" + b.minio.accessKey,
			"RCLONE_CONFIG_MINIO_SECRET_ACCESS_KEY=" + b.minio.secretKey,
			"RCLONE_CONFIG_MINIO_REGION=" + region,
			"RCLONE_CONFIG_MINIO_ENV_AUTH=false",
		},
	}
}

func (b *bench) pgloaderURL(db string) string {
	return fmt.Sprintf("pgsql://%s@127.0.0.1:%s/%s", "mxmigrate", strconv.Itoa(b.pg.Port()), db)
}

func (b *bench) freshDatabase(ctx context.Context) (string, error) {
	name := strings.ReplaceAll(b.uniqueName("db"), "-", "_")
	return name, b.pg.CreateDatabase(ctx, name)
}

func (b *bench) freshBucket(ctx context.Context) (string, error) {
	name := b.uniqueName("files")
	return name, b.minio.createBucket(ctx, name)
}

func (b *bench) dropDB(ctx context.Context, db string) {
	if err := dropDatabase(ctx, b.pg, db); err != nil {
		b.log.Warn("could not drop a benchmark database", "db", db, "err", err)
	}
}

func (b *bench) dropBucket(ctx context.Context, bucket string) {
	if err := b.minio.removeBucket(ctx, bucket); err != nil {
		b.log.Warn("could not remove a benchmark bucket", "bucket", bucket, "err", err)
	}
}

// rowsCheck confirms that db holds as many rows as the backup.
func (b *bench) rowsCheck(db string) func(context.Context) error {
	return func(ctx context.Context) error {
		n, err := rowCount(ctx, b.pg, db)
		if err != nil {
			return err
		}
		if n != b.dataset.Rows {
			return fmt.Errorf("database %s holds %d rows, the backup %d", db, n, b.dataset.Rows)
		}
		return nil
	}
}

// objectsCheck confirms that bucket holds one object per blob.
func (b *bench) objectsCheck(bucket string) func(context.Context) error {
	return func(ctx context.Context) error {
		n, err := b.minio.objectCount(ctx, bucket)
		if err != nil {
			return err
		}
		if n != b.dataset.Blobs {
			return fmt.Errorf("bucket %s holds %d objects, the backup %d blobs", bucket, n, b.dataset.Blobs)
		}
		return nil
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// changedEvery sets the share of files that changed between the pre-seed
// and the window: one object in changedEvery differs in the pre-seeded
// bucket, half of them missing (files added since: uploaded) and half
// holding other bytes (files changed since: replaced, with --overwrite).
const changedEvery = 100

// preseedGroup measures the two-phase cutover: the bucket pre-seeded
// (untimed) with the backup's files less 1%, then the in-window migrate,
// against `mxmigrate db` alone. It must not leave b.migrated: the verify
// group checks the migrate group's targets.
func (b *bench) preseedGroup() groupSpec {
	g := groupSpec{
		name:  "preseed",
		title: "In-window migrate after pre-seeding the files (1% of them added or changed since)",
		speed: []speedClaim{{baseline: "mxmigrate db --jobs 2", maxTimeRatio: 1.20,
			text: "`mxmigrate migrate` after `mxmigrate files` of an earlier backup (1% of the files changed since) within 1.20x of `mxmigrate db` alone"}},
	}
	g.contenders = append(g.contenders, contender{
		name: "mxmigrate migrate --jobs 2 (pre-seeded)", mxmigrate: true,
		command: "mxmigrate files BACKUP --files s3://BUCKET (untimed, then 1% of the objects deleted or overwritten); mxmigrate migrate BACKUP --db postgres://…/EMPTY --files s3://BUCKET --overwrite --jobs " + restoreJobs,
		prepare: func(ctx context.Context) (*trial, error) {
			db, err := b.freshDatabase(ctx)
			if err != nil {
				return nil, err
			}
			bucket, err := b.freshBucket(ctx)
			if err != nil {
				return nil, err
			}
			work, err := b.scratch("mx-preseed")
			if err != nil {
				return nil, err
			}
			cleanup := func(ctx context.Context, ok bool) {
				b.dropDB(ctx, db)
				b.dropBucket(ctx, bucket)
				os.RemoveAll(work)
			}
			if err := b.preseed(ctx, work, bucket); err != nil {
				cleanup(ctx, false)
				return nil, err
			}
			st, report := b.mxStep("mxmigrate migrate", work, "migrate", b.backup, "--db", b.pg.URL(db), "--files", "s3://"+bucket, "--overwrite", "--jobs", restoreJobs)
			both := func(ctx context.Context) error { return errors.Join(b.rowsCheck(db)(ctx), b.objectsCheck(bucket)(ctx)) }
			return &trial{steps: []step{st}, report: report, check: both, cleanup: cleanup}, nil
		},
	})
	g.contenders = append(g.contenders, b.dbGroup().contenders[0])
	return g
}

// preseed uploads the backup's files to bucket with mxmigrate files, then
// deletes or overwrites one object in changedEvery.
func (b *bench) preseed(ctx context.Context, work, bucket string) error {
	st, _ := b.mxStep("mxmigrate files", work, "files", b.backup, "--files", "s3://"+bucket)
	cmd := exec.CommandContext(ctx, st.argv[0], st.argv[1:]...)
	cmd.Dir = b.root
	cmd.Env = append(b.baseEnv(), st.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pre-seed: %v: %s", err, tailLines(string(out), 8))
	}
	deleted, changed, err := b.minio.changeEvery(ctx, bucket, changedEvery)
	if err != nil {
		return err
	}
	b.log.Info("pre-seeded", "bucket", bucket, "deleted_to_simulate_added", deleted, "overwritten_to_simulate_changed", changed)
	return nil
}

// changeEvery deletes or overwrites (alternately) one object in n of
// bucket.
func (m *minioServer) changeEvery(ctx context.Context, bucket string, n int) (deleted, changed int, err error) {
	var ids []types.ObjectIdentifier
	i := 0
	pages := s3.NewListObjectsV2Paginator(m.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("list bucket %s: %w", bucket, err)
		}
		for _, o := range page.Contents {
			switch {
			case i%n != 0:
			case (i/n)%2 == 0:
				ids = append(ids, types.ObjectIdentifier{Key: o.Key})
			default:
				body := "changed since the pre-seed: " + aws.ToString(o.Key)
				if _, err := m.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: o.Key, Body: strings.NewReader(body)}); err != nil {
					return 0, 0, fmt.Errorf("overwrite %s in bucket %s: %w", aws.ToString(o.Key), bucket, err)
				}
				changed++
			}
			i++
		}
	}
	for start := 0; start < len(ids); start += 1000 {
		batch := ids[start:min(start+1000, len(ids))]
		if _, err := m.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)}}); err != nil {
			return 0, 0, fmt.Errorf("delete from bucket %s: %w", bucket, err)
		}
	}
	return len(ids), changed, nil
}

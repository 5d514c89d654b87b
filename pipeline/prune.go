package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/report"
	"github.com/mxmigrate/mxmigrate/snapshot"
	"github.com/mxmigrate/mxmigrate/verify"
)

// errPruneNeedsRows refuses --prune where the file documents are not at
// hand: only migrate loads them, and without them prune could delete the
// best copy left of a file whose blob the backup lacks.
var errPruneNeedsRows = exitcode.With(exitcode.BadInput, errors.New(
	"--prune needs the backup's file documents, which only migrate loads: use --prune with migrate FINAL-BACKUP"))

// fileDocumentKeys reads the UUIDs of every file-document row from the
// target, as sorted 64-bit hashes of the lower-case UUID: 8 bytes a row.
// Two UUIDs sharing a hash only make prune keep an object.
func fileDocumentKeys(ctx context.Context, db dbcopy.Target, ft verify.FileTable, seed maphash.Seed) ([]uint64, error) {
	var rows []uint64
	err := db.ScanTable(ctx, ft.Table, []string{ft.KeyColumn}, func(v []any) error {
		var id string
		switch x := v[0].(type) {
		case string:
			id = x
		case []byte:
			id = string(x)
		default:
			if x != nil {
				id = fmt.Sprint(x)
			}
		}
		if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
			rows = append(rows, maphash.String(seed, id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", ft.Table, db, err)
	}
	slices.Sort(rows)
	return rows, nil
}

// pruneUUID returns the UUID an object key names under the run's prefix
// and suffix, lower-cased, or "" when the key is not such an object.
func pruneUUID(key, prefix, suffix string) string {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return ""
	}
	if rest, ok = strings.CutSuffix(rest, suffix); !ok {
		return ""
	}
	if !snapshot.ValidUUID(rest) {
		return ""
	}
	return strings.ToLower(rest)
}

// prune deletes, after a verified migrate, the objects of the store that
// the backup holds neither as a blob nor as a file document: files deleted
// in the app since an earlier backup was pre-seeded. Never an object that
// is not UUID-named under the prefix, never one a row names.
func (f *filesStage) prune(ctx context.Context, db dbcopy.Target) (*report.PruneReport, error) {
	seed := maphash.MakeSeed()
	rows, err := fileDocumentKeys(ctx, db, f.cfg.FileTable, seed)
	if err != nil {
		return nil, err
	}
	rep := &report.PruneReport{}
	err = f.syncer.StoreOnly(ctx, func(o blobsync.ObjectInfo) error {
		id := pruneUUID(o.Key, f.cfg.Prefix, f.cfg.Suffix)
		_, inRows := slices.BinarySearch(rows, maphash.String(seed, id))
		_, inBackup := f.blobs[id] // blobs delivered and entries skipped alike
		if id == "" || inRows || inBackup {
			rep.Kept++
			return nil
		}
		if err := f.store.Delete(ctx, o.Key); err != nil {
			if ctx.Err() != nil {
				return err
			}
			if len(rep.Failures) < report.MaxPruneListed {
				rep.Failures = append(rep.Failures, o.Key+": "+err.Error())
			}
			return nil
		}
		rep.DeletedCount++
		if len(rep.Deleted) < report.MaxPruneListed {
			rep.Deleted = append(rep.Deleted, o.Key)
		}
		f.cfg.Log.Info("pruned", "key", o.Key, "size", o.Size)
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("prune %s: %w", f.store, err)
	}
	if len(rep.Failures) > 0 {
		return rep, fmt.Errorf("prune %s: %d objects not deleted; first: %s", f.store, len(rep.Failures), rep.Failures[0])
	}
	return rep, nil
}

package verify

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// FileTable says where a Mendix app keeps its file metadata. The defaults
// are Mendix's own; apps with customised storage can override them.
type FileTable struct {
	Table             string
	KeyColumn         string // the object's key: the document's UUID
	SizeColumn        string
	HasContentsColumn string
	KindColumn        string // submetaobjectname
	// Prefix and Suffix wrap the key in the store, as the runtime's
	// resource-name prefix does.
	Prefix, Suffix string
}

// DefaultFileTable is Mendix's system$filedocument.
var DefaultFileTable = FileTable{
	Table:             "system$filedocument",
	KeyColumn:         "__uuid__",
	SizeColumn:        "size",
	HasContentsColumn: "hascontents",
	KindColumn:        "submetaobjectname",
}

// thumbnailKind marks image thumbnails, which are file documents of their
// own whose blobs must move too.
const thumbnailKind = "System.Thumbnail"

// FilesReport compares the file documents in the target database with the
// objects in the store.
type FilesReport struct {
	Expected int `json:"expected"`
	Matched  int `json:"matched"`
	// MissingInBackup: rows whose blob the backup itself does not hold:
	// no entry anywhere in it is named by the UUID (lost before the
	// migration; nothing to upload).
	MissingInBackup []string `json:"missingInBackup,omitempty"`
	// SkippedInBackup: rows whose UUID names an entry of the backup that
	// was not uploaded (a symbolic link, a device, an unsafe path: see the
	// backup's anomalies). Not "missing in the backup": a person must look.
	SkippedInBackup []string `json:"skippedInBackup,omitempty"`
	// SizeDiffers: blobs whose size in the backup is not the size their
	// file document records (an anomaly of the backup, e.g. a sparse or
	// damaged entry; the object holds the backup's bytes).
	SizeDiffers []string `json:"sizeDiffers,omitempty"`
	// Lost: rows whose blob is in the backup but not in the store.
	Lost []string `json:"lost,omitempty"`
	// Missing: rows whose blob is in neither, when the backup's blob list
	// is unknown.
	Missing   []string `json:"missing,omitempty"`
	WrongSize []string `json:"wrongSize,omitempty"`
	// Orphans: objects no row refers to (not an error: Mendix leaves them
	// behind after deletes, but worth knowing).
	Orphans      []string `json:"orphans,omitempty"`
	OrphanCount  int      `json:"orphanCount"`
	BackupBlobs  int      `json:"backupBlobs,omitempty"`
	StoreObjects int      `json:"storeObjects"`
}

// OK reports whether every document with contents has its object.
func (f *FilesReport) OK() bool {
	return len(f.Lost) == 0 && len(f.Missing) == 0 && len(f.WrongSize) == 0 && len(f.SkippedInBackup) == 0
}

// Problems lists each difference as a line for people.
func (f *FilesReport) Problems() []string {
	var out []string
	out = append(out, ListSome("lost on the way (in the backup, not in the store)", f.Lost)...)
	out = append(out, ListSome("missing in the store", f.Missing)...)
	out = append(out, ListSome("wrong size", f.WrongSize)...)
	out = append(out, ListSome("in the backup only as an entry that was not uploaded (see the backup anomalies)", f.SkippedInBackup)...)
	out = append(out, ListSome("size in the backup differs from the file document's size (backup anomaly)", f.SizeDiffers)...)
	out = append(out, ListSome("already missing in the backup (not a migration error; the app will show these files as broken)", f.MissingInBackup)...)
	if f.OrphanCount > 0 {
		out = append(out, ListSome("objects with no file document (orphans)", f.Orphans)...)
	}
	return out
}

// SkippedBlob is the size CompareFiles's backupBlobs gives a UUID that
// names an entry of the backup that was not uploaded.
const SkippedBlob = -1

// maxOrphansKept bounds the orphan list kept in memory and the report.
const maxOrphansKept = 1000

// CompareFiles reads the file documents from the target database and the
// object listing of the store. backupBlobs maps each blob UUID the backup
// holds to its size, in lower case; nil when unknown (then a missing object
// cannot be told apart from one missing at the source). A size of
// SkippedBlob marks a UUID that names an entry the backup holds but that
// was not uploaded.
func CompareFiles(ctx context.Context, db dbcopy.Target, store blobsync.Store, ft FileTable, backupBlobs map[string]int64) (*FilesReport, error) {
	objects, err := blobsync.ListToDisk(ctx, store, "")
	if err != nil {
		return nil, err
	}
	defer objects.Close()
	return CompareListedFiles(ctx, db, objects, ft, backupBlobs)
}

// CompareListedFiles is CompareFiles against a listing of the store taken
// beforehand (after the upload), kept on disk so that memory stays flat
// however many objects the store holds. It marks the objects it looks up.
func CompareListedFiles(ctx context.Context, db dbcopy.Target, objects *blobsync.Listing, ft FileTable, backupBlobs map[string]int64) (*FilesReport, error) {
	r := &FilesReport{StoreObjects: objects.Len(), BackupBlobs: len(backupBlobs)}
	cols := []string{ft.KeyColumn, ft.SizeColumn, ft.HasContentsColumn, ft.KindColumn}
	err := db.ScanTable(ctx, ft.Table, cols, func(v []any) error {
		uuid := asString(v[0])
		if uuid == "" {
			return nil
		}
		key := ft.Prefix + uuid + ft.Suffix
		object, stored, err := objects.Mark(key)
		if err != nil {
			return err
		}
		got := object.Size
		if !asBool(v[2]) && asString(v[3]) != thumbnailKind {
			return nil
		}
		r.Expected++
		size, sizeKnown := asInt(v[1])
		backupSize, inBackup := backupBlobs[strings.ToLower(uuid)]
		skipped := inBackup && backupSize == SkippedBlob
		if inBackup && !skipped && sizeKnown && size >= 0 && backupSize != size {
			r.SizeDiffers = append(r.SizeDiffers, fmt.Sprintf("%s (%d bytes in the backup, %d recorded)", uuid, backupSize, size))
		}
		switch {
		case !stored && backupBlobs != nil && !inBackup:
			r.MissingInBackup = append(r.MissingInBackup, uuid)
		case !stored && skipped:
			r.SkippedInBackup = append(r.SkippedInBackup, uuid)
		case !stored && backupBlobs != nil:
			r.Lost = append(r.Lost, uuid)
		case !stored:
			r.Missing = append(r.Missing, uuid)
		case inBackup && !skipped && got != backupSize:
			r.WrongSize = append(r.WrongSize, fmt.Sprintf("%s (%d bytes stored, %d in the backup)", uuid, got, backupSize))
		case (!inBackup || skipped) && sizeKnown && size >= 0 && got != size:
			// Without the backup's own size, the row's size column is the
			// reference. Mendix writes it when the contents are stored.
			r.WrongSize = append(r.WrongSize, fmt.Sprintf("%s (%d bytes stored, %d recorded)", uuid, got, size))
		default:
			r.Matched++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", ft.Table, db, err)
	}
	err = objects.Unmarked(ctx, func(o blobsync.ObjectInfo) error {
		r.OrphanCount++
		if len(r.Orphans) < maxOrphansKept {
			r.Orphans = append(r.Orphans, o.Key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case []byte:
		return strings.TrimSpace(string(x))
	default:
		return fmt.Sprint(x)
	}
}

func asBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	case string:
		b, _ := strconv.ParseBool(x)
		return b
	}
	return false
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int:
		return int64(x), true
	case float64:
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// Package runbook turns a migration Plan (the facts `mxmigrate plan`
// gathered about a backup and its targets) into the documents an operator
// follows on the day: a Markdown runbook, the Mendix runtime settings the
// app needs afterwards, and Kubernetes manifests plus a cutover script.
//
// Everything here is a pure function of plain data: no network, no clock,
// so the same Plan always renders the same bytes (golden-tested). Nothing
// secret is ever printed: credentials are named only as environment
// variables, and every URL is redacted again here even though the caller
// promises to redact it first.
package runbook

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/redact"
)

// Kinds of target, as the URL scheme names them.
const (
	DatabasePostgres  = "postgres"
	DatabaseSQLServer = "sqlserver"

	FilesS3    = "s3"
	FilesAzure = "azblob"
	FilesLocal = "file"
)

// Kinds of backup.
const (
	BackupFullSnapshot = "full-snapshot" // .tar.gz with db/db.backup and tree/
	BackupDatabaseOnly = "database-only" // a bare .backup dump, no files
)

// Default environment variables that hold the real target URLs.
var (
	DefaultDatabaseEnv = cliflag.EnvName(cliflag.DB)
	DefaultFilesEnv    = cliflag.EnvName(cliflag.Files)
)

// Plan is everything the documents are made from. The plan command fills
// it in; nothing in it may be a secret.
type Plan struct {
	ToolVersion string
	Backup      BackupFacts
	Database    TargetFacts
	Files       TargetFacts // empty Kind: the backup has no files to move
	Checks      []Check
	Estimate    Estimate
	// TargetModelVersion is the model version of the app that will run on
	// the target (from --model-version); empty when not given.
	TargetModelVersion string
	Options            Options
	// Store is what the file store holds already, from plan's listing of
	// it against the backup; Listed false when it was not listed.
	Store StoreFacts
}

// StoreFacts is what plan found in the file store against the backup: the
// base of a pre-seeded (two-phase) cutover.
type StoreFacts struct {
	Listed       bool
	Objects      int   // objects under the prefix
	Present      int   // the backup's files already stored, with their size
	PresentBytes int64 // their bytes
	NotInBackup  int   // objects the backup does not hold as a blob
	// PruneCandidates: of those, the UUID-named ones under the prefix;
	// migrate --prune deletes the ones no file document names. PruneKeys
	// lists the first of them.
	PruneCandidates int
	PruneKeys       []string
}

// BackupFacts describes the source backup as read from its archive.
type BackupFacts struct {
	Name         string    // base name of the backup file, never a full path
	Kind         string    // BackupFullSnapshot or BackupDatabaseOnly
	ModelVersion string    // from .metadata; empty for a database-only backup
	SnapshotTime time.Time // from the dump header; zero when unknown
	DumpSize     int64     // bytes of db/db.backup
	DatabaseSize int64     // the source database's size, from .metadata; 0 if unknown
	Tables       []TableFacts
	Sequences    int
	Indexes      int
	Files        int64 // blobs under tree/
	FilesBytes   int64
	Anomalies    int // file rows without blobs, blobs without rows, ...
}

// TableFacts is one table of the dump and its row count.
type TableFacts struct {
	Name string
	Rows int64
}

// TargetFacts describes one target without its credentials.
type TargetFacts struct {
	Kind   string // DatabasePostgres, DatabaseSQLServer, FilesS3, FilesAzure or FilesLocal
	URL    string // redacted by the caller (and again here)
	EnvVar string // the environment variable that holds the real URL
	// Identity says how the target signs in, for the reader: the login,
	// role or cloud identity; never a secret. Empty when not known.
	Identity string
	// IdentityKind is one of the Identity* kinds when the target signs in
	// without a password or key; empty when it uses secrets.
	IdentityKind string
	// IdentityID is the Azure client id of a workload identity or the ARN
	// of an AWS role, when known; no secret.
	IdentityID string
}

// Check is the outcome of one preflight check.
type Check struct {
	Name   string
	OK     bool // false: the check failed and migrate will refuse
	Warn   bool // passed, but the operator should read Detail
	Detail string
}

// Estimate is how long the migration should take on this machine.
type Estimate struct {
	Database time.Duration
	Files    time.Duration
	Verify   time.Duration
	Basis    string // e.g. "measured on this machine: 180 MB/s"
	// FilesLeft is the files' time for what the store lacks (plan's
	// listing): the files' share of the window after pre-seeding.
	// Meaningful only when Plan.Store.Listed.
	FilesLeft time.Duration
}

// Window is the expected cutover window when the store already holds what
// it holds (a pre-seeded store): the files not there yet move beside the
// database.
func (e Estimate) Window() time.Duration {
	return max(e.Database, e.FilesLeft) + e.Verify
}

// Total is the expected wall time: the database and the files move at the
// same time (one pass over the tar stream), verification comes after.
func (e Estimate) Total() time.Duration {
	return max(e.Database, e.Files) + e.Verify
}

// Options are the migration options as the operator gave them to plan.
type Options struct {
	BackupPath string // as given on the command line (may be relative)
	Jobs       int    // parallel restore/copy jobs (--jobs)
	Transfers  int    // parallel blob uploads (--transfers)
	// Prefix and Suffix are the runtime's resource-name prefix and suffix
	// around each object key (--prefix, --suffix).
	Prefix string
	Suffix string
	// Window is the planned migration window; zero when not given.
	Window time.Duration
	// WorkDir is where mxmigrate extracts the dump; empty for its default.
	WorkDir string

	// The other database and store options plan was given; the commands
	// carry each of them (a zero value is mxmigrate's default).
	Schema      string
	TypeMapFile string
	// Loader is the PostgreSQL loader (--loader), "" for the default.
	Loader         string
	IfExists       dbcopy.IfExists
	AllowConnected bool
	WaitLock       time.Duration
	Checksums      bool
	MemoryBudget   int64
	Overwrite      bool
	Create         bool
	Prune          bool // migrate --prune
	// The store's limits; zero is mxmigrate's default.
	MaxBlobSize      int64
	StoreGiveUp      time.Duration
	StoreMaxFailures int
}

var envVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// normalize fills defaults and rejects a plan the documents cannot describe
// correctly. Environment variable names are checked strictly because they
// are pasted into shell commands and Kubernetes $(VAR) references.
func normalize(p Plan) (Plan, error) {
	if p.Database.EnvVar == "" {
		p.Database.EnvVar = DefaultDatabaseEnv
	}
	if p.Files.EnvVar == "" {
		p.Files.EnvVar = DefaultFilesEnv
	}
	if p.Backup.Kind == "" {
		p.Backup.Kind = BackupFullSnapshot
	}
	switch p.Database.Kind {
	case DatabasePostgres, DatabaseSQLServer:
	default:
		return p, fmt.Errorf("runbook: unknown database kind %q (want %q or %q)", p.Database.Kind, DatabasePostgres, DatabaseSQLServer)
	}
	switch p.Files.Kind {
	case FilesS3, FilesAzure, FilesLocal:
	case "":
		if p.Backup.Files > 0 {
			return p, fmt.Errorf("runbook: the backup has %d files but no files target is set", p.Backup.Files)
		}
	default:
		return p, fmt.Errorf("runbook: unknown files kind %q (want %q, %q or %q)", p.Files.Kind, FilesS3, FilesAzure, FilesLocal)
	}
	for _, name := range []string{p.Database.EnvVar, p.Files.EnvVar} {
		if !envVarName.MatchString(name) {
			return p, fmt.Errorf("runbook: %q is not a valid environment variable name", name)
		}
	}
	if p.Backup.Name == "" {
		return p, fmt.Errorf("runbook: the backup has no name")
	}
	// Only the base name: a full path would tell the reader about the
	// machine that ran plan, and the Job finds the file by this name.
	p.Backup.Name = path.Base(strings.ReplaceAll(p.Backup.Name, `\`, "/"))
	return p, nil
}

// hasFiles reports whether the plan moves files at all.
func (p Plan) hasFiles() bool { return p.Files.Kind != "" }

// backupArg is the backup as it appears in the commands. A backup given as
// a URL may carry a signature (a pre-signed download link): it is redacted
// like any other URL.
func (p Plan) backupArg() string {
	if p.Options.BackupPath != "" {
		return redact.Text(p.Options.BackupPath)
	}
	return p.Backup.Name
}

// failedChecks lists the checks that will make migrate refuse.
func (p Plan) failedChecks() []Check {
	var failed []Check
	for _, c := range p.Checks {
		if !c.OK {
			failed = append(failed, c)
		}
	}
	return failed
}

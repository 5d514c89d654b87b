// Package cliflag is the one spelling of mxmigrate's command-line contract:
// the flag names, their defaults, and the environment variables that stand
// in for them. The commands register their flags with these names and the
// runbook writes commands with them, so the two cannot drift apart.
package cliflag

import "strings"

// EnvPrefix starts the environment variable of every flag: --wait-lock is
// MXMIGRATE_WAIT_LOCK. The namespace is for flags only: test and tool
// settings use other prefixes (MXTEST_).
const EnvPrefix = "MXMIGRATE_"

// EnvName is the environment variable mxmigrate reads for a flag it was
// not given.
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Flag names.
const (
	WorkDir = "work-dir"
	// PGBin is the folder of the PostgreSQL tools (pg_restore; initdb,
	// pg_ctl and postgres for --db local); its variable MXMIGRATE_PG_BIN
	// is what those lookups read (see pgserver.BinDirEnv).
	PGBin = "pg-bin"

	DB             = "db"
	Jobs           = "jobs"
	Loader         = "loader"
	IfExists       = "if-exists"
	WaitLock       = "wait-lock"
	AllowConnected = "allow-connected"
	Schema         = "schema"
	TypeMap        = "type-map"
	Checksums      = "checksums"

	Files        = "files"
	Prefix       = "prefix"
	Suffix       = "suffix"
	Transfers    = "transfers"
	Overwrite    = "overwrite"
	Create       = "create"
	MemoryBudget = "memory-budget"
	Prune        = "prune"

	MaxBlobSize      = "max-blob-size"
	StoreGiveUp      = "store-give-up"
	StoreMaxFailures = "store-max-failures"

	Report       = "report"
	ModelVersion = "model-version"
	Window       = "window"
)

// Defaults.
const (
	DefaultWorkDir      = ".mxmigrate"
	DefaultJobs         = 2
	DefaultTransfers    = 16
	DefaultMemoryBudget = 64 << 20 // bytes of blobs held in memory at once
	DefaultLoader       = "native"
)

// ReportToStdout is the --report value that writes the JSON report to
// stdout (the text summary then goes to stderr).
const ReportToStdout = "-"

// Package verify proves a migration: it compares what the target database
// and file store hold against the backup itself (row counts read from the
// dump's own data, the blobs of tree/). Its results are part of the run's
// report (package report).
package verify

package main

import (
	"github.com/spf13/pflag"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/units"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// The flag groups bind straight into a pipeline.Config: commands share them
// so that db, files, migrate, verify and plan spell every option alike.

func addDBFlags(fs *pflag.FlagSet, c *pipeline.Config) {
	fs.StringVar(&c.DB, cliflag.DB, "", "target database: postgres://USER@HOST:PORT/DB, sqlserver://USER@HOST:PORT?database=DB, or 'local' (a throwaway PostgreSQL under --work-dir)")
	fs.IntVar(&c.Jobs, cliflag.Jobs, cliflag.DefaultJobs, "tables loaded in parallel")
	fs.StringVar(&c.Loader, cliflag.Loader, cliflag.DefaultLoader, "PostgreSQL targets: native (no client tools needed), or pg_restore (the local pg_restore)")
	fs.Var(&c.IfExists, cliflag.IfExists, "when the target schema is not empty: fail, or drop its tables, sequences and views first")
	fs.DurationVar(&c.WaitLock, cliflag.WaitLock, 0, "how long to wait when another migration holds the target's lock (0: fail at once)")
	fs.BoolVar(&c.AllowConnected, cliflag.AllowConnected, false, "load even though other sessions are connected to the target database")
	fs.StringVar(&c.Schema, cliflag.Schema, "", "target schema (default: public for PostgreSQL, dbo for SQL Server)")
	fs.StringVar(&c.TypeMapFile, cliflag.TypeMap, "", "SQL Server targets: a JSON file of type rules overriding the defaults")
	fs.BoolVar(&c.Checksums, cliflag.Checksums, false, "verify every row's content at the end, not only counts (advised for SQL Server targets)")
}

func addFilesFlags(fs *pflag.FlagSet, c *pipeline.Config) {
	fs.StringVar(&c.Files, cliflag.Files, "", "target file store: s3://BUCKET[/PREFIX], azblob://CONTAINER[/PREFIX], https://ACCOUNT.blob.core.windows.net/CONTAINER, or file:///PATH")
	addNamingFlags(fs, c)
	fs.IntVar(&c.Transfers, cliflag.Transfers, cliflag.DefaultTransfers, "uploads in flight")
	fs.BoolVar(&c.Overwrite, cliflag.Overwrite, false, "replace objects that exist with different content")
	fs.BoolVar(&c.Create, cliflag.Create, false, "create the bucket, container or folder when it does not exist (plan only says it would)")
	c.MemoryBudget = cliflag.DefaultMemoryBudget
	c.MaxBlobSize = pipeline.DefaultMaxBlobSize
	fs.Var((*units.Size)(&c.MemoryBudget), cliflag.MemoryBudget, "blobs held in memory at once, e.g. 256MiB; larger blobs spool to --work-dir")
	fs.Var((*units.Size)(&c.MaxBlobSize), cliflag.MaxBlobSize, "refuse (exit 2) a blob entry larger than this, e.g. 4GiB: a damaged or forged backup")
	fs.DurationVar(&c.StoreGiveUp, cliflag.StoreGiveUp, blobsync.DefaultGiveUpAfter, "stop the run (exit 1) when the store has not answered for this long; a rerun resumes")
	fs.IntVar(&c.StoreMaxFailures, cliflag.StoreMaxFailures, blobsync.DefaultMaxFailedInARow, "stop the run (exit 1) after this many store calls failed in a row")
}

// addPruneFlag is migrate's (and plan's): only migrate has the file
// documents that prune must respect.
func addPruneFlag(fs *pflag.FlagSet, c *pipeline.Config) {
	fs.BoolVar(&c.Prune, cliflag.Prune, false, "after a verified run, delete the UUID-named objects under the prefix that the backup holds neither as a blob nor as a file document (files deleted in the app since a pre-seed; plan lists the candidates)")
}

// addNamingFlags are the object-key options verify needs too.
func addNamingFlags(fs *pflag.FlagSet, c *pipeline.Config) {
	fs.StringVar(&c.Prefix, cliflag.Prefix, "", "object key prefix, as the runtime's com.mendix.storage.s3.ResourceNamePrefix")
	fs.StringVar(&c.Suffix, cliflag.Suffix, "", "object key suffix")
}

package pgserver

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
)

// StopClustersUnder stops every PostgreSQL server whose data folder lies
// under dir, found by the postmaster.pid file each server keeps in its data
// folder: the pid file of a server a run started inside its run folder (a
// staging cluster). A run killed with SIGKILL leaves such a server running;
// the next run calls this before it removes the dead run's folder, so that
// no server is left running on deleted files. Servers are stopped in
// immediate mode: their data is throwaway. It returns the data folders of
// the servers it stopped.
func StopClustersUnder(ctx context.Context, dir string, log *slog.Logger) ([]string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var dataDirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable corner holds no server we could stop
		}
		if !d.IsDir() && d.Name() == "postmaster.pid" {
			dataDirs = append(dataDirs, filepath.Dir(path))
		}
		return nil
	})
	if err != nil || len(dataDirs) == 0 {
		return nil, err
	}
	binDir, _, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	runAs, err := unprivilegedAccount()
	if err != nil {
		return nil, err
	}
	var stopped []string
	var errs []error
	for _, data := range dataDirs {
		c := &Cluster{dir: filepath.Dir(data), binDir: binDir, runAs: runAs, log: log}
		if _, err := c.run(ctx, "pg_ctl", "status", "-D", data); err != nil {
			continue // a stale pid file: no server runs there
		}
		log.Warn("stopping a PostgreSQL server left running by an interrupted run", "data", data)
		if _, err := c.run(ctx, "pg_ctl", "stop", "-D", data, "-m", "immediate", "-w", "-t", "60"); err != nil {
			errs = append(errs, err)
			continue
		}
		stopped = append(stopped, data)
	}
	return stopped, errors.Join(errs...)
}

package pgserver

import "os/exec"

// account is the user the cluster runs as. On Windows pg_ctl itself drops
// administrator rights (it starts the server with a restricted token), so
// the cluster always runs as the current user: nil.
type account struct{}

func unprivilegedAccount() (*account, error) { return nil, nil }

func (a *account) apply(cmd *exec.Cmd) {}

func (a *account) own(dir string) error { return nil }

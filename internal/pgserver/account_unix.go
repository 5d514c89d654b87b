//go:build unix

package pgserver

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is the unprivileged user the cluster runs as. PostgreSQL refuses
// to run as root, and containers and CI often run as root: there the
// cluster runs as "postgres" (or "nobody") and its folder is handed over.
// nil means "the current user".
type account struct {
	uid, gid uint32
	name     string
}

func unprivilegedAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return &account{uid: uint32(uid), gid: uint32(gid), name: name}, nil
	}
	return nil, fmt.Errorf("running as root, and no unprivileged user (postgres or nobody) to run PostgreSQL as: run mxmigrate as a normal user")
}

func (a *account) apply(cmd *exec.Cmd) {
	if a == nil {
		return
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: a.uid, Gid: a.gid}}
}

// own hands dir to the account and makes sure it can reach
// dir through its parents: a root-owned 0700 parent (a test's temp folder)
// gets the traverse bit for others, nothing more.
func (a *account) own(dir string) error {
	if a == nil {
		return nil
	}
	// initdb creates everything below dir as the account itself.
	if err := os.Lchown(dir, int(a.uid), int(a.gid)); err != nil {
		return fmt.Errorf("hand %s to user %s: %w", dir, a.name, err)
	}
	for p := filepath.Dir(dir); p != filepath.Dir(p); p = filepath.Dir(p) {
		info, err := os.Stat(p)
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, info.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("let user %s reach %s: %w", a.name, dir, err)
			}
		}
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"
)

// profiledGroups are the phases of a migration that can be profiled on
// their own; "auto" picks the slowest of db, files and verify.
var profiledGroups = []string{"db", "files", "migrate", "verify"}

// chooseProfile resolves PROFILE: "", "0" or "no" for none; "1", "yes" or
// "auto" for the mxmigrate phase with the largest median wall time among
// db, files and verify; or a group's name.
func chooseProfile(want string, groups []GroupResult) (name, why string) {
	switch want {
	case "", "0", "no", "false":
		return "", ""
	case "1", "yes", "true", "auto":
		var slowest float64
		for _, g := range groups {
			if g.Name == "migrate" || len(g.Contenders) == 0 {
				continue // migrate is db, files and verify at once
			}
			if w := g.Contenders[0].Median.WallSeconds; w > slowest {
				slowest, name = w, g.Name
			}
		}
		return name, fmt.Sprintf("The slowest mxmigrate phase of this run (median wall %.1f s among db, files and verify).", slowest)
	}
	return want, "Chosen with PROFILE=" + want + "."
}

// profile runs the chosen mxmigrate command once more, untimed, with
// MXTEST_CPUPROFILE and MXTEST_MEMPROFILE set, and keeps pprof's top
// functions.
func (b *bench) profile(ctx context.Context, specs []groupSpec, name, why, resultsDir, stamp string) *ProfileResult {
	var spec *groupSpec
	for i := range specs {
		if specs[i].name == name {
			spec = &specs[i]
		}
	}
	base := filepath.Join(resultsDir, stamp+"-"+name)
	res := &ProfileResult{Command: "mxmigrate " + name, Why: why, CPUProfile: base + "-cpu.prof", MemProfile: base + "-mem.prof"}
	// The results name them from the module root, where pprof is run.
	defer func() {
		res.CPUProfile, res.MemProfile = b.relative(res.CPUProfile), b.relative(res.MemProfile)
	}()
	if spec == nil {
		res.Error = fmt.Sprintf("no %q phase in this run (have %v)", name, profiledGroups)
		return res
	}
	if name == "verify" {
		// verify needs a migrated target: migrate first, unprofiled.
		for _, g := range specs {
			if g.name == "migrate" {
				if s := b.runTrial(ctx, g.contenders[0], -1, 1); !s.OK {
					res.Error = "the migration to verify failed: " + s.Error
					return res
				}
			}
		}
	}
	b.log.Info("profiling", "command", res.Command, "cpu", res.CPUProfile, "mem", res.MemProfile)
	b.profileEnv = []string{"MXTEST_CPUPROFILE=" + res.CPUProfile, "MXTEST_MEMPROFILE=" + res.MemProfile}
	s := b.runTrial(ctx, spec.contenders[0], -1, 1)
	b.profileEnv = nil
	if !s.OK {
		res.Error = s.Error
		return res
	}
	res.CPUTop = b.pprofTop(ctx, res.CPUProfile)
	res.MemTop = b.pprofTop(ctx, res.MemProfile, "-sample_index=alloc_space")
	if res.CPUTop == "" {
		res.Error = "mxmigrate wrote no profile: does this build read MXTEST_CPUPROFILE and MXTEST_MEMPROFILE?"
	}
	return res
}

func (b *bench) pprofTop(ctx context.Context, profile string, extra ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	args := append([]string{"tool", "pprof", "-top", "-nodecount=20"}, extra...)
	out, err := exec.CommandContext(ctx, "go", append(args, b.mx, profile)...).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

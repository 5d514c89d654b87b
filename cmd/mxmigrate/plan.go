package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/pipeline"
	"github.com/mxmigrate/mxmigrate/runbook"
)

// planFlags are what plan and runbook share.
type planFlags struct {
	cfg          pipeline.Config
	modelVersion string
	window       time.Duration
}

func (p *planFlags) add(fs *pflag.FlagSet) {
	addDBFlags(fs, &p.cfg)
	addFilesFlags(fs, &p.cfg)
	addPruneFlag(fs, &p.cfg)
	fs.StringVar(&p.modelVersion, cliflag.ModelVersion, "", "the model version of the app that will run on the target, checked against the backup's")
	fs.DurationVar(&p.window, cliflag.Window, 0, "the planned migration window, e.g. 2h")
}

// plan runs the dry run the flags describe.
func (p *planFlags) plan(cmd *cobra.Command, g *globals, backup string) (plan runbook.Plan, err error) {
	err = g.run(p.cfg, backup, func(c pipeline.Config) error {
		plan, err = pipeline.Plan(cmd.Context(), c, p.modelVersion, p.window)
		return err
	})
	return plan, err
}

func newPlanCommand(g *globals) *cobra.Command {
	var pf planFlags
	cmd := &cobra.Command{
		Use:   "plan BACKUP --db URL [--files URL]",
		Short: "Dry run: run every preflight check and estimate the time, writing nothing",
		Long: `Reads the backup, connects to the targets and runs every check migrate would run
(reachable, permissions, empty, no other sessions, lock free, pg_restore version, collation
collisions for SQL Server, the store writable), then says what would move and how long it
should take on this machine. It starts nothing (--db local must be running already) and
creates no bucket, container or folder, even with --create: it says that migrate would. The one
thing it writes: ` + pipeline.ProbeDescription,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := pf.plan(cmd, g, args[0])
			if plan.Backup.Name != "" {
				pipeline.WritePlanText(os.Stdout, plan)
			}
			return err
		},
	}
	pf.add(cmd.Flags())
	return cmd
}

func newRunbookCommand(g *globals) *cobra.Command {
	var pf planFlags
	var out, k8sDir string
	var k8s runbook.K8sOptions
	cmd := &cobra.Command{
		Use:   "runbook BACKUP --db URL [--files URL] [-o runbook.md] [--k8s DIR]",
		Short: "Write the migration runbook (Markdown) and, with --k8s, Kubernetes cutover manifests",
		Long: `Runs the same checks as plan, then writes a runbook made from them: the pre-migration
checklist, the exact commands in order, smoke tests, the switch-over, what to do when it fails
or the window runs out, and the clean-up; plus the Mendix runtime settings the app needs on
the new environment. Passwords are never written: the runbook names environment variables.
With --k8s DIR it also writes the migration Job, the leader's Recreate strategy, an init
container that waits for the Job, and cutover.sh with the steps in order.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, planErr := pf.plan(cmd, g, args[0])
			if plan.Backup.Name == "" {
				return planErr // the backup itself could not be read
			}
			// A refused check still makes a runbook: it lists the failure
			// at the top, which is what the operator needs to see.
			doc, err := runbook.Markdown(plan)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = os.Stdout.Write(doc)
			} else {
				err = os.WriteFile(out, doc, 0o644)
			}
			if err != nil {
				return err
			}
			if k8sDir != "" {
				if k8s.AppName == "" {
					k8s.AppName = "mendix-app"
				}
				if path := plan.Options.TypeMapFile; path != "" {
					// The Job reads the type map from a ConfigMap made of
					// the file as it is now.
					if k8s.TypeMap, err = os.ReadFile(path); err != nil {
						return exitcode.With(exitcode.BadInput, fmt.Errorf("--%s: %w", cliflag.TypeMap, err))
					}
				}
				manifests, err := runbook.KubernetesManifests(plan, k8s)
				if err != nil {
					return err
				}
				if err := runbook.WriteManifests(k8sDir, manifests); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "wrote %d files to %s\n", len(manifests), filepath.Clean(k8sDir))
			}
			return planErr
		},
	}
	pf.add(cmd.Flags())
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "write the runbook to this file (default: stdout)")
	f.StringVar(&k8sDir, "k8s", "", "also write Kubernetes cutover manifests into this folder")
	f.StringVar(&k8s.AppName, "k8s-app", "", "the app's name on Kubernetes (names and labels derive from it)")
	f.StringVar(&k8s.Namespace, "k8s-namespace", "", "namespace (default: default)")
	f.StringVar(&k8s.Image, "k8s-image", "", "the mxmigrate image for the Job")
	f.StringVar(&k8s.SecretName, "k8s-secret", "", "the Secret holding MXMIGRATE_DB, MXMIGRATE_FILES and store credentials (default APP-mxmigrate)")
	f.StringVar(&k8s.BackupClaim, "k8s-backup-claim", "", "the PersistentVolumeClaim holding the backup (default APP-mxmigrate-backup)")
	f.StringVar(&k8s.FilesClaim, "k8s-files-claim", "", "the PersistentVolumeClaim mounted at a file:// target's folder")
	f.StringVar(&k8s.WorkClaim, "k8s-work-claim", "", "a PersistentVolumeClaim for the work folder (default: an emptyDir sized from the dump)")
	f.StringVar(&k8s.LeaderDeployment, "k8s-leader", "", "the leader Deployment (default APP)")
	f.StringVar(&k8s.WorkerDeployment, "k8s-workers", "", "the worker Deployment, if the app has one")
	f.StringVar(&k8s.AppImage, "k8s-app-image", "", "the new version of the app's image")
	f.StringVar(&k8s.AzureClientID, "k8s-azure-client-id", "", "the Azure workload identity's client id for the Jobs' ServiceAccount (default: the one the plan found)")
	f.StringVar(&k8s.AWSRoleARN, "k8s-aws-role-arn", "", "the IAM role (IRSA) for the Jobs' ServiceAccount (default: AWS_ROLE_ARN when the plan signed in with it)")
	f.StringVar(&k8s.JobServiceAccount, "k8s-job-service-account", "", "the Jobs' ServiceAccount when they sign in with a cloud identity (default APP-mxmigrate)")
	return cmd
}

package runbook

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// PlaceholderImage is the registry of the default mxmigrate image: the
// .invalid top-level domain never resolves, so a Job nobody edited fails to
// pull instead of running something unexpected, and cutover.sh refuses it.
const PlaceholderImage = "set-me.invalid/mxmigrate"

// DefaultKubectlImage runs `kubectl wait` in the wait-for-migration init
// container; its entrypoint is kubectl.
const DefaultKubectlImage = "registry.k8s.io/kubectl:v1.34.0"

// K8sOptions says where and how the app runs on Kubernetes. Only AppName is
// required; every other field has a default derived from it.
type K8sOptions struct {
	Namespace string // default "default"
	AppName   string // names and labels derive from it
	// Image is the mxmigrate image for the Jobs (default: a placeholder
	// that must be replaced).
	Image        string
	KubectlImage string // default DefaultKubectlImage
	// SecretName is the Secret with MXMIGRATE_DB, MXMIGRATE_FILES and the
	// store's credentials (AWS_* or AZURE_STORAGE_CONNECTION_STRING).
	// Default: AppName-mxmigrate.
	SecretName string
	// BackupClaim is the PersistentVolumeClaim holding the backup file at
	// its root. Default: AppName-mxmigrate-backup.
	BackupClaim string
	// WorkClaim is a PersistentVolumeClaim for the work folder; empty uses
	// an emptyDir sized from the dump.
	WorkClaim string
	// FilesClaim is mounted at the path of a file:/// target; required for
	// that kind of target.
	FilesClaim string

	LeaderDeployment string // default AppName
	LeaderContainer  string // the Mendix container in the leader pod; default AppName
	WorkerDeployment string // empty: the app has no workers
	WorkerContainer  string // default LeaderContainer
	// AppImage is the new version of the app; empty leaves the image the
	// Deployments have.
	AppImage string
	// LeaderServiceAccount is the leader pods' existing ServiceAccount, to
	// bind the wait-for-migration Role to. Empty creates a new one, which
	// replaces the pods' account: set it when the app uses its account
	// (for example for cloud IAM).
	LeaderServiceAccount string

	// JobServiceAccount is the ServiceAccount the Jobs run under when a
	// target signs in with a cloud identity (default APP-mxmigrate,
	// generated with the identity's annotations).
	JobServiceAccount string
	// AzureClientID is the client id of the Azure workload identity the
	// Jobs sign in with; default: the one the plan found.
	AzureClientID string
	// AWSRoleARN is the IAM role the Jobs assume through IRSA; default:
	// the one the plan found.
	AWSRoleARN string

	// TypeMap is the contents of the plan's --type-map file, which the
	// migration Job reads from a ConfigMap; required when the plan has one.
	TypeMap []byte

	// TTLAfterFinished keeps a finished Job (and its logs) this long.
	// Default 7 days.
	TTLAfterFinished time.Duration
	// Resources overrides the Jobs' computed requests and limits.
	Resources *corev1.ResourceRequirements
}

// DefaultJobTTL keeps the Jobs long enough to read their logs after a
// weekend window.
const DefaultJobTTL = 7 * 24 * time.Hour

// k8sNames are the names of everything the manifests create or touch.
type k8sNames struct {
	MigrationJob, VerifyJob, WaitForMigration string
	PreseedJob                                string
	TypeMap                                   string // the ConfigMap of --type-map
}

func (k K8sOptions) names() k8sNames {
	return k8sNames{
		MigrationJob:     k.AppName + "-mxmigrate",
		VerifyJob:        k.AppName + "-mxmigrate-verify",
		PreseedJob:       k.AppName + "-mxmigrate-preseed",
		WaitForMigration: k.AppName + "-wait-for-migration",
		TypeMap:          k.AppName + "-mxmigrate-type-map",
	}
}

var imageTag = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// withDefaults fills the defaults and checks every name against the rules
// the API server will apply, so a bad option fails here, not at kubectl apply.
func (k K8sOptions) withDefaults(toolVersion string) (K8sOptions, error) {
	k.Namespace = cmp.Or(k.Namespace, "default")
	if k.Image == "" {
		tag := "latest"
		if imageTag.MatchString(toolVersion) {
			tag = toolVersion
		}
		k.Image = PlaceholderImage + ":" + tag
	}
	k.KubectlImage = cmp.Or(k.KubectlImage, DefaultKubectlImage)
	k.SecretName = cmp.Or(k.SecretName, k.AppName+"-mxmigrate")
	k.BackupClaim = cmp.Or(k.BackupClaim, k.AppName+"-mxmigrate-backup")
	k.LeaderDeployment = cmp.Or(k.LeaderDeployment, k.AppName)
	k.LeaderContainer = cmp.Or(k.LeaderContainer, k.AppName)
	k.WorkerContainer = cmp.Or(k.WorkerContainer, k.LeaderContainer)
	k.TTLAfterFinished = cmp.Or(k.TTLAfterFinished, DefaultJobTTL)

	if k.AppName == "" {
		return k, fmt.Errorf("runbook: kubernetes: the app name is required")
	}
	n := k.names()
	// Job names end up in the job-name label of their pods: 63 characters.
	labels := [][2]string{
		{"namespace", k.Namespace}, {"app name", k.AppName}, {"migration job", n.MigrationJob},
		{"verify job", n.VerifyJob}, {"pre-seed job", n.PreseedJob}, {"wait-for-migration", n.WaitForMigration},
		{"leader container", k.LeaderContainer}, {"worker container", k.WorkerContainer},
	}
	subdomains := [][2]string{
		{"secret", k.SecretName}, {"backup claim", k.BackupClaim}, {"work claim", k.WorkClaim},
		{"files claim", k.FilesClaim}, {"leader deployment", k.LeaderDeployment},
		{"worker deployment", k.WorkerDeployment}, {"leader service account", k.LeaderServiceAccount},
		{"job service account", k.JobServiceAccount}, {"type-map config map", n.TypeMap},
	}
	for _, l := range labels {
		if errs := validation.IsDNS1123Label(l[1]); len(errs) > 0 {
			return k, fmt.Errorf("runbook: kubernetes: %s %q: %s", l[0], l[1], strings.Join(errs, "; "))
		}
	}
	for _, s := range subdomains {
		if s[1] == "" {
			continue
		}
		if errs := validation.IsDNS1123Subdomain(s[1]); len(errs) > 0 {
			return k, fmt.Errorf("runbook: kubernetes: %s %q: %s", s[0], s[1], strings.Join(errs, "; "))
		}
	}
	return k, nil
}

// commonLabels mark everything generated for one app's migration.
func (k K8sOptions) commonLabels(component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      "mxmigrate",
		"app.kubernetes.io/instance":  k.AppName,
		"app.kubernetes.io/component": component,
		"app.kubernetes.io/part-of":   k.AppName,
	}
}

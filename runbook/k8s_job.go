package runbook

import (
	"fmt"
	"path"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/redact"
)

// Where the Job's volumes are mounted.
const (
	backupMount = "/backup"
	workMount   = "/work"
	// typeMapMount holds the --type-map file, from a ConfigMap.
	typeMapMount = "/etc/mxmigrate"
	typeMapKey   = "type-map.json"
	// containerName is also what the pod failure policy matches.
	containerName = "mxmigrate"
)

// jobBackoffLimit allows a couple of retries for transient failures: a
// rerun resumes, so a retry costs little.
const jobBackoffLimit = 2

// nonRootUID is distroless's "nonroot" user. Running a throwaway
// PostgreSQL (--db local) needs a passwd entry for the uid, which that
// image has.
const nonRootUID = 65532

// minJobDeadline keeps a tiny estimate from giving a Job no time at all.
const minJobDeadline = time.Hour

// jobDeadline is the Jobs' activeDeadlineSeconds: the planned window, or
// twice the estimate when no window was given.
func jobDeadline(p Plan) time.Duration {
	if p.Options.Window > 0 {
		return p.Options.Window
	}
	return max(2*p.Estimate.Total(), minJobDeadline)
}

// workVolumeSize is room for the extracted dump (every target loads from
// it: no second copy of the database), plus a quarter and 1 GiB for
// spooled blobs, rounded up to whole GiB.
func workVolumeSize(p Plan) resource.Quantity {
	need := p.Backup.DumpSize
	need += need/4 + 1<<30
	return resource.MustParse(strconv.FormatInt((need+1<<30-1)>>30, 10) + "Gi")
}

func migrationJob(p Plan, k K8sOptions) (*batchv1.Job, error) {
	job, err := mxmigrateJob(p, k, k.names().MigrationJob, "migration",
		migrateCommand(asInJob(p), jobBackupPath(p), workMount))
	if err != nil || p.Options.TypeMapFile == "" {
		return job, err
	}
	pod := &job.Spec.Template.Spec
	pod.Volumes = append(pod.Volumes, corev1.Volume{
		Name: "type-map",
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: k.names().TypeMap},
		}},
	})
	pod.Containers[0].VolumeMounts = append(pod.Containers[0].VolumeMounts,
		corev1.VolumeMount{Name: "type-map", MountPath: typeMapMount, ReadOnly: true})
	return job, nil
}

// maxConfigMapData is what a ConfigMap holds at most.
const maxConfigMapData = 1 << 20

// typeMapConfigMap holds the --type-map file the plan was made with, read
// when the runbook was written, for the migration Job to mount: the path
// on the operator's machine means nothing in the Job's container.
func typeMapConfigMap(p Plan, k K8sOptions) (*corev1.ConfigMap, error) {
	if len(k.TypeMap) == 0 {
		return nil, fmt.Errorf("runbook: kubernetes: the plan was made with --type-map %s, but its contents were not given for the Job's ConfigMap", p.Options.TypeMapFile)
	}
	if len(k.TypeMap) > maxConfigMapData {
		return nil, fmt.Errorf("runbook: kubernetes: --type-map %s is %d bytes, more than the 1 MiB a ConfigMap holds", p.Options.TypeMapFile, len(k.TypeMap))
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: k.names().TypeMap, Namespace: k.Namespace, Labels: k.commonLabels("migration")},
		Data:       map[string]string{typeMapKey: string(k.TypeMap)},
	}, nil
}

// preseedJob moves the files of an earlier backup, put beside the final
// one on the backup volume as EarlierBackup, while the app still serves:
// files only, so it touches neither the database nor the running app.
// Run it as often as wanted before the window; the migration Job then
// moves only the difference.
func preseedJob(p Plan, k K8sOptions) (*batchv1.Job, error) {
	job, err := mxmigrateJob(p, k, k.names().PreseedJob, "preseed",
		preseedCommand(asInJob(p), path.Join(backupMount, EarlierBackup), workMount))
	if err != nil {
		return nil, err
	}
	// Outside the window: the deadline is that of moving all files, not
	// the window's; a rerun resumes where it stopped.
	job.Spec.ActiveDeadlineSeconds = ptr(int64(preseedDeadline(p) / time.Second))
	return job, nil
}

// preseedDeadline is twice the estimate for all files, at least a day.
func preseedDeadline(p Plan) time.Duration {
	return max(2*p.Estimate.Files, 24*time.Hour)
}

// verifyJob prints its JSON report to the log ("--report -"): the pod's
// files are gone when it ends.
func verifyJob(p Plan, k K8sOptions) (*batchv1.Job, error) {
	return mxmigrateJob(p, k, k.names().VerifyJob, "verification",
		verifyCommand(asInJob(p), jobBackupPath(p), workMount, cliflag.ReportToStdout))
}

func jobBackupPath(p Plan) string { return path.Join(backupMount, p.Backup.Name) }

// asInJob is the plan as the Job's container sees it: the target URLs are
// in the variables mxmigrate reads by itself, so no flag carries them, and
// the type map is the file mounted from its ConfigMap.
func asInJob(p Plan) Plan {
	p.Database.EnvVar, p.Files.EnvVar = DefaultDatabaseEnv, DefaultFilesEnv
	if p.Options.TypeMapFile != "" {
		p.Options.TypeMapFile = path.Join(typeMapMount, typeMapKey)
	}
	return p
}

// targetEnv maps a Secret key with another name onto the variable
// mxmigrate reads, through a secretKeyRef.
func targetEnv(p Plan, k K8sOptions) []corev1.EnvVar {
	var env []corev1.EnvVar
	add := func(name, key string) {
		if key != name {
			env = append(env, corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: k.SecretName}, Key: key},
			}})
		}
	}
	add(DefaultDatabaseEnv, p.Database.EnvVar)
	if p.hasFiles() {
		add(DefaultFilesEnv, p.Files.EnvVar)
	}
	return env
}

func mxmigrateJob(p Plan, k K8sOptions, name, component string, cmd command) (*batchv1.Job, error) {
	volumes, mounts, err := jobVolumes(p, k)
	if err != nil {
		return nil, err
	}
	labels := k.commonLabels(component)
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: k.Namespace, Labels: labels},
		Spec: batchv1.JobSpec{
			// One pod at a time; should Kubernetes still run two (a node
			// lost, not dead), the target's lock lets only one write.
			Parallelism:             ptr[int32](1),
			Completions:             ptr[int32](1),
			BackoffLimit:            ptr[int32](jobBackoffLimit),
			TTLSecondsAfterFinished: ptr(int32(k.TTLAfterFinished / time.Second)),
			ActiveDeadlineSeconds:   ptr(int64(jobDeadline(p) / time.Second)),
			PodFailurePolicy:        podFailurePolicy(),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					// The Job needs no Kubernetes API access.
					AutomountServiceAccountToken: ptr(false),
					SecurityContext:              podSecurityContext(),
					Containers: []corev1.Container{{
						Name:    containerName,
						Image:   k.Image,
						Command: []string{"mxmigrate"},
						Args:    cmd.container(),
						// Credentials reach the process only through the
						// Secret; mxmigrate reads MXMIGRATE_DB and
						// MXMIGRATE_FILES itself.
						EnvFrom: []corev1.EnvFromSource{{
							SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: k.SecretName}},
						}},
						Env:             append(targetEnv(p, k), corev1.EnvVar{Name: "TMPDIR", Value: workMount}),
						Resources:       jobResources(p, k),
						VolumeMounts:    mounts,
						SecurityContext: restrictedContainer(),
					}},
					Volumes: volumes,
				},
			},
		},
	}, nil
}

// podFailurePolicy ends the Job at once on exit codes a retry cannot fix
// (bad input, verification failed, preflight refused), and does not count
// evictions against the backoff limit since a rerun resumes.
func podFailurePolicy() *batchv1.PodFailurePolicy {
	return &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		{
			Action: batchv1.PodFailurePolicyActionFailJob,
			OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
				ContainerName: ptr(containerName),
				Operator:      batchv1.PodFailurePolicyOnExitCodesOpIn,
				Values:        []int32{exitcode.BadInput, exitcode.VerifyFailed, exitcode.PreflightRefused},
			},
		},
		{
			Action: batchv1.PodFailurePolicyActionIgnore,
			OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
				{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue},
			},
		},
	}}
}

func jobVolumes(p Plan, k K8sOptions) ([]corev1.Volume, []corev1.VolumeMount, error) {
	volumes := []corev1.Volume{{
		Name: "backup",
		VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
			ClaimName: k.BackupClaim, ReadOnly: true,
		}},
	}}
	mounts := []corev1.VolumeMount{{Name: "backup", MountPath: backupMount, ReadOnly: true}}

	work := corev1.Volume{Name: "work"}
	if k.WorkClaim != "" {
		work.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: k.WorkClaim}
	} else {
		size := workVolumeSize(p)
		work.EmptyDir = &corev1.EmptyDirVolumeSource{SizeLimit: &size}
	}
	volumes = append(volumes, work)
	mounts = append(mounts, corev1.VolumeMount{Name: "work", MountPath: workMount})

	if p.Files.Kind == FilesLocal {
		folder := locate(p.Files).Path
		if k.FilesClaim == "" {
			return nil, nil, fmt.Errorf("runbook: kubernetes: the files target is the folder %s: give the claim to mount there (--k8s-files-claim)", describeFolder(folder, p.Files.URL))
		}
		if folder == "" {
			return nil, nil, fmt.Errorf("runbook: kubernetes: the files target %q names no folder to mount the claim at: use file:///PATH", redact.URL(p.Files.URL))
		}
		volumes = append(volumes, corev1.Volume{
			Name:         "files",
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: k.FilesClaim}},
		})
		mounts = append(mounts, corev1.VolumeMount{Name: "files", MountPath: folder})
	}
	return volumes, mounts, nil
}

// jobResources: pg_restore -j, or a SQL Server load's --jobs, uses a core
// per job; memory covers the uploads' memory budget.
func jobResources(p Plan, k K8sOptions) corev1.ResourceRequirements {
	if k.Resources != nil {
		return *k.Resources
	}
	r := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("1"),
			corev1.ResourceMemory: resource.MustParse("1Gi"),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(strconv.Itoa(max(2, p.Options.Jobs))),
			corev1.ResourceMemory: resource.MustParse("4Gi"),
		},
	}
	if k.WorkClaim == "" {
		// The scheduler must find a node with room for the emptyDir.
		r.Requests[corev1.ResourceEphemeralStorage] = workVolumeSize(p)
	}
	return r
}

func podSecurityContext() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot:        ptr(true),
		RunAsUser:           ptr[int64](nonRootUID),
		RunAsGroup:          ptr[int64](nonRootUID),
		FSGroup:             ptr[int64](nonRootUID),
		FSGroupChangePolicy: ptr(corev1.FSGroupChangeOnRootMismatch),
		SeccompProfile:      &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func restrictedContainer() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		ReadOnlyRootFilesystem:   ptr(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

func ptr[T any](v T) *T { return &v }

// describeFolder names a file:// target's folder, or the URL that should
// have named one.
func describeFolder(folder, rawURL string) string {
	if folder != "" {
		return folder
	}
	return fmt.Sprintf("of %q (which names no path)", redact.URL(rawURL))
}

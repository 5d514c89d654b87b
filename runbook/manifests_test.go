package runbook

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func TestManifestsGolden(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			ms, err := KubernetesManifests(f.plan(), f.k8s)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				golden(t, f.name+"/k8s/"+m.Name, m.Content)
				assertNoFakeSecret(t, m.Name, m.Content)
			}
		})
	}
}

// generated renders a fixture's manifests by file name.
func generated(t *testing.T, p Plan, k K8sOptions) map[string][]byte {
	t.Helper()
	ms, err := KubernetesManifests(p, k)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, m := range ms {
		files[m.Name] = m.Content
	}
	return files
}

// documents splits a YAML stream into its documents.
func documents(content []byte) [][]byte {
	var docs [][]byte
	for _, d := range strings.Split(string(content), "\n---\n") {
		docs = append(docs, []byte(d))
	}
	return docs
}

// parseInto decodes one YAML document strictly: an unknown field means the
// file does not describe the typed object it claims to.
func parseInto(t *testing.T, doc []byte, obj any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Fatalf("does not parse back: %v\n%s", err, doc)
	}
}

func TestManifestsParseBackAndFollowTheRules(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			p := f.plan()
			files := generated(t, p, f.k8s)
			var names []string
			for name := range files {
				names = append(names, name)
			}
			slices.Sort(names)
			want := []string{"cutover.sh", "leader-patch.yaml", "leader-wait-for-migration-patch.yaml", "migration-job.yaml", "preseed-job.yaml", "verify-job.yaml", "wait-for-migration-rbac.yaml"}
			if !slices.Equal(names, want) {
				t.Fatalf("files = %q, want %q", names, want)
			}
			checkPreseedJob(t, kindDocument(files["preseed-job.yaml"], "Job"), p)
			for _, name := range []string{"migration-job.yaml", "verify-job.yaml"} {
				var job batchv1.Job
				parseInto(t, kindDocument(files[name], "Job"), &job)
				checkJob(t, name, &job, p)
			}
			checkJobIdentity(t, files, p, f.k8s)
			var leader appsv1.Deployment
			parseInto(t, files["leader-patch.yaml"], &leader)
			if leader.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("leader strategy = %q, want Recreate", leader.Spec.Strategy.Type)
			}
			if leader.Spec.Replicas == nil || *leader.Spec.Replicas != 1 {
				t.Errorf("leader replicas = %v, want exactly one", leader.Spec.Replicas)
			}
			if f.k8s.AppImage != "" && (len(leader.Spec.Template.Spec.Containers) != 1 || leader.Spec.Template.Spec.Containers[0].Image != f.k8s.AppImage) {
				t.Errorf("leader containers = %+v, want the new image %s", leader.Spec.Template.Spec.Containers, f.k8s.AppImage)
			}
			if f.k8s.AppImage == "" && len(leader.Spec.Template.Spec.Containers) != 0 {
				t.Errorf("leader patch touches containers without a new image: %+v", leader.Spec.Template.Spec.Containers)
			}
			checkWaitForMigration(t, files, f.k8s)
		})
	}
}

func checkJob(t *testing.T, name string, job *batchv1.Job, p Plan) {
	t.Helper()
	spec := job.Spec
	if spec.BackoffLimit == nil || *spec.BackoffLimit < 1 || *spec.BackoffLimit > 3 {
		t.Errorf("%s: backoffLimit = %v, want a small retry count", name, spec.BackoffLimit)
	}
	if spec.TTLSecondsAfterFinished == nil || *spec.TTLSecondsAfterFinished < 3600 {
		t.Errorf("%s: ttlSecondsAfterFinished = %v, want it set (and long enough to read the logs)", name, spec.TTLSecondsAfterFinished)
	}
	if spec.ActiveDeadlineSeconds == nil || *spec.ActiveDeadlineSeconds != int64(p.Options.Window/time.Second) {
		t.Errorf("%s: activeDeadlineSeconds = %v, want the window %v", name, spec.ActiveDeadlineSeconds, p.Options.Window)
	}
	if spec.Parallelism == nil || *spec.Parallelism != 1 {
		t.Errorf("%s: parallelism = %v, want 1", name, spec.Parallelism)
	}
	pod := spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy = %q, want Never", name, pod.RestartPolicy)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", name, len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name == "" {
		t.Errorf("%s: envFrom = %+v, want the Secret", name, c.EnvFrom)
	}
	for _, e := range c.Env {
		if e.Value != "" && e.Name != "TMPDIR" {
			t.Errorf("%s: env %s has a literal value; credentials only through envFrom or secretKeyRef", name, e.Name)
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s: env %s comes from something other than a Secret", name, e.Name)
		}
	}
	for _, a := range c.Args {
		if strings.Contains(a, "://") {
			t.Errorf("%s: argument %q is a URL: target URLs must come from the Secret", name, a)
		}
	}
	if len(spec.PodFailurePolicy.Rules) == 0 || !slices.Equal(spec.PodFailurePolicy.Rules[0].OnExitCodes.Values, []int32{2, 3, 5}) {
		t.Errorf("%s: pod failure policy = %+v, want FailJob on 2, 3, 5", name, spec.PodFailurePolicy)
	}
	var backupReadOnly bool
	for _, m := range c.VolumeMounts {
		if m.MountPath == backupMount {
			backupReadOnly = m.ReadOnly
		}
	}
	if !backupReadOnly {
		t.Errorf("%s: the backup must be mounted read-only at %s: %+v", name, backupMount, c.VolumeMounts)
	}
}

// checkWaitForMigration: the init container waits for the migration Job,
// and the RBAC lets exactly the leader's account read Jobs.
func checkWaitForMigration(t *testing.T, files map[string][]byte, k K8sOptions) {
	t.Helper()
	var patch appsv1.Deployment
	parseInto(t, files["leader-wait-for-migration-patch.yaml"], &patch)
	inits := patch.Spec.Template.Spec.InitContainers
	if len(inits) != 1 || !slices.Contains(inits[0].Args, "--for=condition=complete") || !slices.Contains(inits[0].Args, "job/"+k.AppName+"-mxmigrate") {
		t.Fatalf("init containers = %+v, want kubectl wait for job/%s-mxmigrate", inits, k.AppName)
	}
	if patch.Spec.Replicas != nil {
		t.Errorf("the wait patch must not change the replica count")
	}

	account := k.LeaderServiceAccount
	var role rbacv1.Role
	var binding rbacv1.RoleBinding
	var madeAccount string
	for _, doc := range documents(files["wait-for-migration-rbac.yaml"]) {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "ServiceAccount":
			var sa corev1.ServiceAccount
			parseInto(t, doc, &sa)
			madeAccount = sa.Name
		case "Role":
			parseInto(t, doc, &role)
		case "RoleBinding":
			parseInto(t, doc, &binding)
		default:
			t.Errorf("unexpected kind %q in the RBAC file", meta.Kind)
		}
	}
	if account == "" {
		account = madeAccount
		if patch.Spec.Template.Spec.ServiceAccountName != account {
			t.Errorf("leader runs as %q, but the Role is bound to %q", patch.Spec.Template.Spec.ServiceAccountName, account)
		}
	} else if madeAccount != "" || patch.Spec.Template.Spec.ServiceAccountName != "" {
		t.Errorf("with an existing account %q, no account must be made or set (made %q)", account, madeAccount)
	}
	wantRules := []rbacv1.PolicyRule{{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"get", "list", "watch"}}}
	if len(role.Rules) != 1 || !slices.Equal(role.Rules[0].Verbs, wantRules[0].Verbs) ||
		!slices.Equal(role.Rules[0].Resources, wantRules[0].Resources) || !slices.Equal(role.Rules[0].APIGroups, wantRules[0].APIGroups) {
		t.Errorf("role rules = %+v, want only get/list/watch on jobs", role.Rules)
	}
	if binding.RoleRef.Name != role.Name || len(binding.Subjects) != 1 || binding.Subjects[0].Name != account {
		t.Errorf("binding = %+v, want role %s bound to account %s", binding, role.Name, account)
	}
}

func TestCutoverScript(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			script := string(generated(t, f.plan(), f.k8s)["cutover.sh"])
			// The steps must come in this order: no two versions ever run.
			order := []string{
				`scale_to_zero "$WORKER"`,
				`scale_to_zero "$LEADER"`,
				`run_job "$MIGRATION_JOB"`,
				`run_job "$VERIFY_JOB"`,
				`--patch-file "$LEADER_PATCH_FILE"`,
				`k scale deployment "$WORKER" --replicas="$replicas"`,
			}
			last := -1
			for _, step := range order {
				i := strings.Index(script, step)
				if i <= last {
					t.Fatalf("step %q is missing or out of order", step)
				}
				last = i
			}
			for _, want := range []string{"wait --for=delete pod -l", "NS=" + shellQuote(f.k8s.Namespace) + "\n"} {
				if !strings.Contains(script, want) {
					t.Errorf("script lacks %q", want)
				}
			}
			if testing.Short() {
				t.Skip("-short: not running bash -n and shellcheck on the script")
			}
			bash, err := exec.LookPath("bash")
			if err != nil {
				t.Skip("no bash to check the syntax with")
			}
			cmd := exec.Command(bash, "-n")
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v\n%s", err, out)
			}
			if shellcheck, err := exec.LookPath("shellcheck"); err == nil {
				cmd := exec.Command(shellcheck, "-")
				cmd.Stdin = strings.NewReader(script)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("shellcheck: %v\n%s", err, out)
				}
			}
		})
	}
}

func TestKubernetesManifestsRejects(t *testing.T) {
	tests := []struct {
		name   string
		plan   func() Plan
		k8s    K8sOptions
		errHas string
	}{
		{"no app name", postgresS3Plan, K8sOptions{}, "app name is required"},
		{"bad namespace", postgresS3Plan, K8sOptions{AppName: "a", Namespace: "Sales_NS"}, `namespace "Sales_NS"`},
		{"job name too long", postgresS3Plan, K8sOptions{AppName: strings.Repeat("a", 50)}, "verify job"},
		{"bad secret name", postgresS3Plan, K8sOptions{AppName: "a", SecretName: "no spaces"}, `secret "no spaces"`},
		{"folder target without a claim", func() Plan {
			p := postgresS3Plan()
			p.Files = TargetFacts{Kind: FilesLocal, URL: "file:///srv/files"}
			return p
		}, K8sOptions{AppName: "a"}, "give the claim to mount there"},
		{"invalid plan", func() Plan {
			p := postgresS3Plan()
			p.Database.Kind = ""
			return p
		}, K8sOptions{AppName: "a"}, "unknown database kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := KubernetesManifests(tt.plan(), tt.k8s)
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.errHas)
			}
		})
	}
}

func TestJobDefaults(t *testing.T) {
	tests := []struct {
		name        string
		toolVersion string
		change      func(*Plan)
		k8s         K8sOptions
		wantImage   string
		wantMount   string // a mount path the container must have
		wantSize    string // the work emptyDir's size limit
	}{
		{
			name: "placeholder image tagged with the version", toolVersion: "v1.4.0",
			k8s: K8sOptions{AppName: "a"}, wantImage: "set-me.invalid/mxmigrate:v1.4.0", wantSize: "5Gi",
		},
		{
			name: "unusable version tag", toolVersion: "(devel)",
			k8s: K8sOptions{AppName: "a"}, wantImage: "set-me.invalid/mxmigrate:latest", wantSize: "5Gi",
		},
		{
			name: "sql server needs room for the dump only", toolVersion: "v1",
			change: func(p *Plan) { p.Database.Kind = DatabaseSQLServer },
			k8s:    K8sOptions{AppName: "a", Image: "x/mxmigrate:1"}, wantImage: "x/mxmigrate:1", wantSize: "5Gi",
		},
		{
			name: "local folder target is mounted", toolVersion: "v1",
			change: func(p *Plan) { p.Files = TargetFacts{Kind: FilesLocal, URL: "file:///srv/files"} },
			k8s:    K8sOptions{AppName: "a", Image: "x/mxmigrate:1", FilesClaim: "files"}, wantImage: "x/mxmigrate:1",
			wantMount: "/srv/files", wantSize: "5Gi",
		},
		{
			name: "database env under another name maps through secretKeyRef", toolVersion: "v1",
			change: func(p *Plan) { p.Database.EnvVar = "PROD_DB" },
			k8s:    K8sOptions{AppName: "a", Image: "x/mxmigrate:1"}, wantImage: "x/mxmigrate:1", wantSize: "5Gi",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := postgresS3Plan()
			p.ToolVersion = tt.toolVersion
			if tt.change != nil {
				tt.change(&p)
			}
			var job batchv1.Job
			parseInto(t, generated(t, p, tt.k8s)["migration-job.yaml"], &job)
			c := job.Spec.Template.Spec.Containers[0]
			if c.Image != tt.wantImage {
				t.Errorf("image = %q, want %q", c.Image, tt.wantImage)
			}
			for _, v := range job.Spec.Template.Spec.Volumes {
				if v.Name == "work" && (v.EmptyDir == nil || v.EmptyDir.SizeLimit.String() != tt.wantSize) {
					t.Errorf("work volume = %+v, want an emptyDir of %s", v, tt.wantSize)
				}
			}
			if tt.wantMount != "" && !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == tt.wantMount }) {
				t.Errorf("mounts = %+v, want %s", c.VolumeMounts, tt.wantMount)
			}
			if p.Database.EnvVar != DefaultDatabaseEnv {
				i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == DefaultDatabaseEnv })
				if i < 0 || c.Env[i].ValueFrom.SecretKeyRef.Key != p.Database.EnvVar {
					t.Errorf("env = %+v, want %s from the Secret's key %s", c.Env, DefaultDatabaseEnv, p.Database.EnvVar)
				}
			}
			if slices.Contains(c.Args, "--db") {
				t.Errorf("args %q carry --db: mxmigrate reads %s itself", c.Args, DefaultDatabaseEnv)
			}
		})
	}
}

func TestWriteManifests(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "k8s")
	ms := []Manifest{{Name: "job.yaml", Content: []byte("kind: Job\n")}, {Name: "cutover.sh", Content: []byte("#!/bin/sh\n")}}
	if err := WriteManifests(dir, ms); err != nil {
		t.Fatal(err)
	}
	wantMode := map[string]os.FileMode{"job.yaml": 0o644, "cutover.sh": 0o755}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(ms) {
		t.Errorf("folder has %d entries, want %d (no temporary files left)", len(entries), len(ms))
	}
	for _, m := range ms {
		path := filepath.Join(dir, m.Name)
		got, err := os.ReadFile(path)
		if err != nil || string(got) != string(m.Content) {
			t.Errorf("%s = %q, %v; want %q", m.Name, got, err, m.Content)
		}
		info, err := os.Stat(path)
		if err != nil || info.Mode().Perm() != wantMode[m.Name] {
			t.Errorf("%s mode = %v, want %v", m.Name, info.Mode().Perm(), wantMode[m.Name])
		}
	}
	for _, bad := range []string{"", "../escape.yaml", "sub/file.yaml", ".."} {
		if err := WriteManifests(dir, []Manifest{{Name: bad}}); err == nil {
			t.Errorf("WriteManifests accepted the name %q", bad)
		}
	}
}

// kindDocument is the document of the given kind in a YAML stream.
func kindDocument(content []byte, kind string) []byte {
	for _, d := range documents(content) {
		if strings.Contains(string(d), "\nkind: "+kind+"\n") {
			return d
		}
	}
	return nil
}

// checkJobIdentity: a plan whose targets sign in with a cloud identity
// gets a ServiceAccount with the webhook's annotation, the Jobs run under
// it (Azure: with the use label on the pod); other plans get neither.
func checkJobIdentity(t *testing.T, files map[string][]byte, p Plan, k K8sOptions) {
	t.Helper()
	var azureID, awsRole string
	for _, target := range []TargetFacts{p.Database, p.Files} {
		switch target.IdentityKind {
		case IdentityAzureWorkload:
			azureID = target.IdentityID
		case IdentityAWSWebIdentity:
			awsRole = target.IdentityID
		}
	}
	saDoc := kindDocument(files["migration-job.yaml"], "ServiceAccount")
	if azureID == "" && awsRole == "" {
		if saDoc != nil {
			t.Errorf("a ServiceAccount without a cloud identity:\n%s", saDoc)
		}
		return
	}
	var sa corev1.ServiceAccount
	parseInto(t, saDoc, &sa)
	wantName := k.JobServiceAccount
	if wantName == "" {
		wantName = k.AppName + "-mxmigrate"
	}
	if sa.Name != wantName || sa.Namespace != k.Namespace {
		t.Errorf("ServiceAccount %s/%s, want %s/%s", sa.Namespace, sa.Name, k.Namespace, wantName)
	}
	if got := sa.Annotations["azure.workload.identity/client-id"]; got != azureID {
		t.Errorf("azure.workload.identity/client-id = %q, want %q", got, azureID)
	}
	if got := sa.Annotations["eks.amazonaws.com/role-arn"]; got != awsRole {
		t.Errorf("eks.amazonaws.com/role-arn = %q, want %q", got, awsRole)
	}
	for _, name := range []string{"migration-job.yaml", "verify-job.yaml", "preseed-job.yaml"} {
		if files[name] == nil && name == "preseed-job.yaml" {
			continue // a plan without a file store has no pre-seed
		}
		var job batchv1.Job
		parseInto(t, kindDocument(files[name], "Job"), &job)
		pod := job.Spec.Template
		if pod.Spec.ServiceAccountName != wantName {
			t.Errorf("%s: serviceAccountName %q, want %q", name, pod.Spec.ServiceAccountName, wantName)
		}
		if use := pod.Labels["azure.workload.identity/use"]; (use == "true") != (azureID != "") {
			t.Errorf("%s: azure.workload.identity/use label %q with Azure client id %q", name, use, azureID)
		}
	}
}

func TestJobIdentityNeedsItsID(t *testing.T) {
	p := azureWorkloadIdentityPlan()
	p.Database.IdentityID, p.Files.IdentityID = "", ""
	if _, err := KubernetesManifests(p, K8sOptions{AppName: "hr"}); err == nil || !strings.Contains(err.Error(), "--k8s-azure-client-id") {
		t.Errorf("got %v, want the missing client id named", err)
	}
	ms, err := KubernetesManifests(p, K8sOptions{AppName: "hr", AzureClientID: "given-id"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ms[0].Content), "azure.workload.identity/client-id: given-id") {
		t.Errorf("the given client id is not in %s:\n%s", ms[0].Name, ms[0].Content)
	}
	p = awsIRSAPlan()
	p.Files.IdentityID = ""
	if _, err := KubernetesManifests(p, K8sOptions{AppName: "sales"}); err == nil || !strings.Contains(err.Error(), "--k8s-aws-role-arn") {
		t.Errorf("got %v, want the missing role named", err)
	}
}

// checkPreseedJob: the pre-seed Job moves the earlier backup's files only,
// with the same image, and is not bound by the window.
func checkPreseedJob(t *testing.T, doc []byte, p Plan) {
	t.Helper()
	var job batchv1.Job
	parseInto(t, doc, &job)
	c := job.Spec.Template.Spec.Containers
	if len(c) != 1 || len(c[0].Args) < 2 || c[0].Args[0] != "files" || c[0].Args[1] != "/backup/"+EarlierBackup {
		t.Fatalf("preseed job container = %+v, want files of %s", c, EarlierBackup)
	}
	for _, a := range c[0].Args {
		if a == "--db" || a == "--prune" || strings.Contains(a, "://") {
			t.Errorf("preseed job args %q: want files only, targets by reference", c[0].Args)
		}
	}
	if d := job.Spec.ActiveDeadlineSeconds; d == nil || *d < int64(24*time.Hour/time.Second) {
		t.Errorf("preseed job deadline = %v, want at least a day (it runs outside the window)", d)
	}
}

// TestManifestsNeedTheTypeMap: a plan made with --type-map gets no Job
// that would read a path from the operator's machine.
func TestManifestsNeedTheTypeMap(t *testing.T) {
	p := sqlServerAzurePlan()
	k := K8sOptions{Namespace: "hr", AppName: "hr", BackupClaim: "hr-backup"}
	cases := []struct {
		name    string
		typeMap []byte
		wantErr string
	}{
		{"contents missing", nil, "--type-map rules/hr-type-map.json, but its contents were not given"},
		{"too large for a ConfigMap", make([]byte, 1<<20+1), "more than the 1 MiB a ConfigMap holds"},
		{"given", []byte(hrTypeMap), ""},
	}
	for _, c := range cases {
		k.TypeMap = c.typeMap
		_, err := KubernetesManifests(p, k)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.wantErr)
		}
	}
}

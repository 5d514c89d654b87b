package runbook

import (
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// waitContainerName is the init container's name; the runbook's clean-up
// removes it by this name.
const waitContainerName = "wait-for-migration"

// leaderPatch is a strategic merge patch for the leader Deployment: one
// replica and strategy Recreate, so the old leader's pods are gone before
// the new one starts and two leaders never write at once; and the new app
// image when one is given.
func leaderPatch(k K8sOptions) *appsv1.Deployment {
	d := deploymentPatch(k)
	d.Spec.Replicas = ptr[int32](1)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if k.AppImage != "" {
		d.Spec.Template.Spec.Containers = []corev1.Container{{Name: k.LeaderContainer, Image: k.AppImage}}
	}
	return d
}

// waitForMigrationPatch adds an init container that keeps the leader from
// starting until the migration Job has completed: for rollouts that apply
// the new version and the Job together. A missing Job fails the init
// container, which the kubelet restarts with back-off until it appears.
func waitForMigrationPatch(p Plan, k K8sOptions) *appsv1.Deployment {
	d := deploymentPatch(k)
	if k.LeaderServiceAccount == "" {
		d.Spec.Template.Spec.ServiceAccountName = k.names().WaitForMigration
	}
	timeout := jobDeadline(p) + 10*time.Minute
	d.Spec.Template.Spec.InitContainers = []corev1.Container{{
		Name:  waitContainerName,
		Image: k.KubectlImage,
		Args: []string{
			"wait", "--for=condition=complete", "job/" + k.names().MigrationJob,
			"--namespace=" + k.Namespace,
			"--timeout=" + strconv.FormatInt(int64(timeout/time.Second), 10) + "s",
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("10m"),
				corev1.ResourceMemory: resource.MustParse("32Mi"),
			},
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
		},
		SecurityContext: restrictedContainer(),
	}}
	return d
}

func deploymentPatch(k K8sOptions) *appsv1.Deployment {
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: k.LeaderDeployment, Namespace: k.Namespace},
	}
}

// waitForMigrationRBAC lets the init container read Jobs, and nothing else.
// The ServiceAccount is only made when the leader has no account to reuse.
func waitForMigrationRBAC(k K8sOptions) []any {
	name := k.names().WaitForMigration
	meta := metav1.ObjectMeta{Name: name, Namespace: k.Namespace, Labels: k.commonLabels("wait-for-migration")}
	account := k.LeaderServiceAccount
	var objects []any
	if account == "" {
		account = name
		objects = append(objects, &corev1.ServiceAccount{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
			ObjectMeta: meta,
		})
	}
	return append(objects,
		&rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: meta,
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{"batch"},
				Resources: []string{"jobs"},
				Verbs:     []string{"get", "list", "watch"},
			}},
		},
		&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: meta,
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: account, Namespace: k.Namespace}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		},
	)
}

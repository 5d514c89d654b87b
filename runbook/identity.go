package runbook

import (
	"cmp"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kinds of cloud identity a target can sign in with instead of a password
// or key (TargetFacts.IdentityKind). Empty: the credentials are secrets.
const (
	// IdentityAzureWorkload: Microsoft Entra ID workload identity; on
	// Kubernetes the Job runs under a ServiceAccount federated with it.
	IdentityAzureWorkload = "azure-workload-identity"
	// IdentityAzureManaged: the managed identity of the VM or node.
	IdentityAzureManaged = "azure-managed-identity"
	// IdentityAzureOther: another Entra ID sign-in without a secret (the
	// default chain, the Azure CLI).
	IdentityAzureOther = "azure-entra-id"
	// IdentityAWSWebIdentity: an IAM role for a Kubernetes ServiceAccount
	// (IRSA, AWS_ROLE_ARN with a web identity token).
	IdentityAWSWebIdentity = "aws-web-identity"
	// IdentityAWSRole: a container or instance role, or a profile.
	IdentityAWSRole = "aws-role"
)

// Annotations and labels the cloud identity webhooks read.
const (
	azureWorkloadUseLabel      = "azure.workload.identity/use"
	azureWorkloadClientIDAnnot = "azure.workload.identity/client-id"
	eksRoleARNAnnot            = "eks.amazonaws.com/role-arn"
)

// usesIdentity reports whether a target signs in without a secret.
func (t TargetFacts) usesIdentity() bool { return t.IdentityKind != "" }

// jobIdentity is what the Jobs' ServiceAccount must carry: the Azure
// workload identity's client id and/or the EKS role.
type jobIdentity struct {
	azureClientID string
	awsRoleARN    string
	azure, aws    bool
}

func (j jobIdentity) needed() bool { return j.azure || j.aws }

// jobIdentityOf decides the Jobs' cloud identity from the plan's targets
// and the options, which win; it fails when a target needs an identity
// whose id nobody gave.
func jobIdentityOf(p Plan, k K8sOptions) (jobIdentity, error) {
	var j jobIdentity
	for _, t := range []TargetFacts{p.Database, p.Files} {
		switch t.IdentityKind {
		case IdentityAzureWorkload:
			j.azure = true
			j.azureClientID = cmp.Or(j.azureClientID, t.IdentityID)
		case IdentityAWSWebIdentity:
			j.aws = true
			j.awsRoleARN = cmp.Or(j.awsRoleARN, t.IdentityID)
		}
	}
	if k.AzureClientID != "" {
		j.azure, j.azureClientID = true, k.AzureClientID
	}
	if k.AWSRoleARN != "" {
		j.aws, j.awsRoleARN = true, k.AWSRoleARN
	}
	if j.azure && j.azureClientID == "" {
		return j, fmt.Errorf("runbook: kubernetes: a target signs in with Azure workload identity: give its client id (--k8s-azure-client-id)")
	}
	if j.aws && j.awsRoleARN == "" {
		return j, fmt.Errorf("runbook: kubernetes: the bucket is reached with an IAM role for the service account: give its ARN (--k8s-aws-role-arn)")
	}
	return j, nil
}

// jobServiceAccountName is the Jobs' ServiceAccount when they need one.
func (k K8sOptions) jobServiceAccountName() string {
	return cmp.Or(k.JobServiceAccount, k.AppName+"-mxmigrate")
}

// jobServiceAccount is the ServiceAccount the Jobs run under when they sign
// in with a cloud identity: the webhooks of Azure Workload Identity and
// EKS read its annotations and project a token into the pod.
func jobServiceAccount(k K8sOptions, j jobIdentity) *corev1.ServiceAccount {
	annotations := map[string]string{}
	if j.azure {
		annotations[azureWorkloadClientIDAnnot] = j.azureClientID
	}
	if j.aws {
		annotations[eksRoleARNAnnot] = j.awsRoleARN
	}
	return &corev1.ServiceAccount{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{
			Name: k.jobServiceAccountName(), Namespace: k.Namespace,
			Labels: k.commonLabels("migration"), Annotations: annotations,
		},
	}
}

// applyJobIdentity runs a Job's pod under the identity's ServiceAccount;
// Azure Workload Identity also wants a label on the pod itself.
func applyJobIdentity(spec *corev1.PodTemplateSpec, k K8sOptions, j jobIdentity) {
	if !j.needed() {
		return
	}
	spec.Spec.ServiceAccountName = k.jobServiceAccountName()
	if j.azure {
		labels := map[string]string{}
		for key, v := range spec.Labels {
			labels[key] = v
		}
		labels[azureWorkloadUseLabel] = "true"
		spec.Labels = labels
	}
}

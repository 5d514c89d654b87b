package pipeline

import (
	"testing"

	"github.com/mxmigrate/mxmigrate/runbook"
)

func TestDatabaseIdentity(t *testing.T) {
	t.Setenv("AZURE_CLIENT_ID", "env-client")
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", "")
	tests := []struct{ url, kind, id string }{
		{"sqlserver://sa:pw@h?database=d", "", ""},
		{"sqlserver://h?database=d&fedauth=ActiveDirectoryWorkloadIdentity", runbook.IdentityAzureWorkload, "env-client"},
		{"sqlserver://cid%40tid@h?database=d&fedauth=ActiveDirectoryWorkloadIdentity", runbook.IdentityAzureWorkload, "cid"},
		{"sqlserver://mi-id@h?database=d&fedauth=ActiveDirectoryMSI", runbook.IdentityAzureManaged, "mi-id"},
		{"sqlserver://h?database=d&fedauth=ActiveDirectoryDefault", runbook.IdentityAzureOther, ""},
		{"sqlserver://h?database=d&fedauth=ActiveDirectoryAzCli", runbook.IdentityAzureOther, ""},
		{"sqlserver://cid:secret@h?database=d&fedauth=ActiveDirectoryServicePrincipal", "", ""},
		{"postgres://u:pw@h/db", "", ""},
	}
	for _, tc := range tests {
		if _, kind, id := databaseIdentity(tc.url, "x"); kind != tc.kind || id != tc.id {
			t.Errorf("%s: %q %q, want %q %q", tc.url, kind, id, tc.kind, tc.id)
		}
	}
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token")
	if _, kind, id := databaseIdentity("sqlserver://h?database=d&fedauth=ActiveDirectoryDefault", ""); kind != runbook.IdentityAzureWorkload || id != "env-client" {
		t.Errorf("default chain in a workload identity pod: %q %q", kind, id)
	}
}

func TestStoreIdentity(t *testing.T) {
	t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r")
	t.Setenv("AZURE_CLIENT_ID", "")
	tests := []struct{ said, kind, id string }{
		{"", "", ""},
		{"shared key of account acct", "", ""},
		{"SAS token", "", ""},
		{"AWS access key from the environment (AWS_ACCESS_KEY_ID), region eu-west-1", "", ""},
		{"AWS web identity role arn:aws:iam::1:role/r (IAM roles for service accounts), region eu-west-1", runbook.IdentityAWSWebIdentity, "arn:aws:iam::1:role/r"},
		{"AWS EC2 instance role, region eu-west-1", runbook.IdentityAWSRole, ""},
		{"Microsoft Entra ID workload identity (client id abc-1), from the default credential chain", runbook.IdentityAzureWorkload, "abc-1"},
		{"Microsoft Entra ID managed identity (system-assigned)", runbook.IdentityAzureManaged, ""},
		{"Microsoft Entra ID managed identity (client id m-2)", runbook.IdentityAzureManaged, "m-2"},
		{"Microsoft Entra ID service principal (client id s) with a client secret", "", ""},
		{"Microsoft Entra ID azure cli (the signed-in account)", runbook.IdentityAzureOther, ""},
	}
	for _, tc := range tests {
		if _, kind, id := storeIdentity(tc.said); kind != tc.kind || id != tc.id {
			t.Errorf("%q: %q %q, want %q %q", tc.said, kind, id, tc.kind, tc.id)
		}
	}
}

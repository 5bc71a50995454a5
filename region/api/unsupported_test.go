package api_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestUnsupportedOperations_NameTheAlternative(t *testing.T) {
	r := startRegion(t)
	ctx := t.Context()
	_, err := r.Client.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String("SELECT * FROM t")})
	wantAPIError(t, err, "UnknownOperationException", "")
	if !strings.Contains(err.Error(), "PartiQL") || !strings.Contains(err.Error(), "use GetItem") {
		t.Fatalf("message does not name PartiQL and the alternative: %v", err)
	}
	_, err = r.Client.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("t1"), BackupName: aws.String("b")})
	wantAPIError(t, err, "UnknownOperationException", "")
	if !strings.Contains(err.Error(), "Backups") {
		t.Fatalf("message does not name backups: %v", err)
	}
	_, err = r.Client.ListGlobalTables(ctx, &dynamodb.ListGlobalTablesInput{})
	wantAPIError(t, err, "UnknownOperationException", "")
	_, err = r.Client.DescribeKinesisStreamingDestination(ctx, &dynamodb.DescribeKinesisStreamingDestinationInput{TableName: aws.String("t1")})
	wantAPIError(t, err, "UnknownOperationException", "")
	_, err = r.Client.DescribeContributorInsights(ctx, &dynamodb.DescribeContributorInsightsInput{TableName: aws.String("t1")})
	wantAPIError(t, err, "UnknownOperationException", "")
	_, err = r.Client.DescribeTableReplicaAutoScaling(ctx, &dynamodb.DescribeTableReplicaAutoScalingInput{TableName: aws.String("t1")})
	wantAPIError(t, err, "UnknownOperationException", "")
	// An operation DynamoDB does not have either gets no message.
	code, msg := rawCall(t, r, "Frobnicate", "{}")
	if code != "UnknownOperationException" || msg != "" {
		t.Fatalf("unknown operation: %s %q", code, msg)
	}
}

func TestDescribeContinuousBackups_PointInTimeRecoveryIsDisabled(t *testing.T) {
	r := startRegion(t)
	createTable(t, r.Client, "Things", "id", types.ScalarAttributeTypeS, "", "")
	out, err := r.Client.DescribeContinuousBackups(t.Context(), &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("Things")})
	if err != nil {
		t.Fatal(err)
	}
	d := out.ContinuousBackupsDescription
	if d == nil || d.ContinuousBackupsStatus != types.ContinuousBackupsStatusDisabled || d.PointInTimeRecoveryDescription == nil ||
		d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusDisabled {
		t.Fatalf("description = %+v", d)
	}
	_, err = r.Client.DescribeContinuousBackups(t.Context(), &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("Missing")})
	wantAPIError(t, err, "TableNotFoundException", "Table not found: Missing")
	_, err = r.Client.DescribeContinuousBackups(t.Context(), &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("x")})
	wantAPIError(t, err, "ValidationException", "1 validation error detected: Value 'x' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3")
}

package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/globaltables/globaltables/store"
)

// Operations of DynamoDB's API that globaltables does not implement answer
// UnknownOperationException, as DynamoDB answers an operation it does not
// know, but with a message that names what is missing and what to use
// instead, so that a person reading a client's error knows where they
// stand. (DynamoDB's own UnknownOperationException has no message.)

// Why each group of operations is missing, and the alternative.
const (
	partiQLMessage = "PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction) is not implemented by globaltables; " +
		"use GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan, BatchGetItem, BatchWriteItem, TransactGetItems and TransactWriteItems instead."
	backupMessage = "Backups, restores, exports and imports are not implemented by globaltables; " +
		"every region holds a full replica of each global table, and a table can be copied with Scan and BatchWriteItem."
	globalTable2017Message = "Global tables version 2017.11.29 (CreateGlobalTable, UpdateGlobalTable, DescribeGlobalTable, ListGlobalTables and their settings) " +
		"is not implemented by globaltables; it implements version 2019.11.21: add or remove replicas with UpdateTable ReplicaUpdates, and see them in DescribeTable's Replicas."
	autoScalingMessage = "Auto scaling is not implemented by globaltables: capacity is not enforced, " +
		"so tables behave as on-demand; set ProvisionedThroughput with UpdateTable if a tool needs the figures."
	kinesisMessage = "Kinesis Data Streams destinations are not implemented by globaltables; " +
		"read item changes through the DynamoDB Streams API instead."
	contributorInsightsMessage = "CloudWatch Contributor Insights is not implemented by globaltables; " +
		"the region's status endpoint reports per-table item counts and sizes."
	resourcePolicyMessage = "Resource-based policies are not implemented by globaltables; " +
		"access is controlled by the region's own configuration."
)

// unsupportedOps maps each unimplemented operation to its message.
var unsupportedOps = map[string]string{
	"ExecuteStatement":      partiQLMessage,
	"BatchExecuteStatement": partiQLMessage,
	"ExecuteTransaction":    partiQLMessage,

	"CreateBackup":              backupMessage,
	"DescribeBackup":            backupMessage,
	"DeleteBackup":              backupMessage,
	"ListBackups":               backupMessage,
	"RestoreTableFromBackup":    backupMessage,
	"RestoreTableToPointInTime": backupMessage,
	"UpdateContinuousBackups":   backupMessage,
	"ExportTableToPointInTime":  backupMessage,
	"DescribeExport":            backupMessage,
	"ListExports":               backupMessage,
	"ImportTable":               backupMessage,
	"DescribeImport":            backupMessage,
	"ListImports":               backupMessage,

	"CreateGlobalTable":           globalTable2017Message,
	"UpdateGlobalTable":           globalTable2017Message,
	"DescribeGlobalTable":         globalTable2017Message,
	"ListGlobalTables":            globalTable2017Message,
	"DescribeGlobalTableSettings": globalTable2017Message,
	"UpdateGlobalTableSettings":   globalTable2017Message,

	"DescribeTableReplicaAutoScaling": autoScalingMessage,
	"UpdateTableReplicaAutoScaling":   autoScalingMessage,

	"EnableKinesisStreamingDestination":   kinesisMessage,
	"DisableKinesisStreamingDestination":  kinesisMessage,
	"DescribeKinesisStreamingDestination": kinesisMessage,
	"UpdateKinesisStreamingDestination":   kinesisMessage,

	"DescribeContributorInsights": contributorInsightsMessage,
	"UpdateContributorInsights":   contributorInsightsMessage,
	"ListContributorInsights":     contributorInsightsMessage,

	"GetResourcePolicy":    resourcePolicyMessage,
	"PutResourcePolicy":    resourcePolicyMessage,
	"DeleteResourcePolicy": resourcePolicyMessage,
}

// unknownOperationFor returns the UnknownOperationException for an
// operation name: with the reason and alternative for a DynamoDB
// operation globaltables does not implement, without a message otherwise.
func unknownOperationFor(name string) *Error {
	e := UnknownOperation()
	e.Message = unsupportedOps[name]
	return e
}

// TableNotFound returns the TableNotFoundException that the backup
// operations give for a missing table (where the others give
// ResourceNotFoundException).
func TableNotFound(name string) *Error {
	return newError(nsDynamo+"TableNotFoundException", http.StatusBadRequest, "Table not found: %s", name)
}

type describeContinuousBackupsInput struct {
	TableName *string `json:"TableName"`
}

type continuousBackupsOutput struct {
	ContinuousBackupsDescription continuousBackupsDescription `json:"ContinuousBackupsDescription"`
}

type continuousBackupsDescription struct {
	ContinuousBackupsStatus        string                 `json:"ContinuousBackupsStatus"`
	PointInTimeRecoveryDescription pointInTimeDescription `json:"PointInTimeRecoveryDescription"`
}

type pointInTimeDescription struct {
	PointInTimeRecoveryStatus string `json:"PointInTimeRecoveryStatus"`
}

// describeContinuousBackups answers truthfully that a table has neither
// continuous backups nor point-in-time recovery. Tools such as Terraform
// call it for every table they manage.
func (s *Server) describeContinuousBackups(ctx context.Context, body []byte) (any, error) {
	var in describeContinuousBackupsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := requireTableName(in.TableName); err != nil {
		return nil, err
	}
	c := &checker{}
	c.tableName("tableName", in.TableName)
	if err := c.err(); err != nil {
		return nil, err
	}
	t, err := s.db.Table(*in.TableName)
	if errors.Is(err, store.ErrTableNotFound) || (err == nil && t.Status == "DELETING") {
		return nil, TableNotFound(*in.TableName)
	}
	if err != nil {
		return nil, fmt.Errorf("look up table %s: %w", *in.TableName, err)
	}
	return continuousBackupsOutput{ContinuousBackupsDescription: continuousBackupsDescription{
		ContinuousBackupsStatus:        "DISABLED",
		PointInTimeRecoveryDescription: pointInTimeDescription{PointInTimeRecoveryStatus: "DISABLED"},
	}}, nil
}

// describeGlobalTableUnsupported answers DescribeGlobalTable, of the 2017
// global tables API, which DynamoDB itself no longer offers for new tables.
func (s *Server) describeGlobalTableUnsupported(ctx context.Context, body []byte) (any, error) {
	return nil, unknownOperationFor("DescribeGlobalTable")
}

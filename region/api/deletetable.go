package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/globaltables/globaltables/store"
)

// DeleteTable.

// deleteTable implements DeleteTable. The response describes the table as
// DELETING; the table is gone (DescribeTable answers
// ResourceNotFoundException, and its name can be reused) by the time the
// call returns, because the store removes the metadata and purges the rows
// before returning.
func (s *Server) deleteTable(ctx context.Context, body []byte) (any, error) {
	var in tableNameInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	name := *in.TableName
	// Marking the table DELETING first makes the protection and index
	// checks atomic with respect to other metadata changes, and stops item
	// operations (which treat DELETING tables as missing) right away. A
	// table left DELETING by a failed delete can be deleted again.
	marked, err := s.updateControlTable(name, func(t *store.Table) error {
		if t.Extra[extraDeletionProtection] == "true" {
			return Validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
		}
		if t.Status == store.StatusCreating || s.creatingNow(name) {
			return ResourceInUse("Attempt to change a resource which is still in use: Table is being created: %s", name)
		}
		for _, ix := range t.GSIs {
			if ix.Status != store.StatusActive && ix.Status != "" {
				return ResourceInUse("Attempt to change a resource which is still in use: Cannot delete table while indexes are being created, updated, or deleted.")
			}
		}
		t.Status = store.StatusDeleting
		return nil
	})
	if err != nil {
		return nil, err
	}
	d := s.tableDescription(marked)
	if isGlobal(marked) {
		// Deleting a replica of a global table removes this region from
		// the table's replicas; the other regions keep theirs.
		if err := s.removeSelf(name); err != nil {
			return nil, err
		}
		return deletedTableOutput{deletedDescription(d)}, nil
	}
	if err := s.db.DeleteTable(name); err != nil {
		if errors.Is(err, store.ErrTableNotFound) {
			return nil, tableNotFound(name)
		}
		return nil, fmt.Errorf("delete table %s: %w", name, err)
	}
	s.markTransient(name, store.StatusDeleting, d)
	return deletedTableOutput{deletedDescription(d)}, nil
}

// deletedTableOutput is DeleteTable's response. DynamoDB describes a table
// being deleted with a subset of DescribeTable's members: its name, status,
// size and throughput and identity, but not its key schema, attribute
// definitions, indexes or creation time.
type deletedTableOutput struct {
	TableDescription deletedTableDescription `json:"TableDescription"`
}

type deletedTableDescription struct {
	TableName                 string                            `json:"TableName"`
	TableStatus               string                            `json:"TableStatus"`
	ProvisionedThroughput     *ProvisionedThroughputDescription `json:"ProvisionedThroughput,omitempty"`
	TableSizeBytes            int64                             `json:"TableSizeBytes"`
	ItemCount                 int64                             `json:"ItemCount"`
	TableArn                  string                            `json:"TableArn"`
	TableID                   string                            `json:"TableId,omitempty"`
	BillingModeSummary        *BillingModeSummary               `json:"BillingModeSummary,omitempty"`
	DeletionProtectionEnabled bool                              `json:"DeletionProtectionEnabled"`
}

// deletedDescription is the part of d that DeleteTable returns.
func deletedDescription(d *TableDescription) deletedTableDescription {
	return deletedTableDescription{
		TableName:                 d.TableName,
		TableStatus:               d.TableStatus,
		ProvisionedThroughput:     d.ProvisionedThroughput,
		TableSizeBytes:            d.TableSizeBytes,
		ItemCount:                 d.ItemCount,
		TableArn:                  d.TableArn,
		TableID:                   d.TableID,
		BillingModeSummary:        d.BillingModeSummary,
		DeletionProtectionEnabled: d.DeletionProtectionEnabled,
	}
}

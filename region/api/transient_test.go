package api_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/region/api"
	"github.com/globaltables/globaltables/region/regiontest"
)

// With a transient status delay, tables pass through CREATING, UPDATING
// and DELETING as in DynamoDB, and the SDK's waiters wait for them.
func TestTransientStatusDelay_TablesPassThroughTransientStatuses(t *testing.T) {
	const delay = 700 * time.Millisecond
	r := startRegionWith(t, api.Config{TransientStatusDelay: delay}, nil)
	ctx := context.Background()
	out, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("Slow"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.TableDescription.TableStatus != types.TableStatusCreating {
		t.Fatalf("CreateTable answered %s, want CREATING", out.TableDescription.TableStatus)
	}
	// While CREATING, items cannot be written and the table cannot be
	// deleted. (The status may have passed already on a loaded machine;
	// then only the waiter below is checked.)
	_, perr := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Slow"), Item: item{"id": S("a")}})
	d, _ := r.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Slow")})
	if d != nil && d.Table.TableStatus == types.TableStatusCreating {
		wantAPIError(t, perr, "ResourceNotFoundException", "")
	}
	w := dynamodb.NewTableExistsWaiter(r.Client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Slow")}, 30*time.Second); err != nil {
		t.Fatalf("waiting for ACTIVE: %v", err)
	}
	put(t, r.Client, "Slow", item{"id": S("a")})

	up, err := r.Client.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("Slow"), BillingMode: types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}})
	if err != nil {
		t.Fatal(err)
	}
	if up.TableDescription.TableStatus != types.TableStatusUpdating {
		t.Fatalf("UpdateTable answered %s, want UPDATING", up.TableDescription.TableStatus)
	}
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Slow")}, 30*time.Second); err != nil {
		t.Fatalf("waiting for ACTIVE after update: %v", err)
	}

	del, err := r.Client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("Slow")})
	if err != nil {
		t.Fatal(err)
	}
	if del.TableDescription.TableStatus != types.TableStatusDeleting {
		t.Fatalf("DeleteTable answered %s, want DELETING", del.TableDescription.TableStatus)
	}
	// DescribeTable shows DELETING, then the table is gone.
	regiontest.WaitFor(t, 30*time.Second, func() error {
		d, err := r.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Slow")})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Table.TableStatus != types.TableStatusDeleting {
			t.Fatalf("deleted table described as %s", d.Table.TableStatus)
		}
		return fmt.Errorf("still DELETING")
	})
}

// Without the setting, changes show at once.
func TestTransientStatusDelay_DefaultIsInstant(t *testing.T) {
	r := startRegion(t)
	out, err := r.Client.CreateTable(context.Background(), &dynamodb.CreateTableInput{TableName: aws.String("Fast"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}}})
	if err != nil || out.TableDescription.TableStatus != types.TableStatusActive {
		t.Fatalf("CreateTable: %v, status %v", err, out.TableDescription.TableStatus)
	}
}

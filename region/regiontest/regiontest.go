// Package regiontest holds helpers shared by the tests that drive regions
// through their DynamoDB endpoints: an SDK client with dummy credentials and
// a polling wait with a deadline. It is imported only by tests.
package regiontest

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// NewClient returns an aws-sdk-go-v2 DynamoDB client for an endpoint, with
// dummy credentials and retries off, so that a test sees each error exactly
// as the server sent it.
func NewClient(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

// WaitFor polls fn until it returns nil, and fails the test with fn's last
// error if that does not happen within timeout.
func WaitFor(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = fn(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

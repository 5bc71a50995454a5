package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/globaltables/globaltables/store/attr"
)

// Error is a DynamoDB API error: the type name the SDKs map to an exception
// class, DynamoDB's HTTP status, and the message.
type Error struct {
	// Type is the fully qualified error type sent as __type, for example
	// "com.amazon.coral.validate#ValidationException". SDKs use the part after
	// the '#' to choose the exception they raise.
	Type    string
	Status  int
	Message string
	// Reasons are TransactionCanceledException's CancellationReasons.
	Reasons []CancellationReason
	// Item is the item returned with ConditionalCheckFailedException when
	// the request asked for ReturnValuesOnConditionCheckFailure=ALL_OLD.
	Item attr.Item
}

// Error implements error.
func (e *Error) Error() string { return e.Code() + ": " + e.Message }

// Code is the short error code: the part of Type after '#'.
func (e *Error) Code() string {
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		return e.Type[i+1:]
	}
	return e.Type
}

// The error type namespaces DynamoDB uses. Validation, serialization and
// protocol errors come from the service framework ("coral"), the others from
// DynamoDB itself; SDKs only look at the part after '#', but a faithful
// namespace keeps scripts that match on the whole string working.
const (
	nsDynamo   = "com.amazonaws.dynamodb.v20120810#"
	nsValidate = "com.amazon.coral.validate#"
	nsService  = "com.amazon.coral.service#"
)

func newError(typ string, status int, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Type: typ, Status: status, Message: msg}
}

// Validation returns a ValidationException.
func Validation(format string, args ...any) *Error {
	return newError(nsValidate+"ValidationException", http.StatusBadRequest, format, args...)
}

// Serialization returns a SerializationException, DynamoDB's answer to a
// body that is not JSON or has a member of the wrong JSON type.
func Serialization(format string, args ...any) *Error {
	return newError(nsService+"SerializationException", http.StatusBadRequest, format, args...)
}

// UnknownOperation returns an UnknownOperationException.
func UnknownOperation() *Error {
	return newError(nsService+"UnknownOperationException", http.StatusBadRequest, "")
}

// ResourceNotFound returns a ResourceNotFoundException.
func ResourceNotFound(format string, args ...any) *Error {
	return newError(nsDynamo+"ResourceNotFoundException", http.StatusBadRequest, format, args...)
}

// ResourceInUse returns a ResourceInUseException.
func ResourceInUse(format string, args ...any) *Error {
	return newError(nsDynamo+"ResourceInUseException", http.StatusBadRequest, format, args...)
}

// ConditionalCheckFailed returns a ConditionalCheckFailedException.
func ConditionalCheckFailed() *Error {
	return newError(nsDynamo+"ConditionalCheckFailedException", http.StatusBadRequest, "The conditional request failed")
}

// TransactionCanceled returns a TransactionCanceledException carrying one
// reason per action of the transaction, in order.
func TransactionCanceled(reasons []CancellationReason) *Error {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = r.Code
	}
	e := newError(nsDynamo+"TransactionCanceledException", http.StatusBadRequest,
		"Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", strings.Join(codes, ", "))
	e.Reasons = reasons
	return e
}

// IdempotentParameterMismatch returns the error for a ClientRequestToken
// reused with a different request.
func IdempotentParameterMismatch() *Error {
	return newError(nsDynamo+"IdempotentParameterMismatchException", http.StatusBadRequest,
		"Request token is already in use for a different request")
}

// ItemCollectionSizeLimitExceeded returns the error for a local secondary
// index's item collection that would grow past 10 GB.
func ItemCollectionSizeLimitExceeded() *Error {
	return newError(nsDynamo+"ItemCollectionSizeLimitExceededException", http.StatusBadRequest,
		"Item collection size limit exceeded")
}

// LimitExceeded returns a LimitExceededException.
func LimitExceeded(format string, args ...any) *Error {
	return newError(nsDynamo+"LimitExceededException", http.StatusBadRequest, format, args...)
}

// InternalServerError returns DynamoDB's 500 error. The message is generic;
// the cause goes to the log, not to the client.
func InternalServerError() *Error {
	return newError(nsDynamo+"InternalServerError", http.StatusInternalServerError, "Internal server error")
}

// StoreRefused returns DynamoDB's 500 error for a write the store refused
// for a reason the operator has to fix, a full disk (*store.DiskFullError:
// free and reserved space) or a failed flush to disk (*store.FlushError:
// the file and the cause; no writes until the region restarts), with the
// store's message: unlike other internal errors, the cause says nothing
// about the data, and a client retrying should know. The store logs these
// itself (when refusals start and end, a failed flush once), not each one.
func StoreRefused(err error) *Error {
	return newError(nsDynamo+"InternalServerError", http.StatusInternalServerError, "%s", err.Error())
}

// RequestTooLarge is the error for a body over DynamoDB's 16 MB limit.
func RequestTooLarge() *Error {
	return newError(nsService+"RequestEntityTooLargeException", http.StatusRequestEntityTooLarge,
		"Request entity too large")
}

// CancellationReason is one entry of TransactionCanceledException's
// CancellationReasons: "None" for an action that would have succeeded.
type CancellationReason struct {
	Code    string    `json:"Code"`
	Message string    `json:"Message,omitempty"`
	Item    attr.Item `json:"Item,omitempty"`
}

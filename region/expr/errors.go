package expr

import (
	"errors"
	"fmt"
)

// ErrValidation is matched (errors.Is) by every *Error: all of this
// package's errors are DynamoDB ValidationExceptions.
var ErrValidation = errors.New("expr: validation error")

// Error is a DynamoDB ValidationException. Message is the text DynamoDB
// returns, word for word, so the HTTP layer can send it unchanged.
type Error struct {
	Message string
	cause   error // the store/attr error behind an arithmetic failure, if any
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrValidation) true for every *Error.
func (e *Error) Is(target error) bool { return target == ErrValidation }

// Unwrap returns the store/attr error behind a number overflow, if any.
func (e *Error) Unwrap() error { return e.cause }

func newError(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// Messages DynamoDB returns when an update is applied to an item. They are
// not prefixed with "Invalid UpdateExpression:".
const (
	msgMissingOperand = "The provided expression refers to an attribute that does not exist in the item"
	msgBadOperandType = "An operand in the update expression has an incorrect data type"
	msgInvalidPath    = "The document path provided in the update expression is invalid for update"
)

// Limits DynamoDB places on expressions (Developer Guide, "Constraints",
// "Expression parameters"), and the parser's own guard.
const (
	// maxExpressionBytes is the largest expression string, in bytes, as sent
	// (placeholders are not substituted before counting).
	maxExpressionBytes = 4096
	// maxOperators is the number of operators and functions one expression
	// may contain.
	maxOperators = 300
	// maxInOperands is the number of operands after IN.
	maxInOperands = 100
	// maxPathDepth is the number of elements a document path may have.
	maxPathDepth = 32
)

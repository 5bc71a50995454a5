package attr

import "errors"

// ErrorKind says which DynamoDB exception an *Error maps to.
type ErrorKind uint8

const (
	// KindValidation maps to com.amazon.coral.validate#ValidationException:
	// well-formed input that breaks a DynamoDB rule (empty set, bad number...).
	KindValidation ErrorKind = iota + 1
	// KindSerialization maps to com.amazon.coral.service#SerializationException:
	// JSON of the wrong shape (a number where a string is required, bad base64,
	// malformed JSON).
	KindSerialization
)

// String returns the DynamoDB exception name for k.
func (k ErrorKind) String() string {
	switch k {
	case KindValidation:
		return "ValidationException"
	case KindSerialization:
		return "SerializationException"
	default:
		return "UnknownError"
	}
}

// Error is an error DynamoDB reports to the client verbatim. Message is the
// exact text DynamoDB uses, so the HTTP layer can copy it into the response.
type Error struct {
	Kind    ErrorKind
	Message string
}

// Error returns the DynamoDB message.
func (e *Error) Error() string { return e.Message }

// Is reports whether target is an *Error with the same kind and message, so
// errors.Is(err, attr.ErrNumberOverflow) works on errors built at run time.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Message == e.Message
}

func validationError(msg string) *Error    { return &Error{Kind: KindValidation, Message: msg} }
func serializationError(msg string) *Error { return &Error{Kind: KindSerialization, Message: msg} }

// DynamoDB's messages, copied from its responses (as recorded by dynalite's
// test suite, which runs against the real service). Note the double space in
// the empty-set messages and the missing space in the BS duplicate message:
// they are DynamoDB's.
const (
	paramsInvalid = "One or more parameter values were invalid: "

	msgValueEmpty     = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
	msgValueMultiType = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
	msgNullFalse      = paramsInvalid + "Null attribute value types must have the value of true"
	msgEmptySS        = paramsInvalid + "An string set  may not be empty"
	msgEmptyNS        = paramsInvalid + "An number set  may not be empty"
	msgEmptyBS        = paramsInvalid + "Binary sets should not be empty"
	msgDupNS          = "Input collection contains duplicates"
	msgNesting        = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"

	msgNumberEmpty     = "The parameter cannot be converted to a numeric value"
	msgNumberInvalid   = "The parameter cannot be converted to a numeric value: "
	msgNumberPrecision = "Attempting to store more than 38 significant digits in a Number"
	msgNumberOverflow  = "Number overflow. Attempting to store a number with magnitude larger than supported range"
	msgNumberUnderflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range"

	// Not a DynamoDB message: DynamoDB's behaviour for a JSON null inside an
	// SS or BS is not documented anywhere we could check.
	msgNullSetMember = paramsInvalid + "Set members may not be null"
)

// Sentinel errors for the rules whose message does not depend on the input.
// Match them with errors.Is; the HTTP layer reads Kind and Message.
var (
	// ErrValueEmpty is reported for an attribute value with no type set ({}).
	ErrValueEmpty = validationError(msgValueEmpty)
	// ErrValueMultiType is reported for an attribute value with more than one type set.
	ErrValueMultiType = validationError(msgValueMultiType)
	// ErrNullFalse is reported for {"NULL": false}.
	ErrNullFalse = validationError(msgNullFalse)
	// ErrEmptyStringSet is reported for an SS with no members.
	ErrEmptyStringSet = validationError(msgEmptySS)
	// ErrEmptyNumberSet is reported for an NS with no members.
	ErrEmptyNumberSet = validationError(msgEmptyNS)
	// ErrEmptyBinarySet is reported for a BS with no members.
	ErrEmptyBinarySet = validationError(msgEmptyBS)
	// ErrDuplicateNumbers is reported for an NS with two numerically equal members.
	ErrDuplicateNumbers = validationError(msgDupNS)
	// ErrNesting is reported for M and L values nested deeper than MaxNesting.
	ErrNesting = validationError(msgNesting)
	// ErrNumberEmpty is reported for an empty string where a number is required.
	ErrNumberEmpty = validationError(msgNumberEmpty)
	// ErrNumberPrecision is reported for a number with more than 38 significant digits.
	ErrNumberPrecision = validationError(msgNumberPrecision)
	// ErrNumberOverflow is reported for a magnitude of 1E+126 or more.
	ErrNumberOverflow = validationError(msgNumberOverflow)
	// ErrNumberUnderflow is reported for a non-zero magnitude below 1E-130.
	ErrNumberUnderflow = validationError(msgNumberUnderflow)
)

// ErrCorrupt is wrapped by every error from the binary and key decoders:
// the bytes were not written by AppendItem, AppendValue or AppendKey.
var ErrCorrupt = errors.New("attr: corrupt encoding")

// Package attr owns DynamoDB attribute values: the Value and Item types,
// exact decimal numbers, the wire JSON codec, the binary storage codec, the
// order-preserving key encoding, comparison and equality, DynamoDB's item
// size rules and its validation rules with their exact error messages.
//
// It is pure: no I/O, no clock, no logging, no package-level mutable state.
// store builds on it (rows, keys, change records); region/expr evaluates
// expressions over its values; region/api decodes requests with its JSON
// codec and copies its *Error messages into responses.
//
// # Invariants
//
//   - Canonical numbers. An N (and every NS member) holds the canonical
//     string ParseNumber returns: plain notation as DynamoDB renders it
//     ("1E2" is "100", "-0" is "0", "01.50" is "1.5"), at most 38
//     significant digits, magnitude 1E-130 to 9.99...E+125 or zero.
//     Arithmetic is exact (apd, never float64). Because the form is
//     canonical, numerically equal numbers are equal strings.
//   - Key encodings sort like DynamoDB. For two values of one key type,
//     bytes.Compare(AppendKey(nil, a), AppendKey(nil, b)) equals
//     Compare(a, b): S and B by bytes, N numerically (negatives and
//     exponents included). A key encoding is never a prefix of another, so
//     keys can be concatenated (partition key, then sort key).
//   - Deterministic binary encoding. AppendItem writes map keys in byte
//     order and set members in their stored order, so equal items (same
//     attributes, same set member order) encode to equal bytes, and
//     DecodeItem followed by AppendItem gives back the input bytes.
//   - Decoders never panic. DecodeItem, DecodeValue, DecodeKey and the JSON
//     decoder return errors on any input; the binary ones wrap ErrCorrupt.
//   - Values are immutable once built. Functions here never modify their
//     arguments; Clone makes a deep copy for code that wants to.
//
// # Errors
//
// Errors a client should see are *Error values. Kind says which DynamoDB
// exception they map to: KindSerialization for JSON of the wrong shape
// (checked while parsing, so it wins over any validation problem in the same
// input), KindValidation for values that break a rule. Message is
// DynamoDB's text, taken from the service's responses as recorded in
// dynalite's test suite.
package attr

// Package api serves DynamoDB's JSON 1.0 protocol over HTTP for one region,
// so that the AWS SDKs and the AWS CLI work against a region unmodified.
//
// A request is a POST whose X-Amz-Target header names the operation
// ("DynamoDB_20120810.PutItem") and whose body is the JSON input. Every
// response carries x-amzn-RequestId and x-amz-crc32 (the CRC-32 of the body,
// which SDKs verify). Errors are {"__type": "...#Code", "message": "..."}
// with DynamoDB's HTTP status, so each SDK raises its typed exception.
//
// Authentication is optional: with Config.Auth set (the region passes a
// sigv4.Verifier when its topology has credentials), every API request must
// be signed with SigV4 by a known key, and is refused before dispatch with
// DynamoDB's MissingAuthenticationToken, IncompleteSignature,
// UnrecognizedClient or InvalidSignature error otherwise; without it, any
// Authorization header, or none, is accepted.
//
// Validation follows DynamoDB's layering, because clients and tests match
// on the messages: first the JSON shape (SerializationException), then the
// declared constraints, reported together as "N validation errors detected:
// Value ... at '...' failed to satisfy constraint: ..." (checker), then each
// operation's own rules, then what needs the table (ResourceNotFound, key
// schema checks), and last the conditions evaluated against stored items.
//
// Every item write, whichever operation asks for it (PutItem, UpdateItem,
// DeleteItem, BatchWriteItem, TransactWriteItems), goes through one path,
// writeAction, inside one store transaction: the condition is evaluated on
// the current item, the new item is validated, and the store writes it with
// a new version and a change record. A transaction's actions share one store
// transaction, so a cancelled transaction leaves no trace.
//
// The pre-expression "legacy" parameters (Expected, AttributeUpdates,
// KeyConditions, QueryFilter, ScanFilter, ConditionalOperator,
// AttributesToGet) are validated here (legacy.go) with DynamoDB's messages
// and translated by region/expr onto the expression engine, so they are
// evaluated by the same code as expressions. Operations DynamoDB has and
// globaltables does not answer UnknownOperationException with a message
// naming the alternative (unsupported.go). wire.go holds DynamoDB's HTTP
// behaviour around the protocol: content types, CORS, oversized bodies.
// docs/api.md records the choices made where DynamoDB's documentation is
// silent.
//
// With Config.Metrics set, each request's outcome (success or DynamoDB
// error code) and duration go to the observer resolved for its operation
// when the server started, and every capacity unit a request consumes is
// reported by table, whether or not the client asked for
// ReturnConsumedCapacity (metrics.go).
package api

// Package sigv4 checks that a request is signed with AWS Signature Version
// 4 by one of a set of known access keys, and says why not with DynamoDB's
// error codes and messages, so that SDKs and the AWS CLI raise the
// exceptions they raise against DynamoDB.
//
// It does not implement the signing math: it parses the Authorization
// header, rebuilds a request holding exactly the headers the client says
// it signed, signs that with aws-sdk-go-v2's own signer (aws/signer/v4) and
// the secret of the claimed access key, and compares the two signatures in
// constant time. Any difference in method, path, query, a signed header or
// the body changes the signature.
//
// The verifier knows nothing of operations or targets: DynamoDB and
// DynamoDB Streams requests, and the region's control endpoints, are all
// signed for the service "dynamodb" and checked the same way. It accepts
// the region named in the request's credential scope; which keys a region
// accepts is decided by the credentials it is given.
//
// Invariants: a secret never leaves the Verifier (Credential's String
// redacts it, errors never contain it); a request whose X-Amz-Date is more
// than MaxSkew away from the verifier's clock is refused, which bounds how
// long a captured request can be replayed.
//
// Limits: presigned URLs (a signature in the query string) are not
// accepted, and a request must carry X-Amz-Date (every SDK sends it): a
// client that signs only the Date header is refused.
package sigv4

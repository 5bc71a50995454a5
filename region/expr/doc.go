// Package expr implements DynamoDB's expression language: condition and
// filter expressions, key condition expressions, update expressions and
// projection expressions. It parses them with DynamoDB's validation errors,
// evaluates conditions against an item, applies updates, and projects items.
//
// # What it owns and what it leaves
//
// expr owns the grammar, the placeholder bookkeeping of one request
// (Context), the parse-time checks DynamoDB makes, and the semantics of
// evaluation and update. Attribute values, their comparison, arithmetic and
// size rules come from store/attr. The API layer (region/api) decides which
// expressions a request may carry, checks values against key types
// ("Condition parameter type does not match schema type"), rejects updates
// of key attributes, and enforces item size limits on the result of Apply.
//
// # Design
//
// A hand-written lexer feeds recursive-descent parsers, one per grammar,
// sharing path parsing and error reporting. A parser generator was not
// used: DynamoDB's messages depend on exactly which token a parse stops at
// ("Syntax error; token: "x", near: "a x b"", where near is the token
// before, the bad token and the token after) and on which of several
// semantic errors wins, and both are easier to match in plain code. The
// condition grammar needs one token of lookahead everywhere except at a
// "(" that starts a predicate, which may open a condition "(a = b)" or an
// operand "(a) = b"; that parser accepts either inside the parentheses and
// its callers check which one they got.
//
// Parsing produces a small AST (node). A second pass, the checker, resolves
// #name and :value placeholders, marks them used in the Context, and applies
// DynamoDB's semantic checks. DynamoDB reports a single error, chosen by a
// fixed priority that is not source order (a reserved word anywhere beats an
// undefined placeholder earlier on); the checkers keep one slot per kind of
// error and report the highest non-empty slot. The priorities and messages
// follow dynalite's test suite, which was recorded against the real service,
// and, where dynalite is silent, DynamoDB Local.
//
// # Legacy parameters
//
// legacy.go translates the pre-expression parameters (Expected, QueryFilter,
// ScanFilter, KeyConditions' operators, AttributeUpdates) node by node into
// the trees the parsers build, so that Eval and Apply serve both. The only
// difference kept is the legacy API's own: AttributeUpdates' ADD appends to
// lists, and its type errors have their own message (Update.legacy).
//
// # Invariants
//
//   - No input makes a parser, Eval, Apply or ProjectPaths panic; fuzz
//     targets check this.
//   - Parsed expressions (Condition, Update, Projection, KeyCondition) keep
//     no reference to their Context and are immutable, so they may be used
//     concurrently.
//   - Update.Apply never modifies its input item, and its result shares no
//     memory with the input or with the request's values.
//   - Every error is an *Error whose Message is DynamoDB's text, and
//     errors.Is(err, ErrValidation) holds.
//
// # Semantics worth knowing
//
// Comparisons between values of different types are false, not errors, and
// <, <=, >, >= and BETWEEN order only N, S and B. a <> :v is true when a is
// missing. size() counts UTF-16 code units of a string (as DynamoDB's Java
// implementation does), bytes of a binary, and members of a set, list or
// map; size() of anything else, or of nothing, is missing, so every
// comparison with it is false.
//
// Update values are computed against the item before the update, and list
// indexes refer to the lists before the update: REMOVE l[0], l[1] removes
// the first two elements; SET beyond the end of a list appends, in index
// order. DELETE that empties a set removes the attribute. Paths of one
// update may not overlap (a and a.b) or conflict (a.b and a[0]); paths of
// one projection may not either.
//
// When two paths overlap, DynamoDB names the earlier path first. (dynalite's
// notes say the service has at times named a different second path; we
// keep the plain pair, which all recorded cases agree with.)
package expr

package api

import (
	"regexp"
	"strings"

	"github.com/globaltables/globaltables/region/expr"
	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// DynamoDB's item and key limits.
const (
	maxItemBytes      = 400 * 1024
	maxHashKeyBytes   = 2048
	maxRangeKeyBytes  = 1024
	maxBatchGetKeys   = 100
	maxBatchWriteReqs = 25
	maxTransactItems  = 100
	maxTransactBytes  = 4 << 20
)

// exprInput is the part of a request that carries expressions.
type exprInput struct {
	Names  map[string]string     `json:"ExpressionAttributeNames"`
	Values map[string]attr.Value `json:"ExpressionAttributeValues"`
}

var (
	namePlaceholder  = regexp.MustCompile(`^#[0-9a-zA-Z_]+$`)
	valuePlaceholder = regexp.MustCompile(`^:[0-9a-zA-Z_]+$`)
)

// context validates ExpressionAttributeNames and ExpressionAttributeValues
// the way DynamoDB does before any expression is parsed, and returns the
// context the expressions are parsed in. present names the expression
// parameters the request set (e.g. "ConditionExpression"); valueExprs are
// the ones that can use values (all but ProjectionExpression).
func (in *exprInput) context(present []string, valueExprs []string) (*expr.Context, error) {
	if in.Names != nil && len(present) == 0 {
		return nil, Validation("ExpressionAttributeNames can only be specified when using expressions")
	}
	if in.Values != nil && len(valueExprs) > 0 && !anyPresent(present, valueExprs) {
		verb := "is"
		if len(valueExprs) > 1 {
			verb = "are"
		}
		return nil, Validation("ExpressionAttributeValues can only be specified when using expressions: %s %s null",
			strings.Join(valueExprs, " and "), verb)
	}
	if in.Names != nil {
		if len(in.Names) == 0 {
			return nil, Validation("ExpressionAttributeNames must not be empty")
		}
		for k := range in.Names {
			if !namePlaceholder.MatchString(k) {
				return nil, Validation("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
			}
		}
	}
	if in.Values != nil {
		if len(in.Values) == 0 {
			return nil, Validation("ExpressionAttributeValues must not be empty")
		}
		for k := range in.Values {
			if !valuePlaceholder.MatchString(k) {
				return nil, Validation("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
			}
		}
	}
	return expr.NewContext(in.Names, in.Values), nil
}

func anyPresent(present, want []string) bool {
	for _, p := range present {
		for _, w := range want {
			if p == w {
				return true
			}
		}
	}
	return false
}

// presentExprs lists the names of the expression parameters that are set.
func presentExprs(pairs ...any) []string {
	var out []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if p, _ := pairs[i+1].(*string); p != nil {
			out = append(out, pairs[i].(string))
		}
	}
	return out
}

// exprError converts a parse or evaluation error of the expression package
// to a ValidationException.
func exprError(err error) error {
	if err == nil {
		return nil
	}
	return Validation("%s", err.Error())
}

// keyOf extracts the table's key attributes from an item.
func keyOf(t *store.Table, it attr.Item) attr.Item {
	k := attr.Item{t.Hash.Name: it[t.Hash.Name]}
	if t.Range != nil {
		k[t.Range.Name] = it[t.Range.Name]
	}
	return k
}

// checkKey validates a Key parameter against the table's key schema.
func checkKey(t *store.Table, key attr.Item) error {
	want := 1
	if t.Range != nil {
		want = 2
	}
	if len(key) != want {
		return Validation("The provided key element does not match the schema")
	}
	if err := checkKeyPiece(key, t.Hash, true); err != nil {
		return err
	}
	if t.Range != nil {
		return checkKeyPiece(key, *t.Range, false)
	}
	return nil
}

func checkKeyPiece(key attr.Item, ke store.KeyElement, isHash bool) error {
	v, ok := key[ke.Name]
	if !ok || v.Type != ke.Type {
		return Validation("The provided key element does not match the schema")
	}
	if emptyKeyValue(v) {
		return Validation("One or more parameter values were invalid: The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s",
			emptyWord(v.Type), ke.Name)
	}
	return checkKeySize(v, isHash)
}

func emptyKeyValue(v attr.Value) bool {
	return (v.Type == attr.TypeS && v.S == "") || (v.Type == attr.TypeB && len(v.B) == 0)
}

func emptyWord(t attr.Type) string {
	if t == attr.TypeB {
		return "binary"
	}
	return "string"
}

func checkKeySize(v attr.Value, isHash bool) error {
	var n int
	switch v.Type {
	case attr.TypeS:
		n = len(v.S)
	case attr.TypeB:
		n = len(v.B)
	default:
		return nil
	}
	if isHash && n > maxHashKeyBytes {
		return Validation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes")
	}
	if !isHash && n > maxRangeKeyBytes {
		return Validation("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
	}
	return nil
}

// checkItem validates a whole item to be stored: its key attributes, the
// types of its secondary index keys, and its size.
func checkItem(t *store.Table, it attr.Item, sizeMsg string) error {
	for i, ke := range tableKeys(t) {
		v, ok := it[ke.Name]
		if !ok {
			return Validation("One or more parameter values were invalid: Missing the key %s in the item", ke.Name)
		}
		if v.Type != ke.Type {
			return Validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s",
				ke.Name, ke.Type, v.Type)
		}
		if emptyKeyValue(v) {
			return Validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s",
				emptyWord(v.Type), ke.Name)
		}
		if err := checkKeySize(v, i == 0); err != nil {
			return err
		}
	}
	if err := checkIndexKeys(t, it); err != nil {
		return err
	}
	if !attrNamesFit(it) {
		return Validation("1 validation error detected: Attribute name is too large, must be less than 65536 bytes")
	}
	if attr.ItemSize(it) > maxItemBytes {
		return Validation("%s", sizeMsg)
	}
	return nil
}

// checkIndexKeys rejects an item whose secondary index key attributes have
// the wrong type or are empty. An item without them is fine: it is simply not
// in that index (a sparse index).
func checkIndexKeys(t *store.Table, it attr.Item) error {
	check := func(idx store.Index, ke store.KeyElement) error {
		v, ok := it[ke.Name]
		if !ok {
			return nil
		}
		if v.Type != ke.Type {
			return Validation("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s",
				ke.Name, ke.Type, v.Type, idx.Name)
		}
		if emptyKeyValue(v) {
			return Validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty %s value. IndexName: %s, IndexKey: %s",
				emptyWord(v.Type), idx.Name, ke.Name)
		}
		return nil
	}
	for _, group := range [][]store.Index{t.GSIs, t.LSIs} {
		for _, idx := range group {
			if err := check(idx, idx.Hash); err != nil {
				return err
			}
			if idx.Range != nil {
				if err := check(idx, *idx.Range); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// tableKeys returns the table's key elements, hash first.
func tableKeys(t *store.Table) []store.KeyElement {
	if t.Range == nil {
		return []store.KeyElement{t.Hash}
	}
	return []store.KeyElement{t.Hash, *t.Range}
}

// checkUpdatePaths rejects update expressions that touch key attributes.
func checkUpdatePaths(t *store.Table, paths []expr.Path) error {
	for _, p := range paths {
		if len(p) == 0 {
			continue
		}
		for _, ke := range tableKeys(t) {
			if p[0].Name != ke.Name || p[0].IsIndex {
				continue
			}
			if len(p) > 1 {
				return Validation("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: %s", ke.Name)
			}
			return Validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", ke.Name)
		}
	}
	return nil
}

// checkKeyPaths refuses paths of a projection or filter that reach into a
// key attribute of the table or of one of its indexes (k.a, k[0]): key
// attributes are scalars. Table keys are checked before index keys, as
// DynamoDB reports them.
func checkKeyPaths(t *store.Table, paths []expr.Path) error {
	nested := map[string]bool{}
	for _, p := range paths {
		if len(p) > 1 {
			nested[p[0].Name] = true
		}
	}
	if len(nested) == 0 {
		return nil
	}
	for _, ke := range tableKeys(t) {
		if nested[ke.Name] {
			return Validation("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: %s", ke.Name)
		}
	}
	for _, group := range [][]store.Index{t.GSIs, t.LSIs} {
		for _, idx := range group {
			for _, ke := range []*store.KeyElement{&idx.Hash, idx.Range} {
				if ke != nil && nested[ke.Name] {
					return Validation("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: %s", ke.Name)
				}
			}
		}
	}
	return nil
}

// maxAttrNameBytes is the size limit of an attribute name (at any depth):
// DynamoDB's documented 64 KB, which it enforces as less than 65536 bytes.
const maxAttrNameBytes = 65535

// attrNamesFit reports whether every attribute name of an item, map keys
// at every depth included, is within maxAttrNameBytes.
func attrNamesFit(it attr.Item) bool {
	for name, v := range it {
		if len(name) > maxAttrNameBytes || !valueNamesFit(v) {
			return false
		}
	}
	return true
}

func valueNamesFit(v attr.Value) bool {
	switch v.Type {
	case attr.TypeM:
		return attrNamesFit(v.M)
	case attr.TypeL:
		for _, e := range v.L {
			if !valueNamesFit(e) {
				return false
			}
		}
	}
	return true
}

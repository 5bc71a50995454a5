package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// decode unmarshals a request body into v and turns JSON errors into the
// errors DynamoDB gives: a body of the wrong shape is a
// SerializationException, an invalid attribute value (an empty set, a bad
// number) a ValidationException.
func decode(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var ae *attr.Error
	if errors.As(err, &ae) {
		if ae.Kind == attr.KindSerialization {
			return Serialization("%s", ae.Message)
		}
		return Validation("%s", ae.Message)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return Serialization("%s", typeErrorMessage(te))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return Serialization("") // DynamoDB says no more about a body that is not JSON
	}
	return Serialization("%v", err)
}

// typeErrorMessage renders a JSON type mismatch the way DynamoDB's
// deserializer words it ("NUMBER_VALUE cannot be converted to String").
func typeErrorMessage(te *json.UnmarshalTypeError) string {
	var got string
	switch te.Value {
	case "number":
		got = "NUMBER_VALUE"
	case "string":
		got = "STRING_VALUE"
	case "bool":
		got = "TRUE_VALUE"
	case "array":
		return "Unrecognized collection type class java.lang." + javaType(te.Type)
	case "object":
		return "Start of structure or map found where not expected"
	default:
		got = strings.ToUpper(te.Value) + "_VALUE"
	}
	return got + " cannot be converted to " + javaType(te.Type)
}

func javaType(t reflect.Type) string {
	if t == nil {
		return "Object"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "String"
	case reflect.Bool:
		return "Boolean"
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return "Long"
	case reflect.Int32:
		return "Integer"
	case reflect.Float64, reflect.Float32:
		return "Double"
	case reflect.Slice:
		return "List"
	case reflect.Map, reflect.Struct:
		return "Map"
	}
	return t.Name()
}

// checker collects DynamoDB's constraint violations ("Value 'x' at
// 'tableName' failed to satisfy constraint: ...") and reports them the way
// DynamoDB does: all of them (up to ten) in one ValidationException.
type checker struct {
	errs []string
}

func (c *checker) fail(value any, path, constraint string) {
	if len(c.errs) >= 10 {
		return
	}
	c.errs = append(c.errs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", renderValue(value), path, constraint))
}

// renderValue formats a value as DynamoDB quotes it in constraint messages.
func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case *string:
		if x == nil {
			return "null"
		}
		return "'" + *x + "'"
	case *int64:
		if x == nil {
			return "null"
		}
		return "'" + strconv.FormatInt(*x, 10) + "'"
	case string:
		return "'" + x + "'"
	case []string:
		return "'[" + strings.Join(x, ", ") + "]'"
	default:
		return fmt.Sprintf("'%v'", x)
	}
}

// err returns the collected violations as one ValidationException, or nil.
func (c *checker) err() error {
	switch len(c.errs) {
	case 0:
		return nil
	case 1:
		return Validation("1 validation error detected: %s", c.errs[0])
	}
	return Validation("%d validation errors detected: %s", len(c.errs), strings.Join(c.errs, "; "))
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// tableName checks a table or index name against DynamoDB's pattern and
// length constraints.
func (c *checker) tableName(path string, name *string) {
	if name == nil {
		c.fail(nil, path, "Member must not be null")
		return
	}
	if !namePattern.MatchString(*name) {
		c.fail(*name, path, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	}
	if len(*name) < 3 {
		c.fail(*name, path, "Member must have length greater than or equal to 3")
	}
	if len(*name) > 255 {
		c.fail(*name, path, "Member must have length less than or equal to 255")
	}
}

// enum checks that a present value is one of allowed.
func (c *checker) enum(path string, v *string, allowed ...string) {
	if v == nil {
		return
	}
	for _, a := range allowed {
		if *v == a {
			return
		}
	}
	c.fail(*v, path, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// requireTableName rejects a request without a table name before anything
// else is looked at; a present name is checked with the other constraints.
func requireTableName(name *string) error {
	if name == nil {
		return Validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	return nil
}

// tableNotFound is the ResourceNotFoundException for a missing table.
func tableNotFound(name string) error {
	return ResourceNotFound("Requested resource not found: Table: %s not found", name)
}

// lookupTable returns the table named name, or DynamoDB's
// ResourceNotFoundException.
func (s *Server) lookupTable(name string) (*store.Table, error) {
	t, err := s.db.Table(name)
	if errors.Is(err, store.ErrTableNotFound) {
		return nil, ResourceNotFound("Requested resource not found")
	}
	if err != nil {
		return nil, fmt.Errorf("look up table %s: %w", name, err)
	}
	return t, nil
}

// activeTable is lookupTable for item operations, which fail on a table
// that is being created or deleted.
func (s *Server) activeTable(name string) (*store.Table, error) {
	t, err := s.lookupTable(name)
	if err != nil {
		return nil, err
	}
	if t.Status == "DELETING" || (s.cfg.TransientStatusDelay > 0 && s.creatingNow(name)) {
		return nil, ResourceNotFound("Requested resource not found")
	}
	return t, nil
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

// appendAnyJSON appends the JSON encoding of a small, reflection-friendly
// value such as ConsumedCapacity.
func appendAnyJSON(dst []byte, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

// renderAttr renders a scalar value as DynamoDB quotes it in messages:
// {N:5}, {S:abc}.
func renderAttr(v attr.Value) string {
	switch v.Type {
	case attr.TypeS:
		return "{S:" + v.S + "}"
	case attr.TypeN:
		return "{N:" + v.N + "}"
	case attr.TypeB:
		return "{B:" + string(v.B) + "}"
	}
	return "{" + v.Type.String() + "}"
}

// jsonObject appends a JSON object member by member, for responses encoded
// without reflection.
type jsonObject struct {
	dst []byte
	n   int
}

func (o *jsonObject) key(k string) {
	if o.n == 0 {
		o.dst = append(o.dst, '{')
	} else {
		o.dst = append(o.dst, ',')
	}
	o.n++
	o.dst = append(o.dst, '"')
	o.dst = append(o.dst, k...)
	o.dst = append(o.dst, '"', ':')
}

// item adds an item member, unless it is nil.
func (o *jsonObject) item(k string, it attr.Item) {
	if it == nil {
		return
	}
	o.key(k)
	o.dst = attr.AppendItemJSON(o.dst, it)
}

// any adds a member encoded by encoding/json.
func (o *jsonObject) any(k string, v any) {
	o.key(k)
	o.dst = appendAnyJSON(o.dst, v)
}

func (o *jsonObject) close() []byte {
	if o.n == 0 {
		return append(o.dst, '{', '}')
	}
	return append(o.dst, '}')
}

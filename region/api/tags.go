package api

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/globaltables/globaltables/store"
)

// Tags are kept in store.Table.Extra[extraTags] as a JSON object. They are
// metadata of the table in this region only.

// Tag limits, as DynamoDB documents them.
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// tagChars are the characters DynamoDB allows in tag keys and values:
// letters, digits, white space and _ . : / = + - @.
var tagChars = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// Tag is one tag of a resource.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type tagInput struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

type tagResourceInput struct {
	ResourceArn *string    `json:"ResourceArn"`
	Tags        []tagInput `json:"Tags"`
}

type untagResourceInput struct {
	ResourceArn *string  `json:"ResourceArn"`
	TagKeys     []string `json:"TagKeys"`
}

type listTagsOfResourceInput struct {
	ResourceArn *string `json:"ResourceArn"`
	NextToken   *string `json:"NextToken"`
}

type listTagsOfResourceOutput struct {
	Tags []Tag `json:"Tags"`
}

func tooManyTags() error {
	return Validation("Number of Tags exceed the current limit for the provided ResourceArn")
}

func invalidTagKey(k *string) error {
	return Validation("The Tag Key provided is invalid, Key: %s", deref(k))
}

// checkTagKey checks a key of TagResource, UntagResource or CreateTable.
func checkTagKey(k *string) error {
	if k == nil || *k == "" || utf8.RuneCountInString(*k) > maxTagKeyLen || !tagChars.MatchString(*k) {
		return invalidTagKey(k)
	}
	if strings.HasPrefix(*k, "aws:") {
		return Validation("Tag Key cannot be prefixed with aws:, Key: %s", *k)
	}
	return nil
}

// tagsRule checks the tags of a request and returns them as a map.
func tagsRule(tags []tagInput) (map[string]string, error) {
	out := make(map[string]string, len(tags))
	for _, tag := range tags {
		if err := checkTagKey(tag.Key); err != nil {
			return nil, err
		}
		if v := tag.Value; v == nil || utf8.RuneCountInString(*v) > maxTagValueLen || !tagChars.MatchString(*v) {
			return nil, Validation("The Tag Value provided is invalid, Value: %s", deref(v))
		}
		if _, dup := out[*tag.Key]; dup {
			return nil, Validation("Duplicate Tag Keys provided as input: Duplicate Tag Key found %s", *tag.Key)
		}
		out[*tag.Key] = *tag.Value
	}
	return out, nil
}

// tableTags returns a table's tags. The map is the caller's.
func tableTags(t *store.Table) map[string]string {
	tags := map[string]string{}
	if raw := t.Extra[extraTags]; raw != "" {
		// Written only by setTags; a damaged value reads as no tags.
		_ = json.Unmarshal([]byte(raw), &tags)
	}
	return tags
}

// setTags stores tags in t, which must be a private copy.
func setTags(t *store.Table, tags map[string]string) {
	if len(tags) == 0 {
		delete(t.Extra, extraTags)
		return
	}
	b, _ := json.Marshal(tags) // a map of strings always encodes
	t.Extra[extraTags] = string(b)
}

// tableFromArn returns the name of the table an ARN names, or DynamoDB's
// error for an ARN that does not name a table of this region and account.
func (s *Server) tableFromArn(arn *string) (string, error) {
	if err := arnForm(arn); err != nil {
		return "", err
	}
	a := *arn
	// arn:partition:service:region:account:resource
	parts := strings.SplitN(a, ":", 6)
	if len(parts) != 6 || parts[2] != "dynamodb" {
		return "", Validation(invalidParams+"Provided Arn is not a DynamoDB resource arn: %s", a)
	}
	resource := parts[5]
	name, rest, _ := strings.Cut(strings.TrimPrefix(resource, "table/"), "/")
	if !strings.HasPrefix(resource, "table/") || len(name) < 3 || parts[3] != s.cfg.Region {
		return "", Validation("Invalid TableArn: Invalid ResourceArn provided as input %s", a)
	}
	if rest != "" {
		return "", Validation(invalidParams+"Invalid resource arn provided, only table or stream is accepted. Provided resource arn: %s", a)
	}
	if parts[1] != "aws" || parts[4] != s.cfg.AccountID {
		return "", s.arnNotFound(a)
	}
	return name, nil
}

// arnForm is the first check of the tag operations, made before their other
// members are looked at: the ARN must be there and look like one.
func arnForm(arn *string) error {
	if arn == nil {
		return Validation("Invalid TableArn")
	}
	if !strings.HasPrefix(*arn, "arn:") {
		return Validation(invalidParams+"ARNs must start with 'arn:': %s", *arn)
	}
	return nil
}

func (s *Server) arnNotFound(arn string) error {
	// "ResourcArn" is DynamoDB's spelling.
	return ResourceNotFound("Requested resource not found: ResourcArn: %s not found", arn)
}

// tagResource implements TagResource: tags are added or replaced, and a
// table holds at most 50.
func (s *Server) tagResource(ctx context.Context, body []byte) (any, error) {
	var in tagResourceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := arnForm(in.ResourceArn); err != nil {
		return nil, err
	}
	if in.Tags == nil {
		var c checker
		c.fail(nil, "tags", mustNotBeNull)
		return nil, c.err()
	}
	name, err := s.tableFromArn(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, Validation("Atleast one Tag needs to be provided as Input.")
	}
	add, err := tagsRule(in.Tags)
	if err != nil {
		return nil, err
	}
	_, err = s.updateTableByArn(*in.ResourceArn, name, func(t *store.Table) error {
		tags := tableTags(t)
		for k, v := range add {
			tags[k] = v
		}
		if len(tags) > maxTags {
			return tooManyTags()
		}
		setTags(t, tags)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// untagResource implements UntagResource. Keys the table does not have are
// ignored.
func (s *Server) untagResource(ctx context.Context, body []byte) (any, error) {
	var in untagResourceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := arnForm(in.ResourceArn); err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		var c checker
		c.fail(nil, "tagKeys", mustNotBeNull)
		return nil, c.err()
	}
	name, err := s.tableFromArn(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, Validation("Atleast one Tag Key needs to be provided as Input.")
	}
	for _, k := range in.TagKeys {
		if err := checkTagKey(&k); err != nil {
			return nil, err
		}
	}
	_, err = s.updateControlTable(name, func(t *store.Table) error {
		tags := tableTags(t)
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		setTags(t, tags)
		return nil
	})
	if isNotFound(err) {
		// UntagResource's not-found message names nothing.
		return nil, ResourceNotFound("Requested resource not found")
	}
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// listTagsOfResource implements ListTagsOfResource. A table holds at most
// 50 tags, so one page always has them all, sorted by key.
func (s *Server) listTagsOfResource(ctx context.Context, body []byte) (any, error) {
	var in listTagsOfResourceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := s.tableFromArn(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	t, err := s.controlTable(name)
	if isNotFound(err) {
		return nil, s.arnNotFound(*in.ResourceArn)
	}
	if err != nil {
		return nil, err
	}
	tags := tableTags(t)
	out := listTagsOfResourceOutput{Tags: make([]Tag, 0, len(tags))}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out.Tags = append(out.Tags, Tag{Key: k, Value: tags[k]})
	}
	return out, nil
}

// updateTableByArn is updateControlTable with TagResource's not-found
// message, which quotes the ARN.
func (s *Server) updateTableByArn(arn, name string, fn func(t *store.Table) error) (*store.Table, error) {
	t, err := s.updateControlTable(name, fn)
	if isNotFound(err) {
		return nil, s.arnNotFound(arn)
	}
	return t, err
}

// isNotFound reports whether err is a ResourceNotFoundException.
func isNotFound(err error) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.Code() == "ResourceNotFoundException"
}

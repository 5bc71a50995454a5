package api

import (
	"context"
	"fmt"
)

// DescribeTable and ListTables.

type tableNameInput struct {
	TableName *string `json:"TableName"`
}

// check is the only constraint check of operations that take just a table
// name.
func (in *tableNameInput) check() error {
	var c checker
	c.tableName("tableName", in.TableName)
	return c.err()
}

type describeTableOutput struct {
	Table *TableDescription `json:"Table"`
}

func (s *Server) describeTable(ctx context.Context, body []byte) (any, error) {
	var in tableNameInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	t, err := s.controlTable(*in.TableName)
	if isNotFound(err) {
		if d, ok := s.deletingDescription(*in.TableName); ok {
			return describeTableOutput{d}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return describeTableOutput{s.tableDescription(t)}, nil
}

type listTablesInput struct {
	Limit                   *int64  `json:"Limit"`
	ExclusiveStartTableName *string `json:"ExclusiveStartTableName"`
}

type listTablesOutput struct {
	TableNames             []string `json:"TableNames"`
	LastEvaluatedTableName string   `json:"LastEvaluatedTableName,omitempty"`
}

// listTables implements ListTables: names in byte order, from after
// ExclusiveStartTableName, at most Limit (default 100). LastEvaluatedTableName
// is set only when more names follow.
func (s *Server) listTables(ctx context.Context, body []byte) (any, error) {
	var in listTablesInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c checker
	if in.Limit != nil {
		if *in.Limit < 1 {
			c.fail(in.Limit, "limit", "Member must have value greater than or equal to 1")
		}
		if *in.Limit > defaultListLimit {
			c.fail(in.Limit, "limit", "Member must have value less than or equal to 100")
		}
	}
	if in.ExclusiveStartTableName != nil {
		c.tableName("exclusiveStartTableName", in.ExclusiveStartTableName)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	tables, err := s.db.Tables()
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	limit := defaultListLimit
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	out := listTablesOutput{TableNames: []string{}}
	for _, t := range tables {
		if in.ExclusiveStartTableName != nil && t.Name <= *in.ExclusiveStartTableName {
			continue
		}
		if len(out.TableNames) == limit {
			out.LastEvaluatedTableName = out.TableNames[limit-1]
			break
		}
		out.TableNames = append(out.TableNames, t.Name)
	}
	return out, nil
}

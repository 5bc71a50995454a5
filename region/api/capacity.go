package api

import (
	"sort"

	"github.com/globaltables/globaltables/store"
	"github.com/globaltables/globaltables/store/attr"
)

// Capacity unit sizes, from DynamoDB's pricing rules: one read unit covers a
// strongly consistent read of up to 4 KB (an eventually consistent read
// costs half), one write unit a write of up to 1 KB. Transactions cost twice.
const (
	readUnitBytes  = 4096
	writeUnitBytes = 1024
)

// Capacity is the capacity consumed by one table or index.
type Capacity struct {
	CapacityUnits      float64 `json:"CapacityUnits"`
	ReadCapacityUnits  float64 `json:"ReadCapacityUnits,omitempty"`
	WriteCapacityUnits float64 `json:"WriteCapacityUnits,omitempty"`
}

// ConsumedCapacity is DynamoDB's ConsumedCapacity structure.
type ConsumedCapacity struct {
	TableName              string              `json:"TableName"`
	CapacityUnits          float64             `json:"CapacityUnits"`
	ReadCapacityUnits      float64             `json:"ReadCapacityUnits,omitempty"`
	WriteCapacityUnits     float64             `json:"WriteCapacityUnits,omitempty"`
	Table                  *Capacity           `json:"Table,omitempty"`
	GlobalSecondaryIndexes map[string]Capacity `json:"GlobalSecondaryIndexes,omitempty"`
	LocalSecondaryIndexes  map[string]Capacity `json:"LocalSecondaryIndexes,omitempty"`
}

// readUnits is the cost of reading size bytes in one operation (a Query or
// Scan page is one operation: sizes add up before rounding).
func readUnits(size int, consistent bool) float64 {
	units := float64((size + readUnitBytes - 1) / readUnitBytes)
	if units < 1 {
		units = 1
	}
	if !consistent {
		units /= 2
	}
	return units
}

// writeUnits is the cost of writing an item of size bytes.
func writeUnits(size int) float64 {
	units := float64((size + writeUnitBytes - 1) / writeUnitBytes)
	if units < 1 {
		units = 1
	}
	return units
}

// meter accumulates the capacity an operation consumes, per table and
// index, and renders it as ReturnConsumedCapacity asks.
type meter struct {
	mode   string // "TOTAL", "INDEXES" or "" (none)
	tables map[string]*meterEntry
	// split reports read and write units beside the total. DynamoDB does
	// so for transactions only; other operations report CapacityUnits
	// alone (checked against the service by the conformance suite
	// paritysuite/dynamodb-conformance).
	split bool
	// sink, if set, is told every unit consumed, whatever mode says.
	sink Metrics
}

type meterEntry struct {
	read, write float64
	gsi, lsi    map[string]*Capacity
}

func newMeter(mode *string) *meter {
	m := &meter{}
	if mode != nil && (*mode == "TOTAL" || *mode == "INDEXES") {
		m.mode = *mode
		m.tables = map[string]*meterEntry{}
	}
	return m
}

func (m *meter) entry(table string) *meterEntry {
	e := m.tables[table]
	if e == nil {
		e = &meterEntry{gsi: map[string]*Capacity{}, lsi: map[string]*Capacity{}}
		m.tables[table] = e
	}
	return e
}

// read records a read of size bytes (the sum over a page) from a table, or
// from one of its indexes if index is set.
func (m *meter) read(t *store.Table, index string, size int, consistent bool, factor float64) {
	u := readUnits(size, consistent) * factor
	if m.sink != nil {
		m.sink.ConsumedCapacity(t.Name, u, 0)
	}
	if m.mode == "" {
		return
	}
	e := m.entry(t.Name)
	if index == "" {
		e.read += u
		return
	}
	c := e.indexCap(t, index)
	c.CapacityUnits += u
	c.ReadCapacityUnits += u
}

// write records the write of one item, replacing old (nil if none) with new
// (nil for a delete), and the index writes it causes.
func (m *meter) write(t *store.Table, old, new attr.Item, factor float64) {
	if m.mode == "" && m.sink == nil {
		return
	}
	size := max(attr.ItemSize(old), attr.ItemSize(new))
	if m.sink != nil {
		m.sink.ConsumedCapacity(t.Name, 0, writeUnits(size)*factor)
	}
	if m.mode == "" {
		return
	}
	e := m.entry(t.Name)
	e.write += writeUnits(size) * factor
	for _, group := range [][]store.Index{t.GSIs, t.LSIs} {
		for _, idx := range group {
			n := indexWrites(idx, old, new)
			if n == 0 {
				continue
			}
			u := float64(n) * writeUnits(size) * factor
			c := e.indexCap(t, idx.Name)
			c.CapacityUnits += u
			c.WriteCapacityUnits += u
		}
	}
}

// indexWrites counts the index entry writes a change from old to new causes:
// none if neither image is in the index, two if the index key changed (a
// delete and a put), otherwise one.
func indexWrites(idx store.Index, old, new attr.Item) int {
	in := func(it attr.Item) bool {
		if it == nil {
			return false
		}
		if _, ok := it[idx.Hash.Name]; !ok {
			return false
		}
		if idx.Range != nil {
			if _, ok := it[idx.Range.Name]; !ok {
				return false
			}
		}
		return true
	}
	oldIn, newIn := in(old), in(new)
	switch {
	case !oldIn && !newIn:
		return 0
	case oldIn && newIn:
		same := attr.Equal(old[idx.Hash.Name], new[idx.Hash.Name])
		if idx.Range != nil {
			same = same && attr.Equal(old[idx.Range.Name], new[idx.Range.Name])
		}
		if same {
			return 1
		}
		return 2
	}
	return 1
}

func (e *meterEntry) indexCap(t *store.Table, index string) *Capacity {
	for _, idx := range t.LSIs {
		if idx.Name == index {
			c := e.lsi[index]
			if c == nil {
				c = &Capacity{}
				e.lsi[index] = c
			}
			return c
		}
	}
	c := e.gsi[index]
	if c == nil {
		c = &Capacity{}
		e.gsi[index] = c
	}
	return c
}

// result renders the consumed capacity, one entry per table in name order,
// or nil if the request did not ask for it.
func (m *meter) result() []ConsumedCapacity {
	if m.mode == "" {
		return nil
	}
	names := make([]string, 0, len(m.tables))
	for n := range m.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]ConsumedCapacity, 0, len(names))
	for _, n := range names {
		e := m.tables[n]
		cc := ConsumedCapacity{TableName: n, ReadCapacityUnits: e.read, WriteCapacityUnits: e.write}
		total := e.read + e.write
		for _, c := range e.gsi {
			total += c.CapacityUnits
		}
		for _, c := range e.lsi {
			total += c.CapacityUnits
		}
		cc.CapacityUnits = total
		if m.mode == "INDEXES" {
			cc.Table = &Capacity{CapacityUnits: e.read + e.write, ReadCapacityUnits: e.read, WriteCapacityUnits: e.write}
			if len(e.gsi) > 0 {
				cc.GlobalSecondaryIndexes = map[string]Capacity{}
				for k, c := range e.gsi {
					cc.GlobalSecondaryIndexes[k] = *c
				}
			}
			if len(e.lsi) > 0 {
				cc.LocalSecondaryIndexes = map[string]Capacity{}
				for k, c := range e.lsi {
					cc.LocalSecondaryIndexes[k] = *c
				}
			}
		}
		if !m.split {
			cc.dropSplit()
		}
		out = append(out, cc)
	}
	return out
}

// dropSplit leaves only the totals of a ConsumedCapacity.
func (cc *ConsumedCapacity) dropSplit() {
	cc.ReadCapacityUnits, cc.WriteCapacityUnits = 0, 0
	if cc.Table != nil {
		cc.Table = &Capacity{CapacityUnits: cc.Table.CapacityUnits}
	}
	for _, m := range []map[string]Capacity{cc.GlobalSecondaryIndexes, cc.LocalSecondaryIndexes} {
		for k, c := range m {
			m[k] = Capacity{CapacityUnits: c.CapacityUnits}
		}
	}
}

// one returns the single table's consumed capacity, for operations on one
// table, or nil.
func (m *meter) one(table string) *ConsumedCapacity {
	if m.mode == "" {
		return nil
	}
	r := m.result()
	if len(r) == 0 {
		// Nothing was recorded (e.g. a failed read): DynamoDB still reports
		// the table with zero units.
		return &ConsumedCapacity{TableName: table}
	}
	return &r[0]
}

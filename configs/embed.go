// Package configs holds the files the globaltables binary carries inside
// itself: the default topology, the built-in drills and the example
// experiments. They are embedded so that an installed binary works in any
// folder; the same files stay readable and editable on disk in this folder.
//
// The package only embeds. Parsing is left to the packages that own each
// format (cmd/globaltables/topology, cmd/globaltables/drill, ...).
package configs

import "embed"

// FS is the embedded files, under their paths in this folder:
// "default.hcl", "drills/NAME.hcl", "experiments/NAME.hcl".
//
//go:embed default.hcl drills/*.hcl experiments/*.hcl
var FS embed.FS

// DefaultTopology is the path in FS of the default three-region topology.
const DefaultTopology = "default.hcl"

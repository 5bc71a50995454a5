package topology

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// docSections maps each struct of a topology file to the section of
// docs/configuration.md that documents its keys.
var docSections = map[reflect.Type]string{
	reflect.TypeOf(Topology{}):    "Top-level settings",
	reflect.TypeOf(Replication{}): "replication block",
	reflect.TypeOf(Region{}):      "region blocks",
	reflect.TypeOf(NATSTLS{}):     "nats_tls block",
	reflect.TypeOf(Credential{}):  "credentials blocks",
	reflect.TypeOf(Link{}):        "link blocks",
	reflect.TypeOf(Trigger{}):     "trigger blocks",
}

// TestConfigurationDoc_ListsEveryKey checks that docs/configuration.md
// has a table row for every key of every block a topology file takes (each
// hcl tag of the structs gohcl decodes into), in the block's own section,
// so that the reference stays complete when a key is added (issue 9:
// bandwidth_kbps appeared in no doc).
func TestConfigurationDoc_ListsEveryKey(t *testing.T) {
	sections := readDocSections(t)
	for _, miss := range undocumentedKeys(reflect.TypeOf(Topology{}), sections) {
		t.Error(miss)
	}
}

// TestConfigurationDoc_CheckFails shows that the check above can fail: a
// reference without the link block's bandwidth_kbps row is caught.
func TestConfigurationDoc_CheckFails(t *testing.T) {
	sections := readDocSections(t)
	var kept []string
	for _, line := range strings.Split(sections["link blocks"], "\n") {
		if !strings.HasPrefix(line, "| `bandwidth_kbps`") {
			kept = append(kept, line)
		}
	}
	sections["link blocks"] = strings.Join(kept, "\n")
	miss := undocumentedKeys(reflect.TypeOf(Topology{}), sections)
	if len(miss) != 1 || !strings.Contains(miss[0], "bandwidth_kbps") {
		t.Fatalf("without its row, bandwidth_kbps is reported as %v", miss)
	}
}

// undocumentedKeys lists the keys of struct typ, and of the blocks in it,
// that have no row in their section.
func undocumentedKeys(typ reflect.Type, sections map[string]string) []string {
	heading, ok := docSections[typ]
	if !ok {
		return []string{"docs/configuration.md has no section for " + typ.Name() + ": add one and name it in docSections"}
	}
	body, ok := sections[heading]
	if !ok {
		return []string{"docs/configuration.md has no section \"## " + heading + "\""}
	}
	var miss []string
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag, ok := f.Tag.Lookup("hcl")
		if !ok {
			continue
		}
		key, kind, _ := strings.Cut(tag, ",")
		if !strings.Contains(body, "\n| `"+key+"`") {
			miss = append(miss, "docs/configuration.md, \"## "+heading+"\": no row for `"+key+"` ("+typ.Name()+"."+f.Name+")")
		}
		if kind == "block" {
			elem := f.Type
			for elem.Kind() == reflect.Pointer || elem.Kind() == reflect.Slice {
				elem = elem.Elem()
			}
			miss = append(miss, undocumentedKeys(elem, sections)...)
		}
	}
	return miss
}

// readDocSections returns docs/configuration.md's "## " sections by
// heading (backquotes removed).
func readDocSections(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile(repoFile("docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, part := range strings.Split("\n"+string(src), "\n## ")[1:] {
		heading, body, _ := strings.Cut(part, "\n")
		out[strings.ReplaceAll(strings.TrimSpace(heading), "`", "")] = "\n" + body
	}
	return out
}

// repoFile returns the path of a file of the repository, from the folder
// of this package.
func repoFile(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", "..", ".."}, parts...)...)
}

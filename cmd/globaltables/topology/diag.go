package topology

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Error is everything wrong with a topology file: each diagnostic of the
// HCL parser and decoder (syntax, unknown keys, wrong types) and each
// problem Validate found, every one with its place in the file. Its text
// shows them all, as `terraform validate` does: hcl.Diagnostics' own
// Error() shows the first and hides the rest behind "and 1 other
// diagnostic(s)", and hcl's text writer gives no column and marks the
// spot only with terminal colours.
type Error struct {
	// Path is the file's name as given.
	Path string
	// Diags are the problems in file order, those of the whole file
	// (no place) first.
	Diags hcl.Diagnostics

	src  []byte  // the file's text, for the snippets
	errs []error // Validate's errors, for errors.Is and errors.As
}

// newError returns an Error with diags in file order, problems of the
// whole file first, and a pointer to the reference for unknown keys.
func newError(path string, src []byte, diags hcl.Diagnostics, errs []error) *Error {
	for _, d := range diags {
		switch d.Summary {
		case "Unsupported argument", "Unsupported block type":
			d.Detail += " Remove it or correct its name; docs/configuration.md lists every key."
		}
	}
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		return a == nil && b != nil || a != nil && b != nil && a.Start.Byte < b.Start.Byte
	})
	return &Error{Path: path, Diags: diags, src: src, errs: errs}
}

// Error renders every diagnostic: a summary, file:line:col, the line of
// the file with the spot underlined (secrets masked), and what is wrong
// and how to fix it.
func (e *Error) Error() string {
	var b strings.Builder
	n := len(e.Diags)
	if n == 1 {
		fmt.Fprintf(&b, "topology %s: 1 error\n", e.Path)
	} else {
		fmt.Fprintf(&b, "topology %s: %d errors\n", e.Path, n)
	}
	f, _ := hclsyntax.ParseConfig(e.src, e.Path, hcl.InitialPos)
	var body *hclsyntax.Body
	if f != nil {
		body, _ = f.Body.(*hclsyntax.Body)
	}
	secret := map[int]bool{}
	secretLines(body, secret)
	secretSourceLines(e.src, secret)
	for _, d := range e.Diags {
		b.WriteString("\n")
		e.write(&b, d, body, secret)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Unwrap returns Validate's errors.
func (e *Error) Unwrap() []error { return e.errs }

// write renders one diagnostic; body is the file as parsed (nil if it
// could not be), secret the numbers of the lines that hold a secret.
func (e *Error) write(b *strings.Builder, d *hcl.Diagnostic, body *hclsyntax.Body, secret map[int]bool) {
	fmt.Fprintf(b, "Error: %s\n", d.Summary)
	if d.Subject == nil {
		fmt.Fprintf(b, "  in %s\n", e.Path)
	} else {
		s := d.Subject
		fmt.Fprintf(b, "  on %s:%d:%d%s:\n", s.Filename, s.Start.Line, s.Start.Column, context(body, s, secret))
		e.snippet(b, *s, secret[s.Start.Line])
	}
	for _, line := range strings.Split(strings.TrimSpace(d.Detail), "\n") {
		fmt.Fprintf(b, "  %s\n", line)
	}
}

// context names the blocks holding r (`, in region "a" > nats_tls`), or
// "" at the top level; secret is as for write.
func context(body *hclsyntax.Body, r *hcl.Range, secret map[int]bool) string {
	var path []string
	for body != nil {
		var next *hclsyntax.Body
		for _, blk := range body.Blocks {
			if blk.Range().ContainsOffset(r.Start.Byte) {
				name := blk.Type
				for i, l := range blk.Labels {
					if i < len(blk.LabelRanges) && secret[blk.LabelRanges[i].Start.Line] {
						l = "<redacted>" // a broken file can make a label of a secret
					}
					name += " " + strconv.Quote(l)
				}
				path, next = append(path, name), blk.Body
				break
			}
		}
		body = next
	}
	if len(path) == 0 {
		return ""
	}
	return ", in " + strings.Join(path, " > ")
}

// snippet writes r's first line of source, numbered, with r underlined;
// secret says the line holds (part of) a secret's value.
func (e *Error) snippet(b *strings.Builder, r hcl.Range, secret bool) {
	if r.Start.Byte > len(e.src) {
		return
	}
	start := bytes.LastIndexByte(e.src[:r.Start.Byte], '\n') + 1
	end := len(e.src)
	if i := bytes.IndexByte(e.src[start:], '\n'); i >= 0 {
		end = start + i
	}
	line := strings.TrimRight(string(e.src[start:end]), "\r")
	to := min(max(r.End.Byte, r.Start.Byte+1), end)
	if r.End.Line != r.Start.Line {
		to = end
	}
	var pad strings.Builder
	for _, c := range string(e.src[start:r.Start.Byte]) {
		if c == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	shown := redact(line)
	if secret && shown == line {
		shown = "<redacted>" // a line inside a secret's value (a heredoc)
	}
	width := utf8.RuneCount(e.src[r.Start.Byte:max(to, r.Start.Byte)])
	// A masked secret shortens the line: the mark must not run past it.
	width = max(min(width, utf8.RuneCountInString(shown)-utf8.RuneCountInString(pad.String())), 1)
	num := strconv.Itoa(r.Start.Line)
	fmt.Fprintf(b, "    %s | %s\n", num, shown)
	fmt.Fprintf(b, "    %s | %s%s\n", strings.Repeat(" ", len(num)), pad.String(), strings.Repeat("^", width))
}

var (
	// secretName matches the name of a key whose value is a secret.
	secretName = regexp.MustCompile(`(?i)secret|password|token`)
	// secretAttr matches a line that starts with such a key, well formed
	// or not ("secret_access_key "x"" lacks its "=").
	secretAttr = regexp.MustCompile(`(?i)^(\s*"?[a-z0-9_]*(?:secret|password|token)[a-z0-9_]*"?)(\s*=?\s*)\S.*$`)
	// secretHeredoc matches the first line of a secret written as a
	// heredoc; its group is the closing marker.
	secretHeredoc = regexp.MustCompile(`(?i)^\s*"?[a-z0-9_]*(?:secret|password|token)[a-z0-9_]*"?\s*=?\s*<<-?([a-z_][a-z0-9_-]*)\s*$`)
	// urlUserinfo matches the credentials of a URL (nats://user:pass@host).
	urlUserinfo = regexp.MustCompile(`://[^@/\s"]+@`)
)

// redact masks secrets in a line of the file: an error message must not
// show one (it may end up in a log or a bug report).
func redact(line string) string {
	line = secretAttr.ReplaceAllString(line, `${1}${2}<redacted>`)
	return urlUserinfo.ReplaceAllString(line, "://<redacted>@")
}

// secretLines adds to lines the numbers of the lines that hold the value
// of a key named like a secret, in body and the blocks in it.
func secretLines(body *hclsyntax.Body, lines map[int]bool) {
	if body == nil {
		return
	}
	for name, a := range body.Attributes {
		if secretName.MatchString(name) {
			for l := a.SrcRange.Start.Line; l <= a.SrcRange.End.Line; l++ {
				lines[l] = true
			}
		}
	}
	for _, blk := range body.Blocks {
		secretLines(blk.Body, lines)
	}
}

// blockRef names a block of the file: its type and labels.
type blockRef struct {
	typ    string
	labels []string
	nth    int // which of the blocks with that type and labels, from 0
}

// problem is one thing Validate found wrong, with where it is: inside
// the blocks of where, at attribute key ("" for the block itself). Its
// text is err's, so that a topology built in code, which has no file,
// still says what is wrong.
type problem struct {
	summary string
	where   []blockRef
	key     string
	err     error
}

func (p *problem) Error() string { return p.err.Error() }
func (p *problem) Unwrap() error { return p.err }

// at returns err as a problem at key of the blocks where.
func at(summary, key string, err error, where ...blockRef) error {
	return &problem{summary: summary, where: where, key: key, err: err}
}

// inRegion is the place of region name's block.
func inRegion(name string) blockRef { return blockRef{typ: "region", labels: []string{name}} }

// locate finds p in body: the value of its attribute if the file sets it,
// else the block's header. attr reports whether it found the attribute.
func (p *problem) locate(body *hclsyntax.Body) (r hcl.Range, attr, ok bool) {
	var blk *hclsyntax.Block
	for _, ref := range p.where {
		if body == nil {
			return r, false, false
		}
		blk = ref.find(body)
		if blk == nil {
			return r, false, false
		}
		body = blk.Body
	}
	if a, found := body.Attributes[p.key]; found && p.key != "" {
		return a.Expr.Range(), true, true
	}
	if blk == nil {
		return r, false, false
	}
	return blk.DefRange(), false, true
}

func (ref blockRef) find(body *hclsyntax.Body) *hclsyntax.Block {
	seen := 0
	for _, blk := range body.Blocks {
		if blk.Type != ref.typ || (ref.labels != nil && strings.Join(blk.Labels, "\x00") != strings.Join(ref.labels, "\x00")) {
			continue
		}
		if seen == ref.nth {
			return blk
		}
		seen++
	}
	return nil
}

// diagnose turns Validate's problems into diagnostics placed in the file.
// When decoding failed (decoded holds its diagnostics), the topology was
// read in part, so only problems with a value the file sets, and that the
// decoder did not already report, are kept: the rest may come from what
// could not be read.
func diagnose(body *hclsyntax.Body, problems []error, decoded hcl.Diagnostics) (hcl.Diagnostics, []error) {
	var out hcl.Diagnostics
	var errs []error
	for _, e := range problems {
		p, isProblem := e.(*problem)
		if !isProblem {
			p = &problem{summary: "Invalid topology", err: e}
		}
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: p.summary, Detail: p.err.Error()}
		r, attr, ok := p.locate(body)
		if ok {
			d.Subject = &r
		}
		if decoded.HasErrors() && (!attr || overlaps(decoded, r)) {
			continue
		}
		out = append(out, d)
		errs = append(errs, e)
	}
	return out, errs
}

func overlaps(diags hcl.Diagnostics, r hcl.Range) bool {
	for _, d := range diags {
		if d.Subject != nil && d.Subject.Overlaps(r) {
			return true
		}
	}
	return false
}

// secretSourceLines adds to lines the numbers of the lines that start
// with a secret's key, and of those inside a secret's heredoc, found by
// reading lines, not by parsing: a syntax error before a secret (an open
// quote) can hide it from the parser, not from an error's text.
func secretSourceLines(src []byte, lines map[int]bool) {
	marker := ""
	for i, line := range strings.Split(string(src), "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case marker != "" && strings.TrimSpace(line) == marker:
			marker = ""
		case marker != "":
			lines[i+1] = true
		default:
			if m := secretHeredoc.FindStringSubmatch(line); m != nil {
				marker = m[1]
			}
			if secretAttr.MatchString(line) {
				lines[i+1] = true
			}
		}
	}
}

// Package gen turns the ARC contract files (packages/contracts/schemas/*.schema.json and
// packages/contracts/vectors/test-vectors.json) into the files of the Go SDK: payloads_gen.go
// (payload structs, subject constants, bus rules) and copies of the contract files under
// contracts/, where go:embed can reach them.
package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Output paths, relative to the module root.
const (
	PayloadsFile = "payloads_gen.go"
	SchemasDir   = "contracts/schemas"
	VectorsFile  = "contracts/vectors/test-vectors.json"
)

// Generate reads the contract files under contractsDir (packages/contracts) and returns every
// file it produces, keyed by path relative to the module root.
func Generate(contractsDir string) (map[string][]byte, error) {
	schemaDir := filepath.Join(contractsDir, "schemas")
	entries, err := os.ReadDir(schemaDir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	var docs []schemaFile
	for _, entry := range entries {
		name := entry.Name()
		if entry.IsDir() || !strings.HasSuffix(name, ".schema.json") {
			continue
		}
		text, err := os.ReadFile(filepath.Join(schemaDir, name))
		if err != nil {
			return nil, err
		}
		var s schema
		if err := json.Unmarshal(text, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		files[SchemasDir+"/"+name] = text
		docs = append(docs, schemaFile{id: strings.TrimSuffix(name, ".schema.json"), schema: &s})
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("no *.schema.json in %s", schemaDir)
	}
	vectors, err := os.ReadFile(filepath.Join(contractsDir, "vectors", "test-vectors.json"))
	if err != nil {
		return nil, err
	}
	var parsed struct {
		Rules rules `json:"rules"`
	}
	if err := json.Unmarshal(vectors, &parsed); err != nil {
		return nil, fmt.Errorf("test-vectors.json: %w", err)
	}
	files[VectorsFile] = vectors
	code, err := payloadsSource(docs, parsed.Rules)
	if err != nil {
		return nil, err
	}
	files[PayloadsFile] = code
	return files, nil
}

type rules struct {
	TTLMs              int64    `json:"ttl_ms"`
	MaxClockSkewMs     int64    `json:"max_clock_skew_ms"`
	MaxPayloadBytes    int64    `json:"max_payload_bytes"`
	DeadLetterMaxBytes int64    `json:"dead_letter_max_bytes"`
	DeadLetterPrefix   string   `json:"dead_letter_prefix"`
	DeadLetterReasons  []string `json:"dead_letter_reasons"`
	UntracedSubjects   []string `json:"untraced_subjects"`
}

type schemaFile struct {
	id     string // subject, "<subject>.reply" or "dlq"
	schema *schema
}

// schema is the subset of JSON Schema the contract files use.
type schema struct {
	Type              string             `json:"type"`
	Description       string             `json:"description"`
	Properties        map[string]*schema `json:"properties"`
	PatternProperties map[string]*schema `json:"patternProperties"`
	Required          []string           `json:"required"`
	Items             *schema            `json:"items"`
	AnyOf             []*schema          `json:"anyOf"`
	Const             any                `json:"const"`
	order             []string           // property names in file order
}

func (s *schema) UnmarshalJSON(data []byte) error {
	type plain schema
	if err := json.Unmarshal(data, (*plain)(s)); err != nil {
		return err
	}
	var raw struct {
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw.Properties == nil {
		return nil
	}
	keys, err := objectKeys(raw.Properties)
	s.order = keys
	return err
}

// objectKeys lists the keys of a JSON object in the order they are written.
func objectKeys(data []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		token, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, token.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// initialisms are written in capitals in Go names (Go naming conventions).
var initialisms = map[string]string{
	"id": "ID", "tts": "TTS", "sid": "SID", "llm": "LLM", "cpu": "CPU", "mb": "MB",
	"url": "URL", "json": "JSON", "api": "API", "http": "HTTP",
}

// GoName turns snake_case, dotted or camelCase words into an exported Go name:
// "request_id" → RequestID, "ttsRequest" → TTSRequest, "tts.request" → TTSRequest.
func GoName(text string) string {
	var words []string
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == '_' || r == '.' || r == '-' }) {
		start := 0
		for i := 1; i < len(part); i++ {
			if part[i] >= 'A' && part[i] <= 'Z' && part[i-1] >= 'a' && part[i-1] <= 'z' {
				words = append(words, part[start:i])
				start = i
			}
		}
		words = append(words, part[start:])
	}
	var b strings.Builder
	for _, word := range words {
		lower := strings.ToLower(word)
		if up, ok := initialisms[lower]; ok {
			b.WriteString(up)
			continue
		}
		b.WriteString(strings.ToUpper(lower[:1]) + lower[1:])
	}
	return b.String()
}

// TypeName is the Go type of a schema file's payload: the subject without its first token
// (as the keys of subjects.ts `Subjects`: agent.brain.request → BrainRequest), DeadLetter for dlq.
func TypeName(id string) string {
	if id == "dlq" {
		return "DeadLetter"
	}
	_, rest, _ := strings.Cut(id, ".")
	return GoName(rest)
}

type generator struct {
	out     bytes.Buffer
	pending []named
	seen    map[string]bool
}

type named struct {
	name, doc string
	schema    *schema
}

func payloadsSource(docs []schemaFile, r rules) ([]byte, error) {
	g := &generator{seen: map[string]bool{}}
	w := &g.out
	w.WriteString("// Code generated by cmd/gen-payloads from packages/contracts/{schemas,vectors}; DO NOT EDIT.\n\n")
	w.WriteString("package arc\n\nimport (\n\t\"encoding/json\"\n\t\"time\"\n)\n\n")

	var subjects []schemaFile
	for _, d := range docs {
		if d.id != "dlq" && !strings.HasSuffix(d.id, ".reply") {
			subjects = append(subjects, d)
		}
	}
	w.WriteString("// Subjects with a schema (the keys of subjects.ts `Subjects`, prefixed with Subject).\nconst (\n")
	for _, d := range subjects {
		fmt.Fprintf(w, "\tSubject%s = %q\n", TypeName(d.id), d.id)
	}
	w.WriteString(")\n\n// KnownSubjects lists every subject with a schema (not worker subjects, not dead letters).\nvar KnownSubjects = []string{\n")
	for _, d := range subjects {
		fmt.Fprintf(w, "\tSubject%s,\n", TypeName(d.id))
	}
	w.WriteString("}\n\n")

	w.WriteString("// Bus rules every ARC client applies the same way (test-vectors.json \"rules\").\nconst (\n")
	fmt.Fprintf(w, "\t// DefaultTTL: messages older than this are stale, dropped and dead-lettered.\n\tDefaultTTL = %d * time.Millisecond\n", r.TTLMs)
	fmt.Fprintf(w, "\t// DefaultMaxClockSkew: a timestamp further ahead than this is invalid_payload.\n\tDefaultMaxClockSkew = %d * time.Millisecond\n", r.MaxClockSkewMs)
	fmt.Fprintf(w, "\t// DefaultMaxPayloadBytes is the NATS max_payload ARC expects (the server's own value is enforced).\n\tDefaultMaxPayloadBytes = %d\n", r.MaxPayloadBytes)
	fmt.Fprintf(w, "\t// DeadLetterMaxBytes: dead letters keep at most this many bytes of the original payload.\n\tDeadLetterMaxBytes = %d\n", r.DeadLetterMaxBytes)
	fmt.Fprintf(w, "\t// DeadLetterPrefix is the first token of every dead-letter subject.\n\tDeadLetterPrefix = %q\n)\n\n", r.DeadLetterPrefix)
	w.WriteString("// Why a message was dead-lettered: the last token of its dead-letter subject.\nconst (\n")
	for _, reason := range r.DeadLetterReasons {
		fmt.Fprintf(w, "\tReason%s DeadLetterReason = %q\n", GoName(reason), reason)
	}
	w.WriteString(")\n\n// DeadLetterReasons lists every DeadLetterReason.\nvar DeadLetterReasons = []DeadLetterReason{")
	for i, reason := range r.DeadLetterReasons {
		if i > 0 {
			w.WriteString(", ")
		}
		fmt.Fprintf(w, "Reason%s", GoName(reason))
	}
	w.WriteString("}\n\n// untracedSubjects carry no trace_id: Publish does not fill one.\nvar untracedSubjects = map[string]bool{")
	for i, subject := range r.UntracedSubjects {
		if i > 0 {
			w.WriteString(", ")
		}
		fmt.Fprintf(w, "%q: true", subject)
	}
	w.WriteString("}\n")

	for _, d := range docs {
		var doc string
		switch {
		case d.id == "dlq":
			doc = "the payload of a dead letter (dlq.<subject>.<reason>)"
		case strings.HasSuffix(d.id, ".reply"):
			doc = "the reply to a request on " + strings.TrimSuffix(d.id, ".reply")
		default:
			doc = "the payload of " + d.id
		}
		if d.schema.Type != "object" || len(d.schema.Properties) == 0 {
			return nil, fmt.Errorf("%s: top level is not an object with properties", d.id)
		}
		g.pending = append(g.pending, named{TypeName(d.id), doc, d.schema})
		for len(g.pending) > 0 {
			next := g.pending[0]
			g.pending = g.pending[1:]
			if err := g.writeStruct(next, next.name == TypeName(d.id)); err != nil {
				return nil, fmt.Errorf("%s: %w", d.id, err)
			}
		}
	}
	code := g.out.Bytes()
	if !bytes.Contains(code, []byte("json.RawMessage")) {
		code = bytes.Replace(code, []byte("\t\"encoding/json\"\n"), nil, 1)
	}
	formatted, err := format.Source(code)
	if err != nil {
		return nil, fmt.Errorf("generated code does not parse: %w\n%s", err, g.out.Bytes())
	}
	return formatted, nil
}

func (g *generator) writeStruct(n named, topLevel bool) error {
	if g.seen[n.name] {
		return fmt.Errorf("two types named %s", n.name)
	}
	g.seen[n.name] = true
	w := &g.out
	fmt.Fprintf(w, "\n%s", comment("", n.name+" is "+n.doc+". "+sentence(n.schema.Description)))
	fmt.Fprintf(w, "type %s struct {\n", n.name)
	for _, prop := range n.schema.order {
		ps := n.schema.Properties[prop]
		required := slices.Contains(n.schema.Required, prop)
		fieldName := GoName(prop)
		goType, err := g.goType(n.name+fieldName, "the "+prop+" field of "+n.name, ps)
		if err != nil {
			return fmt.Errorf("%s: %w", prop, err)
		}
		var comments []string
		if ps.Description != "" {
			comments = append(comments, sentence(ps.Description))
		}
		if values := constValues(ps); values != "" {
			comments = append(comments, "One of "+values+".")
		}
		tag := prop
		filled := topLevel && (prop == "timestamp" || prop == "trace_id") && goType == "string"
		switch {
		case filled:
			tag += ",omitempty"
			comments = append(comments, "Publish, Request and Respond fill it when empty.")
		case !required:
			tag += ",omitempty"
			if !strings.HasPrefix(goType, "[]") && !strings.HasPrefix(goType, "map[") && goType != "json.RawMessage" {
				goType = "*" + goType
			}
			comments = append(comments, "Optional.")
		}
		if len(comments) > 0 {
			w.WriteString(comment("\t", strings.Join(comments, " ")))
		}
		fmt.Fprintf(w, "\t%s %s `json:%q`\n", fieldName, goType, tag)
	}
	w.WriteString("}\n")
	return nil
}

func (g *generator) goType(name, doc string, s *schema) (string, error) {
	if s.Type == "" && len(s.AnyOf) > 0 {
		// A union of literals ("pcm" | "opus" | "wav"): the literals' type.
		t := s.AnyOf[0].Type
		for _, alt := range s.AnyOf {
			if alt.Const == nil || alt.Type != t {
				return "json.RawMessage", nil
			}
		}
		return g.goType(name, doc, &schema{Type: t})
	}
	switch s.Type {
	case "string":
		return "string", nil
	case "integer":
		return "int64", nil
	case "number":
		return "float64", nil
	case "boolean":
		return "bool", nil
	case "array":
		if s.Items == nil {
			return "[]json.RawMessage", nil
		}
		item, err := g.goType(name+"Item", "one item of "+doc, s.Items)
		return "[]" + item, err
	case "object":
		if len(s.Properties) == 0 {
			return "map[string]any", nil
		}
		g.pending = append(g.pending, named{name, doc, s})
		return name, nil
	case "":
		return "json.RawMessage", nil
	}
	return "", fmt.Errorf("type %q not supported", s.Type)
}

func constValues(s *schema) string {
	var values []string
	for _, alt := range s.AnyOf {
		if alt.Const != nil {
			text, _ := json.Marshal(alt.Const)
			values = append(values, string(text))
		}
	}
	if s.Const != nil {
		text, _ := json.Marshal(s.Const)
		values = append(values, string(text))
	}
	return strings.Join(values, ", ")
}

// comment wraps text into // lines of at most 100 columns.
func comment(indent, text string) string {
	var b strings.Builder
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(indent)*4+3+len(line)+1+len(word) > 100 {
			b.WriteString(indent + "// " + line + "\n")
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		b.WriteString(indent + "// " + line + "\n")
	}
	return b.String()
}

func sentence(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if text != "" && !strings.HasSuffix(text, ".") {
		text += "."
	}
	return text
}

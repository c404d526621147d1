package arc

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/message"
)

// The contract files, copied from packages/contracts by `go generate`.
//
//go:embed contracts/schemas/*.schema.json
var schemaFiles embed.FS

// InvalidPayloadError is a payload that does not match its subject's schema (or is not JSON, or
// has no schema). Field is the dotted path of the field at fault ("constraints.max_tokens"),
// empty when the fault is not one field's; Reason names it: "user_input: is required".
type InvalidPayloadError struct {
	Subject string
	Field   string
	Reason  string
}

func (e *InvalidPayloadError) Error() string {
	return "invalid payload for " + e.Subject + ": " + e.Reason
}

// Schema keys: a subject ("agent.brain.request"), a reply ("agent.tts.request.reply"), "dlq".
var compiled = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	c.RegisterVocabulary(maxDepthVocabulary())
	names, err := schemaFiles.ReadDir("contracts/schemas")
	if err != nil {
		return nil, err
	}
	urls := map[string]string{}
	for _, entry := range names {
		data, err := schemaFiles.ReadFile(path.Join("contracts/schemas", entry.Name()))
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", entry.Name(), err)
		}
		url := "https://schemas.arc.invalid/" + entry.Name()
		if err := c.AddResource(url, doc); err != nil {
			return nil, err
		}
		urls[strings.TrimSuffix(entry.Name(), ".schema.json")] = url
	}
	schemas := map[string]*jsonschema.Schema{}
	for key, url := range urls {
		sch, err := c.Compile(url)
		if err != nil {
			return nil, err
		}
		schemas[key] = sch
	}
	return schemas, nil
})

func schemaByKey(key string) *jsonschema.Schema {
	schemas, err := compiled()
	if err != nil {
		panic("arc: embedded schemas do not compile: " + err.Error())
	}
	return schemas[key]
}

// SchemaSubject is the subject whose schema governs subject: itself for a known subject, the
// request subject for a worker subject, the event subject for an owner subject, "dlq" for a dead
// letter; false when there is none.
func SchemaSubject(subject string) (string, bool) {
	if IsKnownSubject(subject) {
		return subject, true
	}
	if base, ok := RequestSubjectOf(subject); ok {
		return base, true
	}
	if base, ok := EventSubjectOf(subject); ok {
		return base, true
	}
	if IsDeadLetterSubject(subject) {
		return DeadLetterPrefix, true
	}
	return "", false
}

func schemaFor(subject string) *jsonschema.Schema {
	key, ok := SchemaSubject(subject)
	if !ok {
		return nil
	}
	return schemaByKey(key)
}

func replySchemaFor(subject string) *jsonschema.Schema {
	key, ok := SchemaSubject(subject)
	if !ok || key == DeadLetterPrefix {
		return nil
	}
	return schemaByKey(key + ".reply")
}

// HasSchema reports whether payloads on subject can be validated (known, worker or dead-letter subject).
func HasSchema(subject string) bool {
	return schemaFor(subject) != nil
}

// Validate checks payload (a struct, a map, or JSON as []byte / json.RawMessage) against the
// schema of subject. It returns nil or an *InvalidPayloadError.
func Validate(subject string, payload any) error {
	_, value, err := decodePayload(subject, payload)
	if err != nil {
		return err
	}
	return validateValue(subject, schemaFor(subject), value)
}

// ValidateReply checks the reply to a request sent on subject against its reply schema.
func ValidateReply(subject string, reply any) error {
	target := "reply to " + subject
	sch := replySchemaFor(subject)
	if sch == nil {
		return &InvalidPayloadError{Subject: target, Reason: fmt.Sprintf("subject %q does not take requests", subject)}
	}
	_, value, err := decodePayload(target, reply)
	if err != nil {
		return err
	}
	return validateValue(target, sch, value)
}

// decodePayload turns payload into its JSON text and its decoded value (numbers as json.Number,
// what the validator takes).
func decodePayload(subject string, payload any) ([]byte, any, error) {
	var data []byte
	switch p := payload.(type) {
	case json.RawMessage:
		data = p
	case []byte:
		data = p
	default:
		var err error
		if data, err = json.Marshal(payload); err != nil {
			return nil, nil, &InvalidPayloadError{Subject: subject, Reason: "not JSON: " + err.Error()}
		}
	}
	value, err := decodeJSON(data)
	if err != nil {
		return nil, nil, &InvalidPayloadError{Subject: subject, Reason: "not JSON: " + err.Error()}
	}
	return data, value, nil
}

func decodeJSON(data []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}

func validateValue(subject string, sch *jsonschema.Schema, value any) error {
	if sch == nil {
		return &InvalidPayloadError{Subject: subject, Reason: fmt.Sprintf(`no schema for subject "%s"`, subject)}
	}
	err := sch.Validate(value)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return &InvalidPayloadError{Subject: subject, Reason: err.Error()}
	}
	field, reason := describe(firstError(verr), value)
	return &InvalidPayloadError{Subject: subject, Field: field, Reason: reason}
}

// firstError picks the error to report: the first leaf, or a whole anyOf (a union of
// literals, or alternative required sets) described as one.
func firstError(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for {
		if _, ok := e.ErrorKind.(*kind.AnyOf); ok || len(e.Causes) == 0 {
			return e
		}
		next := e.Causes[0]
		for _, cause := range e.Causes[1:] {
			if errorOrder(cause) < errorOrder(next) {
				next = cause
			}
		}
		e = next
	}
}

// errorOrder sorts errors deterministically (the validator's order follows map iteration):
// by instance location, then keyword.
func errorOrder(e *jsonschema.ValidationError) string {
	return strings.Join(e.InstanceLocation, "\x00") + "\x01" + strings.Join(e.ErrorKind.KeywordPath(), "/")
}

var printer = message.NewPrinter(message.MatchLanguage("en"))

// describe returns the dotted path of the field at fault and a reason naming it, worded as
// the TypeScript validator words it ("constraints.max_tokens: must be >= 1 (got -1)").
func describe(e *jsonschema.ValidationError, root any) (string, string) {
	field := strings.Join(e.InstanceLocation, ".")
	at := field
	if at == "" {
		at = "(root)"
	}
	got := valueAt(root, e.InstanceLocation)
	withGot := func(detail string) string { return at + ": " + detail + describeValue(got) }
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		missing := k.Missing[0]
		if field != "" {
			missing = field + "." + missing
		}
		return missing, missing + ": is required"
	case *kind.AnyOf:
		var literals, alternatives []string
		for _, cause := range e.Causes {
			switch ck := firstError(cause).ErrorKind.(type) {
			case *kind.Const:
				literals = append(literals, jsonText(ck.Want))
			case *kind.Required:
				alternatives = append(alternatives, strings.Join(ck.Missing, "+"))
			}
		}
		if field == "" && len(alternatives) == len(e.Causes) {
			return "", "one of " + strings.Join(alternatives, " or ") + ": is required"
		}
		if len(literals) == len(e.Causes) {
			return field, withGot("must be one of " + strings.Join(literals, ", "))
		}
		return field, withGot("must match a schema in anyOf")
	case *kind.Type:
		return field, withGot("must be " + strings.Join(k.Want, ","))
	case *kind.Const:
		return field, withGot("must be equal to constant")
	case *kind.Enum:
		values := make([]string, len(k.Want))
		for i, v := range k.Want {
			values[i] = jsonText(v)
		}
		return field, withGot("must be one of " + strings.Join(values, ", "))
	case *kind.MinLength:
		return field, withGot(fmt.Sprintf("must NOT have fewer than %d characters", k.Want))
	case *kind.MaxLength:
		return field, fmt.Sprintf("%s: must NOT have more than %d characters (got %d characters)", at, k.Want, k.Got)
	case *kind.Minimum:
		return field, withGot("must be >= " + ratText(k.Want))
	case *kind.Maximum:
		return field, withGot("must be <= " + ratText(k.Want))
	case *kind.ExclusiveMinimum:
		return field, withGot("must be > " + ratText(k.Want))
	case *kind.ExclusiveMaximum:
		return field, withGot("must be < " + ratText(k.Want))
	case *kind.Format:
		return field, withGot(fmt.Sprintf("must match format %q", k.Want))
	case *kind.Pattern:
		return field, withGot(fmt.Sprintf("must match pattern %q", k.Want))
	case *kind.MaxItems:
		return field, withGot(fmt.Sprintf("must NOT have more than %d items", k.Want))
	case *kind.MinItems:
		return field, withGot(fmt.Sprintf("must NOT have fewer than %d items", k.Want))
	case *kind.MaxProperties:
		return field, withGot(fmt.Sprintf("must NOT have more than %d properties", k.Want))
	case *maxDepthError:
		return field, fmt.Sprintf("%s: nested deeper than %d levels", at, k.max)
	}
	return field, withGot(e.ErrorKind.LocalizedString(printer))
}

func valueAt(v any, location []string) any {
	for _, token := range location {
		switch container := v.(type) {
		case map[string]any:
			v = container[token]
		case []any:
			i, err := strconv.Atoi(token)
			if err != nil || i < 0 || i >= len(container) {
				return nil
			}
			v = container[i]
		default:
			return nil
		}
	}
	return v
}

// describeValue is " (got -1)": the offending value, shortened, so logs show what was sent.
func describeValue(v any) string {
	text := []rune(jsonText(v))
	if len(text) > 80 {
		text = append(text[:77], []rune("...")...)
	}
	return " (got " + string(text) + ")"
}

func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func ratText(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// ---------------------------------------------------------------- maxDepth

// maxDepth (an ARC keyword, as the TypeScript validator defines it): a free-form object may
// nest at most that many levels; objects and arrays each count one level.
func maxDepthVocabulary() *jsonschema.Vocabulary {
	const url = "https://schemas.arc.invalid/vocab/max-depth"
	meta, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"properties": {"maxDepth": {"type": "integer", "minimum": 0}}}`))
	if err != nil {
		panic(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, meta); err != nil {
		panic(err)
	}
	sch := c.MustCompile(url)
	return &jsonschema.Vocabulary{
		URL:    url,
		Schema: sch,
		Compile: func(_ *jsonschema.CompilerContext, obj map[string]any) (jsonschema.SchemaExt, error) {
			raw, ok := obj["maxDepth"]
			if !ok {
				return nil, nil
			}
			n, err := strconv.Atoi(fmt.Sprint(raw))
			if err != nil {
				return nil, fmt.Errorf("maxDepth %v: %w", raw, err)
			}
			return maxDepth(n), nil
		},
	}
}

type maxDepth int

func (m maxDepth) Validate(ctx *jsonschema.ValidatorContext, v any) {
	if _, ok := v.(map[string]any); !ok {
		return
	}
	if depthOf(v, int(m)+1, 0) > int(m) {
		ctx.AddError(&maxDepthError{max: int(m)})
	}
}

// depthOf is the nesting depth of v, counting no further than stopAt.
func depthOf(v any, stopAt, depth int) int {
	if depth >= stopAt {
		return depth
	}
	deepest := depth + 1
	switch container := v.(type) {
	case map[string]any:
		for _, child := range container {
			deepest = max(deepest, depthOf(child, stopAt, depth+1))
			if deepest >= stopAt {
				break
			}
		}
	case []any:
		for _, child := range container {
			deepest = max(deepest, depthOf(child, stopAt, depth+1))
			if deepest >= stopAt {
				break
			}
		}
	default:
		return depth
	}
	return deepest
}

type maxDepthError struct{ max int }

func (*maxDepthError) KeywordPath() []string { return []string{"maxDepth"} }

func (e *maxDepthError) LocalizedString(p *message.Printer) string {
	return p.Sprintf("nested deeper than %d levels", e.max)
}

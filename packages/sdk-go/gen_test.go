package arc

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/arc-voice/arc/sdk-go/internal/gen"
)

const contractsDir = "../contracts"

func requireContracts(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(contractsDir, "schemas")); err != nil {
		t.Skipf("no %s/schemas (the SDK is used outside the ARC repository): nothing to compare with", contractsDir)
	}
}

// payloads_gen.go and contracts/ must be what `go generate` writes from packages/contracts now.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	requireContracts(t)
	files, err := gen.Generate(contractsDir)
	if err != nil {
		t.Fatalf("generating from %s: %v", contractsDir, err)
	}
	for rel, want := range files {
		got, err := os.ReadFile(filepath.FromSlash(rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale (run `go generate` in packages/sdk-go)", rel)
		}
	}
	copies, _ := filepath.Glob(filepath.Join(gen.SchemasDir, "*"))
	for _, path := range copies {
		if _, ok := files[filepath.ToSlash(path)]; !ok {
			t.Errorf("%s no longer exists upstream (run `go generate` in packages/sdk-go)", path)
		}
	}
}

// The Go constants carry the names of subjects.ts `Subjects` (voiceTrackPublished →
// SubjectVoiceTrackPublished) and REQUEST_SUBJECTS matches.
func TestSubjectsMatchSubjectsTS(t *testing.T) {
	requireContracts(t)
	source, err := os.ReadFile(filepath.Join(contractsDir, "src", "subjects.ts"))
	if err != nil {
		t.Skipf("no subjects.ts: %v", err)
	}
	block := regexp.MustCompile(`(?s)export const Subjects = \{(.*?)\}`).FindSubmatch(source)
	if block == nil {
		t.Fatal("subjects.ts: no `export const Subjects = {…}`")
	}
	generated, err := os.ReadFile(gen.PayloadsFile)
	if err != nil {
		t.Fatal(err)
	}
	var fromTS []string
	keys := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+):\s*'([^']+)'`).FindAllSubmatch(block[1], -1) {
		key, subject := string(m[1]), string(m[2])
		keys[key] = subject
		fromTS = append(fromTS, subject)
		constant := regexp.MustCompile(`\bSubject` + regexp.QuoteMeta(gen.GoName(key)) + `\s*=\s*"` + regexp.QuoteMeta(subject) + `"`)
		if !constant.Match(generated) {
			t.Errorf("subjects.ts %s = %q: no constant Subject%s = %q", key, subject, gen.GoName(key), subject)
		}
	}
	known := append([]string(nil), KnownSubjects...)
	sort.Strings(known)
	sort.Strings(fromTS)
	if strings.Join(known, ",") != strings.Join(fromTS, ",") {
		t.Errorf("KnownSubjects = %v, subjects.ts has %v", known, fromTS)
	}
	requests := regexp.MustCompile(`REQUEST_SUBJECTS = \[([^\]]*)\]`).FindSubmatch(source)
	if requests == nil {
		t.Fatal("subjects.ts: no REQUEST_SUBJECTS")
	}
	var want []string
	for _, m := range regexp.MustCompile(`Subjects\.(\w+)`).FindAllSubmatch(requests[1], -1) {
		want = append(want, keys[string(m[1])])
	}
	if strings.Join(want, ",") != strings.Join(RequestSubjects, ",") {
		t.Errorf("RequestSubjects = %v, subjects.ts REQUEST_SUBJECTS = %v", RequestSubjects, want)
	}
	owners := regexp.MustCompile(`OWNER_EVENT_SUBJECTS = \[([^\]]*)\]`).FindSubmatch(source)
	if owners == nil {
		t.Fatal("subjects.ts: no OWNER_EVENT_SUBJECTS")
	}
	var wantOwners []string
	for _, m := range regexp.MustCompile(`Subjects\.(\w+)`).FindAllSubmatch(owners[1], -1) {
		wantOwners = append(wantOwners, keys[string(m[1])])
	}
	if strings.Join(wantOwners, ",") != strings.Join(OwnerEventSubjects, ",") {
		t.Errorf("OwnerEventSubjects = %v, subjects.ts OWNER_EVENT_SUBJECTS = %v", OwnerEventSubjects, wantOwners)
	}
}

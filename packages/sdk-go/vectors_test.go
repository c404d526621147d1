package arc

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

type testVectors struct {
	Rules struct {
		TTLMs              int64    `json:"ttl_ms"`
		MaxClockSkewMs     int64    `json:"max_clock_skew_ms"`
		MaxPayloadBytes    int64    `json:"max_payload_bytes"`
		DeadLetterMaxBytes int      `json:"dead_letter_max_bytes"`
		DeadLetterPrefix   string   `json:"dead_letter_prefix"`
		DeadLetterReasons  []string `json:"dead_letter_reasons"`
		UntracedSubjects   []string `json:"untraced_subjects"`
	} `json:"rules"`
	Payloads []struct {
		Subject string          `json:"subject"`
		Name    string          `json:"name"`
		Payload json.RawMessage `json:"payload"`
		Valid   bool            `json:"valid"`
		Field   string          `json:"field"`
	} `json:"payloads"`
	DeadLetterSubjects []struct {
		Subject           string `json:"subject"`
		Reason            string `json:"reason"`
		DeadLetterSubject string `json:"dead_letter_subject"`
	} `json:"dead_letter_subjects"`
}

func loadVectors(t *testing.T) testVectors {
	t.Helper()
	data, err := os.ReadFile("contracts/vectors/test-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v testVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPayloadVectors(t *testing.T) {
	v := loadVectors(t)
	if len(v.Payloads) == 0 {
		t.Fatal("no payload vectors")
	}
	seen := map[string]bool{}
	for _, vector := range v.Payloads {
		seen[vector.Subject] = true
		err := Validate(vector.Subject, vector.Payload)
		if vector.Valid {
			if err != nil {
				t.Errorf("%s / %s: valid vector rejected: %v", vector.Subject, vector.Name, err)
			}
			continue
		}
		var invalid *InvalidPayloadError
		if !errors.As(err, &invalid) {
			t.Errorf("%s / %s: want an *InvalidPayloadError naming %q, got %v", vector.Subject, vector.Name, vector.Field, err)
			continue
		}
		if invalid.Field != vector.Field && !strings.HasSuffix(invalid.Field, "."+vector.Field) {
			t.Errorf("%s / %s: Field = %q, want %q (%v)", vector.Subject, vector.Name, invalid.Field, vector.Field, err)
		}
		if !strings.Contains(err.Error(), vector.Field) || !strings.HasPrefix(err.Error(), "invalid payload for "+vector.Subject+": ") {
			t.Errorf("%s / %s: message %q does not name %q", vector.Subject, vector.Name, err, vector.Field)
		}
		if testing.Verbose() {
			t.Logf("%s / %s: %v", vector.Subject, vector.Name, err)
		}
	}
	for _, subject := range KnownSubjects {
		if !seen[subject] {
			t.Errorf("no vector for %s", subject)
		}
	}
}

func TestDeadLetterSubjectVectors(t *testing.T) {
	v := loadVectors(t)
	if len(v.DeadLetterSubjects) == 0 {
		t.Fatal("no dead-letter subject vectors")
	}
	for _, row := range v.DeadLetterSubjects {
		if got := DeadLetterSubject(row.Subject, DeadLetterReason(row.Reason)); got != row.DeadLetterSubject {
			t.Errorf("DeadLetterSubject(%q, %q) = %q, want %q", row.Subject, row.Reason, got, row.DeadLetterSubject)
		}
	}
}

func TestRulesVectors(t *testing.T) {
	r := loadVectors(t).Rules
	if DefaultTTL != time.Duration(r.TTLMs)*time.Millisecond || DefaultMaxClockSkew != time.Duration(r.MaxClockSkewMs)*time.Millisecond ||
		DefaultMaxPayloadBytes != r.MaxPayloadBytes || DeadLetterMaxBytes != r.DeadLetterMaxBytes || DeadLetterPrefix != r.DeadLetterPrefix {
		t.Errorf("generated rules differ from test-vectors.json: %+v", r)
	}
	if len(DeadLetterReasons) != len(r.DeadLetterReasons) {
		t.Errorf("DeadLetterReasons = %v, want %v", DeadLetterReasons, r.DeadLetterReasons)
	}
	for i, reason := range r.DeadLetterReasons {
		if i < len(DeadLetterReasons) && string(DeadLetterReasons[i]) != reason {
			t.Errorf("DeadLetterReasons[%d] = %q, want %q", i, DeadLetterReasons[i], reason)
		}
	}
	if len(untracedSubjects) != len(r.UntracedSubjects) {
		t.Errorf("untraced subjects = %v, want %v", untracedSubjects, r.UntracedSubjects)
	}
	for _, subject := range r.UntracedSubjects {
		if !untracedSubjects[subject] {
			t.Errorf("%s should be untraced", subject)
		}
	}
}

package arc

import (
	"errors"
	"testing"
	"time"
)

func TestValidateSubject(t *testing.T) {
	for _, tc := range []struct {
		subject   string
		wildcards bool
		ok        bool
	}{
		{"agent.brain.request", false, true},
		{"agent.tts.worker.tts-1.request", false, true},
		{"a.b.c.d.e.f.g.h", false, true},
		{"a.b.c.d.e.f.g.h.i", false, false},
		{"", false, false},
		{"agent..request", false, false},
		{"agent.brain request", false, false},
		{"agent.$brain", false, false},
		{"agent.>", false, false},
		{"agent.>", true, true},
		{"agent.*.error", true, true},
		{"agent.>.error", true, false},
	} {
		err := ValidateSubject(tc.subject, tc.wildcards)
		var invalid *InvalidSubjectError
		if tc.ok != (err == nil) || (err != nil && !errors.As(err, &invalid)) {
			t.Errorf("ValidateSubject(%q, %v) = %v", tc.subject, tc.wildcards, err)
		}
	}
}

func TestOwnerSubjects(t *testing.T) {
	subject, err := OwnerSubject(SubjectBrainResponse, "voice-1")
	if err != nil || subject != "agent.brain.to.voice-1.response" {
		t.Fatalf("OwnerSubject = %q, %v", subject, err)
	}
	if s, _ := OwnerSubject(SubjectTTSCompleted, "v_2"); s != "agent.tts.to.v_2.completed" {
		t.Errorf("TTS owner subject %q", s)
	}
	if _, err := OwnerSubject(SubjectBrainResponse, "a.b"); err == nil {
		t.Error("instance id with a dot accepted")
	}
	if _, err := OwnerSubject(SubjectBrainRequest, "x"); err == nil {
		t.Error("owner subject of a subject that answers nothing")
	}
	if base, ok := EventSubjectOf(subject); !ok || base != SubjectBrainResponse {
		t.Errorf("EventSubjectOf(%q) = %q, %v", subject, base, ok)
	}
	if _, ok := EventSubjectOf("agent.brain.to.x.request"); ok {
		t.Error("agent.brain.to.x.request is not an owner subject")
	}
	if key, ok := SchemaSubject(subject); !ok || key != SubjectBrainResponse {
		t.Errorf("SchemaSubject(%q) = %q", subject, key)
	}
}

func TestWorkerSubjects(t *testing.T) {
	subject, err := WorkerSubject(SubjectTTSRequest, "tts-1")
	if err != nil || subject != "agent.tts.worker.tts-1.request" {
		t.Fatalf("WorkerSubject = %q, %v", subject, err)
	}
	if s, _ := WorkerSubject(SubjectVoiceTrackPublished, "voice_2"); s != "agent.voice.track.worker.voice_2.published" {
		t.Errorf("voice worker subject %q", s)
	}
	if _, err := WorkerSubject(SubjectTTSRequest, "a.b"); err == nil {
		t.Error("instance id with a dot accepted")
	}
	if _, err := WorkerSubject(SubjectBrainRequest, "x"); err == nil {
		t.Error("worker subject of a subject that takes no requests")
	}
	if base, ok := RequestSubjectOf(subject); !ok || base != SubjectTTSRequest {
		t.Errorf("RequestSubjectOf(%q) = %q, %v", subject, base, ok)
	}
	if _, ok := RequestSubjectOf("agent.brain.worker.x.request"); ok {
		t.Error("agent.brain.worker.x.request is not a worker subject")
	}
	if key, ok := SchemaSubject(subject); !ok || key != SubjectTTSRequest {
		t.Errorf("SchemaSubject(%q) = %q", subject, key)
	}
	if key, ok := SchemaSubject("dlq.agent.brain.request.stale"); !ok || key != "dlq" {
		t.Errorf("dead letters use dlq.schema.json, got %q", key)
	}
	if HasSchema("agent.brain.nothing") {
		t.Error("agent.brain.nothing has no schema")
	}
}

func TestDeadLetterSubject(t *testing.T) {
	if got := DeadLetterSubject("agent.brain.request", ReasonStale); got != "dlq.agent.brain.request.stale" {
		t.Errorf("got %q", got)
	}
	if got := DeadLetterSubject("a.b.c.d.e.f.g", ReasonInvalidPayload); got != "dlq.unroutable.invalid_payload" {
		t.Errorf("9 tokens: got %q", got)
	}
	if got := DeadLetterSubject("agent.$x", ReasonUnknownSubject); got != "dlq.unroutable.unknown_subject" {
		t.Errorf("bad characters: got %q", got)
	}
	if !IsDeadLetterSubject("dlq.x.stale") || IsDeadLetterSubject("dlqx.y") {
		t.Error("IsDeadLetterSubject")
	}
}

func TestSubjectMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, subject string
		want             bool
	}{
		{"agent.>", "agent.brain.request", true},
		{"agent.>", "agent", false},
		{"*.*.error", "agent.tts.error", true},
		{"*.*.error", "agent.tts.worker.error", false},
		{"agent.*.worker.*.*", "agent.tts.worker.tts-1.request", true},
		{">", "dlq.a.stale", true},
	} {
		if got := SubjectMatches(tc.pattern, tc.subject); got != tc.want {
			t.Errorf("SubjectMatches(%q, %q) = %v", tc.pattern, tc.subject, got)
		}
	}
}

func TestIDs(t *testing.T) {
	at := time.Date(2025, 12, 14, 13, 30, 0, 123456789, time.FixedZone("CET", 3600))
	if got := Timestamp(at); got != "2025-12-14T12:30:00.123456Z" {
		t.Errorf("Timestamp = %q", got)
	}
	parsed, ok := ParseTimestamp("2025-12-14T12:30:00.123456Z")
	if !ok || !parsed.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("ParseTimestamp = %v, %v", parsed, ok)
	}
	if _, ok := ParseTimestamp("yesterday"); ok {
		t.Error("yesterday parsed")
	}
	seen := map[string]bool{}
	for range 100 {
		id := NewTraceID()
		if !traceIDFormat.MatchString(id) || seen[id] {
			t.Fatalf("trace id %q", id)
		}
		seen[id] = true
	}
}

func TestMaxDepth(t *testing.T) {
	deep := map[string]any{}
	node := deep
	for range 6 {
		child := map[string]any{}
		node["x"] = child
		node = child
	}
	payload := map[string]any{"request_id": "r", "session_id": "s", "user_input": "hi", "timestamp": Timestamp(time.Now()),
		"trace_id": NewTraceID(), "context": map[string]any{"user_profile": deep}}
	err := Validate(SubjectBrainRequest, payload)
	var invalid *InvalidPayloadError
	if !errors.As(err, &invalid) || invalid.Field != "context.user_profile" || invalid.Reason != "context.user_profile: nested deeper than 6 levels" {
		t.Errorf("7 levels: %v", err)
	}
	delete(node, "x")
	payload["context"] = map[string]any{"user_profile": map[string]any{"a": map[string]any{"b": map[string]any{"c": map[string]any{"d": map[string]any{"e": 1}}}}}}
	if err := Validate(SubjectBrainRequest, payload); err != nil {
		t.Errorf("5 levels: %v", err)
	}
}

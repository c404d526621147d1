package arc

import (
	"fmt"
	"slices"
	"strings"
)

//go:generate go run ./cmd/gen-payloads -contracts ../contracts -out .

// MaxSubjectTokens is the most tokens an ARC subject may have.
const MaxSubjectTokens = 8

// DeadLetterReason says why a message was dead-lettered (ReasonInvalidPayload, …).
type DeadLetterReason string

// RequestSubjects may be sent as NATS requests (subjects.ts REQUEST_SUBJECTS); each has a
// worker-targeted form, see WorkerSubject.
var RequestSubjects = []string{SubjectTTSRequest, SubjectVoiceTrackPublished}

// OwnerEventSubjects answer a request (subjects.ts OWNER_EVENT_SUBJECTS): when the request names
// its owner_instance (the voice worker owning the session), each is published to its seed subject
// and to its owner subject, see OwnerSubject.
var OwnerEventSubjects = []string{SubjectBrainPartial, SubjectBrainResponse, SubjectBrainError, SubjectTTSCompleted, SubjectTTSError}

// InvalidSubjectError is a subject ARC does not allow; nothing was sent or subscribed.
type InvalidSubjectError struct {
	Subject string
	Reason  string
}

func (e *InvalidSubjectError) Error() string {
	return fmt.Sprintf("invalid subject %q: %s", e.Subject, e.Reason)
}

func isToken(token string) bool {
	if token == "" {
		return false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidateSubject returns an *InvalidSubjectError unless subject is a well-formed ARC subject:
// 1 to 8 dot-separated tokens of A-Z a-z 0-9 _ -. With wildcards, `*` tokens and a final `>`
// are allowed too (for subscriptions).
func ValidateSubject(subject string, wildcards bool) error {
	if subject == "" {
		return &InvalidSubjectError{subject, "empty"}
	}
	tokens := strings.Split(subject, ".")
	if len(tokens) > MaxSubjectTokens {
		return &InvalidSubjectError{subject, fmt.Sprintf("%d tokens, at most %d allowed", len(tokens), MaxSubjectTokens)}
	}
	for i, token := range tokens {
		switch {
		case token == "":
			return &InvalidSubjectError{subject, fmt.Sprintf("token %d is empty", i+1)}
		case token == "*" || token == ">":
			if !wildcards {
				return &InvalidSubjectError{subject, fmt.Sprintf("wildcard %q not allowed here", token)}
			}
			if token == ">" && i != len(tokens)-1 {
				return &InvalidSubjectError{subject, `">" must be the last token`}
			}
		case !isToken(token):
			return &InvalidSubjectError{subject, fmt.Sprintf("token %d %q has characters other than A-Z a-z 0-9 _ -", i+1, token)}
		}
	}
	return nil
}

// IsKnownSubject reports whether subject is one of KnownSubjects.
func IsKnownSubject(subject string) bool {
	return slices.Contains(KnownSubjects, subject)
}

// IsDeadLetterSubject reports whether subject is a dead letter (dlq.…).
func IsDeadLetterSubject(subject string) bool {
	return strings.HasPrefix(subject, DeadLetterPrefix+".")
}

// DeadLetterSubject is where a message rejected for reason goes: dlq.<subject>.<reason>, or
// dlq.unroutable.<reason> when that would not be a valid subject (over 8 tokens, bad characters).
func DeadLetterSubject(subject string, reason DeadLetterReason) string {
	candidate := DeadLetterPrefix + "." + subject + "." + string(reason)
	if ValidateSubject(candidate, false) == nil {
		return candidate
	}
	return DeadLetterPrefix + ".unroutable." + string(reason)
}

// WorkerSubject is the worker-targeted form of a request subject:
// WorkerSubject("agent.tts.request", "tts-1") is "agent.tts.worker.tts-1.request".
// It carries the request subject's schema.
func WorkerSubject(subject, instanceID string) (string, error) {
	if !slices.Contains(RequestSubjects, subject) {
		return "", &InvalidSubjectError{subject, "not a request subject (" + strings.Join(RequestSubjects, ", ") + ")"}
	}
	return targeted(subject, "worker", instanceID)
}

// RequestSubjectOf returns the request subject a worker subject targets
// ("agent.tts.worker.x.request" → "agent.tts.request").
func RequestSubjectOf(subject string) (string, bool) {
	return untargeted(subject, "worker", RequestSubjects)
}

// OwnerSubject is the copy of an answering event for the voice worker that owns the session:
// OwnerSubject("agent.brain.response", "voice-1") is "agent.brain.to.voice-1.response".
// It carries the event subject's schema.
func OwnerSubject(subject, instanceID string) (string, error) {
	if !slices.Contains(OwnerEventSubjects, subject) {
		return "", &InvalidSubjectError{subject, "has no owner subject (" + strings.Join(OwnerEventSubjects, ", ") + ")"}
	}
	return targeted(subject, "to", instanceID)
}

// EventSubjectOf returns the event subject an owner subject copies
// ("agent.brain.to.x.response" → "agent.brain.response").
func EventSubjectOf(subject string) (string, bool) {
	return untargeted(subject, "to", OwnerEventSubjects)
}

// targeted turns "a.b.action" into "a.b.<infix>.<instanceID>.action" (worker and owner subjects).
func targeted(subject, infix, instanceID string) (string, error) {
	cut := strings.LastIndexByte(subject, '.')
	result := subject[:cut] + "." + infix + "." + instanceID + subject[cut:]
	if !isToken(instanceID) {
		return "", &InvalidSubjectError{result, fmt.Sprintf("instance id %q must be one token of A-Z a-z 0-9 _ -", instanceID)}
	}
	return result, nil
}

// untargeted returns the subject among bases that subject targets through infix.
func untargeted(subject, infix string, bases []string) (string, bool) {
	tokens := strings.Split(subject, ".")
	n := len(tokens)
	if n < 4 || tokens[n-3] != infix || !isToken(tokens[n-2]) || !isToken(tokens[n-1]) {
		return "", false
	}
	base := strings.Join(tokens[:n-3], ".") + "." + tokens[n-1]
	if !slices.Contains(bases, base) {
		return "", false
	}
	return base, true
}

// SubjectMatches reports whether a concrete subject matches a pattern with `*` and `>`.
func SubjectMatches(pattern, subject string) bool {
	p := strings.Split(pattern, ".")
	s := strings.Split(subject, ".")
	for i := range p {
		if p[i] == ">" {
			return len(s) > i
		}
		if i >= len(s) || p[i] != "*" && p[i] != s[i] {
			return false
		}
	}
	return len(p) == len(s)
}

// AuditCopyPrefix: request and worker subjects reach the ARC_AUDIT stream through a copy on
// audit.<subject>, because a stream listening on them would stop NATS answering "no responders"
// (as the TypeScript bus does).
const AuditCopyPrefix = "audit"

// IsAuditedByCopy reports whether subject is a request or worker subject, audited through a copy.
func IsAuditedByCopy(subject string) bool {
	for _, s := range RequestSubjects {
		if s == subject {
			return true
		}
	}
	_, ok := RequestSubjectOf(subject)
	return ok
}

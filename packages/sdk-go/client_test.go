package arc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

var (
	timestampShape = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
	traceIDFormat  = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

func connectClient(t *testing.T, url string, opts Options) *Client {
	t.Helper()
	if opts.Service == "" {
		opts.Service = "go-test"
	}
	c, err := Connect(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// observe subscribes a plain NATS connection (no ARC rules) to subject.
func observe(t *testing.T, url, subject string) (*nats.Conn, chan *nats.Msg) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ch := make(chan *nats.Msg, 64)
	if _, err := nc.ChanSubscribe(subject, ch); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return nc, ch
}

func next(t *testing.T, ch chan *nats.Msg, what string) *nats.Msg {
	t.Helper()
	select {
	case msg := <-ch:
		return msg
	case <-time.After(3 * time.Second):
		t.Fatalf("no %s within 3 s", what)
		return nil
	}
}

func decodeMap(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, data)
	}
	return m
}

// eventually waits until check passes (counters are updated right after the publishes they count).
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if check() {
			return
		}
	}
	t.Fatalf("%s: not within 3 s", what)
}

func brainRequest(requestID string) BrainRequest {
	return BrainRequest{RequestID: requestID, SessionID: "session-1", UserInput: "what is the weather?"}
}

func TestPublishFillsTimestampAndTraceID(t *testing.T) {
	url := startNATS(t, "")
	c := connectClient(t, url, Options{})
	_, received := observe(t, url, ">")

	before := time.Now()
	sent, err := c.Publish(SubjectBrainRequest, brainRequest("req-1"))
	if err != nil {
		t.Fatal(err)
	}
	msg := next(t, received, "brain request")
	if msg.Subject != SubjectBrainRequest || string(msg.Data) != string(sent) {
		t.Fatalf("received %s %s, sent %s", msg.Subject, msg.Data, sent)
	}
	payload := decodeMap(t, msg.Data)
	timestamp, _ := payload["timestamp"].(string)
	if !timestampShape.MatchString(timestamp) {
		t.Errorf("timestamp %q is not UTC with microseconds", timestamp)
	}
	if at, ok := ParseTimestamp(timestamp); !ok || at.Before(before.Add(-time.Millisecond)) || at.After(time.Now()) {
		t.Errorf("timestamp %q is not the publish time", timestamp)
	}
	if id, _ := payload["trace_id"].(string); !traceIDFormat.MatchString(id) || id == strings.Repeat("0", 32) {
		t.Errorf("trace_id %q is not 32 lowercase hex", id)
	}
	if !strings.HasPrefix(string(sent), `{"timestamp":"`) || payload["user_input"] != "what is the weather?" {
		t.Errorf("sent %s", sent)
	}

	// Given values are kept; null counts as absent.
	given := map[string]any{"request_id": "req-2", "session_id": "s", "user_input": "hi", "timestamp": "2030-01-01T00:00:00.000001Z", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
	if sent, err = c.Publish(SubjectBrainRequest, given); err != nil {
		t.Fatal(err)
	}
	if p := decodeMap(t, sent); p["timestamp"] != given["timestamp"] || p["trace_id"] != given["trace_id"] {
		t.Errorf("given timestamp/trace_id replaced: %s", sent)
	}
	next(t, received, "second brain request")
	if sent, err = c.Publish(SubjectBrainRequest, json.RawMessage(`{"request_id":"req-3","session_id":"s","user_input":"hi","trace_id":null}`)); err != nil {
		t.Fatal(err)
	}
	if id, _ := decodeMap(t, sent)["trace_id"].(string); !traceIDFormat.MatchString(id) {
		t.Errorf("null trace_id not filled: %s", sent)
	}
	next(t, received, "third brain request")

	// Untraced subjects get no trace_id.
	heartbeat := HealthHeartbeat{Service: "go-test", Status: "healthy", Metrics: HealthHeartbeatMetrics{ActiveSessions: 0, CPUPercent: 1.5, MemoryMB: 20}}
	if sent, err = c.Publish(SubjectHealthHeartbeat, heartbeat); err != nil {
		t.Fatal(err)
	}
	if p := decodeMap(t, sent); p["trace_id"] != nil || p["timestamp"] == nil {
		t.Errorf("heartbeat: %s", sent)
	}
	next(t, received, "heartbeat")

	// Worker subjects carry their request subject's schema.
	worker, err := WorkerSubject(SubjectTTSRequest, "tts-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(worker, TTSRequest{RequestID: "tts-1", Text: "hello", SessionID: "s", TargetRoom: "room-1"}); err != nil {
		t.Fatal(err)
	}
	if msg := next(t, received, "worker request"); msg.Subject != "agent.tts.worker.tts-1.request" {
		t.Errorf("worker request on %s", msg.Subject)
	}
	// Worker subjects reach the audit stream through a copy (a stream on them would hide "no responders").
	if msg := next(t, received, "audit copy"); msg.Subject != "audit.agent.tts.worker.tts-1.request" {
		t.Errorf("audit copy on %s", msg.Subject)
	}
	if _, err := c.Publish(worker, brainRequest("wrong-schema")); err == nil {
		t.Error("a brain request validated as a TTS request")
	}

	// Refusals: nothing is sent.
	published := c.Stats().Published
	request := brainRequest("req-4")
	request.UserInput = ""
	_, err = c.Publish(SubjectBrainRequest, map[string]any{"request_id": "r", "session_id": "s"})
	var invalid *InvalidPayloadError
	if !errors.As(err, &invalid) || invalid.Field != "user_input" || invalid.Subject != SubjectBrainRequest ||
		err.Error() != "invalid payload for agent.brain.request: user_input: is required" {
		t.Errorf("missing user_input: %v", err)
	}
	if _, err = c.Publish(SubjectBrainRequest, request); !errors.As(err, &invalid) || invalid.Field != "user_input" {
		t.Errorf("empty user_input: %v", err)
	}
	if _, err = c.Publish("agent.nothing.here", map[string]any{}); !errors.As(err, &invalid) || !strings.Contains(err.Error(), `no schema for subject "agent.nothing.here"`) {
		t.Errorf("unknown subject: %v", err)
	}
	var badSubject *InvalidSubjectError
	if _, err = c.Publish("agent..brain", brainRequest("x")); !errors.As(err, &badSubject) {
		t.Errorf("bad subject: %v", err)
	}
	if _, err = c.Publish("agent.>", brainRequest("x")); !errors.As(err, &badSubject) {
		t.Errorf("wildcard publish: %v", err)
	}
	if c.Stats().Published != published {
		t.Errorf("refused publishes were counted as published")
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-received:
		t.Errorf("a refused payload was sent: %s %s", msg.Subject, msg.Data)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestPublishRefusesPayloadsOverMaxPayload(t *testing.T) {
	url := startNATS(t, "max_payload: 4096")
	c := connectClient(t, url, Options{})
	if got := c.Conn().MaxPayload(); got != 4096 {
		t.Fatalf("server max_payload %d, want 4096", got)
	}
	request := brainRequest("big")
	request.UserInput = strings.Repeat("x", 5000)
	_, err := c.Publish(SubjectBrainRequest, request)
	var tooLarge *PayloadTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Max != 4096 || tooLarge.Size <= 5000 || tooLarge.Subject != SubjectBrainRequest {
		t.Fatalf("want *PayloadTooLargeError, got %v", err)
	}
	if !strings.Contains(err.Error(), "over the server's max_payload of 4096 bytes") {
		t.Errorf("message: %v", err)
	}
	if _, err := c.Request(context.Background(), SubjectTTSRequest, TTSRequest{RequestID: "r", Text: strings.Repeat("y", 5000), SessionID: "s", TargetRoom: "room"}); !errors.As(err, &tooLarge) {
		t.Errorf("request: want *PayloadTooLargeError, got %v", err)
	}
	if err := c.PublishRaw(SubjectBrainRequest, make([]byte, 4097)); !errors.As(err, &tooLarge) {
		t.Errorf("raw: want *PayloadTooLargeError, got %v", err)
	}
	if _, err := c.Publish(SubjectBrainRequest, brainRequest("small")); err != nil {
		t.Errorf("a small payload was refused: %v", err)
	}
	if c.Stats().Published != 1 {
		t.Errorf("published = %d, want 1", c.Stats().Published)
	}
}

// deadLetterCase publishes raw bytes and expects one dead letter.
type deadLetterCase struct {
	name       string
	subject    string
	data       []byte
	dlqSubject string
	reason     *regexp.Regexp
	traceID    string
}

func TestSubscribeDeadLettersRejectedMessages(t *testing.T) {
	url := startNATS(t, "")
	sub := connectClient(t, url, Options{Service: "go-subscriber", InstanceID: "go-subscriber-1"})
	handled := make(chan Message, 16)
	if _, err := sub.Subscribe("agent.>", "", func(msg Message) error {
		var request struct {
			RequestID string `json:"request_id"`
		}
		if err := msg.Decode(&request); err != nil {
			return err
		}
		switch request.RequestID {
		case "boom":
			return errors.New("boom failed")
		case "kaboom":
			panic("kaboom")
		}
		handled <- msg
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	pub, deadLetters := observe(t, url, "dlq.>")
	serviceErrors := make(chan *nats.Msg, 8)
	if _, err := pub.ChanSubscribe(SubjectServiceError, serviceErrors); err != nil {
		t.Fatal(err)
	}
	if err := pub.Flush(); err != nil {
		t.Fatal(err)
	}

	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	raw := func(fields map[string]any) []byte {
		payload := map[string]any{"request_id": "req-1", "session_id": "s", "user_input": "hi", "timestamp": Timestamp(time.Now()), "trace_id": trace}
		for k, v := range fields {
			if v == nil {
				delete(payload, k)
			} else {
				payload[k] = v
			}
		}
		data, _ := json.Marshal(payload)
		return data
	}
	old := Timestamp(time.Now().Add(-2 * time.Minute))
	future := Timestamp(time.Now().Add(time.Minute))
	cases := []deadLetterCase{
		{"not JSON", SubjectBrainRequest, []byte(`{"request_id": oops`), "dlq.agent.brain.request.invalid_payload", regexp.MustCompile(`^not JSON: .+`), ""},
		{"schema failure", SubjectBrainRequest, raw(map[string]any{"user_input": nil}), "dlq.agent.brain.request.invalid_payload", regexp.MustCompile(`^user_input: is required$`), trace},
		{"nested field", SubjectBrainRequest, raw(map[string]any{"constraints": map[string]any{"max_tokens": -1}}), "dlq.agent.brain.request.invalid_payload", regexp.MustCompile(`^constraints\.max_tokens: must be >= 1 \(got -1\)$`), trace},
		{"unknown subject", "agent.nothing.here", raw(nil), "dlq.agent.nothing.here.unknown_subject", regexp.MustCompile(`^no schema for subject "agent\.nothing\.here"$`), ""},
		{"stale", SubjectBrainRequest, raw(map[string]any{"timestamp": old}), "dlq.agent.brain.request.stale", regexp.MustCompile(`^timestamp: ` + regexp.QuoteMeta(old) + ` is (\d+) ms old, over the 60000 ms TTL$`), trace},
		{"future", SubjectBrainRequest, raw(map[string]any{"timestamp": future}), "dlq.agent.brain.request.invalid_payload", regexp.MustCompile(`^timestamp: ` + regexp.QuoteMeta(future) + ` is in the future$`), trace},
		{"truncated", SubjectBrainRequest, raw(map[string]any{"user_input": strings.Repeat("z", 20001)}), "dlq.agent.brain.request.invalid_payload", regexp.MustCompile(`^user_input: must NOT have more than 20000 characters \(got 20001 characters\)$`), trace},
		{"handler error", SubjectBrainRequest, raw(map[string]any{"request_id": "boom"}), "dlq.agent.brain.request.handler_error", regexp.MustCompile(`^boom failed$`), trace},
		{"handler panic", SubjectBrainRequest, raw(map[string]any{"request_id": "kaboom"}), "dlq.agent.brain.request.handler_error", regexp.MustCompile(`^panic: kaboom$`), trace},
	}
	for _, tc := range cases {
		if err := pub.Publish(tc.subject, tc.data); err != nil {
			t.Fatal(err)
		}
		msg := next(t, deadLetters, tc.name+" dead letter")
		if msg.Subject != tc.dlqSubject {
			t.Errorf("%s: dead letter on %s, want %s", tc.name, msg.Subject, tc.dlqSubject)
		}
		if err := Validate(msg.Subject, msg.Data); err != nil {
			t.Errorf("%s: dead letter not valid against dlq.schema.json: %v", tc.name, err)
		}
		var letter DeadLetter
		if err := json.Unmarshal(msg.Data, &letter); err != nil {
			t.Fatal(err)
		}
		wantType := tc.dlqSubject[strings.LastIndexByte(tc.dlqSubject, '.')+1:]
		if letter.ErrorType != wantType || letter.OriginalSubject != tc.subject || letter.Service != "go-subscriber" || letter.InstanceID != "go-subscriber-1" {
			t.Errorf("%s: dead letter %s", tc.name, msg.Data)
		}
		if !tc.reason.MatchString(letter.Reason) {
			t.Errorf("%s: reason %q does not match %s", tc.name, letter.Reason, tc.reason)
		}
		if letter.TraceID != tc.traceID {
			t.Errorf("%s: trace_id %q, want %q", tc.name, letter.TraceID, tc.traceID)
		}
		original, err := base64.StdEncoding.DecodeString(letter.OriginalPayloadBase64)
		if err != nil {
			t.Fatal(err)
		}
		kept := min(len(tc.data), DeadLetterMaxBytes)
		if letter.OriginalSizeBytes != int64(len(tc.data)) || string(original) != string(tc.data[:kept]) || letter.Truncated != (kept < len(tc.data)) {
			t.Errorf("%s: original %d bytes, truncated %v; kept %d bytes", tc.name, letter.OriginalSizeBytes, letter.Truncated, len(original))
		}
		if tc.name == "truncated" && !letter.Truncated {
			t.Errorf("truncated: not marked truncated")
		}
		if tc.name == "stale" {
			ms, _ := strconv.Atoi(tc.reason.FindStringSubmatch(letter.Reason)[1])
			if ms < 119_000 || ms > 125_000 {
				t.Errorf("stale: age %d ms, want about 120000", ms)
			}
		}
		if strings.HasPrefix(tc.name, "handler") {
			report := next(t, serviceErrors, tc.name+" service error")
			if err := Validate(SubjectServiceError, report.Data); err != nil {
				t.Errorf("%s: service error invalid: %v", tc.name, err)
			}
			var se ServiceError
			_ = json.Unmarshal(report.Data, &se)
			wantMessage := "handler for agent.brain.request failed: " + letter.Reason
			if se.Service != "go-subscriber" || se.InstanceID == nil || *se.InstanceID != "go-subscriber-1" || se.ErrorType != "handler_error" ||
				se.ErrorMessage != wantMessage || se.Severity != "error" || se.ActionRequired != "investigate" ||
				se.Subject == nil || *se.Subject != SubjectBrainRequest || se.TraceID != trace {
				t.Errorf("%s: service error %s", tc.name, report.Data)
			}
		}
	}

	// Valid messages reach the handler, worker subjects included; HopLatency is measured.
	if err := pub.Publish("agent.tts.worker.tts-1.request", []byte(fmt.Sprintf(`{"request_id":"t","text":"hi","session_id":"s","target_room":"r","timestamp":%q,"trace_id":%q}`, Timestamp(time.Now()), trace))); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(SubjectBrainRequest, raw(nil)); err != nil {
		t.Fatal(err)
	}
	for _, subject := range []string{"agent.tts.worker.tts-1.request", SubjectBrainRequest} {
		select {
		case msg := <-handled:
			if msg.Subject != subject || msg.HopLatency < 0 || msg.HopLatency > 2*time.Second {
				t.Errorf("handled %s (hop %s), want %s", msg.Subject, msg.HopLatency, subject)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("valid %s not handled", subject)
		}
	}
	want := Stats{Received: 11, Handled: 4, Invalid: 6, Stale: 1, DeadLettered: 9, HandlerErrors: 2, Published: 11}
	eventually(t, "counters", func() bool { return sub.Stats() == want })
	select {
	case msg := <-deadLetters:
		t.Errorf("unexpected dead letter %s %s", msg.Subject, msg.Data)
	default:
	}
}

func TestDeadLettersAreNeverDeadLetteredAgain(t *testing.T) {
	url := startNATS(t, "")
	watcher := connectClient(t, url, Options{Service: "go-dlq-watcher"})
	handled := make(chan Message, 4)
	if _, err := watcher.Subscribe("dlq.>", "", func(msg Message) error {
		handled <- msg
		return errors.New("the watcher fails on purpose")
	}); err != nil {
		t.Fatal(err)
	}
	if err := watcher.Flush(); err != nil {
		t.Fatal(err)
	}
	pub, again := observe(t, url, "dlq.dlq.>")
	// An old, valid dead letter: no TTL on dlq.* subjects.
	letter := DeadLetter{Timestamp: Timestamp(time.Now().Add(-time.Hour)), OriginalSubject: "agent.brain.request", ErrorType: "invalid_payload",
		Reason: "user_input: is required", Service: "x", InstanceID: "x-1", OriginalSizeBytes: 2, OriginalPayloadBase64: "e30=", Truncated: false}
	data, _ := json.Marshal(letter)
	for _, msg := range [][]byte{[]byte("not json"), []byte(`{"timestamp":"yesterday"}`), data} {
		if err := pub.Publish("dlq.agent.brain.request.invalid_payload", msg); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-handled:
	case <-time.After(3 * time.Second):
		t.Fatal("the old, valid dead letter was not handled")
	}
	want := Stats{Received: 3, Handled: 1, Invalid: 2, HandlerErrors: 1, Published: 1}
	eventually(t, "counters", func() bool { return watcher.Stats() == want })
	if err := watcher.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-again:
		t.Errorf("a dead letter was dead-lettered again: %s", msg.Subject)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestRequestAndRespond(t *testing.T) {
	url := startNATS(t, "")
	worker := connectClient(t, url, Options{Service: "go-tts", InstanceID: "tts-1"})
	respondErrors := make(chan error, 1)
	if _, err := worker.Subscribe(SubjectTTSRequest, "tts", func(msg Message) error {
		var request TTSRequest
		if err := msg.Decode(&request); err != nil {
			return err
		}
		respondErrors <- msg.Respond(TTSRequestReply{RequestID: request.RequestID, InstanceID: "tts-1", TargetRoom: request.TargetRoom}) // no worker_subject
		subject, _ := WorkerSubject(SubjectTTSRequest, "tts-1")
		return msg.Respond(TTSRequestReply{RequestID: request.RequestID, InstanceID: "tts-1", TargetRoom: request.TargetRoom, WorkerSubject: subject})
	}); err != nil {
		t.Fatal(err)
	}
	if err := worker.Flush(); err != nil {
		t.Fatal(err)
	}
	client := connectClient(t, url, Options{Service: "go-voice"})
	const trace = "0af7651916cd43dd8448eb211c80319c"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	data, err := client.Request(ctx, SubjectTTSRequest, TTSRequest{RequestID: "tts-req-1", Text: "hello", SessionID: "s", TargetRoom: "room-1", TraceID: trace})
	if err != nil {
		t.Fatal(err)
	}
	var reply TTSRequestReply
	if err := json.Unmarshal(data, &reply); err != nil {
		t.Fatal(err)
	}
	if reply.RequestID != "tts-req-1" || reply.WorkerSubject != "agent.tts.worker.tts-1.request" || reply.TraceID != trace || !timestampShape.MatchString(reply.Timestamp) {
		t.Errorf("reply %s", data)
	}
	var invalid *InvalidPayloadError
	if err := <-respondErrors; !errors.As(err, &invalid) || invalid.Field != "worker_subject" || invalid.Subject != "reply to agent.tts.request" {
		t.Errorf("invalid reply: %v", err)
	}
	if _, err := client.Request(ctx, SubjectTTSRequest, TTSRequest{RequestID: "r", SessionID: "s", TargetRoom: "room"}); !errors.As(err, &invalid) || invalid.Field != "text" {
		t.Errorf("request with empty text: want *InvalidPayloadError naming text, got %v", err)
	}
	if _, err := client.Request(ctx, "agent.tts.worker.nobody.request", TTSRequest{RequestID: "r", Text: "x", SessionID: "s", TargetRoom: "room"}); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("no worker: want nats.ErrNoResponders, got %v", err)
	}
}

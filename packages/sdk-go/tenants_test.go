package arc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

func TestTenantSubjects(t *testing.T) {
	if got := TenantSubject("acme", SubjectBrainRequest); got != "t.acme.agent.brain.request" {
		t.Errorf("TenantSubject = %q", got)
	}
	if got := TenantSubject("acme", "agent.>"); got != "t.acme.agent.>" {
		t.Errorf("TenantSubject of a pattern = %q", got)
	}
	if got, err := SubjectInTenant("acme", "t.acme.agent.brain.request"); err != nil || got != "agent.brain.request" {
		t.Errorf("SubjectInTenant = %q, %v", got, err)
	}
	if got, err := SubjectInTenant("acme", "t.acme.dlq.agent.brain.request.stale"); err != nil || got != "dlq.agent.brain.request.stale" {
		t.Errorf("SubjectInTenant of a dead letter = %q, %v", got, err)
	}
	for _, outside := range []string{"agent.brain.request", "t.acme", "t.acme2.agent.brain.request", "t.globex.agent.brain.request", "x.acme.agent.brain.request", "_INBOX_acme.x"} {
		_, err := SubjectInTenant("acme", outside)
		var invalid *InvalidSubjectError
		if !errors.As(err, &invalid) || invalid.Subject != outside {
			t.Errorf("SubjectInTenant(acme, %q): want *InvalidSubjectError, got %v", outside, err)
		} else if want := fmt.Sprintf(`invalid subject %q: not in tenant "acme" (subjects start with "t.acme.")`, outside); err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	}
	if got := TenantInboxPrefix("acme"); got != "_INBOX_acme" {
		t.Errorf("TenantInboxPrefix = %q", got)
	}
	permissions, err := TenantPermissions("acme")
	want := []string{"t.acme.>", "_INBOX_acme.>"}
	if err != nil || !slices.Equal(permissions.Publish, want) || !slices.Equal(permissions.Subscribe, want) {
		t.Errorf("TenantPermissions = %+v, %v", permissions, err)
	}
	permissions.Publish[0] = "changed"
	if permissions.Subscribe[0] != "t.acme.>" {
		t.Error("the publish and subscribe lists share their array")
	}
}

func TestTenantIDs(t *testing.T) {
	for _, valid := range []string{"acme", "a", "0", "acme_eu-1", "9lives", strings.Repeat("a", 32)} {
		if err := ValidateTenant(valid); err != nil {
			t.Errorf("ValidateTenant(%q) = %v", valid, err)
		}
	}
	for _, invalid := range []string{"", "Acme", "-acme", "_acme", "a.b", "a*", "a>", "acme!", "ac me", "é", strings.Repeat("a", 33)} {
		err := ValidateTenant(invalid)
		var bad *InvalidTenantError
		if !errors.As(err, &bad) || bad.Tenant != invalid {
			t.Errorf("ValidateTenant(%q): want *InvalidTenantError, got %v", invalid, err)
			continue
		}
		if want := fmt.Sprintf("invalid tenant id %q: 1 to 32 of a-z 0-9 _ -, starting with a letter or digit", invalid); err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
		if _, err := TenantPermissions(invalid); !errors.As(err, &bad) {
			t.Errorf("TenantPermissions(%q): want *InvalidTenantError, got %v", invalid, err)
		}
	}
	// Connect refuses an invalid tenant before connecting (nothing listens on port 1).
	_, err := Connect("nats://127.0.0.1:1", Options{Service: "go-test", Tenant: "Acme"})
	var bad *InvalidTenantError
	if !errors.As(err, &bad) || bad.Tenant != "Acme" {
		t.Errorf("Connect with tenant Acme: want *InvalidTenantError, got %v", err)
	}
}

// wireWatch records everything a plain NATS connection subscribed to ">" sees.
type wireWatch struct {
	ch   chan *nats.Msg
	seen []*nats.Msg
}

func watchWire(t *testing.T, nc *nats.Conn) *wireWatch {
	t.Helper()
	w := &wireWatch{ch: make(chan *nats.Msg, 1024)}
	if _, err := nc.ChanSubscribe(">", w.ch); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return w
}

// next returns the next message on subject (a pattern), recording those on other subjects.
func (w *wireWatch) next(t *testing.T, subject string) *nats.Msg {
	t.Helper()
	timeout := time.After(3 * time.Second)
	for {
		select {
		case msg := <-w.ch:
			w.seen = append(w.seen, msg)
			if SubjectMatches(subject, msg.Subject) {
				return msg
			}
		case <-timeout:
			t.Fatalf("nothing on %s within 3 s", subject)
			return nil
		}
	}
}

// rest records what arrives within quiet of the last message.
func (w *wireWatch) rest(quiet time.Duration) {
	for {
		select {
		case msg := <-w.ch:
			w.seen = append(w.seen, msg)
		case <-time.After(quiet):
			return
		}
	}
}

// nextMessage returns the next handled message on subject, skipping the others.
func nextMessage(t *testing.T, ch chan Message, subject string) Message {
	t.Helper()
	timeout := time.After(3 * time.Second)
	for {
		select {
		case msg := <-ch:
			if msg.Subject == subject {
				return msg
			}
		case <-timeout:
			t.Fatalf("no message on %s handled within 3 s", subject)
			return Message{}
		}
	}
}

func TestTenantClientUsesItsNamespace(t *testing.T) {
	url := startNATS(t, "")
	observer, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(observer.Close)
	wire := watchWire(t, observer)

	// A client without a tenant sees nothing of acme's.
	plain := connectClient(t, url, Options{Service: "go-plain"})
	plainHandled := make(chan Message, 16)
	plainSub, err := plain.Subscribe("agent.>", "", func(msg Message) error { plainHandled <- msg; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Flush(); err != nil {
		t.Fatal(err)
	}

	worker := connectClient(t, url, Options{Service: "go-acme-worker", InstanceID: "acme-worker-1", Tenant: "acme"})
	if worker.Tenant() != "acme" || plain.Tenant() != "" {
		t.Errorf("Tenant() = %q and %q", worker.Tenant(), plain.Tenant())
	}
	handled := make(chan Message, 16)
	sub, err := worker.Subscribe("agent.>", "", func(msg Message) error {
		var request struct {
			RequestID string `json:"request_id"`
		}
		if err := msg.Decode(&request); err != nil {
			return err
		}
		if request.RequestID == "boom" {
			return errors.New("boom failed")
		}
		handled <- msg
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Subject != "t.acme.agent.>" {
		t.Errorf("subscribed on the wire to %q", sub.Subject)
	}
	tts := connectClient(t, url, Options{Service: "go-acme-tts", InstanceID: "tts-1", Tenant: "acme"})
	requests := make(chan Message, 4)
	if _, err := tts.Subscribe(SubjectTTSRequest, "tts", func(msg Message) error {
		requests <- msg
		var request TTSRequest
		if err := msg.Decode(&request); err != nil {
			return err
		}
		subject, _ := WorkerSubject(SubjectTTSRequest, "tts-1")
		return msg.Respond(TTSRequestReply{RequestID: request.RequestID, InstanceID: "tts-1", TargetRoom: request.TargetRoom, WorkerSubject: subject})
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Client{worker, tts} {
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	client := connectClient(t, url, Options{Service: "go-acme-client", Tenant: "acme"})

	// Publish: t.acme.<subject> on the wire, the subject without the prefix in the handler.
	sent, err := client.Publish(SubjectBrainRequest, brainRequest("req-1"))
	if err != nil {
		t.Fatal(err)
	}
	if msg := wire.next(t, ">"); msg.Subject != "t.acme.agent.brain.request" || string(msg.Data) != string(sent) {
		t.Errorf("on the wire: %s %s", msg.Subject, msg.Data)
	}
	if msg := nextMessage(t, handled, SubjectBrainRequest); string(msg.Data) != string(sent) || msg.Reply != "" {
		t.Errorf("handled %s %s (reply %q)", msg.Subject, msg.Data, msg.Reply)
	}

	// An invalid message is dead-lettered in the namespace; original_subject has no prefix.
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	invalid := fmt.Sprintf(`{"request_id":"req-2","session_id":"s","timestamp":%q,"trace_id":%q}`, Timestamp(time.Now()), trace)
	if err := client.PublishRaw(SubjectBrainRequest, []byte(invalid)); err != nil {
		t.Fatal(err)
	}
	if msg := wire.next(t, ">"); msg.Subject != "t.acme.agent.brain.request" || string(msg.Data) != invalid {
		t.Errorf("raw message on the wire: %s %s", msg.Subject, msg.Data)
	}
	letter := wire.next(t, "t.acme.dlq.>")
	if letter.Subject != "t.acme.dlq.agent.brain.request.invalid_payload" {
		t.Errorf("dead letter on %s", letter.Subject)
	}
	checkTenantDeadLetter(t, letter, "invalid_payload", "user_input: is required", trace)

	// A failing handler: dead letter and system.service.error in the namespace.
	if _, err := client.Publish(SubjectBrainRequest, map[string]any{"request_id": "boom", "session_id": "s", "user_input": "hi", "trace_id": trace}); err != nil {
		t.Fatal(err)
	}
	letter = wire.next(t, "t.acme.dlq.>")
	if letter.Subject != "t.acme.dlq.agent.brain.request.handler_error" {
		t.Errorf("handler error dead letter on %s", letter.Subject)
	}
	checkTenantDeadLetter(t, letter, "handler_error", "boom failed", trace)
	report := wire.next(t, "t.acme.system.>")
	if report.Subject != "t.acme.system.service.error" {
		t.Errorf("service error on %s", report.Subject)
	}
	var serviceError ServiceError
	if err := json.Unmarshal(report.Data, &serviceError); err != nil || Validate(SubjectServiceError, report.Data) != nil {
		t.Errorf("service error %s: %v", report.Data, err)
	}
	if serviceError.Subject == nil || *serviceError.Subject != SubjectBrainRequest ||
		serviceError.ErrorMessage != "handler for agent.brain.request failed: boom failed" || serviceError.TraceID != trace {
		t.Errorf("service error %s", report.Data)
	}

	// The owner's copy is in the namespace too.
	answer := BrainError{RequestID: "req-1", ErrorType: "timeout", ErrorMessage: "no answer", FallbackResponse: "Sorry?"}
	if _, err := client.Publish(SubjectBrainError, answer, WithOwner("voice-1")); err != nil {
		t.Fatal(err)
	}
	if msg := wire.next(t, "t.acme.agent.brain.>"); msg.Subject != "t.acme.agent.brain.error" {
		t.Errorf("brain error on %s", msg.Subject)
	}
	if msg := wire.next(t, "t.acme.agent.brain.>"); msg.Subject != "t.acme.agent.brain.to.voice-1.error" {
		t.Errorf("owner copy on %s", msg.Subject)
	}
	nextMessage(t, handled, "agent.brain.to.voice-1.error")

	// Request: on t.acme.agent.tts.request, the reply subject in acme's inbox, the audit copy in the namespace.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	data, err := client.Request(ctx, SubjectTTSRequest, TTSRequest{RequestID: "tts-req-1", Text: "hello", SessionID: "s", TargetRoom: "room-1", TraceID: trace})
	if err != nil {
		t.Fatal(err)
	}
	var reply TTSRequestReply
	if err := json.Unmarshal(data, &reply); err != nil || reply.RequestID != "tts-req-1" || reply.WorkerSubject != "agent.tts.worker.tts-1.request" || reply.TraceID != trace {
		t.Errorf("reply %s: %v", data, err)
	}
	received := <-requests
	if received.Subject != SubjectTTSRequest || !strings.HasPrefix(received.Reply, "_INBOX_acme.") {
		t.Errorf("the responder got %s with reply subject %q", received.Subject, received.Reply)
	}
	request := wire.next(t, "t.acme.agent.tts.request")
	if !strings.HasPrefix(request.Reply, "_INBOX_acme.") {
		t.Errorf("request sent with reply subject %q, want _INBOX_acme.…", request.Reply)
	}
	if msg := wire.next(t, "_INBOX_acme.>"); msg.Subject != request.Reply || string(msg.Data) != string(data) {
		t.Errorf("reply on %s %s, want on %s", msg.Subject, msg.Data, request.Reply)
	}

	// Nothing of acme's left its namespaces, and the client without a tenant got none of it.
	for _, c := range []*Client{client, worker, tts} {
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	wire.rest(100 * time.Millisecond)
	audited := 0
	for _, msg := range wire.seen {
		if !strings.HasPrefix(msg.Subject, "t.acme.") && !strings.HasPrefix(msg.Subject, "_INBOX_acme.") {
			t.Errorf("%s outside acme's namespaces: %s", msg.Subject, msg.Data)
		}
		if strings.HasPrefix(msg.Subject, "t.acme.audit.") {
			audited++
			if msg.Subject != "t.acme.audit.agent.tts.request" || !bytes.Equal(msg.Data, request.Data) {
				t.Errorf("audit copy %s %s", msg.Subject, msg.Data)
			}
		}
	}
	if audited != 1 {
		t.Errorf("%d audit copies of the TTS request, want 1", audited)
	}
	select {
	case msg := <-plainHandled:
		t.Errorf("the client without a tenant handled %s", msg.Subject)
	default:
	}
	if stats := plain.Stats(); stats.Received != 0 {
		t.Errorf("the client without a tenant received %d messages", stats.Received)
	}
	// brain request, invalid raw, boom, brain error, its owner copy, TTS request
	want := Stats{Received: 6, Handled: 5, Invalid: 1, DeadLettered: 2, HandlerErrors: 1, Published: 3}
	eventually(t, "worker counters", func() bool { return worker.Stats() == want })
	// acme's TTS worker is not reachable without the tenant (once the subscriptions to ">" and
	// "agent.>", which count as responders, are gone).
	observer.Close()
	if err := plainSub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	// The server applies the other connection's close asynchronously: ask until it has.
	eventually(t, "no responders for a request without the tenant", func() bool {
		attempt, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := plain.Request(attempt, SubjectTTSRequest, TTSRequest{RequestID: "r", Text: "x", SessionID: "s", TargetRoom: "room"})
		return errors.Is(err, nats.ErrNoResponders)
	})
}

func checkTenantDeadLetter(t *testing.T, msg *nats.Msg, errorType, reason, traceID string) {
	t.Helper()
	local, err := SubjectInTenant("acme", msg.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(local, msg.Data); err != nil {
		t.Errorf("dead letter not valid against dlq.schema.json: %v", err)
	}
	var letter DeadLetter
	if err := json.Unmarshal(msg.Data, &letter); err != nil {
		t.Fatal(err)
	}
	if letter.OriginalSubject != SubjectBrainRequest || letter.ErrorType != errorType || letter.Reason != reason ||
		letter.TraceID != traceID || letter.Service != "go-acme-worker" || letter.InstanceID != "acme-worker-1" {
		t.Errorf("dead letter %s", msg.Data)
	}
}

// syncBuffer is a log destination for several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// nkeyUser writes a new nkey user's seed to dir/<name>.nk, as `arc tenant add` does, and
// returns the file and the public key.
func nkeyUser(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	pair, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := pair.Seed()
	public, _ := pair.PublicKey()
	file := filepath.Join(dir, name+".nk")
	if err := os.WriteFile(file, append(seed, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, public
}

func nkeyOption(t *testing.T, seedFile string) nats.Option {
	t.Helper()
	option, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	return option
}

func TestTenantClientWithinTenantPermissions(t *testing.T) {
	dir := t.TempDir()
	operatorSeed, operatorKey := nkeyUser(t, dir, "operator")
	users := []string{fmt.Sprintf("{ nkey: %q }", operatorKey)}
	seeds := map[string]string{}
	for _, tenant := range []string{"acme", "globex"} {
		seed, key := nkeyUser(t, dir, tenant)
		seeds[tenant] = seed
		permissions, err := TenantPermissions(tenant)
		if err != nil {
			t.Fatal(err)
		}
		quoted := func(list []string) string {
			parts := make([]string, len(list))
			for i, s := range list {
				parts[i] = fmt.Sprintf("%q", s)
			}
			return strings.Join(parts, ", ")
		}
		users = append(users, fmt.Sprintf("{ nkey: %q, permissions: { publish: { allow: [%s] }, subscribe: { allow: [%s] } } }",
			key, quoted(permissions.Publish), quoted(permissions.Subscribe)))
	}
	url := startNATS(t, "authorization {\n  users = [\n    "+strings.Join(users, "\n    ")+"\n  ]\n}")

	operator, err := nats.Connect(url, nkeyOption(t, operatorSeed))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(operator.Close)
	wire := watchWire(t, operator)

	// acme's clients do everything they do with acme's key and no permission violation.
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	acme := func(service string) *Client {
		return connectClient(t, url, Options{Service: service, InstanceID: service + "-1", Tenant: "acme", Logger: logger, NATSOptions: []nats.Option{nkeyOption(t, seeds["acme"])}})
	}
	worker := acme("go-acme-worker")
	handled := make(chan Message, 16)
	if _, err := worker.Subscribe("agent.>", "", func(msg Message) error {
		var request struct {
			RequestID string `json:"request_id"`
		}
		_ = msg.Decode(&request)
		if request.RequestID == "boom" {
			return errors.New("boom failed")
		}
		handled <- msg
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := worker.Subscribe(SubjectTTSRequest, "tts", func(msg Message) error {
		var request TTSRequest
		if err := msg.Decode(&request); err != nil {
			return err
		}
		subject, _ := WorkerSubject(SubjectTTSRequest, "go-acme-worker-1")
		return msg.Respond(TTSRequestReply{RequestID: request.RequestID, InstanceID: "go-acme-worker-1", TargetRoom: request.TargetRoom, WorkerSubject: subject})
	}); err != nil {
		t.Fatal(err)
	}
	if err := worker.Flush(); err != nil {
		t.Fatal(err)
	}

	// globex, with its own key and tenant, sees none of it.
	globex := connectClient(t, url, Options{Service: "go-globex", Tenant: "globex", NATSOptions: []nats.Option{nkeyOption(t, seeds["globex"])}})
	globexHandled := make(chan Message, 16)
	if _, err := globex.Subscribe(">", "", func(msg Message) error { globexHandled <- msg; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := globex.Flush(); err != nil {
		t.Fatal(err)
	}

	client := acme("go-acme-client")
	if _, err := client.Publish(SubjectBrainRequest, brainRequest("req-1")); err != nil {
		t.Fatal(err)
	}
	nextMessage(t, handled, SubjectBrainRequest)
	if err := client.PublishRaw(SubjectBrainRequest, []byte(`{"request_id": oops`)); err != nil {
		t.Fatal(err)
	}
	if msg := wire.next(t, "t.acme.dlq.>"); msg.Subject != "t.acme.dlq.agent.brain.request.invalid_payload" {
		t.Errorf("dead letter on %s", msg.Subject)
	}
	if _, err := client.Publish(SubjectBrainRequest, brainRequest("boom")); err != nil {
		t.Fatal(err)
	}
	if msg := wire.next(t, "t.acme.dlq.>"); msg.Subject != "t.acme.dlq.agent.brain.request.handler_error" {
		t.Errorf("dead letter on %s", msg.Subject)
	}
	wire.next(t, "t.acme.system.service.error")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := client.Request(ctx, SubjectTTSRequest, TTSRequest{RequestID: "tts-req-1", Text: "hello", SessionID: "s", TargetRoom: "room-1"}); err != nil {
		t.Fatalf("request within acme's permissions: %v", err)
	}
	wire.next(t, "t.acme.audit.agent.tts.request")
	for _, c := range []*Client{client, worker, globex} {
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if text := logs.String(); strings.Contains(text, "NATS error") || strings.Contains(strings.ToLower(text), "permission") {
		t.Errorf("acme's clients hit their permissions:\n%s", text)
	}
	select {
	case msg := <-globexHandled:
		t.Errorf("globex handled %s", msg.Subject)
	default:
	}

	// acme's key allows only acme's namespaces: without Options.Tenant, and for a raw connection
	// reaching into them, the server refuses.
	violations := make(chan error, 16)
	onError := nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err })
	untenanted := connectClient(t, url, Options{Service: "go-no-tenant", NATSOptions: []nats.Option{nkeyOption(t, seeds["acme"]), onError}})
	if _, err := untenanted.Publish(SubjectBrainRequest, brainRequest("req-3")); err != nil {
		t.Fatal(err)
	}
	_ = untenanted.Flush()
	expectViolation(t, violations, `Publish to "agent.brain.request"`)
	intruder, err := nats.Connect(url, nkeyOption(t, seeds["globex"]), onError)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(intruder.Close)
	if _, err := intruder.SubscribeSync("t.acme.>"); err != nil {
		t.Fatal(err)
	}
	_ = intruder.Flush()
	expectViolation(t, violations, `Subscription to "t.acme.>"`)
	if _, err := intruder.SubscribeSync("_INBOX_acme.>"); err != nil {
		t.Fatal(err)
	}
	_ = intruder.Flush()
	expectViolation(t, violations, `Subscription to "_INBOX_acme.>"`)
	if err := intruder.Publish("t.acme.agent.brain.request", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	_ = intruder.Flush()
	expectViolation(t, violations, `Publish to "t.acme.agent.brain.request"`)
}

func expectViolation(t *testing.T, violations chan error, what string) {
	t.Helper()
	select {
	case err := <-violations:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), what) {
			t.Errorf("want a permissions violation for %s, got %v", what, err)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("no permissions violation for %s within 3 s", what)
	}
}

package arc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Options configure a Client.
type Options struct {
	// Service is the service name, e.g. arc-sherlock-brain (required: dead letters and
	// service errors name it).
	Service string
	// InstanceID names this process; default Service plus a random suffix.
	InstanceID string
	// TTL: received messages older than this are stale (default DefaultTTL).
	TTL time.Duration
	// MaxClockSkew: timestamps further in the future than this are invalid (default DefaultMaxClockSkew).
	MaxClockSkew time.Duration
	// Logger receives rejected messages and failures (default: discard).
	Logger *slog.Logger
	// Tenant puts the client in a tenant's namespace (empty: none; see TenantSubject): every
	// subject is published, requested and subscribed to as t.<tenant>.<subject>, and request
	// replies come to the inbox prefix _INBOX_<tenant>. Handlers, Message.Subject, validation,
	// dead letters' original_subject and errors use the subjects without the prefix. The
	// tenant's credentials (its nkey seed, e.g. nats.NkeyOptionFromSeed) go in NATSOptions.
	Tenant string
	// NATSOptions are passed to nats.Connect after the client's own.
	NATSOptions []nats.Option
}

// Client is the ARC bus client: it publishes validated payloads and hands subscribers only
// valid, fresh payloads; everything else is dead-lettered and counted, never dropped silently.
type Client struct {
	nc           *nats.Conn
	service      string
	instanceID   string
	tenant       string
	ttl          time.Duration
	maxClockSkew time.Duration
	log          *slog.Logger
	counters     struct {
		received, handled, invalid, stale, deadLettered, handlerErrors, published atomic.Uint64
	}
}

// Stats are the client's message counters since Connect.
type Stats struct {
	Received      uint64 // messages delivered by NATS to the client's subscriptions
	Handled       uint64 // valid, fresh messages handed to a handler
	Invalid       uint64 // not JSON, failed validation, unknown subject or timestamp in the future
	Stale         uint64 // older than the TTL
	DeadLettered  uint64 // republished to dlq.>
	HandlerErrors uint64 // handlers that returned an error or panicked
	Published     uint64 // messages published (including requests)
}

// PayloadTooLargeError is a payload over the server's max_payload; nothing was sent.
type PayloadTooLargeError struct {
	Subject string
	Size    int64
	Max     int64
}

func (e *PayloadTooLargeError) Error() string {
	return fmt.Sprintf("payload for %s is %d bytes, over the server's max_payload of %d bytes; nothing was sent", e.Subject, e.Size, e.Max)
}

// Message is a received payload that passed validation and the TTL check.
type Message struct {
	Subject string
	// Data is the payload as received (JSON valid against the subject's schema).
	Data json.RawMessage
	// Reply is the reply subject when the message was sent as a request (see Respond).
	Reply string
	// HopLatency is the time from the payload's timestamp to the handler start.
	HopLatency time.Duration

	client  *Client
	traceID string
}

// Decode unmarshals the payload into v (e.g. a *BrainRequest).
func (m Message) Decode(v any) error {
	return json.Unmarshal(m.Data, v)
}

// Respond answers a message sent as a request with reply, validated against the reply schema
// of m.Subject (the subject without the tenant prefix); timestamp and the request's trace_id
// are filled when absent. The answer goes to m.Reply as it is.
func (m Message) Respond(reply any) error {
	if m.Reply == "" || m.client == nil {
		return fmt.Errorf("arc: the message on %s was not sent as a request", m.Subject)
	}
	target := "reply to " + m.Subject
	sch := replySchemaFor(m.Subject)
	if sch == nil {
		return &InvalidPayloadError{Subject: target, Reason: fmt.Sprintf("subject %q does not take requests", m.Subject)}
	}
	data, value, err := decodePayload(target, reply)
	if err != nil {
		return err
	}
	fields := [][2]string{{"timestamp", Timestamp(time.Now())}}
	if m.traceID != "" {
		fields = append(fields, [2]string{"trace_id", m.traceID})
	}
	if data, err = fillFields(data, value, fields); err != nil {
		return &InvalidPayloadError{Subject: target, Reason: err.Error()}
	}
	if err := validateValue(target, sch, value); err != nil {
		return err
	}
	return m.client.nc.Publish(m.Reply, data)
}

// Handler handles a valid, fresh message. An error (or a panic) dead-letters the message as
// handler_error and publishes a system.service.error.
type Handler func(msg Message) error

// Connect connects to the NATS server(s) at url (comma-separated for several).
func Connect(url string, opts Options) (*Client, error) {
	if opts.Service == "" {
		return nil, errors.New("arc: Options.Service is required")
	}
	if opts.Tenant != "" {
		if err := ValidateTenant(opts.Tenant); err != nil {
			return nil, err
		}
	}
	c := &Client{
		service:      opts.Service,
		instanceID:   opts.InstanceID,
		tenant:       opts.Tenant,
		ttl:          opts.TTL,
		maxClockSkew: opts.MaxClockSkew,
		log:          opts.Logger,
	}
	if c.instanceID == "" {
		var suffix [3]byte
		_, _ = rand.Read(suffix[:])
		c.instanceID = opts.Service + "-" + hex.EncodeToString(suffix[:])
	}
	if c.ttl <= 0 {
		c.ttl = DefaultTTL
	}
	if c.maxClockSkew <= 0 {
		c.maxClockSkew = DefaultMaxClockSkew
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "arc-bus", "service", c.service, "instance_id", c.instanceID)
	if c.tenant != "" {
		c.log = c.log.With("tenant", c.tenant)
	}
	natsOptions := []nats.Option{
		nats.Name(c.instanceID),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, 250*time.Millisecond),
		nats.PingInterval(10 * time.Second),
		nats.MaxPingsOutstanding(3),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			c.log.Error("NATS error", "subject", subject, "err", err)
		}),
	}
	if c.tenant != "" {
		// Before the caller's options, which may still override it.
		natsOptions = append(natsOptions, nats.CustomInboxPrefix(TenantInboxPrefix(c.tenant)))
	}
	natsOptions = append(natsOptions, opts.NATSOptions...)
	nc, err := nats.Connect(url, natsOptions...)
	if err != nil {
		return nil, fmt.Errorf("arc: cannot connect to NATS at %s: %w", url, err)
	}
	c.nc = nc
	return c, nil
}

// Conn is the underlying NATS connection.
func (c *Client) Conn() *nats.Conn { return c.nc }

// Service is the service name dead letters and service errors carry.
func (c *Client) Service() string { return c.service }

// InstanceID is the instance id dead letters and service errors carry.
func (c *Client) InstanceID() string { return c.instanceID }

// Tenant is the tenant whose namespace the client uses (Options.Tenant; empty for none).
func (c *Client) Tenant() string { return c.tenant }

// wire is subject as sent and subscribed on NATS: in the tenant's namespace, if there is one.
func (c *Client) wire(subject string) string {
	if c.tenant == "" {
		return subject
	}
	return TenantSubject(c.tenant, subject)
}

// Stats returns the message counters.
func (c *Client) Stats() Stats {
	n := &c.counters
	return Stats{
		Received:      n.received.Load(),
		Handled:       n.handled.Load(),
		Invalid:       n.invalid.Load(),
		Stale:         n.stale.Load(),
		DeadLettered:  n.deadLettered.Load(),
		HandlerErrors: n.handlerErrors.Load(),
		Published:     n.published.Load(),
	}
}

// Flush waits until the server has processed everything published so far.
func (c *Client) Flush() error { return c.nc.Flush() }

// Close stops the subscriptions, lets running handlers finish (up to 5 s), flushes and closes.
func (c *Client) Close() {
	if c.nc.IsClosed() {
		return
	}
	if err := c.nc.Drain(); err == nil {
		for deadline := time.Now().Add(5 * time.Second); !c.nc.IsClosed() && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	c.nc.Close()
}

// Publish validates payload (a generated payload struct, a map, or JSON as []byte /
// json.RawMessage) against subject's schema and publishes it. timestamp and trace_id are
// filled when absent (no trace_id on untraced subjects such as system.health.heartbeat). It
// returns the JSON sent, or an *InvalidSubjectError, *InvalidPayloadError or
// *PayloadTooLargeError (nothing sent). With Options.Tenant, subject (and every copy) is sent
// in the tenant's namespace.
func (c *Client) Publish(subject string, payload any, options ...PublishOption) (json.RawMessage, error) {
	var settings publishSettings
	for _, option := range options {
		option(&settings)
	}
	targeted := ""
	if settings.owner != "" {
		var err error
		if targeted, err = OwnerSubject(subject, settings.owner); err != nil {
			return nil, err
		}
	}
	data, err := c.prepare(subject, payload)
	if err != nil {
		return nil, err
	}
	if err := c.nc.Publish(c.wire(subject), data); err != nil {
		return nil, fmt.Errorf("arc: publish to %s: %w", subject, err)
	}
	c.copyForAudit(subject, data)
	c.counters.published.Add(1)
	if targeted != "" {
		if err := c.nc.Publish(c.wire(targeted), data); err != nil {
			return nil, fmt.Errorf("arc: publish to %s: %w", targeted, err)
		}
		c.counters.published.Add(1)
	}
	return data, nil
}

// PublishOption changes what Publish sends besides the message itself.
type PublishOption func(*publishSettings)

type publishSettings struct{ owner string }

// WithOwner names the request's owner_instance (the voice worker owning the session): an
// answering event is also sent to its owner subject ("agent.brain.to.<owner>.response").
func WithOwner(instanceID string) PublishOption {
	return func(s *publishSettings) { s.owner = instanceID }
}

// PublishRaw publishes data as it is (for tests and tools): only the subject and size are
// checked. With Options.Tenant it goes on t.<tenant>.<subject>.
func (c *Client) PublishRaw(subject string, data []byte) error {
	if err := ValidateSubject(subject, false); err != nil {
		return err
	}
	return c.send(subject, data)
}

// Request publishes payload as Publish does, as a NATS request, and returns the reply, validated
// against the subject's reply schema when there is one. Without a deadline in ctx it waits 2 s.
// With Options.Tenant the request goes out on t.<tenant>.<subject> and its reply comes back on
// the tenant's inbox prefix (TenantInboxPrefix).
func (c *Client) Request(ctx context.Context, subject string, payload any) (json.RawMessage, error) {
	data, err := c.prepare(subject, payload)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
	}
	c.copyForAudit(subject, data)
	msg, err := c.nc.RequestWithContext(ctx, c.wire(subject), data)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("arc: no subscriber for request on %s: %w", subject, err)
	}
	if err != nil {
		return nil, fmt.Errorf("arc: no reply to request on %s: %w", subject, err)
	}
	c.counters.published.Add(1)
	target := "reply to " + subject
	value, err := decodeJSON(msg.Data)
	if err != nil {
		return nil, &InvalidPayloadError{Subject: target, Reason: "not JSON: " + err.Error()}
	}
	if sch := replySchemaFor(subject); sch != nil {
		if err := validateValue(target, sch, value); err != nil {
			return nil, err
		}
	}
	return msg.Data, nil
}

// prepare fills, validates and size-checks a payload for subject.
func (c *Client) prepare(subject string, payload any) ([]byte, error) {
	if err := ValidateSubject(subject, false); err != nil {
		return nil, err
	}
	data, value, err := decodePayload(subject, payload)
	if err != nil {
		return nil, err
	}
	var compact bytes.Buffer
	if json.Compact(&compact, data) == nil {
		data = compact.Bytes()
	}
	fields := [][2]string{{"timestamp", Timestamp(time.Now())}}
	if !untracedSubjects[subject] {
		fields = append(fields, [2]string{"trace_id", NewTraceID()})
	}
	if data, err = fillFields(data, value, fields); err != nil {
		return nil, &InvalidPayloadError{Subject: subject, Reason: err.Error()}
	}
	if err := validateValue(subject, schemaFor(subject), value); err != nil {
		return nil, err
	}
	if size, limit := int64(len(data)), c.nc.MaxPayload(); size > limit {
		return nil, &PayloadTooLargeError{Subject: subject, Size: size, Max: limit}
	}
	return data, nil
}

// fillFields sets each (key, value) that is absent (or null) in the decoded object value, and
// returns its JSON: the filled fields go first, the rest is kept byte for byte.
func fillFields(data []byte, value any, fields [][2]string) ([]byte, error) {
	obj, ok := value.(map[string]any)
	if !ok {
		return data, nil // not an object: the schema reports it
	}
	var added [][]byte
	remarshal := false
	for _, field := range fields {
		current, present := obj[field[0]]
		if present && current != nil {
			continue
		}
		obj[field[0]] = field[1]
		if present {
			remarshal = true // "key": null in the text
			continue
		}
		key, _ := json.Marshal(field[0])
		text, _ := json.Marshal(field[1])
		added = append(added, append(append(key, ':'), text...))
	}
	if remarshal {
		return json.Marshal(obj)
	}
	if len(added) == 0 {
		return data, nil
	}
	body := bytes.TrimSpace(data)
	if len(body) < 2 || body[0] != '{' {
		return json.Marshal(obj)
	}
	rest := bytes.TrimSpace(body[1:])
	out := append([]byte{'{'}, bytes.Join(added, []byte{','})...)
	if rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...), nil
}

func (c *Client) send(subject string, data []byte) error {
	if size, limit := int64(len(data)), c.nc.MaxPayload(); size > limit {
		return &PayloadTooLargeError{Subject: subject, Size: size, Max: limit}
	}
	if err := c.nc.Publish(c.wire(subject), data); err != nil {
		return fmt.Errorf("arc: publish to %s: %w", subject, err)
	}
	c.copyForAudit(subject, data)
	c.counters.published.Add(1)
	return nil
}

// copyForAudit sends request and worker subjects' messages to audit.<subject> (see
// IsAuditedByCopy), in the tenant's namespace if there is one.
func (c *Client) copyForAudit(subject string, data []byte) {
	if IsAuditedByCopy(subject) {
		_ = c.nc.Publish(c.wire(AuditCopyPrefix+"."+subject), data)
	}
}

// Subscribe calls handler for every valid, fresh message on subject (wildcards allowed); with
// a queue group, each message goes to one member of the group. Rejected messages are counted
// and dead-lettered to DeadLetterSubject(subject, reason):
//   - no schema for the subject: unknown_subject
//   - not JSON, schema failure, timestamp over MaxClockSkew in the future: invalid_payload
//   - timestamp older than the TTL (not on dlq.* subjects): stale
//   - handler error or panic: handler_error, and a system.service.error is published
//
// A message on a dlq.* subject is never dead-lettered again.
//
// With Options.Tenant, the subscription is made in the tenant's namespace (the returned
// *nats.Subscription's Subject is t.<tenant>.<subject>), dead letters and service errors are
// published there too, and Message.Subject is the subject without the prefix.
func (c *Client) Subscribe(subject, queue string, handler Handler) (*nats.Subscription, error) {
	if err := ValidateSubject(subject, true); err != nil {
		return nil, err
	}
	callback := func(msg *nats.Msg) { c.deliver(msg, handler) }
	if queue != "" {
		return c.nc.QueueSubscribe(c.wire(subject), queue, callback)
	}
	return c.nc.Subscribe(c.wire(subject), callback)
}

// deliver applies the receive rules of the TypeScript bus, in its order.
func (c *Client) deliver(msg *nats.Msg, handler Handler) {
	startedAt := time.Now()
	c.counters.received.Add(1)
	// Subscriptions are made in the tenant's namespace, so every subject received is in it.
	subject := msg.Subject
	if c.tenant != "" {
		var err error
		if subject, err = SubjectInTenant(c.tenant, msg.Subject); err != nil {
			c.counters.invalid.Add(1)
			c.log.Error("received a message outside the tenant's namespace", "subject", msg.Subject, "err", err)
			return
		}
	}

	sch := schemaFor(subject)
	if sch == nil {
		c.reject(subject, msg, ReasonUnknownSubject, `no schema for subject "`+subject+`"`, nil)
		return
	}
	value, err := decodeJSON(msg.Data)
	if err != nil {
		c.reject(subject, msg, ReasonInvalidPayload, "not JSON: "+err.Error(), nil)
		return
	}
	if err := validateValue(subject, sch, value); err != nil {
		reason := err.Error()
		var invalid *InvalidPayloadError
		if errors.As(err, &invalid) {
			reason = invalid.Reason
		}
		c.reject(subject, msg, ReasonInvalidPayload, reason, value)
		return
	}
	payload := value.(map[string]any) // every schema is an object
	var age time.Duration
	if timestamp, ok := payload["timestamp"].(string); ok {
		if sentAt, ok := ParseTimestamp(timestamp); ok {
			age = startedAt.Sub(sentAt)
			if age < -c.maxClockSkew {
				c.reject(subject, msg, ReasonInvalidPayload, fmt.Sprintf("timestamp: %s is in the future", timestamp), value)
				return
			}
			if age > c.ttl && !IsDeadLetterSubject(subject) {
				ageMs := math.Floor(float64(age)/float64(time.Millisecond) + 0.5)
				c.reject(subject, msg, ReasonStale, fmt.Sprintf("timestamp: %s is %.0f ms old, over the %d ms TTL", timestamp, ageMs, c.ttl.Milliseconds()), value)
				return
			}
		}
	}
	c.counters.handled.Add(1)
	message := Message{Subject: subject, Data: msg.Data, Reply: msg.Reply, HopLatency: age, client: c, traceID: traceIDOf(value)}
	if err := callHandler(handler, message); err != nil {
		c.handlerFailed(subject, msg, value, err)
	}
}

func callHandler(handler Handler, msg Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return handler(msg)
}

// handlerFailed counts, logs and dead-letters a failed handler's message and publishes a
// system.service.error; subject is the message's subject without the tenant prefix.
func (c *Client) handlerFailed(subject string, msg *nats.Msg, decoded any, err error) {
	c.counters.handlerErrors.Add(1)
	traceID := traceIDOf(decoded)
	c.log.Error("handler failed", "subject", subject, "trace_id", traceID, "err", err)
	c.deadLetter(subject, msg, ReasonHandlerError, err.Error(), decoded)
	report := ServiceError{
		Service:        c.service,
		InstanceID:     &c.instanceID,
		ErrorType:      string(ReasonHandlerError),
		ErrorMessage:   truncate(fmt.Sprintf("handler for %s failed: %s", subject, err.Error()), 4096),
		Severity:       "error",
		ActionRequired: "investigate",
		Subject:        &subject,
	}
	if traceID != "" {
		report.TraceID = traceID
	}
	if _, err := c.Publish(SubjectServiceError, report); err != nil {
		c.log.Error("could not publish", "subject", SubjectServiceError, "err", err)
	}
}

// reject counts, logs and dead-letters a message; subject is msg's subject without the tenant prefix.
func (c *Client) reject(subject string, msg *nats.Msg, reason DeadLetterReason, detail string, decoded any) {
	if reason == ReasonStale {
		c.counters.stale.Add(1)
	} else {
		c.counters.invalid.Add(1)
	}
	c.log.Warn("rejected message on "+subject+": "+detail, "subject", subject, "reason", string(reason))
	c.deadLetter(subject, msg, reason, detail, decoded)
}

// deadLetter publishes msg to DeadLetterSubject(subject, reason) (in the tenant's namespace, if
// there is one); subject is msg's subject without the tenant prefix, the dead letter's original_subject.
func (c *Client) deadLetter(subject string, msg *nats.Msg, reason DeadLetterReason, detail string, decoded any) {
	// A dead letter that is itself bad is counted, never dead-lettered again (no loops).
	if IsDeadLetterSubject(subject) {
		return
	}
	kept := msg.Data[:min(len(msg.Data), DeadLetterMaxBytes)]
	letter := DeadLetter{
		Timestamp:             Timestamp(time.Now()),
		OriginalSubject:       truncate(subject, 1024),
		ErrorType:             string(reason),
		Reason:                truncate(detail, 4096),
		Service:               c.service,
		InstanceID:            c.instanceID,
		OriginalSizeBytes:     int64(len(msg.Data)),
		OriginalPayloadBase64: base64.StdEncoding.EncodeToString(kept),
		Truncated:             len(kept) < len(msg.Data),
	}
	if traceID := traceIDOf(decoded); traceID != "" {
		letter.TraceID = traceID
	}
	data, err := json.Marshal(letter)
	if err == nil {
		err = c.send(DeadLetterSubject(subject, reason), data)
	}
	if err != nil {
		c.log.Error("could not publish dead letter", "subject", subject, "err", err)
		return
	}
	c.counters.deadLettered.Add(1)
}

var traceIDShape = regexp.MustCompile(`^[0-9a-fA-F-]{32,36}$`)

// traceIDOf is the trace_id of a decoded payload when it looks like one.
func traceIDOf(decoded any) string {
	obj, _ := decoded.(map[string]any)
	if id, ok := obj["trace_id"].(string); ok && traceIDShape.MatchString(id) {
		return id
	}
	return ""
}

// truncate keeps at most n characters (code points) of text.
func truncate(text string, n int) string {
	count := 0
	for i := range text {
		if count == n {
			return text[:i]
		}
		count++
	}
	return text
}

// Command arc-nats publishes and receives ARC payloads with the Go SDK's rules (for
// cross-language tests and debugging).
//
//	arc-nats sub --server URL --subject S [--queue Q] [--count N] [--timeout 10s] [--service NAME]
//	arc-nats pub --server URL --subject S --json '{…}' [--raw] [--service NAME]
//
// sub prints each accepted message as one JSON line {"subject":…,"payload":…} on stdout,
// dead-letters rejected ones, prints "ready" on stderr once subscribed, and exits 0 after
// --count accepted messages (1 on timeout; with --count 0 it listens until the timeout, exit 0).
// pub fills timestamp and trace_id, validates, publishes and prints the payload sent (exit 3
// when the payload is refused as invalid, 1 on other errors, 2 on usage errors).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	arc "github.com/arc-voice/arc/sdk-go"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  arc-nats sub --server URL --subject S [--queue Q] [--count N] [--timeout 10s] [--service NAME]
  arc-nats pub --server URL --subject S --json '{…}' [--raw] [--service NAME]`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	flags := flag.NewFlagSet("arc-nats "+args[0], flag.ContinueOnError)
	flags.SetOutput(stderr)
	server := flags.String("server", "nats://127.0.0.1:4222", "NATS server URL")
	subject := flags.String("subject", "", "subject (sub: wildcards allowed)")
	service := flags.String("service", "arc-nats", "service name in dead letters and service errors")
	instance := flags.String("instance", "", "instance id (default: service plus a random suffix)")
	queue := flags.String("queue", "", "sub: queue group")
	count := flags.Int("count", 0, "sub: exit 0 after this many accepted messages (0: no limit)")
	timeout := flags.Duration("timeout", 10*time.Second, "sub: give up after this long (0: never)")
	payload := flags.String("json", "", "pub: the payload")
	raw := flags.Bool("raw", false, "pub: send --json as it is, unchecked (to test receivers)")
	if err := flags.Parse(args[1:]); err != nil {
		return 2
	}
	if *subject == "" {
		fmt.Fprintln(stderr, "--subject is required\n"+usage)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client, err := arc.Connect(*server, arc.Options{Service: *service, InstanceID: *instance, Logger: logger})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer client.Close()
	switch args[0] {
	case "sub":
		return subscribe(client, *subject, *queue, *count, *timeout, stdout, stderr)
	case "pub":
		return publish(client, *subject, *payload, *raw, stdout, stderr)
	}
	fmt.Fprintln(stderr, usage)
	return 2
}

func subscribe(client *arc.Client, subject, queue string, count int, timeout time.Duration, stdout, stderr io.Writer) int {
	var (
		mu       sync.Mutex
		accepted int
		done     = make(chan struct{})
	)
	encoder := json.NewEncoder(stdout)
	encoder.SetEscapeHTML(false)
	sub, err := client.Subscribe(subject, queue, func(msg arc.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if count > 0 && accepted >= count {
			return nil
		}
		line := struct {
			Subject string          `json:"subject"`
			Payload json.RawMessage `json:"payload"`
		}{msg.Subject, msg.Data}
		if err := encoder.Encode(line); err != nil {
			return err
		}
		accepted++
		if count > 0 && accepted == count {
			close(done)
		}
		return nil
	})
	if err == nil {
		err = client.Flush()
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stderr, "ready")

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	var expired <-chan time.Time
	if timeout > 0 {
		expired = time.After(timeout)
	}
	code := 0
	select {
	case <-done:
	case <-expired:
		if count > 0 {
			mu.Lock()
			fmt.Fprintf(stderr, "timeout after %s: %d of %d messages\n", timeout, accepted, count)
			mu.Unlock()
			code = 1
		}
	case <-signals:
		if count > 0 {
			code = 1
		}
	}
	_ = sub.Unsubscribe()
	_ = client.Flush() // dead letters and service errors out before exit
	return code
}

func publish(client *arc.Client, subject, payload string, raw bool, stdout, stderr io.Writer) int {
	if payload == "" {
		fmt.Fprintln(stderr, "--json is required")
		return 2
	}
	var sent json.RawMessage
	var err error
	if raw {
		sent, err = json.RawMessage(payload), client.PublishRaw(subject, []byte(payload))
	} else {
		sent, err = client.Publish(subject, json.RawMessage(payload))
	}
	if err == nil {
		err = client.Flush()
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		var invalid *arc.InvalidPayloadError
		if errors.As(err, &invalid) {
			return 3
		}
		return 1
	}
	fmt.Fprintln(stdout, string(sent))
	return 0
}

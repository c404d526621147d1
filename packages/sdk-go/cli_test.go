package arc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildCLI compiles cmd/arc-nats into a temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build cmd/arc-nats")
	}
	bin := filepath.Join(t.TempDir(), "arc-nats")
	if out, err := exec.Command(goBin, "build", "-o", bin, "./cmd/arc-nats").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/arc-nats: %v\n%s", err, out)
	}
	return bin
}

func TestCLI(t *testing.T) {
	url := startNATS(t, "")
	bin := buildCLI(t)
	_, deadLetters := observe(t, url, "dlq.>")

	sub := exec.Command(bin, "sub", "--server", url, "--subject", "agent.brain.>", "--queue", "brains", "--count", "2", "--timeout", "10s", "--service", "cli-test")
	var stdout bytes.Buffer
	sub.Stdout = &stdout
	stderr, err := sub.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			if lines.Text() == "ready" {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		_ = sub.Process.Kill()
		t.Fatal(`arc-nats sub printed no "ready" line within 5 s`)
	}

	pub := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, append([]string{"pub", "--server", url, "--subject", SubjectBrainRequest}, args...)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	first, _, code := pub("--json", `{"request_id": "cli-1", "session_id": "s", "user_input": "hello"}`)
	if code != 0 || strings.Count(first, "\n") != 1 {
		t.Fatalf("pub: exit %d, output %q", code, first)
	}
	sent := decodeMap(t, []byte(first))
	if !timestampShape.MatchString(sent["timestamp"].(string)) || !traceIDFormat.MatchString(sent["trace_id"].(string)) {
		t.Errorf("pub did not fill timestamp and trace_id: %s", first)
	}
	if _, errOut, code := pub("--json", `{"request_id": "cli-2", "session_id": "s"}`); code != 3 || !strings.Contains(errOut, "user_input") {
		t.Errorf("invalid pub: exit %d, stderr %q", code, errOut)
	}
	if _, _, code := pub("--raw", "--json", `{"request_id": "cli-3"}`); code != 0 {
		t.Errorf("raw pub: exit %d", code)
	}
	letter := next(t, deadLetters, "dead letter from arc-nats sub")
	if letter.Subject != "dlq.agent.brain.request.invalid_payload" || !strings.Contains(string(letter.Data), `"service":"cli-test"`) {
		t.Errorf("dead letter %s %s", letter.Subject, letter.Data)
	}
	second, _, _ := pub("--json", `{"request_id": "cli-4", "session_id": "s", "user_input": "again"}`)

	done := make(chan error, 1)
	go func() { done <- sub.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("arc-nats sub: %v", err)
		}
	case <-time.After(5 * time.Second):
		_ = sub.Process.Kill()
		t.Fatal("arc-nats sub did not exit after 2 messages")
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("sub printed %d lines: %q", len(lines), stdout.String())
	}
	for i, want := range []string{first, second} {
		var line struct {
			Subject string          `json:"subject"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &line); err != nil {
			t.Fatal(err)
		}
		if line.Subject != SubjectBrainRequest || string(line.Payload) != strings.TrimSpace(want) {
			t.Errorf("line %d: %s, want payload %s", i, lines[i], want)
		}
	}

	// Nothing arrives: non-zero exit at the timeout.
	idle := exec.Command(bin, "sub", "--server", url, "--subject", SubjectBrainCancel, "--count", "1", "--timeout", "300ms")
	if err := idle.Run(); err == nil {
		t.Error("arc-nats sub exited 0 on timeout")
	}
}

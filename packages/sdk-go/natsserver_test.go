package arc

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// natsServerBinary is nats-server on PATH, or /usr/sbin/nats-server (the Debian package).
func natsServerBinary() string {
	if path, err := exec.LookPath("nats-server"); err == nil {
		return path
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server"
	}
	return ""
}

// startNATS runs a real nats-server on a free loopback port for the test and returns its URL.
// config, when not empty, is written to a configuration file (e.g. "max_payload: 4096").
func startNATS(t testing.TB, config string) string {
	t.Helper()
	bin := natsServerBinary()
	if bin == "" {
		t.Skip("no nats-server binary (not on PATH, not /usr/sbin/nats-server): install nats-server to run the bus tests")
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		lastErr = nil
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := listener.Addr().(*net.TCPAddr).Port
		listener.Close()
		args := []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port)}
		if config != "" {
			file := filepath.Join(t.TempDir(), "nats.conf")
			if err := os.WriteFile(file, []byte(config+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args = append(args, "-c", file)
		}
		var output bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &output, &output
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			select {
			case <-exited:
				lastErr = fmt.Errorf("nats-server exited: %s", output.String())
			default:
			}
			if lastErr != nil {
				break
			}
			if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				conn.Close()
				t.Cleanup(stop)
				return fmt.Sprintf("nats://127.0.0.1:%d", port)
			}
		}
		stop()
		if lastErr == nil {
			lastErr = fmt.Errorf("nats-server did not listen on port %d within 5 s: %s", port, output.String())
		}
	}
	t.Fatal(lastErr)
	return ""
}

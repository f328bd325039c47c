package main

// The remote behaviours against a real OpenSSH server (Debian's openssh-server, installed by
// scripts/engine/openssh.sh from scripts/setup.sh): each test starts its own sshd on a loopback port with host keys
// of its own (ed25519, ECDSA and RSA), a config with or without AcceptEnv, and stops it at the end.
// Upstream rules: pulumi/pulumi-command v1.2.1 provider/pkg/provider/remote/connection.go (host key, dial retries)
// and remote/commandOutputs.go (environment), remote/copyController.go (CopyToRemote).

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const sshdPath = "/usr/sbin/sshd"

type openSSH struct {
	port      int
	user      string
	clientKey string
	hostKeys  map[string]string // algorithm name -> authorized_keys line
	dir       string
	mu        sync.Mutex
	log       bytes.Buffer
}

type lockedWriter struct{ s *openSSH }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.log.Write(b)
}

func (s *openSSH) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func keygen(t *testing.T, typ, file string) {
	t.Helper()
	if out, err := exec.Command("ssh-keygen", "-q", "-t", typ, "-N", "", "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -t %s: %v\n%s", typ, err, out)
	}
}

func readText(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// startOpenSSH starts sshd with the given AcceptEnv names (none: the line is left out).
func startOpenSSH(t *testing.T, acceptEnv ...string) *openSSH {
	t.Helper()
	if _, err := os.Stat(sshdPath); err != nil {
		t.Fatalf("%s is missing: run scripts/engine/openssh.sh (scripts/setup.sh does) to install openssh-server", sshdPath)
	}
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Fatalf("ssh-keygen is missing: run scripts/engine/openssh.sh")
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "openssh-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s := &openSSH{user: me.Username, hostKeys: map[string]string{}, dir: dir}
	var hostKeyLines []string
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		f := filepath.Join(dir, "host_"+typ)
		keygen(t, typ, f)
		s.hostKeys[typ] = strings.TrimSpace(readText(t, f+".pub"))
		hostKeyLines = append(hostKeyLines, "HostKey "+f)
	}
	keygen(t, "ed25519", filepath.Join(dir, "client"))
	s.clientKey = readText(t, filepath.Join(dir, "client"))
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(readText(t, filepath.Join(dir, "client.pub"))), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		_ = os.MkdirAll("/run/sshd", 0o755) // sshd's privilege separation directory
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	config := strings.Join(append(hostKeyLines,
		"ListenAddress 127.0.0.1",
		fmt.Sprintf("Port %d", s.port),
		"PidFile "+filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile "+filepath.Join(dir, "authorized_keys"),
		"StrictModes no",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"Subsystem sftp internal-sftp",
		"LogLevel VERBOSE",
	), "\n") + "\n"
	if len(acceptEnv) > 0 {
		config += "AcceptEnv " + strings.Join(acceptEnv, " ") + "\n"
	}
	cfgFile := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", cfgFile)
	cmd.Stdout = lockedWriter{s}
	cmd.Stderr = lockedWriter{s}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	// Wait until it listens (generous: a busy machine).
	for deadline := time.Now().Add(30 * time.Second); ; {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
		if err == nil {
			_ = c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("sshd exited:\n%s", s.logText())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd does not listen on %d:\n%s", s.port, s.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

func (s *openSSH) connection() map[string]any {
	return map[string]any{"host": "127.0.0.1", "port": s.port, "user": s.user, "privateKey": s.clientKey, "dialErrorLimit": 0, "perDialTimeout": 20}
}

// Upstream: remote/connection.go (SSHConfig: HostKeyAlgorithms = the pinned key's type). sshd offers three host
// keys; each one pinned works, a wrong one is a mismatch.
func TestOpenSSHHostKeyPinsEachAlgorithm(t *testing.T) {
	s := startOpenSSH(t)
	p := &provider{}
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		conn := s.connection()
		conn["hostKey"] = s.hostKeys[typ]
		out, err := create(t, p, props(t, map[string]any{"connection": conn, "create": "echo pinned " + typ}), false)
		if err != nil {
			t.Errorf("%s host key: %v\n%s", typ, err, s.logText())
			continue
		}
		if got := str(out, "stdout"); got != "pinned "+typ {
			t.Errorf("%s: stdout %q", typ, got)
		}
	}
	other := filepath.Join(s.dir, "other")
	keygen(t, "ed25519", other)
	conn := s.connection()
	conn["hostKey"] = readText(t, other+".pub")
	if _, err := create(t, p, props(t, map[string]any{"connection": conn, "create": "true"}), false); err == nil ||
		!strings.Contains(err.Error(), "host key mismatch") {
		t.Errorf("a wrong ed25519 key must be a mismatch: %v", err)
	}
}

// Upstream: remote/commandOutputs.go (run: a variable the server refuses fails the command before it runs).
func TestOpenSSHEnvironmentWithAndWithoutAcceptEnv(t *testing.T) {
	accepting := startOpenSSH(t, "GREETING")
	p := &provider{engine: &fakeEngine{}}
	out, err := create(t, p, props(t, map[string]any{
		"connection": accepting.connection(), "create": `echo "$GREETING from sshd"`, "environment": map[string]any{"GREETING": "hello"},
	}), false)
	if err != nil || str(out, "stdout") != "hello from sshd" {
		t.Fatalf("AcceptEnv GREETING: %v %v\n%s", out, err, accepting.logText())
	}
	marker := filepath.Join(accepting.dir, "ran")
	_, err = create(t, p, props(t, map[string]any{
		"connection": accepting.connection(), "create": "touch " + marker, "environment": map[string]any{"GREETING": "hi", "OTHER": "x"},
	}), false)
	if err == nil || !strings.Contains(err.Error(), `could not set environment variable "OTHER"`) {
		t.Errorf("a name outside AcceptEnv fails: %v", err)
	}
	if _, statErr := os.Stat(marker); statErr == nil {
		t.Errorf("the command ran although its environment was refused")
	}

	strict := startOpenSSH(t)
	eng := &fakeEngine{}
	p = &provider{engine: eng}
	_, err = create(t, p, props(t, map[string]any{
		"connection": strict.connection(), "create": "true", "environment": map[string]any{"GREETING": "hello"},
	}), false)
	if err == nil || !strings.Contains(err.Error(), `could not set environment variable "GREETING"`) {
		t.Errorf("without AcceptEnv the environment fails: %v", err)
	}
	// The previous outputs are only a warning.
	olds := props(t, map[string]any{"connection": strict.connection(), "create": "echo one", "stdout": "one"})
	news := props(t, map[string]any{"connection": strict.connection(), "create": `echo "two [${PULUMI_COMMAND_STDOUT:-unset}]"`})
	resp, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: remoteURN, Type: remoteCommand,
		Olds: mustMarshal(t, olds), News: mustMarshal(t, news)})
	if err != nil {
		t.Fatalf("a refused PULUMI_COMMAND_STDOUT must not fail: %v", err)
	}
	if got := str(mustUnmarshal(t, resp.GetProperties()), "stdout"); got != "two [unset]" {
		t.Errorf("stdout = %q", got)
	}
	if !strings.Contains(eng.all(), "WARNING Unable to set 'PULUMI_COMMAND_STDOUT'.") {
		t.Errorf("want a warning:\n%s", eng.all())
	}
}

// Upstream: remote/connection.go (dialWithRetry: a failed authentication is retried; dialErrorLimit 1 = 2 dials).
func TestOpenSSHFailedAuthenticationIsRetried(t *testing.T) {
	s := startOpenSSH(t)
	wrong := filepath.Join(s.dir, "wrong")
	keygen(t, "ed25519", wrong)
	conn := s.connection()
	conn["privateKey"] = readText(t, wrong)
	conn["dialErrorLimit"] = 1
	p := &provider{}
	_, err := create(t, p, props(t, map[string]any{"connection": conn, "create": "true"}), false)
	if err == nil || !strings.Contains(err.Error(), "after 2 failed attempts") || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("want 2 failed attempts, got %v", err)
	}
	// sshd logs one "Failed publickey" per attempt (it may write the last line just after the client gave up).
	count := func() int { return strings.Count(s.logText(), "Failed publickey for "+s.user) }
	for deadline := time.Now().Add(20 * time.Second); count() < 2 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if got := count(); got != 2 {
		t.Errorf("sshd saw %d failed logins, want 2:\n%s", got, s.logText())
	}
}

// Upstream: remote/copyController.go (CopyToRemote over the server's sftp subsystem).
func TestOpenSSHCopyToRemote(t *testing.T) {
	s := startOpenSSH(t)
	p := &provider{}
	local := t.TempDir()
	if err := os.MkdirAll(filepath.Join(local, "site", "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(local, "site", "etc", "node.conf"), []byte("node=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	archive, err := resource.NewPathArchive(filepath.Join(local, "site"))
	if err != nil {
		t.Fatal(err)
	}
	remote := filepath.Join(s.dir, "remote", "deep")
	conn := resource.NewObjectProperty(resource.NewPropertyMapFromMap(s.connection()))
	if _, err := copyCreate(t, p, resource.PropertyMap{"connection": conn, "source": resource.NewArchiveProperty(archive),
		"remotePath": resource.NewStringProperty(remote)}, false); err != nil {
		t.Fatalf("copy: %v\n%s", err, s.logText())
	}
	if got := readText(t, filepath.Join(remote, "site", "etc", "node.conf")); got != "node=1\n" {
		t.Errorf("copied file: %q", got)
	}
	text, err := resource.NewTextAsset("written by sftp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := copyCreate(t, p, resource.PropertyMap{"connection": conn, "source": resource.NewAssetProperty(text),
		"remotePath": resource.NewStringProperty(filepath.Join(remote, "notes", "n.txt"))}, false); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, filepath.Join(remote, "notes", "n.txt")); got != "written by sftp" {
		t.Errorf("text asset: %q", got)
	}
}

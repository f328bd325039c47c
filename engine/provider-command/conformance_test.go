package main

// Conformance tests: each encodes a rule of upstream pulumi-command v1.2.1 (github.com/pulumi/pulumi-command) or of
// the library it is built on (github.com/pulumi/pulumi-go-provider v1.3.0), cited in the test's comment.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

const localURN = "urn:pulumi:test::proj::command:local:Command::step"

func localCreate(t *testing.T, p *provider, inputs resource.PropertyMap, preview bool) resource.PropertyMap {
	t.Helper()
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: localURN, Type: localCommand, Name: "step", Properties: mustMarshal(t, inputs), Preview: preview,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mustUnmarshal(t, resp.GetProperties())
}

func localUpdate(t *testing.T, p *provider, olds, oldInputs, news resource.PropertyMap, preview bool) resource.PropertyMap {
	t.Helper()
	resp, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: localURN, Type: localCommand, Olds: mustMarshal(t, olds), OldInputs: mustMarshal(t, oldInputs),
		News: mustMarshal(t, news), Preview: preview,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mustUnmarshal(t, resp.GetProperties())
}

// 1. Upstream: pulumi-go-provider infer/resource.go (markSecret, ensureDefaultSecrets: an output is secret only
// when the input of the same name is; an output that mirrors its input is returned as it is) and pulumi-command provider/tests/provider_test.go (TestRemoteCommand,
// "regress-256": a secret connection leaves stdout/stderr public).
func TestSecretOutputsOnlyForSameNamedSecretInputs(t *testing.T) {
	p := &provider{}
	env := resource.PropertyMap{"TOKEN": resource.MakeSecret(resource.NewStringProperty("t0k3n")), "PLAIN": resource.NewStringProperty("p")}
	out := localCreate(t, p, resource.PropertyMap{
		"create":      resource.NewStringProperty(`echo "length ${#TOKEN}"`),
		"environment": resource.NewObjectProperty(env),
	}, false)
	if out["stdout"].ContainsSecrets() || out["stderr"].ContainsSecrets() {
		t.Errorf("stdout/stderr must stay public with a secret environment value: %v %v", out["stdout"], out["stderr"])
	}
	if got := str(out, "stdout"); got != "length 5" {
		t.Errorf("stdout = %q", got)
	}
	// The environment output mirrors its input (markSecret returns a mirrored output as it is): TOKEN stays
	// secret in place, the other names stay readable.
	if out["environment"].IsSecret() || !out["environment"].DeepEquals(resource.NewObjectProperty(env)) ||
		!out["environment"].ObjectValue()["TOKEN"].IsSecret() {
		t.Errorf("environment must mirror its input, TOKEN secret in place: %v", out["environment"])
	}
	if out["create"].ContainsSecrets() {
		t.Errorf("create is public: %v", out["create"])
	}

	// regress-256: a remote command's secret connection, in a preview.
	r, err := p.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: remoteURN, Type: remoteCommand, Preview: true, Properties: mustMarshal(t, resource.PropertyMap{
			"create": resource.NewStringProperty("<create command>"),
			"connection": resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{
				"host": resource.NewStringProperty("<host port>"),
			})),
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	pv := mustUnmarshal(t, r.GetProperties())
	for _, k := range []resource.PropertyKey{"stdout", "stderr"} {
		if !pv[k].ContainsUnknowns() || pv[k].ContainsSecrets() {
			t.Errorf("%s must be unknown and not secret in a preview: %v", k, pv[k])
		}
	}
	if !pv["connection"].IsSecret() {
		t.Errorf("connection must stay secret: %v", pv["connection"])
	}
}

// 1 (remote, actual run). Upstream: pulumi-go-provider infer/resource.go markSecret; the connection is always secret
// (pulumi-command provider/pkg/provider/remote/command.go: `provider:"secret"` on connection).
func TestRemoteOutputsStayPublicWithSecretConnection(t *testing.T) {
	s := startSSHServer(t)
	p := &provider{}
	conn := resource.NewPropertyMapFromMap(s.keyConnection())
	conn["privateKey"] = resource.MakeSecret(conn["privateKey"])
	out, err := create(t, p, resource.PropertyMap{
		"connection": resource.NewObjectProperty(conn), "create": resource.NewStringProperty("echo out"),
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	if out["stdout"].ContainsSecrets() || str(out, "stdout") != "out" {
		t.Errorf("stdout must be public: %v", out["stdout"])
	}
	if !out["connection"].IsSecret() {
		t.Errorf("connection must be secret: %v", out["connection"])
	}
}

// 2. Upstream: pulumi-go-provider infer/resource.go (markComputed with ensureDefaultComputed: in a preview every
// output depends on every input, so a changed or unknown input makes stdout/stderr unknown) and pulumi-command
// provider/tests/provider_test.go (TestLocalCommand, "update-preview").
func TestPreviewOfAChangedInputMakesOutputsUnknown(t *testing.T) {
	p := &provider{}
	oldInputs := resource.NewPropertyMapFromMap(map[string]any{"create": "echo one", "environment": map[string]any{"A": "1"}})
	olds := localCreate(t, p, oldInputs, false)
	if str(olds, "stdout") != "one" {
		t.Fatalf("created: %v", olds)
	}

	changed := resource.NewPropertyMapFromMap(map[string]any{"create": "echo two", "environment": map[string]any{"A": "1"}})
	pv := localUpdate(t, p, olds, oldInputs, changed, true)
	for _, k := range []resource.PropertyKey{"stdout", "stderr"} {
		if !pv[k].IsComputed() {
			t.Errorf("%s must be unknown in the preview of a changed command, got %v", k, pv[k])
		}
	}
	if str(pv, "create") != "echo two" || !pv["environment"].DeepEquals(changed["environment"]) {
		t.Errorf("outputs that mirror inputs stay known: %v", pv)
	}

	// Only the environment changes: still unknown (every output depends on every input).
	envChanged := resource.NewPropertyMapFromMap(map[string]any{"create": "echo one", "environment": map[string]any{"A": "2"}})
	if pv := localUpdate(t, p, olds, oldInputs, envChanged, true); !pv["stdout"].IsComputed() {
		t.Errorf("a changed environment makes stdout unknown: %v", pv["stdout"])
	}

	// An unknown input (upstream "update-preview").
	unknownEnv := resource.PropertyMap{"create": resource.NewStringProperty("echo one"),
		"environment": resource.MakeComputed(resource.NewStringProperty(""))}
	if pv := localUpdate(t, p, olds, oldInputs, unknownEnv, true); !pv["stdout"].IsComputed() || !pv["environment"].IsComputed() {
		t.Errorf("an unknown input makes stdout unknown: %v", pv)
	}

	// Nothing changed (an update forced by the engine, e.g. a replaced dependency with equal values): the
	// recorded outputs stay.
	if pv := localUpdate(t, p, olds, oldInputs, oldInputs, true); str(pv, "stdout") != "one" || pv["stdout"].IsComputed() {
		t.Errorf("unchanged inputs keep stdout: %v", pv["stdout"])
	}
}

// 3. Upstream: pulumi-command provider/pkg/provider/util/util.go (LogOutput sends each line with InfoStatus, an
// ephemeral status message) and provider/pkg/provider/local/logging_test.go / remote/logging_test.go.
func TestOutputLinesAreEphemeralStatusMessages(t *testing.T) {
	eng := &fakeEngine{}
	p := &provider{engine: eng}
	localCreate(t, p, resource.NewPropertyMapFromMap(map[string]any{"create": "echo one; echo two >&2; printf three"}), false)
	got := eng.all()
	want := []string{"INFO(status) one", "INFO(status) two", "INFO(status) three"}
	lines := strings.Split(got, "\n")
	if len(lines) != 3 {
		t.Fatalf("want exactly three status lines, got:\n%s", got)
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "INFO one") {
		t.Errorf("output lines must not be diagnostics:\n%s", got)
	}

	eng2 := &fakeEngine{}
	p2 := &provider{engine: eng2}
	localCreate(t, p2, resource.NewPropertyMapFromMap(map[string]any{"create": "echo out; echo err >&2", "logging": "stderr"}), false)
	if got := eng2.all(); got != "INFO(status) err" {
		t.Errorf("logging stderr: got %q", got)
	}
}

// 4. Upstream: pulumi-command #924 (commit bf349f64, in v1.2.1: provider/pkg/provider/local/base.go and
// remote/command.go no longer SetDefault addPreviousOutputInEnv) and provider/tests/provider_test.go
// (TestRegress248: Check fills the connection's defaults and makes it secret).
func TestCheckWritesNoAddPreviousOutputInEnv(t *testing.T) {
	p := &provider{}
	resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: localURN, Type: localCommand, News: mustMarshal(t, resource.NewPropertyMapFromMap(map[string]any{"create": "echo"})),
	})
	if err != nil {
		t.Fatal(err)
	}
	in := mustUnmarshal(t, resp.GetInputs())
	if _, ok := in["addPreviousOutputInEnv"]; ok || len(in) != 1 {
		t.Errorf("Check must return the inputs as given: %v", in)
	}

	resp, err = p.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: remoteURN, Type: remoteCommand, News: mustMarshal(t, resource.NewPropertyMapFromMap(map[string]any{
			"create": "<create command>", "connection": map[string]any{"host": "<required value>"},
		})),
	})
	if err != nil || len(resp.GetFailures()) != 0 {
		t.Fatal(err, resp.GetFailures())
	}
	in = mustUnmarshal(t, resp.GetInputs())
	want := resource.PropertyMap{
		"create": resource.NewStringProperty("<create command>"),
		"connection": resource.MakeSecret(resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{
			"host": "<required value>", "port": 22, "user": "root", "dialErrorLimit": 10, "perDialTimeout": 15,
		}))),
	}
	if !in.DeepEquals(want) {
		t.Errorf("remote Check:\n got %v\nwant %v", in, want)
	}

	// The invoke command:local:run returns its inputs as given too.
	ir, err := p.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: localRun,
		Args: mustMarshal(t, resource.NewPropertyMapFromMap(map[string]any{"command": "echo hi"}))})
	if err != nil {
		t.Fatal(err)
	}
	if ret := mustUnmarshal(t, ir.GetReturn()); str(ret, "stdout") != "hi" || ret["addPreviousOutputInEnv"].HasValue() {
		t.Errorf("run returned %v", ret)
	}

	// State written by the earlier build of this provider (with the default spelled out) does not diff.
	d, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: localURN, Type: localCommand,
		OldInputs: mustMarshal(t, resource.NewPropertyMapFromMap(map[string]any{"create": "echo", "addPreviousOutputInEnv": true})),
		News:      mustMarshal(t, resource.NewPropertyMapFromMap(map[string]any{"create": "echo"}))})
	if err != nil || d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("old default must not diff: %v %v", d, err)
	}
}

// 5. Upstream: pulumi-command provider/pkg/provider/remote/connection.go (SSHConfig: a hostKey sets
// HostKeyAlgorithms to the key's type, so a server with several host keys shows the pinned one).
func TestHostKeyRestrictsTheAlgorithm(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecSigner, err := ssh.NewSignerFromKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	// The server's ed25519 key (s.hostKey) and an ECDSA key, which the client prefers unless restricted.
	s := startSSHServer(t, func(_ *sshServer, cfg *ssh.ServerConfig) { cfg.AddHostKey(ecSigner) })
	p := &provider{}
	for name, key := range map[string]ssh.PublicKey{"ed25519": s.hostKey, "ecdsa": ecSigner.PublicKey()} {
		conn := s.keyConnection()
		conn["hostKey"] = string(ssh.MarshalAuthorizedKey(key))
		conn["dialErrorLimit"] = 0
		out, err := create(t, p, props(t, map[string]any{"connection": conn, "create": "echo pinned"}), false)
		if err != nil {
			t.Errorf("%s host key: %v", name, err)
			continue
		}
		if str(out, "stdout") != "pinned" {
			t.Errorf("%s: %v", name, out)
		}
	}
}

// 6. Upstream: pulumi-command provider/pkg/provider/remote/commandOutputs.go (run: a refused `environment` variable
// is an error and the command does not run; PULUMI_COMMAND_STDOUT/STDERR are set optimistically, a warning).
func TestRefusedEnvironmentVariableFailsTheCommand(t *testing.T) {
	s := startSSHServer(t)
	eng := &fakeEngine{}
	p := &provider{engine: eng}
	_, err := create(t, p, props(t, map[string]any{
		"connection": s.keyConnection(), "create": "echo ran", "environment": map[string]any{"REFUSED": "x"},
	}), false)
	if err == nil || !strings.Contains(err.Error(), `could not set environment variable "REFUSED"`) {
		t.Fatalf("a refused variable must fail the command, got %v", err)
	}
	if got := s.snapshot(&s.commands); len(got) != 0 {
		t.Errorf("the command must not run: %v", got)
	}
	if !strings.Contains(eng.all(), "ERROR Unable to set 'REFUSED'.") {
		t.Errorf("the refusal is reported as an error:\n%s", eng.all())
	}

	// PULUMI_COMMAND_STDOUT refused: a warning, and the command runs.
	strict := startSSHServer(t, func(s *sshServer, _ *ssh.ServerConfig) { s.acceptEnv = map[string]bool{} })
	eng = &fakeEngine{}
	p = &provider{engine: eng}
	olds := resource.NewPropertyMapFromMap(map[string]any{"connection": strict.keyConnection(), "create": "echo first", "stdout": "first"})
	news := resource.NewPropertyMapFromMap(map[string]any{"connection": strict.keyConnection(), "create": "echo second"})
	resp, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: remoteURN, Type: remoteCommand,
		Olds: mustMarshal(t, olds), News: mustMarshal(t, news)})
	if err != nil {
		t.Fatalf("a refused PULUMI_COMMAND_STDOUT must not fail: %v", err)
	}
	if got := str(mustUnmarshal(t, resp.GetProperties()), "stdout"); got != "second" {
		t.Errorf("stdout = %q", got)
	}
	if !strings.Contains(eng.all(), "WARNING Unable to set 'PULUMI_COMMAND_STDOUT'.") {
		t.Errorf("want a warning:\n%s", eng.all())
	}

	// Only the previous outputs are optional: a variable of `environment` fails whatever its name, even one
	// that starts with PULUMI_COMMAND_ (upstream sets Environment first and returns on any error).
	_, err = create(t, p, props(t, map[string]any{
		"connection": strict.keyConnection(), "create": "echo ran", "environment": map[string]any{"PULUMI_COMMAND_STDOUT": "mine"},
	}), false)
	if err == nil || !strings.Contains(err.Error(), `could not set environment variable "PULUMI_COMMAND_STDOUT"`) {
		t.Errorf("a refused environment variable named PULUMI_COMMAND_STDOUT must fail the command, got %v", err)
	}
	if got := strict.snapshot(&strict.commands); len(got) != 1 {
		t.Errorf("only the update's command ran on the strict server: %v", got)
	}
}

// countingListener accepts TCP connections, counts them and closes them at once (an SSH handshake fails).
func countingListener(t *testing.T) (int, func() int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var mu sync.Mutex
	n := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			_ = c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// 7. Upstream: pulumi-command provider/pkg/provider/remote/connection.go (dialWithRetry / reachedDialingErrorLimit:
// dialErrorLimit N allows N+1 dials, any error is retried, failed authentication included; SSHConfig: an agent
// socket that cannot be dialled is an error).
func TestDialRetriesAsUpstream(t *testing.T) {
	p := &provider{}
	for _, limit := range []int{0, 2} {
		port, count := countingListener(t)
		_, err := create(t, p, props(t, map[string]any{
			"connection": map[string]any{"host": "127.0.0.1", "port": port, "user": testUser, "password": "x", "dialErrorLimit": limit},
			"create":     "true",
		}), false)
		if err == nil {
			t.Fatal("dialling a server that hangs up must fail")
		}
		if got := count(); got != limit+1 {
			t.Errorf("dialErrorLimit %d: %d attempts, want %d", limit, got, limit+1)
		}
	}

	// A wrong password is retried too.
	s := startSSHServer(t)
	conn := s.passwordConnection()
	conn["password"] = "wrong"
	conn["dialErrorLimit"] = 2
	_, err := create(t, p, props(t, map[string]any{"connection": conn, "create": "true"}), false)
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("want an authentication error, got %v", err)
	}
	if got := s.snapshot(&s.failed); len(got) != 3 {
		t.Errorf("failed password logins: %d, want 3", len(got))
	}

	// An agent socket that cannot be reached is an error, before any dial.
	port, count := countingListener(t)
	_, err = create(t, p, props(t, map[string]any{
		"connection": map[string]any{"host": "127.0.0.1", "port": port, "user": testUser,
			"agentSocketPath": filepath.Join(t.TempDir(), "no-agent.sock")},
		"create": "true",
	}), false)
	if err == nil || !strings.Contains(err.Error(), "SSH agent") {
		t.Errorf("an unreachable agent socket must fail, got %v", err)
	}
	if count() != 0 {
		t.Errorf("no dial may happen without the agent")
	}
}

// 7 (agent). The agent named by agentSocketPath authenticates (upstream connection.go SSHConfig).
func TestAgentSocketAuthenticates(t *testing.T) {
	s := startSSHServer(t)
	keyring := agent.NewKeyring()
	signer, err := ssh.ParsePrivateKey([]byte(s.clientPEM))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ssh.ParseRawPrivateKey([]byte(s.clientPEM))
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Add(agent.AddedKey{PrivateKey: raw}); err != nil {
		t.Fatal(err)
	}
	_ = signer
	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = agent.ServeAgent(keyring, c) }()
		}
	}()
	p := &provider{}
	out, err := create(t, p, props(t, map[string]any{
		"connection": map[string]any{"host": "127.0.0.1", "port": s.port, "user": testUser, "agentSocketPath": sock, "dialErrorLimit": 0},
		"create":     "echo agent",
	}), false)
	if err != nil || str(out, "stdout") != "agent" {
		t.Fatalf("agent login: %v %v", out, err)
	}
}

// 8. Upstream: pulumi-command provider/pkg/provider/local/commandController.go (Update: the state starts from the
// old outputs, so an update that runs nothing, or a run without assetPaths, keeps assets/archive) and
// pulumi-go-provider infer/resource.go (diff: plugin.NewDetailedDiffFromObjectDiff names nested paths).
func TestUpdateKeepsAssetsAndDiffNamesNestedPaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &provider{}
	inputs := resource.NewPropertyMapFromMap(map[string]any{
		"create": "echo made", "dir": dir, "assetPaths": []any{"*.txt"}, "archivePaths": []any{"*.txt"},
	})
	olds := localCreate(t, p, inputs, false)
	if !olds["assets"].IsObject() || !olds["archive"].IsArchive() {
		t.Fatalf("created: %v", olds)
	}
	// Nothing to run (no create or update command any more).
	news := resource.NewPropertyMapFromMap(map[string]any{"dir": dir, "delete": "true"})
	out := localUpdate(t, p, olds, inputs, news, false)
	if !out["assets"].DeepEquals(olds["assets"]) || !out["archive"].DeepEquals(olds["archive"]) {
		t.Errorf("an update that runs nothing keeps assets and archive: %v", out)
	}
	if str(out, "stdout") != "made" {
		t.Errorf("and stdout: %v", out["stdout"])
	}
	// A run without assetPaths keeps them as well.
	news = resource.NewPropertyMapFromMap(map[string]any{"dir": dir, "create": "echo again"})
	out = localUpdate(t, p, olds, inputs, news, false)
	if !out["assets"].DeepEquals(olds["assets"]) || str(out, "stdout") != "again" {
		t.Errorf("a run without assetPaths keeps the assets: %v", out)
	}

	d, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: localURN, Type: localCommand,
		OldInputs: mustMarshal(t, resource.NewPropertyMapFromMap(map[string]any{"create": "x", "environment": map[string]any{"FOO": "1", "BAR": "1"}})),
		News:      mustMarshal(t, resource.NewPropertyMapFromMap(map[string]any{"create": "x", "environment": map[string]any{"FOO": "2", "BAR": "1", "NEW": "1"}})),
	})
	if err != nil {
		t.Fatal(err)
	}
	dd := d.GetDetailedDiff()
	if len(dd) != 2 || dd["environment.FOO"].GetKind() != pulumirpc.PropertyDiff_UPDATE || dd["environment.NEW"].GetKind() != pulumirpc.PropertyDiff_ADD {
		t.Errorf("detailed diff: %v", dd)
	}
	if strings.Join(d.GetDiffs(), ",") != "environment" || d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME {
		t.Errorf("diffs: %v", d)
	}

	// ignoreChanges takes the old value of the path.
	d, err = p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: localURN, Type: localCommand,
		Olds:          mustMarshal(t, resource.NewPropertyMapFromMap(map[string]any{"create": "x", "environment": map[string]any{"FOO": "1"}, "stdout": ""})),
		OldInputs:     mustMarshal(t, resource.NewPropertyMapFromMap(map[string]any{"create": "x", "environment": map[string]any{"FOO": "1"}})),
		News:          mustMarshal(t, resource.NewPropertyMapFromMap(map[string]any{"create": "x", "environment": map[string]any{"FOO": "2"}})),
		IgnoreChanges: []string{"environment.FOO"},
	})
	if err != nil || d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("ignored path: %v %v", d, err)
	}
}

const copyURN = "urn:pulumi:test::proj::command:remote:CopyToRemote::files"

func copyCreate(t *testing.T, p *provider, inputs resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	t.Helper()
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: copyURN, Type: copyToRemote, Name: "files", Properties: mustMarshal(t, inputs), Preview: preview,
	})
	if err != nil {
		return nil, err
	}
	return mustUnmarshal(t, resp.GetProperties()), nil
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// 9. Upstream: pulumi-command provider/pkg/provider/remote/copyController.go (Check: an asset or an archive, path
// or text; Create copies, nothing in preview; Update copies again only when the hash or remotePath changed;
// sftpCopy's table of where files land; parent directories are created, #1161) and remote/copy.go (the inputs).
func TestCopyToRemote(t *testing.T) {
	s := startSSHServer(t)
	p := &provider{}
	local := t.TempDir()
	if err := os.MkdirAll(filepath.Join(local, "conf", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"conf/a.cfg": "a", "conf/sub/b.cfg": "b", "single.txt": "single"} {
		if err := os.WriteFile(filepath.Join(local, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	remote := t.TempDir()
	conn := resource.NewObjectProperty(resource.NewPropertyMapFromMap(s.keyConnection()))
	fileAsset, err := resource.NewPathAsset(filepath.Join(local, "single.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dirArchive, err := resource.NewPathArchive(filepath.Join(local, "conf"))
	if err != nil {
		t.Fatal(err)
	}
	slashArchive := &resource.Archive{Path: filepath.Join(local, "conf") + "/"}
	textAsset, err := resource.NewTextAsset("from text")
	if err != nil {
		t.Fatal(err)
	}
	in := func(src resource.PropertyValue, dest string) resource.PropertyMap {
		return resource.PropertyMap{"connection": conn, "source": src, "remotePath": resource.NewStringProperty(dest)}
	}

	// Preview: nothing copied, the outputs are the inputs with a secret connection.
	pv, err := copyCreate(t, p, in(resource.NewAssetProperty(fileAsset), filepath.Join(remote, "never", "x.txt")), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(readTree(t, remote)) != 0 || len(s.snapshot(&s.logins)) != 0 {
		t.Fatalf("a preview copies nothing and does not connect")
	}
	if !pv["connection"].IsSecret() || str(pv, "remotePath") != filepath.Join(remote, "never", "x.txt") {
		t.Errorf("preview outputs: %v", pv)
	}

	for _, c := range []struct {
		src  resource.PropertyValue
		dest string
	}{
		{resource.NewAssetProperty(fileAsset), "new/parents/copy.txt"}, // file to a new path: parents created
		{resource.NewAssetProperty(fileAsset), "."},                    // file into an existing directory
		{resource.NewArchiveProperty(dirArchive), "tree"},              // dir: remotePath/dir
		{resource.NewArchiveProperty(slashArchive), "flat"},            // dir/: its entries
		{resource.NewAssetProperty(textAsset), "text/note.txt"},        // text asset
	} {
		if _, err := copyCreate(t, p, in(c.src, filepath.Join(remote, c.dest)), false); err != nil {
			t.Fatalf("copy to %s: %v", c.dest, err)
		}
	}
	want := map[string]string{
		"new/parents/copy.txt": "single", "single.txt": "single",
		"tree/conf/a.cfg": "a", "tree/conf/sub/b.cfg": "b",
		"flat/a.cfg": "a", "flat/sub/b.cfg": "b",
		"text/note.txt": "from text",
	}
	got := readTree(t, remote)
	if len(got) != len(want) {
		t.Errorf("remote files: %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}

	// A directory onto an existing file, and a text asset onto a directory, fail.
	if _, err := copyCreate(t, p, in(resource.NewArchiveProperty(dirArchive), filepath.Join(remote, "single.txt")), false); err == nil ||
		!strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("dir onto a file: %v", err)
	}
	if _, err := copyCreate(t, p, in(resource.NewAssetProperty(textAsset), filepath.Join(remote, "tree")), false); err == nil ||
		!strings.Contains(err.Error(), "is a directory") {
		t.Errorf("text onto a directory: %v", err)
	}

	// Update: same source and path copy nothing; a new remotePath copies.
	olds := in(resource.NewAssetProperty(fileAsset), filepath.Join(remote, "again.txt"))
	before := len(s.snapshot(&s.commands))
	resp, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: copyURN, Type: copyToRemote,
		Olds: mustMarshal(t, olds), News: mustMarshal(t, olds)})
	if err != nil || len(s.snapshot(&s.commands)) != before {
		t.Fatalf("an unchanged source is not copied again: %v", err)
	}
	if !mustUnmarshal(t, resp.GetProperties())["connection"].IsSecret() {
		t.Errorf("connection output must be secret")
	}
	news := in(resource.NewAssetProperty(fileAsset), filepath.Join(remote, "moved.txt"))
	if _, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: copyURN, Type: copyToRemote,
		Olds: mustMarshal(t, olds), News: mustMarshal(t, news)}); err != nil {
		t.Fatal(err)
	}
	if readTree(t, remote)["moved.txt"] != "single" {
		t.Errorf("a new remotePath copies again")
	}
	// Delete leaves the files.
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: copyURN, Type: copyToRemote,
		Properties: mustMarshal(t, news)}); err != nil || readTree(t, remote)["moved.txt"] != "single" {
		t.Errorf("delete keeps the files: %v", err)
	}

	// Check: defaults and secret connection; a source is required.
	cr, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: copyURN, Type: copyToRemote,
		News: mustMarshal(t, resource.PropertyMap{"connection": resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{"host": "h"})),
			"remotePath": resource.NewStringProperty("/x")})})
	if err != nil {
		t.Fatal(err)
	}
	if f := cr.GetFailures(); len(f) != 1 || f[0].GetProperty() != "source" {
		t.Errorf("missing source: %v", f)
	}
	checked := mustUnmarshal(t, cr.GetInputs())
	if !checked["connection"].IsSecret() || str(resource.PropertyMap(unwrap(checked["connection"]).ObjectValue()), "user") != "root" {
		t.Errorf("checked connection: %v", checked["connection"])
	}
}

// A partial line of one stream is not joined by the other stream's line, whatever order the pipes deliver in
// (the case a shared line buffer got wrong: "three" on stdout, then "two\n" on stderr, logged "threetwo").
func TestStreamsAreCutIntoLinesEachOnItsOwn(t *testing.T) {
	eng := &fakeEngine{}
	p := &provider{engine: eng}
	o := p.newOutputStreams(context.Background(), localURN, resource.PropertyMap{})
	_, _ = o.outW.Write([]byte("one\nthr"))
	_, _ = o.errW.Write([]byte("two\n"))
	_, _ = o.outW.Write([]byte("ee"))
	res := o.finish()
	if got, want := eng.all(), "INFO(status) one\nINFO(status) two\nINFO(status) three"; got != want {
		t.Errorf("status lines:\n%s\nwant:\n%s", got, want)
	}
	if res.stdout != "one\nthree" || res.stderr != "two" {
		t.Errorf("outputs: %q, %q", res.stdout, res.stderr)
	}
}

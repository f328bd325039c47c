package main

// Tests of command:remote:Command against an SSH server in this process (golang.org/x/crypto/ssh): it accepts a
// password and one public key, runs "exec" requests with /bin/sh, accepts "env" requests only for names listed in
// acceptEnv (like sshd's AcceptEnv), and forwards "direct-tcpip" channels (so it can be its own bastion).

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/pkg/sftp"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	testUser     = "deploy"
	testPassword = "s3cret-pw"
)

type sshServer struct {
	t         *testing.T
	addr      string
	port      int
	hostKey   ssh.PublicKey
	clientPEM string
	acceptEnv map[string]bool

	mu       sync.Mutex
	commands []string
	logins   []string
	failed   []string
	forwards []string
}

func (s *sshServer) record(list *[]string, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*list = append(*list, v)
}

func (s *sshServer) snapshot(list *[]string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), (*list)...)
}

func newKey(t *testing.T) (ed25519.PrivateKey, ssh.Signer) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return priv, signer
}

// serverOption changes a test server before it starts.
type serverOption func(s *sshServer, cfg *ssh.ServerConfig)

func startSSHServer(t *testing.T, opts ...serverOption) *sshServer {
	t.Helper()
	_, hostSigner := newKey(t)
	clientPriv, clientSigner := newKey(t)
	block, err := ssh.MarshalPrivateKey(clientPriv, "test client")
	if err != nil {
		t.Fatal(err)
	}
	s := &sshServer{
		t: t, hostKey: hostSigner.PublicKey(), clientPEM: string(pem.EncodeToMemory(block)),
		acceptEnv: map[string]bool{"GREETING": true, "PULUMI_COMMAND_STDOUT": true, "PULUMI_COMMAND_STDERR": true},
	}
	authorized := string(clientSigner.PublicKey().Marshal())
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == testUser && string(pw) == testPassword {
				s.record(&s.logins, "password")
				return nil, nil
			}
			s.record(&s.failed, "password")
			return nil, fmt.Errorf("wrong password for %s", c.User())
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == testUser && string(key.Marshal()) == authorized {
				s.record(&s.logins, "publickey")
				return nil, nil
			}
			return nil, fmt.Errorf("unknown key for %s", c.User())
		},
	}
	cfg.AddHostKey(hostSigner)
	for _, o := range opts {
		o(s, cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	s.addr = ln.Addr().String()
	s.port = ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn, cfg)
		}
	}()
	return s
}

func (s *sshServer) serve(conn net.Conn, cfg *ssh.ServerConfig) {
	sc, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		_ = conn.Close()
		return
	}
	defer func() { _ = sc.Close() }()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			ch, reqs, err := nc.Accept()
			if err != nil {
				continue
			}
			go s.session(ch, reqs)
		case "direct-tcpip":
			var target struct {
				Host       string
				Port       uint32
				OriginHost string
				OriginPort uint32
			}
			if err := ssh.Unmarshal(nc.ExtraData(), &target); err != nil {
				_ = nc.Reject(ssh.ConnectionFailed, "bad request")
				continue
			}
			addr := net.JoinHostPort(target.Host, fmt.Sprint(target.Port))
			up, err := net.Dial("tcp", addr)
			if err != nil {
				_ = nc.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			s.record(&s.forwards, addr)
			ch, reqs, err := nc.Accept()
			if err != nil {
				_ = up.Close()
				continue
			}
			go ssh.DiscardRequests(reqs)
			go func() { _, _ = io.Copy(ch, up); _ = ch.CloseWrite() }()
			go func() { _, _ = io.Copy(up, ch); _ = up.Close() }()
		default:
			_ = nc.Reject(ssh.UnknownChannelType, "not supported")
		}
	}
}

func (s *sshServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer func() { _ = ch.Close() }()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	for req := range reqs {
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			if err := ssh.Unmarshal(req.Payload, &kv); err != nil || !s.acceptEnv[kv.Name] {
				_ = req.Reply(false, nil)
				continue
			}
			env = append(env, kv.Name+"="+kv.Value)
			_ = req.Reply(true, nil)
		case "subsystem":
			var sub struct{ Name string }
			if err := ssh.Unmarshal(req.Payload, &sub); err != nil || sub.Name != "sftp" {
				_ = req.Reply(false, nil)
				return
			}
			_ = req.Reply(true, nil)
			s.record(&s.commands, "sftp")
			server, err := sftp.NewServer(ch)
			if err != nil {
				return
			}
			_ = server.Serve()
			payload := make([]byte, 4)
			_, _ = ch.SendRequest("exit-status", false, payload)
			return
		case "exec":
			var cmd struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &cmd); err != nil {
				_ = req.Reply(false, nil)
				return
			}
			_ = req.Reply(true, nil)
			s.record(&s.commands, cmd.Command)
			c := exec.Command("/bin/sh", "-c", cmd.Command)
			c.Env = env
			c.Stdin = ch
			c.Stdout = ch
			c.Stderr = ch.Stderr()
			status := uint32(0)
			if err := c.Run(); err != nil {
				status = 255
				if ee, ok := err.(*exec.ExitError); ok {
					if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
						status = uint32(ws.ExitStatus())
					}
				}
			}
			payload := make([]byte, 4)
			binary.BigEndian.PutUint32(payload, status)
			_, _ = ch.SendRequest("exit-status", false, payload)
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}

// fakeEngine collects what the provider logs: "SEVERITY message" for a diagnostic, "SEVERITY(status) message"
// for an ephemeral status message.
type fakeEngine struct {
	pulumirpc.EngineClient
	mu    sync.Mutex
	lines []string
}

func (f *fakeEngine) Log(_ context.Context, req *pulumirpc.LogRequest, _ ...grpc.CallOption) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	kind := ""
	if req.GetEphemeral() {
		kind = "(status)"
	}
	f.lines = append(f.lines, fmt.Sprintf("%s%s %s", req.GetSeverity(), kind, req.GetMessage()))
	return &emptypb.Empty{}, nil
}

func (f *fakeEngine) all() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.lines, "\n")
}

const remoteURN = "urn:pulumi:test::proj::command:remote:Command::step"

func props(t *testing.T, m map[string]any) resource.PropertyMap {
	t.Helper()
	return resource.NewPropertyMapFromMap(m)
}

func mustMarshal(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := marshal(m, "test")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustUnmarshal(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := unmarshal(s, "test")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (s *sshServer) keyConnection() map[string]any {
	return map[string]any{"host": "127.0.0.1", "port": s.port, "user": testUser, "privateKey": s.clientPEM, "dialErrorLimit": 2, "perDialTimeout": 5}
}

func (s *sshServer) passwordConnection() map[string]any {
	return map[string]any{"host": "127.0.0.1", "port": s.port, "user": testUser, "password": testPassword, "dialErrorLimit": 2, "perDialTimeout": 5}
}

func create(t *testing.T, p *provider, inputs resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	t.Helper()
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: remoteURN, Type: remoteCommand, Name: "step", Properties: mustMarshal(t, inputs), Preview: preview,
	})
	if err != nil {
		return nil, err
	}
	return mustUnmarshal(t, resp.GetProperties()), nil
}

func str(m resource.PropertyMap, k resource.PropertyKey) string {
	v, ok := m[k]
	if !ok {
		return "<absent>"
	}
	v = unwrap(v)
	if !v.IsString() {
		return "<not a string>"
	}
	return v.StringValue()
}

func TestRemoteCreateWithPrivateKey(t *testing.T) {
	s := startSSHServer(t)
	eng := &fakeEngine{}
	p := &provider{engine: eng}
	out, err := create(t, p, props(t, map[string]any{
		"connection": s.keyConnection(),
		"create":     "echo hello; echo oops >&2; echo two",
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := str(out, "stdout"); got != "hello\ntwo" {
		t.Errorf("stdout = %q", got)
	}
	if got := str(out, "stderr"); got != "oops" {
		t.Errorf("stderr = %q", got)
	}
	if got := s.snapshot(&s.logins); len(got) != 1 || got[0] != "publickey" {
		t.Errorf("logins = %v", got)
	}
	for _, want := range []string{"INFO(status) hello", "INFO(status) oops", "INFO(status) two"} {
		if !strings.Contains(eng.all(), want) {
			t.Errorf("engine log lacks %q:\n%s", want, eng.all())
		}
	}
	if !out["connection"].IsSecret() {
		t.Errorf("the connection output must be a secret")
	}
}

func TestRemoteCreateWithPasswordStdinAndEnvironment(t *testing.T) {
	s := startSSHServer(t)
	eng := &fakeEngine{}
	p := &provider{engine: eng}
	out, err := create(t, p, props(t, map[string]any{
		"connection":  s.passwordConnection(),
		"create":      `read line; echo "$GREETING $line"`,
		"stdin":       "world\n",
		"environment": map[string]any{"GREETING": "hello"},
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := str(out, "stdout"); got != "hello world" {
		t.Errorf("stdout = %q", got)
	}
	if got := s.snapshot(&s.logins); len(got) != 1 || got[0] != "password" {
		t.Errorf("logins = %v", got)
	}
	if strings.Contains(eng.all(), "Unable to set") {
		t.Errorf("an accepted variable is not a warning:\n%s", eng.all())
	}
}

func TestRemotePreviewRunsNothing(t *testing.T) {
	s := startSSHServer(t)
	p := &provider{}
	out, err := create(t, p, props(t, map[string]any{"connection": s.keyConnection(), "create": "touch /tmp/never"}), true)
	if err != nil {
		t.Fatal(err)
	}
	if !out["stdout"].IsComputed() {
		t.Errorf("stdout must be unknown in a preview, got %v", out["stdout"])
	}
	if got := s.snapshot(&s.commands); len(got) != 0 {
		t.Errorf("commands ran during preview: %v", got)
	}
	if got := s.snapshot(&s.logins); len(got) != 0 {
		t.Errorf("a preview must not even connect: %v", got)
	}
}

func TestRemoteFailureCarriesTheOutput(t *testing.T) {
	s := startSSHServer(t)
	p := &provider{}
	_, err := create(t, p, props(t, map[string]any{"connection": s.keyConnection(), "create": "echo partial; echo broken >&2; exit 3"}), false)
	if err == nil {
		t.Fatal("a non-zero exit must fail the step")
	}
	for _, want := range []string{"Process exited with status 3", "partial", "broken", `running "echo partial;`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestRemoteUpdateAndDeleteSeePreviousOutput(t *testing.T) {
	s := startSSHServer(t)
	p := &provider{}
	olds, err := create(t, p, props(t, map[string]any{
		"connection": s.keyConnection(), "create": "echo first", "delete": `echo "deleting after $PULUMI_COMMAND_STDOUT"`,
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	news := props(t, map[string]any{
		"connection": s.keyConnection(), "create": "echo first", "update": `echo "updated after $PULUMI_COMMAND_STDOUT"`,
		"delete": `echo "deleting after $PULUMI_COMMAND_STDOUT"`,
	})
	resp, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: remoteURN, Type: remoteCommand, Olds: mustMarshal(t, olds), News: mustMarshal(t, news),
	})
	if err != nil {
		t.Fatal(err)
	}
	updated := mustUnmarshal(t, resp.GetProperties())
	if got := str(updated, "stdout"); got != "updated after first" {
		t.Errorf("update stdout = %q", got)
	}
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{
		Urn: remoteURN, Type: remoteCommand, Properties: mustMarshal(t, updated),
	}); err != nil {
		t.Fatal(err)
	}
	cmds := s.snapshot(&s.commands)
	want := []string{"echo first", `echo "updated after $PULUMI_COMMAND_STDOUT"`, `echo "deleting after $PULUMI_COMMAND_STDOUT"`}
	if strings.Join(cmds, "|") != strings.Join(want, "|") {
		t.Errorf("commands = %q, want %q", cmds, want)
	}
}

func TestRemoteUpdateFallsBackToCreate(t *testing.T) {
	s := startSSHServer(t)
	p := &provider{}
	olds, err := create(t, p, props(t, map[string]any{"connection": s.keyConnection(), "create": "echo one"}), false)
	if err != nil {
		t.Fatal(err)
	}
	news := props(t, map[string]any{"connection": s.keyConnection(), "create": "echo two"})
	resp, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: remoteURN, Type: remoteCommand, Olds: mustMarshal(t, olds), News: mustMarshal(t, news),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := str(mustUnmarshal(t, resp.GetProperties()), "stdout"); got != "two" {
		t.Errorf("stdout = %q", got)
	}
}

func TestRemoteDiff(t *testing.T) {
	p := &provider{}
	conn := map[string]any{"host": "h", "port": 22}
	base := map[string]any{"connection": conn, "create": "a", "triggers": []any{"1"}}
	diff := func(news map[string]any) *pulumirpc.DiffResponse {
		resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{
			Urn: remoteURN, Type: remoteCommand, OldInputs: mustMarshal(t, props(t, base)), News: mustMarshal(t, props(t, news)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := diff(base); r.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("same inputs: %v", r)
	}
	if r := diff(map[string]any{"connection": conn, "create": "b", "triggers": []any{"1"}}); r.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || len(r.GetReplaces()) != 0 {
		t.Errorf("new create is an update: %v", r)
	}
	// A changed element is an update of its path (the SDK's replaceOnChanges ["triggers[*]"] replaces); triggers
	// given for the first time replace.
	if r := diff(map[string]any{"connection": conn, "create": "a", "triggers": []any{"2"}}); len(r.GetReplaces()) != 0 ||
		r.GetDetailedDiff()["triggers[0]"].GetKind() != pulumirpc.PropertyDiff_UPDATE {
		t.Errorf("new trigger element: %v", r)
	}
	noTriggers := map[string]any{"connection": conn, "create": "a"}
	r, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{
		Urn: remoteURN, Type: remoteCommand, OldInputs: mustMarshal(t, props(t, noTriggers)), News: mustMarshal(t, props(t, base)),
	})
	if err != nil || strings.Join(r.GetReplaces(), ",") != "triggers" || r.GetDetailedDiff()["triggers"].GetKind() != pulumirpc.PropertyDiff_ADD_REPLACE {
		t.Errorf("triggers added replace: %v %v", r, err)
	}
	other := map[string]any{"host": "h", "port": 2222}
	if r := diff(map[string]any{"connection": other, "create": "a", "triggers": []any{"1"}}); strings.Join(r.GetDiffs(), ",") != "connection" || len(r.GetReplaces()) != 0 {
		t.Errorf("a new connection is an update: %v", r)
	}
}

func TestRemoteCheck(t *testing.T) {
	p := &provider{}
	check := func(news map[string]any) []string {
		resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{
			Urn: remoteURN, Type: remoteCommand, News: mustMarshal(t, props(t, news)),
		})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range resp.GetFailures() {
			out = append(out, f.GetProperty())
		}
		return out
	}
	if got := check(map[string]any{"connection": map[string]any{"host": "h"}, "create": "x"}); len(got) != 0 {
		t.Errorf("valid inputs: %v", got)
	}
	if got := check(map[string]any{"create": "x"}); strings.Join(got, ",") != "connection" {
		t.Errorf("missing connection: %v", got)
	}
	if got := check(map[string]any{"connection": map[string]any{"port": 22}}); strings.Join(got, ",") != "connection.host" {
		t.Errorf("missing host: %v", got)
	}
	if got := check(map[string]any{"connection": map[string]any{"host": "h", "hots": "x"}, "dir": "/tmp"}); len(got) != 2 {
		t.Errorf("unknown properties (dir is local only): %v", got)
	}
	if got := check(map[string]any{"connection": map[string]any{"host": "h", "port": 70000}}); strings.Join(got, ",") != "connection.port" {
		t.Errorf("bad port: %v", got)
	}
	// A connection that is not known yet (preview) passes.
	unknown := resource.PropertyMap{"connection": resource.MakeComputed(resource.NewStringProperty(""))}
	resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: remoteURN, Type: remoteCommand, News: mustMarshal(t, unknown)})
	if err != nil || len(resp.GetFailures()) != 0 {
		t.Errorf("unknown connection: %v %v", err, resp.GetFailures())
	}
}

func TestRemoteHostKey(t *testing.T) {
	s := startSSHServer(t)
	p := &provider{}
	good := s.keyConnection()
	good["hostKey"] = string(ssh.MarshalAuthorizedKey(s.hostKey))
	if _, err := create(t, p, props(t, map[string]any{"connection": good, "create": "true"}), false); err != nil {
		t.Fatalf("the right host key: %v", err)
	}
	_, other := newKey(t)
	bad := s.keyConnection()
	bad["hostKey"] = string(ssh.MarshalAuthorizedKey(other.PublicKey()))
	bad["dialErrorLimit"] = 0
	_, err := create(t, p, props(t, map[string]any{"connection": bad, "create": "true"}), false)
	if err == nil || !strings.Contains(err.Error(), "host key mismatch") {
		t.Fatalf("a wrong host key must fail: %v", err)
	}
	if got := s.snapshot(&s.commands); len(got) != 1 {
		t.Errorf("only the first command ran: %v", got)
	}
}

func TestRemoteDialRetriesThenFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close() // nothing listens there now
	p := &provider{}
	_, err = create(t, p, props(t, map[string]any{
		"connection": map[string]any{"host": "127.0.0.1", "port": port, "user": testUser, "password": "x", "dialErrorLimit": 2, "perDialTimeout": 1},
		"create":     "true",
	}), false)
	if err == nil || !strings.Contains(err.Error(), "after 3 failed attempts") {
		t.Fatalf("want a dial error after 3 attempts (dialErrorLimit 2 + 1), got %v", err)
	}
}

func TestRemoteThroughProxy(t *testing.T) {
	bastion := startSSHServer(t)
	target := startSSHServer(t)
	p := &provider{}
	conn := target.passwordConnection()
	conn["proxy"] = map[string]any{"host": "127.0.0.1", "port": bastion.port, "user": testUser, "privateKey": bastion.clientPEM}
	out, err := create(t, p, props(t, map[string]any{"connection": conn, "create": "echo via bastion"}), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := str(out, "stdout"); got != "via bastion" {
		t.Errorf("stdout = %q", got)
	}
	if got := bastion.snapshot(&bastion.forwards); len(got) != 1 || got[0] != target.addr {
		t.Errorf("the bastion forwarded %v, want [%s]", got, target.addr)
	}
	if got := bastion.snapshot(&bastion.commands); len(got) != 0 {
		t.Errorf("nothing runs on the bastion: %v", got)
	}
	if got := target.snapshot(&target.commands); len(got) != 1 {
		t.Errorf("target commands: %v", got)
	}
}

func TestLocalCommandStillWorks(t *testing.T) {
	p := &provider{}
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: "urn:pulumi:test::proj::command:local:Command::c", Type: localCommand, Name: "c",
		Properties: mustMarshal(t, props(t, map[string]any{"create": "echo local; echo err >&2"})),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := mustUnmarshal(t, resp.GetProperties())
	if str(out, "stdout") != "local" || str(out, "stderr") != "err" {
		t.Errorf("outputs: %v", out)
	}
	if _, err := p.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: "urn:pulumi:test::proj::command:remote:CopyFile::c", Type: "command:remote:CopyFile",
	}); err == nil || !strings.Contains(err.Error(), "not implemented") {
		t.Errorf("CopyFile (deprecated upstream): %v", err)
	}
}

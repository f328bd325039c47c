// command:remote:Command: the same life cycle as command:local:Command (see main.go), with the command run over
// SSH (golang.org/x/crypto/ssh) instead of /bin/sh on this machine.
//
// Connection (the `connection` input, upstream's remote.Connection): host, port (22), user (root), password,
// privateKey (+ privateKeyPassword), agentSocketPath (default $SSH_AUTH_SOCK), hostKey (authorized_keys or
// known_hosts line; the host key is not checked when absent, as upstream), dialErrorLimit (10; -1 = no limit),
// perDialTimeout (15 s), proxy (a bastion with the same fields, reached first; the target is dialled through it).
//
// As upstream (pulumi/pulumi-command provider/pkg/provider/remote): `environment` is sent with SSH "env" requests,
// which servers only accept for names listed in their AcceptEnv; a refused variable of `environment` fails the
// command, a refused PULUMI_COMMAND_STDOUT/STDERR of the previous run is a warning. The command runs in the user's login shell on the remote host. Check
// fills the connection's defaults (user root, port 22, dialErrorLimit 10, perDialTimeout 15) and makes it secret.
// hostKey (an authorized_keys line) pins the key and restricts the negotiated host key algorithm to its type.
// Dialling is retried on any error (refused connection, failed authentication, ...): dialErrorLimit N gives N+1
// attempts, -1 no limit, with the SDK's retry back-off (0.1 s, x1.5, at most 5 s). An agent socket
// (agentSocketPath, else $SSH_AUTH_SOCK) that cannot be reached is an error.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/retry"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Input properties of command:remote:Command, in schema order.
var remoteInputKeys = []resource.PropertyKey{
	"addPreviousOutputInEnv", "connection", "create", "delete", "environment", "logging", "stdin", "triggers", "update",
}

var connectionKeys = map[string]bool{
	"agentSocketPath": true, "dialErrorLimit": true, "host": true, "hostKey": true, "password": true,
	"perDialTimeout": true, "port": true, "privateKey": true, "privateKeyPassword": true, "proxy": true, "user": true,
}

type connection struct {
	host               string
	port               int
	user               string
	password           string
	privateKey         string
	privateKeyPassword string
	hostKey            string
	agentSocketPath    string
	dialErrorLimit     int
	perDialTimeout     time.Duration
	proxy              *connection
}

func (c *connection) address() string {
	return net.JoinHostPort(c.host, strconv.Itoa(c.port))
}

// checkConnection validates the known parts of the `connection` input (unknown values pass: preview).
func checkConnection(inputs resource.PropertyMap) []*pulumirpc.CheckFailure {
	v, ok := inputs["connection"]
	if !ok || v.IsNull() {
		return []*pulumirpc.CheckFailure{{Property: "connection", Reason: "missing required property 'connection'"}}
	}
	return checkConnectionValue("connection", v)
}

func checkConnectionValue(path string, v resource.PropertyValue) []*pulumirpc.CheckFailure {
	if v.ContainsUnknowns() && !v.IsObject() && !v.IsSecret() {
		return nil
	}
	v = unwrap(v)
	if v.IsComputed() {
		return nil
	}
	if !v.IsObject() {
		return []*pulumirpc.CheckFailure{{Property: path, Reason: path + " must be an object"}}
	}
	var failures []*pulumirpc.CheckFailure
	obj := v.ObjectValue()
	for _, k := range obj.StableKeys() {
		if !connectionKeys[string(k)] {
			failures = append(failures, &pulumirpc.CheckFailure{
				Property: path + "." + string(k), Reason: fmt.Sprintf("unknown property %q of %s", k, path),
			})
		}
	}
	host, hasHost := obj["host"]
	switch {
	case !hasHost || host.IsNull():
		failures = append(failures, &pulumirpc.CheckFailure{Property: path + ".host", Reason: "missing required property 'host'"})
	case host.IsString() && strings.TrimSpace(host.StringValue()) == "":
		failures = append(failures, &pulumirpc.CheckFailure{Property: path + ".host", Reason: "host must not be empty"})
	}
	if port, ok := obj["port"]; ok && port.IsNumber() {
		if n := port.NumberValue(); n < 1 || n > 65535 || n != float64(int(n)) {
			failures = append(failures, &pulumirpc.CheckFailure{Property: path + ".port", Reason: "port must be a whole number from 1 to 65535"})
		}
	}
	if proxy, ok := obj["proxy"]; ok && !proxy.IsNull() {
		if unwrap(proxy).IsObject() {
			if _, nested := unwrap(proxy).ObjectValue()["proxy"]; nested {
				failures = append(failures, &pulumirpc.CheckFailure{Property: path + ".proxy.proxy", Reason: "a proxy cannot have a proxy"})
			}
		}
		failures = append(failures, checkConnectionValue(path+".proxy", proxy)...)
	}
	return failures
}

// Defaults that Check writes into a connection (and its proxy), as upstream's schema defaults.
var connectionDefaults = []struct {
	key resource.PropertyKey
	val resource.PropertyValue
}{
	{"dialErrorLimit", resource.NewNumberProperty(10)},
	{"perDialTimeout", resource.NewNumberProperty(15)},
	{"port", resource.NewNumberProperty(22)},
	{"user", resource.NewStringProperty("root")},
}

// defaultConnection fills the defaults of inputs["connection"] (and of its proxy) and makes it secret.
func defaultConnection(inputs resource.PropertyMap) {
	v, ok := inputs["connection"]
	if !ok || v.IsNull() || v.IsComputed() {
		return
	}
	inner := v
	if inner.IsSecret() {
		inner = inner.SecretValue().Element
	}
	if !inner.IsObject() {
		return
	}
	inputs["connection"] = resource.MakeSecret(resource.NewObjectProperty(withDefaults(inner.ObjectValue(), true)))
}

func withDefaults(obj resource.PropertyMap, top bool) resource.PropertyMap {
	out := obj.Copy()
	for _, d := range connectionDefaults {
		if e, ok := out[d.key]; !ok || e.IsNull() {
			out[d.key] = d.val
		}
	}
	if p, ok := out["proxy"]; ok && top {
		secret := p.IsSecret()
		if secret {
			p = p.SecretValue().Element
		}
		if p.IsObject() {
			np := resource.NewObjectProperty(withDefaults(p.ObjectValue(), false))
			if secret {
				np = resource.MakeSecret(np)
			}
			out["proxy"] = np
		}
	}
	return out
}

// secretConnection marks the `connection` output secret (upstream: additionalSecretOutputs).
func secretConnection(state resource.PropertyMap) {
	if v, ok := state["connection"]; ok && !v.IsNull() && !v.IsSecret() && !v.IsComputed() {
		state["connection"] = resource.MakeSecret(v)
	}
}

func parseConnection(v resource.PropertyValue) (*connection, error) {
	v = unwrap(v)
	if !v.IsObject() {
		return nil, errors.New("connection must be an object")
	}
	obj := v.ObjectValue()
	str := func(k resource.PropertyKey) string {
		if e, ok := obj[k]; ok {
			if e = unwrap(e); e.IsString() {
				return e.StringValue()
			}
		}
		return ""
	}
	num := func(k resource.PropertyKey, def int) int {
		if e, ok := obj[k]; ok {
			if e = unwrap(e); e.IsNumber() {
				return int(e.NumberValue())
			}
		}
		return def
	}
	c := &connection{
		host: str("host"), port: num("port", 22), user: str("user"), password: str("password"),
		privateKey: str("privateKey"), privateKeyPassword: str("privateKeyPassword"), hostKey: str("hostKey"),
		agentSocketPath: str("agentSocketPath"), dialErrorLimit: num("dialErrorLimit", 10),
		perDialTimeout: time.Duration(num("perDialTimeout", 15)) * time.Second,
	}
	if c.host == "" {
		return nil, errors.New("connection.host is required")
	}
	if c.user == "" {
		c.user = "root"
	}
	if c.agentSocketPath == "" {
		c.agentSocketPath = os.Getenv("SSH_AUTH_SOCK")
	}
	if c.dialErrorLimit < -1 {
		c.dialErrorLimit = -1
	}
	if p, ok := obj["proxy"]; ok && !unwrap(p).IsNull() {
		proxy, err := parseConnection(p)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		if proxy.proxy != nil {
			return nil, errors.New("a proxy cannot have a proxy")
		}
		c.proxy = proxy
	}
	return c, nil
}

func (c *connection) clientConfig() (*ssh.ClientConfig, func(), error) {
	cleanup := func() {}
	cfg := &ssh.ClientConfig{User: c.user, Timeout: c.perDialTimeout, HostKeyCallback: ssh.InsecureIgnoreHostKey()}
	if c.hostKey != "" {
		key, err := parseHostKey(c.hostKey)
		if err != nil {
			return nil, cleanup, fmt.Errorf("connection.hostKey of %s: failed to parse host key: %w", c.address(), err)
		}
		cfg.HostKeyCallback = ssh.FixedHostKey(key)
		cfg.HostKeyAlgorithms = hostKeyAlgorithms(key)
	}
	if c.privateKey != "" {
		var signer ssh.Signer
		var err error
		if c.privateKeyPassword != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(c.privateKey), []byte(c.privateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(c.privateKey))
		}
		if err != nil {
			return nil, cleanup, fmt.Errorf("could not read the private key of the connection to %s: %w", c.address(), err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if c.password != "" {
		password := c.password
		cfg.Auth = append(cfg.Auth, ssh.Password(password),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = password
				}
				return answers, nil
			}))
	}
	if c.agentSocketPath != "" {
		conn, err := net.Dial("unix", c.agentSocketPath)
		if err != nil {
			return nil, cleanup, fmt.Errorf("connection to %s: the SSH agent at %s cannot be reached: %w",
				c.address(), c.agentSocketPath, err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
		cleanup = func() { _ = conn.Close() }
	}
	return cfg, cleanup, nil
}

// hostKeyAlgorithms are the algorithms a pinned host key can be negotiated with: its own type (upstream), and for
// an RSA key the SHA-2 signatures too, since OpenSSH no longer offers SHA-1 "ssh-rsa" by default.
func hostKeyAlgorithms(key ssh.PublicKey) []string {
	if key.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{key.Type()}
}

// parseHostKey accepts an authorized_keys line ("ssh-ed25519 AAAA…"), as upstream, or a known_hosts line
// ("host ssh-ed25519 AAAA…").
func parseHostKey(text string) (ssh.PublicKey, error) {
	if key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(text)); err == nil {
		return key, nil
	}
	_, _, key, _, _, err := ssh.ParseKnownHosts([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("not a public key in authorized_keys or known_hosts format: %w", err)
	}
	return key, nil
}

// withRetries calls dial until it succeeds or failed limit+1 times (limit -1: no limit), as upstream's
// dialWithRetry: every error is retried, each retry is reported as a status message.
func (p *provider) withRetries(ctx context.Context, urn, what string, limit int, dial func() (any, error)) (any, error) {
	var lastErr error
	ok, v, err := retry.Until(ctx, retry.Acceptor{
		Accept: func(try int, _ time.Duration) (bool, any, error) {
			v, err := dial()
			if err == nil {
				return true, v, nil
			}
			lastErr = err
			attempts := try + 1
			if limit >= 0 && attempts > limit {
				return true, nil, fmt.Errorf("%s: after %d failed attempts: %w", what, attempts, err)
			}
			max := "inf"
			if limit >= 0 {
				max = strconv.Itoa(limit + 1)
			}
			p.log(ctx, urn, fmt.Sprintf("%s %d/%s failed: retrying", what, attempts, max))
			return false, nil, nil
		},
	})
	if ok && err == nil {
		return v, nil
	}
	if err == nil {
		err = ctx.Err()
		if lastErr != nil {
			err = fmt.Errorf("%s: %w (last error: %v)", what, err, lastErr)
		}
	}
	return nil, err
}

// dial opens an SSH client to the connection's host, through its proxy when there is one.
func (p *provider) dial(ctx context.Context, urn string, c *connection) (*ssh.Client, func(), error) {
	cfg, cleanup, err := c.clientConfig()
	if err != nil {
		return nil, func() {}, err
	}
	target := "ssh " + c.user + "@" + c.address()
	if c.proxy == nil {
		v, err := p.withRetries(ctx, urn, target, c.dialErrorLimit, func() (any, error) {
			return ssh.Dial("tcp", c.address(), cfg)
		})
		if err != nil {
			cleanup()
			return nil, func() {}, err
		}
		client := v.(*ssh.Client)
		return client, func() { _ = client.Close(); cleanup() }, nil
	}
	bastion, closeBastion, err := p.dial(ctx, urn, c.proxy)
	if err != nil {
		cleanup()
		return nil, func() {}, fmt.Errorf("proxy: %w", err)
	}
	v, err := p.withRetries(ctx, urn, target+" via "+c.proxy.address(), c.dialErrorLimit, func() (any, error) {
		conn, err := bastion.Dial("tcp", c.address())
		if err != nil {
			return nil, err
		}
		sc, chans, reqs, err := ssh.NewClientConn(conn, c.address(), cfg)
		if err != nil {
			_ = conn.Close()
			return nil, err
		}
		return ssh.NewClient(sc, chans, reqs), nil
	})
	if err != nil {
		closeBastion()
		cleanup()
		return nil, func() {}, fmt.Errorf("proxy: %w", err)
	}
	client := v.(*ssh.Client)
	return client, func() { _ = client.Close(); closeBastion(); cleanup() }, nil
}

// runRemote runs one command of a command:remote:Command over SSH.
func (p *provider) runRemote(ctx context.Context, urn, command string, in resource.PropertyMap, prev runResult,
) (runResult, error) {
	cv, ok := in["connection"]
	if !ok {
		return runResult{}, errors.New("missing required property 'connection'")
	}
	conn, err := parseConnection(cv)
	if err != nil {
		return runResult{}, err
	}
	client, closeClient, err := p.dial(ctx, urn, conn)
	if err != nil {
		return runResult{}, err
	}
	defer closeClient()
	session, err := client.NewSession()
	if err != nil {
		return runResult{}, fmt.Errorf("ssh %s: could not open a session: %w", conn.address(), err)
	}
	defer func() { _ = session.Close() }()

	var envErr error
	setenv := func(k, v string, previous bool) {
		if envErr != nil {
			return
		}
		if err := session.Setenv(k, v); err != nil {
			msg := fmt.Sprintf("Unable to set '%s'. This only works if your SSH server is configured to accept "+
				"these variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote "+
				"host, you could prefix the command itself with the variables in the form 'VAR=value command'", k)
			if previous {
				// The previous outputs are set optimistically: a warning, and the command runs. A variable
				// of the `environment` input fails, whatever its name (upstream commandOutputs.go).
				p.logAt(ctx, pulumirpc.LogSeverity_WARNING, urn, msg)
				return
			}
			p.logAt(ctx, pulumirpc.LogSeverity_ERROR, urn, msg)
			envErr = fmt.Errorf("could not set environment variable %q on %s: %w", k, conn.address(), err)
		}
	}
	commandEnvironment(in, prev, setenv)
	if envErr != nil {
		return runResult{}, envErr
	}
	if stdin, ok := stringInput(in, "stdin"); ok && stdin != "" {
		session.Stdin = strings.NewReader(stdin)
	}
	streams := p.newOutputStreams(ctx, urn, in)
	session.Stdout = streams.outW
	session.Stderr = streams.errW

	done := make(chan error, 1)
	go func() { done <- session.Run(command) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = session.Signal(ssh.SIGTERM)
		closeClient()
		err = ctx.Err()
		<-done
	}
	res := streams.finish()
	if err != nil {
		var exit *ssh.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("Process exited with status %d", exit.ExitStatus())
		}
		return runResult{}, fmt.Errorf("%w: running %q on %s:\n%s", err, command, conn.address(), streams.combined.String())
	}
	return res, nil
}

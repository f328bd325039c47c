// command:remote:Command: the same life cycle as command:local:Command (see main.go), with the command run over
// SSH (golang.org/x/crypto/ssh) instead of /bin/sh on this machine.
//
// Connection (the `connection` input, upstream's remote.Connection): host, port (22), user (root), password,
// privateKey (+ privateKeyPassword), agentSocketPath (default $SSH_AUTH_SOCK), hostKey (authorized_keys or
// known_hosts line; the host key is not checked when absent, as upstream), dialErrorLimit (10; -1 = no limit),
// perDialTimeout (15 s), proxy (a bastion with the same fields, reached first; the target is dialled through it).
//
// As upstream: `environment` (and PULUMI_COMMAND_STDOUT/STDERR) is sent with SSH "env" requests, which servers
// only accept for names listed in their AcceptEnv; a refused variable is a warning, not an error. The command
// runs in the user's login shell on the remote host. The `connection` output is a secret.
//
// Differences: a failed authentication or a host key mismatch is not retried (retrying cannot fix them), and
// dial retries back off from 0.5 s to 5 s between attempts.
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
		if conn, err := net.Dial("unix", c.agentSocketPath); err == nil {
			cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
			cleanup = func() { _ = conn.Close() }
		}
	}
	if c.hostKey != "" {
		key, err := parseHostKey(c.hostKey)
		if err != nil {
			cleanup()
			return nil, func() {}, fmt.Errorf("connection.hostKey of %s: %w", c.address(), err)
		}
		cfg.HostKeyCallback = ssh.FixedHostKey(key)
	}
	return cfg, cleanup, nil
}

// parseHostKey accepts an authorized_keys line ("ssh-ed25519 AAAA…") or a known_hosts line ("host ssh-ed25519 AAAA…").
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

// permanent reports dial errors that another attempt cannot fix.
func permanent(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "unable to authenticate") || strings.Contains(msg, "host key mismatch") ||
		strings.Contains(msg, "could not read the private key") || strings.Contains(msg, "connection.hostKey")
}

// withRetries calls dial until it succeeds, the error is permanent, or `limit` attempts failed (-1: no limit).
func withRetries[T any](ctx context.Context, what string, limit int, dial func() (T, error)) (T, error) {
	delay := 500 * time.Millisecond
	var zero T
	for attempt := 1; ; attempt++ {
		v, err := dial()
		if err == nil {
			return v, nil
		}
		if permanent(err) || (limit >= 0 && attempt >= limit) || ctx.Err() != nil {
			if attempt > 1 {
				return zero, fmt.Errorf("%s: after %d attempt(s): %w", what, attempt, err)
			}
			return zero, fmt.Errorf("%s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return zero, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(delay):
		}
		if delay *= 2; delay > 5*time.Second {
			delay = 5 * time.Second
		}
	}
}

// dial opens an SSH client to the connection's host, through its proxy when there is one.
func (c *connection) dial(ctx context.Context) (*ssh.Client, func(), error) {
	cfg, cleanup, err := c.clientConfig()
	if err != nil {
		return nil, func() {}, err
	}
	if c.proxy == nil {
		client, err := withRetries(ctx, "ssh "+c.user+"@"+c.address(), c.dialErrorLimit, func() (*ssh.Client, error) {
			return ssh.Dial("tcp", c.address(), cfg)
		})
		if err != nil {
			cleanup()
			return nil, func() {}, err
		}
		return client, func() { _ = client.Close(); cleanup() }, nil
	}
	bastion, closeBastion, err := c.proxy.dial(ctx)
	if err != nil {
		cleanup()
		return nil, func() {}, fmt.Errorf("proxy: %w", err)
	}
	client, err := withRetries(ctx, "ssh "+c.user+"@"+c.address()+" via "+c.proxy.address(), c.dialErrorLimit, func() (*ssh.Client, error) {
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
		return nil, func() {}, err
	}
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
	client, closeClient, err := conn.dial(ctx)
	if err != nil {
		return runResult{}, err
	}
	defer closeClient()
	session, err := client.NewSession()
	if err != nil {
		return runResult{}, fmt.Errorf("ssh %s: could not open a session: %w", conn.address(), err)
	}
	defer func() { _ = session.Close() }()

	setenv := func(k, v string) {
		if err := session.Setenv(k, v); err != nil {
			p.logAt(ctx, pulumirpc.LogSeverity_WARNING, urn, fmt.Sprintf("Unable to set '%s'. This only works if your SSH "+
				"server is configured to accept these variables via AcceptEnv. Alternatively, if a Bash-like shell runs "+
				"the command on the remote host, you could prefix the command itself with the variables in the form "+
				"'VAR=value command'", k))
		}
	}
	commandEnvironment(in, prev, setenv)
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

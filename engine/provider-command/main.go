// pulumi-resource-command: resource provider for the `command` package (@pulumi/command 1.2.1).
//
// The upstream provider module (github.com/pulumi/pulumi-command/provider) is not published on the Go module
// proxy we can reach, so this binary implements the same wire contract for the parts the project uses:
//
//   - resource command:local:Command  (create / update / delete commands, triggers, environment, dir, stdin,
//     interpreter, logging, addPreviousOutputInEnv, assetPaths, archivePaths; outputs stdout, stderr,
//     assets, archive)
//   - function command:local:run      (runs during preview too, like upstream)
//   - resource command:remote:Command (over SSH: connection host/port/user/password/privateKey/privateKeyPassword/
//     hostKey/agentSocketPath/dialErrorLimit/perDialTimeout/proxy; create / update / delete, triggers, environment
//     via SSH "env" requests, stdin, logging, addPreviousOutputInEnv; outputs stdout, stderr), see remote.go
//
// Behaviour follows the upstream provider: commands never run during preview; `update` falls back to `create`;
// a change to `triggers` replaces the resource; stdout/stderr lose one trailing newline; PULUMI_COMMAND_STDOUT /
// PULUMI_COMMAND_STDERR carry the previous outputs into update and delete commands. The other remote:* resources
// (CopyToRemote, CopyFile) are not implemented and fail with a clear error.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/glob"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Version is stamped at build time (-X main.Version=1.2.1).
var Version = "1.2.1"

const (
	localCommand  = "command:local:Command"
	localRun      = "command:local:run"
	remoteCommand = "command:remote:Command"
)

// Input properties of command:local:Command, in schema order.
var inputKeys = []resource.PropertyKey{
	"addPreviousOutputInEnv", "archivePaths", "assetPaths", "create", "delete", "dir", "environment",
	"interpreter", "logging", "stdin", "triggers", "update",
}

func main() {
	flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint (ignored)")
	flag.Parse()
	logging.InitLogging(false, 0, false)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	prov := &provider{}
	if args := flag.Args(); len(args) > 0 {
		conn, err := grpc.NewClient(args[0],
			grpc.WithTransportCredentials(insecure.NewCredentials()), rpcutil.GrpcChannelOptions())
		if err != nil {
			cmdutil.Exit(fmt.Errorf("could not connect to host RPC: %w", err))
		}
		prov.engine = pulumirpc.NewEngineClient(conn)
		if err := rpcutil.Healthcheck(ctx, args[0], 5*time.Minute, cancel); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start health check host RPC server: %w", err))
		}
	}
	cancelChannel := make(chan bool)
	go func() {
		<-ctx.Done()
		stopAllCommands()
		close(cancelChannel)
	}()

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelChannel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, prov)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start resource provider RPC server: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("resource provider RPC stopped serving: %w", err))
	}
}

type provider struct {
	pulumirpc.UnimplementedResourceProviderServer
	engine pulumirpc.EngineClient
}

var marshalOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true, KeepResources: true}

func unmarshal(s *structpb.Struct, label string) (resource.PropertyMap, error) {
	o := marshalOpts
	o.Label = label
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, o)
}

func marshal(m resource.PropertyMap, label string) (*structpb.Struct, error) {
	o := marshalOpts
	o.Label = label
	return plugin.MarshalProperties(m, o)
}

// ---------------------------------------------------------------------------------------------------------------
// Provider lifecycle.

func (p *provider) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest,
) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (p *provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

func (p *provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{
		Schema: fmt.Sprintf(`{"name":"command","version":%q,"displayName":"Command"}`, Version),
	}, nil
}

func (p *provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *provider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (p *provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	stopAllCommands()
	return &emptypb.Empty{}, nil
}

func unsupported(typ string) error {
	return fmt.Errorf("%s is not implemented by this build of pulumi-resource-command "+
		"(only command:local:Command, command:local:run and command:remote:Command are)", typ)
}

func resourceType(urn string, typ string) string {
	if typ != "" {
		return typ
	}
	u := resource.URN(urn)
	if u.IsValid() {
		return string(u.Type())
	}
	return ""
}

// ---------------------------------------------------------------------------------------------------------------
// CRUD for command:local:Command and command:remote:Command (the remote parts are in remote.go).

func (p *provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	t := resourceType(req.GetUrn(), req.GetType())
	keys := inputKeys
	switch t {
	case localCommand:
	case remoteCommand:
		keys = remoteInputKeys
	default:
		return nil, unsupported(t)
	}
	news, err := unmarshal(req.GetNews(), "check.news")
	if err != nil {
		return nil, err
	}
	inputs := resource.PropertyMap{}
	var failures []*pulumirpc.CheckFailure
	for k, v := range news {
		if !hasKey(keys, k) {
			failures = append(failures, &pulumirpc.CheckFailure{
				Property: string(k), Reason: fmt.Sprintf("unknown property %q for %s", k, t),
			})
			continue
		}
		inputs[k] = v
	}
	if t == remoteCommand {
		failures = append(failures, checkConnection(inputs)...)
	}
	if _, ok := inputs["addPreviousOutputInEnv"]; !ok {
		inputs["addPreviousOutputInEnv"] = resource.NewBoolProperty(true)
	}
	if v, ok := inputs["logging"]; ok && v.IsString() {
		switch v.StringValue() {
		case "stdout", "stderr", "stdoutAndStderr", "none":
		default:
			failures = append(failures, &pulumirpc.CheckFailure{
				Property: "logging", Reason: "logging must be one of stdout, stderr, stdoutAndStderr, none",
			})
		}
	}
	out, err := marshal(inputs, "check.inputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: out, Failures: failures}, nil
}

func hasKey(keys []resource.PropertyKey, k resource.PropertyKey) bool {
	for _, ik := range keys {
		if ik == k {
			return true
		}
	}
	return false
}

func (p *provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	keys := inputKeys
	switch t := resourceType(req.GetUrn(), req.GetType()); t {
	case localCommand:
	case remoteCommand:
		keys = remoteInputKeys
	default:
		return nil, unsupported(t)
	}
	olds, err := unmarshal(req.GetOldInputs(), "diff.oldInputs")
	if err != nil {
		return nil, err
	}
	if req.GetOldInputs() == nil {
		if olds, err = unmarshal(req.GetOlds(), "diff.olds"); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal(req.GetNews(), "diff.news")
	if err != nil {
		return nil, err
	}
	ignore := map[string]bool{}
	for _, k := range req.GetIgnoreChanges() {
		ignore[k] = true
	}

	detailed := map[string]*pulumirpc.PropertyDiff{}
	var diffs, replaces []string
	for _, k := range keys {
		if ignore[string(k)] {
			continue
		}
		o, hasOld := olds[k]
		n, hasNew := news[k]
		if hasOld && o.IsNull() {
			hasOld = false
		}
		if hasNew && n.IsNull() {
			hasNew = false
		}
		if !hasOld && !hasNew {
			continue
		}
		if hasOld && hasNew && !n.ContainsUnknowns() && unwrap(o).DeepEquals(unwrap(n)) {
			continue
		}
		replace := k == "triggers"
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case !hasOld:
			kind = pulumirpc.PropertyDiff_ADD
			if replace {
				kind = pulumirpc.PropertyDiff_ADD_REPLACE
			}
		case !hasNew:
			kind = pulumirpc.PropertyDiff_DELETE
			if replace {
				kind = pulumirpc.PropertyDiff_DELETE_REPLACE
			}
		case replace:
			kind = pulumirpc.PropertyDiff_UPDATE_REPLACE
		}
		detailed[string(k)] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
		diffs = append(diffs, string(k))
		if replace {
			replaces = append(replaces, string(k))
		}
	}
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if len(diffs) > 0 {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{
		Changes:         changes,
		Diffs:           diffs,
		Replaces:        replaces,
		DetailedDiff:    detailed,
		HasDetailedDiff: true,
	}, nil
}

// unwrap strips secret markers (recursively) so that values can be compared or used.
func unwrap(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return unwrap(v.SecretValue().Element)
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return resource.MakeComputed(resource.NewStringProperty(""))
		}
		return unwrap(o.Element)
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]resource.PropertyValue, len(arr))
		for i, e := range arr {
			out[i] = unwrap(e)
		}
		return resource.NewArrayProperty(out)
	case v.IsObject():
		obj := v.ObjectValue()
		out := resource.PropertyMap{}
		for k, e := range obj {
			out[k] = unwrap(e)
		}
		return resource.NewObjectProperty(out)
	}
	return v
}

func anySecret(m resource.PropertyMap) bool {
	for _, v := range m {
		if v.ContainsSecrets() {
			return true
		}
	}
	return false
}

func anyUnknown(m resource.PropertyMap) bool {
	for _, v := range m {
		if v.ContainsUnknowns() {
			return true
		}
	}
	return false
}

func newID(name string) (string, error) {
	if name == "" {
		name = "command"
	}
	return resource.NewUniqueHex(name, 8, 0)
}

func (p *provider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	t := resourceType(req.GetUrn(), req.GetType())
	if t != localCommand && t != remoteCommand {
		return nil, unsupported(t)
	}
	runner := p.runnerFor(t)
	inputs, err := unmarshal(req.GetProperties(), "create.properties")
	if err != nil {
		return nil, err
	}
	name := req.GetName()
	if name == "" && resource.URN(req.GetUrn()).IsValid() {
		name = resource.URN(req.GetUrn()).Name()
	}
	id, err := newID(name)
	if err != nil {
		return nil, err
	}
	state := inputs.Copy()

	if t == remoteCommand {
		secretConnection(state)
	}
	if req.GetPreview() {
		state["stdout"] = resource.MakeComputed(resource.NewStringProperty(""))
		state["stderr"] = resource.MakeComputed(resource.NewStringProperty(""))
		out, err := marshal(state, "create.preview")
		if err != nil {
			return nil, err
		}
		return &pulumirpc.CreateResponse{Id: id, Properties: out}, nil
	}

	res := runResult{}
	if cmd, ok := stringInput(inputs, "create"); ok {
		res, err = runner(ctx, req.GetUrn(), cmd, inputs, runResult{})
		if err != nil {
			return nil, err
		}
	}
	res.apply(state, anySecret(inputs))
	out, err := marshal(state, "create.state")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: out}, nil
}

func (p *provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	// Like upstream: refresh keeps the recorded state, nothing is re-run.
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (p *provider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	t := resourceType(req.GetUrn(), req.GetType())
	if t != localCommand && t != remoteCommand {
		return nil, unsupported(t)
	}
	runner := p.runnerFor(t)
	olds, err := unmarshal(req.GetOlds(), "update.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "update.news")
	if err != nil {
		return nil, err
	}
	prev := previousOutputs(olds)
	state := news.Copy()
	if t == remoteCommand {
		secretConnection(state)
	}
	if req.GetPreview() {
		prev.apply(state, anySecret(news) || anySecret(olds))
		if anyUnknown(news) {
			state["stdout"] = resource.MakeComputed(resource.NewStringProperty(""))
			state["stderr"] = resource.MakeComputed(resource.NewStringProperty(""))
		}
		out, err := marshal(state, "update.preview")
		if err != nil {
			return nil, err
		}
		return &pulumirpc.UpdateResponse{Properties: out}, nil
	}

	res := prev
	cmd, ok := stringInput(news, "update")
	if !ok {
		cmd, ok = stringInput(news, "create")
	}
	if ok {
		res, err = runner(ctx, req.GetUrn(), cmd, news, prev)
		if err != nil {
			return nil, err
		}
	}
	res.apply(state, anySecret(news))
	out, err := marshal(state, "update.state")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: out}, nil
}

func (p *provider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	t := resourceType(req.GetUrn(), req.GetType())
	if t != localCommand && t != remoteCommand {
		return nil, unsupported(t)
	}
	props, err := unmarshal(req.GetProperties(), "delete.properties")
	if err != nil {
		return nil, err
	}
	if cmd, ok := stringInput(props, "delete"); ok {
		if _, err := p.runnerFor(t)(ctx, req.GetUrn(), cmd, props, previousOutputs(props)); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}

// ---------------------------------------------------------------------------------------------------------------
// command:local:run

func (p *provider) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	if req.GetTok() != localRun {
		return nil, unsupported(req.GetTok())
	}
	args, err := unmarshal(req.GetArgs(), "invoke.args")
	if err != nil {
		return nil, err
	}
	cmd, ok := stringInput(args, "command")
	if !ok {
		return &pulumirpc.InvokeResponse{Failures: []*pulumirpc.CheckFailure{
			{Property: "command", Reason: "missing required property 'command'"},
		}}, nil
	}
	res, err := p.run(ctx, "", cmd, args, runResult{})
	if err != nil {
		return nil, err
	}
	ret := args.Copy()
	if _, ok := ret["addPreviousOutputInEnv"]; !ok {
		ret["addPreviousOutputInEnv"] = resource.NewBoolProperty(true)
	}
	res.apply(ret, false)
	out, err := marshal(ret, "invoke.return")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: out}, nil
}

// ---------------------------------------------------------------------------------------------------------------
// Running a command.

type runResult struct {
	stdout, stderr string
	assets         map[string]*resource.Asset
	archive        *resource.Archive
	hasAssets      bool
}

func previousOutputs(m resource.PropertyMap) runResult {
	var r runResult
	if v, ok := m["stdout"]; ok {
		if s := unwrap(v); s.IsString() {
			r.stdout = s.StringValue()
		}
	}
	if v, ok := m["stderr"]; ok {
		if s := unwrap(v); s.IsString() {
			r.stderr = s.StringValue()
		}
	}
	return r
}

func (r runResult) apply(state resource.PropertyMap, secret bool) {
	wrap := func(v resource.PropertyValue) resource.PropertyValue {
		if secret {
			return resource.MakeSecret(v)
		}
		return v
	}
	state["stdout"] = wrap(resource.NewStringProperty(r.stdout))
	state["stderr"] = wrap(resource.NewStringProperty(r.stderr))
	if r.hasAssets {
		am := resource.PropertyMap{}
		for k, a := range r.assets {
			am[resource.PropertyKey(k)] = resource.NewAssetProperty(a)
		}
		state["assets"] = wrap(resource.NewObjectProperty(am))
	}
	if r.archive != nil {
		state["archive"] = wrap(resource.NewArchiveProperty(r.archive))
	}
}

func stringInput(m resource.PropertyMap, key resource.PropertyKey) (string, bool) {
	v, ok := m[key]
	if !ok {
		return "", false
	}
	v = unwrap(v)
	if !v.IsString() {
		return "", false
	}
	return v.StringValue(), true
}

func stringList(m resource.PropertyMap, key resource.PropertyKey) ([]string, bool) {
	v, ok := m[key]
	if !ok {
		return nil, false
	}
	v = unwrap(v)
	if !v.IsArray() {
		return nil, false
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out, true
}

// runFunc runs one command of a resource: locally or over SSH.
type runFunc func(ctx context.Context, urn, command string, in resource.PropertyMap, prev runResult) (runResult, error)

func (p *provider) runnerFor(typ string) runFunc {
	if typ == remoteCommand {
		return p.runRemote
	}
	return p.run
}

func (p *provider) log(ctx context.Context, urn, msg string) {
	p.logAt(ctx, pulumirpc.LogSeverity_INFO, urn, msg)
}

func (p *provider) logAt(ctx context.Context, severity pulumirpc.LogSeverity, urn, msg string) {
	if p.engine == nil || msg == "" {
		return
	}
	_, err := p.engine.Log(ctx, &pulumirpc.LogRequest{Severity: severity, Message: msg, Urn: urn})
	if err != nil {
		logging.V(5).Infof("log to engine failed: %v", err)
	}
}

// outputStreams wires a command's stdout and stderr: captured each, combined (for error messages), and
// line by line to the engine log as `logging` asks (default stdoutAndStderr). Call finish after the command.
type outputStreams struct {
	stdout, stderr bytes.Buffer
	combined       bytes.Buffer
	outW, errW     io.Writer
	logW           *io.PipeWriter
	logDone        chan struct{}
}

func (p *provider) newOutputStreams(ctx context.Context, urn string, in resource.PropertyMap) *outputStreams {
	o := &outputStreams{logDone: make(chan struct{})}
	var mu sync.Mutex
	combinedW := syncBuffer{mu: &mu, buf: &o.combined}
	logR, logW := io.Pipe()
	o.logW = logW

	mode := "stdoutAndStderr"
	if m, ok := stringInput(in, "logging"); ok {
		mode = m
	}
	outWriters := []io.Writer{&o.stdout, combinedW}
	if mode == "stdout" || mode == "stdoutAndStderr" {
		outWriters = append(outWriters, logW)
	}
	errWriters := []io.Writer{&o.stderr, combinedW}
	if mode == "stderr" || mode == "stdoutAndStderr" {
		errWriters = append(errWriters, logW)
	}
	o.outW = io.MultiWriter(outWriters...)
	o.errW = io.MultiWriter(errWriters...)

	go func() {
		defer close(o.logDone)
		buf := make([]byte, 32*1024)
		var pending string
		for {
			n, err := logR.Read(buf)
			if n > 0 {
				pending += string(buf[:n])
				for {
					i := strings.IndexByte(pending, '\n')
					if i < 0 {
						break
					}
					p.log(ctx, urn, pending[:i])
					pending = pending[i+1:]
				}
			}
			if err != nil {
				p.log(ctx, urn, pending)
				return
			}
		}
	}()
	return o
}

// finish flushes the log and returns the outputs with one trailing newline trimmed.
func (o *outputStreams) finish() runResult {
	_ = o.logW.Close()
	<-o.logDone
	return runResult{
		stdout: strings.TrimSuffix(o.stdout.String(), "\n"),
		stderr: strings.TrimSuffix(o.stderr.String(), "\n"),
	}
}

type syncBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w syncBuffer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

func (p *provider) run(ctx context.Context, urn, command string, in resource.PropertyMap, prev runResult,
) (runResult, error) {
	argv := []string{"/bin/sh", "-c"}
	if interp, ok := stringList(in, "interpreter"); ok && len(interp) > 0 {
		argv = interp
	}
	argv = append(append([]string(nil), argv...), command)

	streams := p.newOutputStreams(ctx, urn, in)

	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout = streams.outW
	cmd.Stderr = streams.errW
	if dir, ok := stringInput(in, "dir"); ok && dir != "" {
		cmd.Dir = dir
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return runResult{}, err
		}
		cmd.Dir = wd
	}
	cmd.Env = os.Environ()
	commandEnvironment(in, prev, func(k, v string) { cmd.Env = append(cmd.Env, k+"="+v) })
	if stdin, ok := stringInput(in, "stdin"); ok && stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}

	err := runInOwnGroup(ctx, cmd)
	res := streams.finish()
	if err != nil {
		return runResult{}, fmt.Errorf("%w: running %q:\n%s", err, command, streams.combined.String())
	}

	if globs, ok := stringList(in, "assetPaths"); ok {
		assets, err := globAssets(cmd.Dir, globs)
		if err != nil {
			return runResult{}, err
		}
		res.assets, res.hasAssets = assets, true
	}
	if globs, ok := stringList(in, "archivePaths"); ok {
		assets, err := globAssets(cmd.Dir, globs)
		if err != nil {
			return runResult{}, err
		}
		members := map[string]any{}
		for k, a := range assets {
			members[k] = a
		}
		arch, err := resource.NewAssetArchive(members)
		if err != nil {
			return runResult{}, err
		}
		res.archive = arch
	}
	return res, nil
}

// globAssets returns the files under dir matching the ordered include / "!exclude" globs ('/' separated, "**"
// crosses directories), keyed by their path relative to dir.
// commandEnvironment hands set the variables a command gets besides its process's own, local or
// remote alike: the `environment` input, then PULUMI_COMMAND_STDOUT/STDERR of the previous run unless
// addPreviousOutputInEnv is false.
func commandEnvironment(in resource.PropertyMap, prev runResult, set func(k, v string)) {
	if v, ok := in["environment"]; ok {
		if env := unwrap(v); env.IsObject() {
			obj := env.ObjectValue()
			for _, k := range obj.StableKeys() {
				if e := obj[k]; e.IsString() {
					set(string(k), e.StringValue())
				}
			}
		}
	}
	addPrev := true
	if v, ok := in["addPreviousOutputInEnv"]; ok {
		if b := unwrap(v); b.IsBool() {
			addPrev = b.BoolValue()
		}
	}
	if addPrev {
		if prev.stdout != "" {
			set("PULUMI_COMMAND_STDOUT", prev.stdout)
		}
		if prev.stderr != "" {
			set("PULUMI_COMMAND_STDERR", prev.stderr)
		}
	}
}

func globAssets(dir string, globs []string) (map[string]*resource.Asset, error) {
	type rule struct {
		g       glob.Glob
		exclude bool
	}
	rules := make([]rule, 0, len(globs))
	for _, g := range globs {
		exclude := strings.HasPrefix(g, "!")
		compiled, err := glob.Compile(strings.TrimPrefix(g, "!"), '/')
		if err != nil {
			return nil, err
		}
		rules = append(rules, rule{compiled, exclude})
	}
	var paths []string
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	assets := map[string]*resource.Asset{}
	for _, p := range paths {
		for _, r := range rules {
			if !r.g.Match(p) {
				continue
			}
			if r.exclude {
				delete(assets, p)
				continue
			}
			a, err := resource.NewPathAsset(path.Join(dir, p))
			if err != nil {
				return nil, err
			}
			assets[p] = a
		}
	}
	return assets, nil
}

// pulumi-language-nodejs: Node.js language host for the Pulumi engine.
//
// The upstream host (module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
// is not published on the Go module proxy we can reach, so this is a small host written against
// the same gRPC contract (sdk/v3 proto, same version as the CLI). All real work is done by the
// npm SDK's own entry points, resolved from the program's node_modules:
//
//   - Run               -> node @pulumi/pulumi/cmd/run             (programs, `pulumi up/preview`)
//   - RunPlugin analyzer -> node @pulumi/pulumi/cmd/run-policy-pack (policy packs, `--policy-pack`)
//   - RunPlugin resource -> node @pulumi/pulumi/cmd/run-plugin      (providers written in Node.js)
//
// Methods that only matter for code generation / `pulumi new` / `pulumi package` are left
// unimplemented; the engine falls back or reports them as unsupported.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Exit code used by the SDK's run scripts when the error was already reported to the user.
const exitCodeAlreadyReported = 32

func main() {
	var tracing string
	flag.StringVar(&tracing, "tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	// Legacy flags: older engines passed runtime options on the command line. Accept and use them as defaults.
	typescript := flag.Bool("typescript", true, "Use ts-node at runtime to support TypeScript source natively")
	flag.String("root", "", "Project root path to use (ignored)")
	tsconfig := flag.String("tsconfig", "", "Path to tsconfig.json to use")
	nodeargs := flag.String("nodeargs", "", "Arguments for the Node process")
	flag.String("packagemanager", "", "Package manager to use (only npm is supported)")
	flag.Parse()

	logging.InitLogging(false, 0, false)

	args := flag.Args()
	var engineAddress string
	if len(args) > 0 {
		engineAddress = args[0]
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start health check host RPC server: %w", err))
		}
	}
	cancelChannel := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancelChannel)
	}()

	host := &nodeHost{
		engineAddress: engineAddress,
		tracing:       tracing,
		defaults: runtimeOptions{
			typescript: *typescript,
			tsconfig:   *tsconfig,
			nodeargs:   *nodeargs,
		},
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelChannel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}

	// The plugin protocol: print the port we listen on as the first line of stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}

type runtimeOptions struct {
	typescript bool
	tsconfig   string
	nodeargs   string
}

type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
	defaults      runtimeOptions
}

func (h *nodeHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// options merges the `runtime.options` of Pulumi.yaml (sent in ProgramInfo) over the command-line defaults.
func (h *nodeHost) options(info *pulumirpc.ProgramInfo) runtimeOptions {
	opts := h.defaults
	if info == nil || info.GetOptions() == nil {
		return opts
	}
	m := info.GetOptions().AsMap()
	if v, ok := m["typescript"].(bool); ok {
		opts.typescript = v
	}
	if v, ok := m["tsconfig"].(string); ok {
		opts.tsconfig = v
	}
	if v, ok := m["nodeargs"].(string); ok {
		opts.nodeargs = v
	}
	return opts
}

func (h *nodeHost) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version.Version, "v")}, nil
}

// programDir returns the absolute directory that holds the program (where node_modules is resolved from).
func programDir(info *pulumirpc.ProgramInfo, fallback string) string {
	dir := fallback
	if info != nil && info.GetProgramDirectory() != "" {
		dir = info.GetProgramDirectory()
	}
	if dir == "" {
		dir, _ = os.Getwd()
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return dir
}

func nodeBinary() (string, error) {
	p, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	return p, nil
}

// resolveModule asks node where a module lives, resolving from dir (Node's normal lookup: dir/node_modules, then
// parent directories, then NODE_PATH).
func resolveModule(nodeBin, dir, module string) (string, error) {
	cmd := exec.Command(nodeBin, "-e", fmt.Sprintf("console.log(require.resolve(%q))", module))
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("could not resolve %s from %s (is @pulumi/pulumi installed? run npm install): %w",
			module, dir, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// ---------------------------------------------------------------------------------------------------------------
// Required packages: walk the dependency graph declared in package.json files, reporting packages whose
// package.json has a "pulumi": {"resource": true} block (that is how provider SDKs announce their plugin).

type packageJSON struct {
	Name                 string                   `json:"name"`
	Version              string                   `json:"version"`
	Dependencies         map[string]string        `json:"dependencies"`
	DevDependencies      map[string]string        `json:"devDependencies"`
	OptionalDependencies map[string]string        `json:"optionalDependencies"`
	Pulumi               *plugin.PulumiPluginJSON `json:"pulumi"`
}

func readPackageJSON(path string) (*packageJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &p, nil
}

// findPackageRoot walks up from dir to the first folder that contains a package.json.
func findPackageRoot(dir string) string {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "package.json")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// locatePackage finds node_modules/<name> the way Node does, starting at dir and walking up.
func locatePackage(dir, name string) string {
	for d := dir; ; {
		candidate := filepath.Join(d, "node_modules", name)
		if st, err := os.Stat(filepath.Join(candidate, "package.json")); err == nil && !st.IsDir() {
			if real, err := filepath.EvalSymlinks(candidate); err == nil {
				return real
			}
			return candidate
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

func pluginNameFor(p *packageJSON) string {
	if p.Pulumi != nil && p.Pulumi.Name != "" {
		return p.Pulumi.Name
	}
	name := p.Name
	if strings.HasPrefix(name, "@pulumi/") {
		return strings.TrimPrefix(name, "@pulumi/")
	}
	return strings.TrimPrefix(name, "@")
}

func pluginVersionFor(p *packageJSON) string {
	v := p.Version
	if p.Pulumi != nil && p.Pulumi.Version != "" {
		v = p.Pulumi.Version
	}
	if v != "" && !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return v
}

func requiredPackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	root := findPackageRoot(dir)
	if root == "" {
		return nil, nil
	}
	top, err := readPackageJSON(filepath.Join(root, "package.json"))
	if err != nil {
		return nil, err
	}

	type item struct{ from, name string }
	var queue []item
	addDeps := func(from string, p *packageJSON, includeDev bool) {
		names := map[string]bool{}
		for n := range p.Dependencies {
			names[n] = true
		}
		for n := range p.OptionalDependencies {
			names[n] = true
		}
		if includeDev {
			for n := range p.DevDependencies {
				names[n] = true
			}
		}
		sorted := make([]string, 0, len(names))
		for n := range names {
			sorted = append(sorted, n)
		}
		sort.Strings(sorted)
		for _, n := range sorted {
			queue = append(queue, item{from, n})
		}
	}
	addDeps(root, top, true)

	seen := map[string]bool{}
	found := map[string]*pulumirpc.PackageDependency{}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		loc := locatePackage(it.from, it.name)
		if loc == "" || seen[loc] {
			continue
		}
		seen[loc] = true
		p, err := readPackageJSON(filepath.Join(loc, "package.json"))
		if err != nil {
			logging.V(3).Infof("skipping %s: %v", loc, err)
			continue
		}
		if p.Pulumi != nil && p.Pulumi.Resource {
			dep := &pulumirpc.PackageDependency{
				Name:    pluginNameFor(p),
				Kind:    "resource",
				Version: pluginVersionFor(p),
				Server:  p.Pulumi.Server,
			}
			if pz := p.Pulumi.Parameterization; pz != nil {
				dep.Parameterization = &pulumirpc.PackageParameterization{
					Name: pz.Name, Version: pz.Version, Value: pz.Value,
				}
			}
			key := dep.Name + "@" + dep.Version
			if dep.Parameterization != nil {
				key += "/" + dep.Parameterization.Name + "@" + dep.Parameterization.Version
			}
			found[key] = dep
		}
		addDeps(loc, p, false)
	}

	keys := make([]string, 0, len(found))
	for k := range found {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*pulumirpc.PackageDependency, 0, len(keys))
	for _, k := range keys {
		out = append(out, found[k])
	}
	return out, nil
}

func (h *nodeHost) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := requiredPackages(programDir(req.GetInfo(), ""))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

func (h *nodeHost) GetRequiredPlugins(_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := requiredPackages(programDir(req.GetInfo(), req.GetProgram()))
	if err != nil {
		return nil, err
	}
	var plugins []*pulumirpc.PluginDependency
	for _, p := range pkgs {
		if p.Parameterization != nil {
			continue
		}
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// ---------------------------------------------------------------------------------------------------------------
// Run: execute the program with the SDK's `cmd/run` entry point.

func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	nodeBin, err := nodeBinary()
	if err != nil {
		return nil, err
	}
	info := req.GetInfo()
	pdir := programDir(info, req.GetPwd())
	opts := h.options(info)

	runPath, err := resolveModule(nodeBin, pdir, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	entry := "."
	if info != nil && info.GetEntryPoint() != "" {
		entry = info.GetEntryPoint()
	} else if req.GetProgram() != "" {
		entry = req.GetProgram()
	}
	program := entry
	if !filepath.IsAbs(program) {
		program = filepath.Join(pdir, entry)
	}

	var args []string
	args = append(args, strings.Fields(opts.nodeargs)...)
	args = append(args, runPath)
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine())
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	if info != nil {
		add("root-directory", info.GetRootDirectory())
	}
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() != 0 {
		add("parallel", fmt.Sprint(req.GetParallel()))
	}
	add("tracing", h.tracing)
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	configJSON, err := json.Marshal(nonNilMap(req.GetConfig()))
	if err != nil {
		return nil, fmt.Errorf("serializing config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serializing config secret keys: %w", err)
	}

	env := os.Environ()
	env = append(env, "PULUMI_CONFIG="+string(configJSON), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON))
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	logging.V(5).Infof("language host launching: %s %s", nodeBin, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Dir = pdir
	if req.GetPwd() != "" {
		cmd.Dir = req.GetPwd()
	}
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitCodeAlreadyReported {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// ---------------------------------------------------------------------------------------------------------------
// RunPlugin: policy packs (kind "analyzer") and Node.js providers (kind "resource").

type streamWriter struct {
	mu     *sync.Mutex
	server pulumirpc.LanguageRuntime_RunPluginServer
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	buf := append([]byte(nil), p...)
	resp := &pulumirpc.RunPluginResponse{}
	if w.stderr {
		resp.Output = &pulumirpc.RunPluginResponse_Stderr{Stderr: buf}
	} else {
		resp.Output = &pulumirpc.RunPluginResponse_Stdout{Stdout: buf}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.server.Send(resp); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *nodeHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	nodeBin, err := nodeBinary()
	if err != nil {
		return err
	}
	info := req.GetInfo()
	pdir := programDir(info, req.GetProgram())
	opts := h.options(info)

	entry := "."
	if info != nil && info.GetEntryPoint() != "" {
		entry = info.GetEntryPoint()
	}
	program := entry
	if !filepath.IsAbs(program) {
		program = filepath.Join(pdir, entry)
	}

	var args []string
	args = append(args, strings.Fields(opts.nodeargs)...)
	switch req.GetKind() {
	case "analyzer":
		script, err := resolveModule(nodeBin, pdir, "@pulumi/pulumi/cmd/run-policy-pack")
		if err != nil {
			return err
		}
		// usage: run-policy-pack <engine-address> <program>
		engineAddr := h.engine()
		rest := req.GetArgs()
		if len(rest) > 0 {
			engineAddr, rest = rest[0], rest[1:]
		}
		args = append(args, script, engineAddr, program)
		args = append(args, rest...)
	default:
		script, err := resolveModule(nodeBin, pdir, "@pulumi/pulumi/cmd/run-plugin")
		if err != nil {
			return err
		}
		// usage: run-plugin <program> [args...]; the program sees the args as process.argv[2:].
		args = append(args, script, program)
		args = append(args, req.GetArgs()...)
	}

	ctx := server.Context()
	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Dir = pdir
	if req.GetPwd() != "" && req.GetKind() != "analyzer" {
		cmd.Dir = req.GetPwd()
	}
	env := os.Environ()
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	env = append(env, req.GetEnv()...)
	cmd.Env = env

	var mu sync.Mutex
	cmd.Stdout = streamWriter{mu: &mu, server: server}
	cmd.Stderr = streamWriter{mu: &mu, server: server, stderr: true}

	logging.V(5).Infof("language host launching plugin: %s %s", nodeBin, strings.Join(args, " "))
	runErr := cmd.Run()
	code := 0
	if runErr != nil {
		var exitErr *exec.ExitError
		if errors.As(runErr, &exitErr) {
			code = exitErr.ExitCode()
		} else {
			return runErr
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return server.Send(&pulumirpc.RunPluginResponse{
		Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)},
	})
}

// ---------------------------------------------------------------------------------------------------------------
// Dependencies and diagnostics.

func (h *nodeHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	dir := programDir(req.GetInfo(), req.GetDirectory())
	if root := findPackageRoot(dir); root != "" {
		dir = root
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("could not find npm on the $PATH: %w", err)
	}
	cmd := exec.CommandContext(server.Context(), npm, "install")
	cmd.Dir = dir
	var mu sync.Mutex
	send := func(stderr bool) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			buf := append([]byte(nil), p...)
			resp := &pulumirpc.InstallDependenciesResponse{Stdout: buf}
			if stderr {
				resp = &pulumirpc.InstallDependenciesResponse{Stderr: buf}
			}
			mu.Lock()
			defer mu.Unlock()
			if err := server.Send(resp); err != nil {
				return 0, err
			}
			return len(p), nil
		})
	}
	cmd.Stdout = send(false)
	cmd.Stderr = send(true)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install in %s failed: %w", dir, err)
	}
	return nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (h *nodeHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := nodeBinary()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(nodeBin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: nodeBin,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
		Metadata:   map[string]string{"languageHost": "upgrade-as-code"},
	}, nil
}

func (h *nodeHost) GetProgramDependencies(_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDir(req.GetInfo(), req.GetProgram())
	root := findPackageRoot(dir)
	if root == "" {
		return &pulumirpc.GetProgramDependenciesResponse{}, nil
	}
	top, err := readPackageJSON(filepath.Join(root, "package.json"))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(top.Dependencies)+len(top.DevDependencies))
	for n := range top.Dependencies {
		names = append(names, n)
	}
	if req.GetTransitiveDependencies() {
		for n := range top.DevDependencies {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var deps []*pulumirpc.DependencyInfo
	for _, n := range names {
		loc := locatePackage(root, n)
		if loc == "" {
			continue
		}
		p, err := readPackageJSON(filepath.Join(loc, "package.json"))
		if err != nil {
			continue
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: n, Version: p.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func (h *nodeHost) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

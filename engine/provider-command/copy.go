// command:remote:CopyToRemote: copies a local file, a text asset or a directory to a host over SFTP (the server's
// "sftp" subsystem), with upstream's life cycle (pulumi/pulumi-command provider/pkg/provider/remote/copyController.go):
// nothing is copied during preview; an update copies again only when the source's hash or remotePath changed;
// delete leaves the remote files in place; a change to `triggers` replaces. Outputs are the inputs, the connection
// secret.
//
// Where the copy lands (source / remotePath):
//
//	source        remotePath is a directory   does not exist           is a file
//	dir           remotePath/dir              remotePath/dir           error
//	dir/          remotePath/<entries>        remotePath (created)     error
//	file          remotePath/file             remotePath (parents)     remotePath (overwritten)
//	text asset    error                       remotePath (parents)     remotePath (overwritten)
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pkg/sftp"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const copyToRemote = "command:remote:CopyToRemote"

// Input properties of command:remote:CopyToRemote, in schema order.
var copyInputKeys = []resource.PropertyKey{"connection", "remotePath", "source", "triggers"}

// checkCopy validates a CopyToRemote's inputs (Check has already dropped unknown keys).
func checkCopy(inputs resource.PropertyMap) []*pulumirpc.CheckFailure {
	failures := checkConnection(inputs)
	if v, ok := inputs["remotePath"]; !ok || v.IsNull() {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "remotePath", Reason: "missing required property 'remotePath'"})
	} else if u := unwrap(v); !u.IsComputed() && !u.IsString() {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "remotePath", Reason: "remotePath must be a string"})
	}
	src, ok := inputs["source"]
	if !ok || src.IsNull() {
		return append(failures, &pulumirpc.CheckFailure{Property: "source", Reason: "missing required property 'source'"})
	}
	switch u := unwrap(src); {
	case u.IsComputed():
	case u.IsAsset():
		if a := u.AssetValue(); !a.IsPath() && !a.IsText() {
			failures = append(failures, &pulumirpc.CheckFailure{Property: "asset", Reason: "asset must be a path-based file asset or a text asset"})
		}
	case u.IsArchive():
		if !u.ArchiveValue().IsPath() {
			failures = append(failures, &pulumirpc.CheckFailure{Property: "archive", Reason: "archive must be a path to a file or directory"})
		}
	default:
		failures = append(failures, &pulumirpc.CheckFailure{Property: "asset", Reason: "either asset or archive must be set"})
	}
	return failures
}

// copySource is what a CopyToRemote copies.
type copySource struct {
	asset   *resource.Asset
	archive *resource.Archive
}

func sourceOf(m resource.PropertyMap) (copySource, error) {
	v, ok := m["source"]
	if !ok {
		return copySource{}, errors.New("missing required property 'source'")
	}
	switch u := unwrap(v); {
	case u.IsAsset():
		return copySource{asset: u.AssetValue()}, nil
	case u.IsArchive():
		return copySource{archive: u.ArchiveValue()}, nil
	}
	return copySource{}, errors.New("source must be an asset or an archive")
}

// hash identifies the source's content (computed from the file when the engine sent none).
func (s copySource) hash() string {
	if s.asset != nil {
		if s.asset.Hash == "" {
			_ = s.asset.EnsureHash()
		}
		return s.asset.Hash
	}
	if s.archive.Hash == "" {
		_ = s.archive.EnsureHash()
	}
	return s.archive.Hash
}

func (p *provider) createCopy(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	inputs, err := unmarshal(req.GetProperties(), "create.properties")
	if err != nil {
		return nil, err
	}
	state := inputs.Copy()
	finishState(copyToRemote, state, inputs)
	out, err := marshal(state, "create.state")
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		return &pulumirpc.CreateResponse{Properties: out}, nil
	}
	if err := p.copyToRemote(ctx, req.GetUrn(), inputs); err != nil {
		return nil, err
	}
	id, err := resource.NewUniqueHex("", 8, 0)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: out}, nil
}

func (p *provider) updateCopy(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds, err := unmarshal(req.GetOlds(), "update.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "update.news")
	if err != nil {
		return nil, err
	}
	state := news.Copy()
	finishState(copyToRemote, state, news)
	out, err := marshal(state, "update.state")
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		return &pulumirpc.UpdateResponse{Properties: out}, nil
	}
	oldSrc, oldErr := sourceOf(olds)
	newSrc, err := sourceOf(news)
	if err != nil {
		return nil, err
	}
	oldPath, _ := stringInput(olds, "remotePath")
	newPath, _ := stringInput(news, "remotePath")
	if oldErr != nil || oldSrc.hash() != newSrc.hash() || oldPath != newPath {
		if err := p.copyToRemote(ctx, req.GetUrn(), news); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.UpdateResponse{Properties: out}, nil
}

// copyToRemote dials the connection and copies the source to remotePath over SFTP.
func (p *provider) copyToRemote(ctx context.Context, urn string, in resource.PropertyMap) error {
	src, err := sourceOf(in)
	if err != nil {
		return err
	}
	dest, ok := stringInput(in, "remotePath")
	if !ok || dest == "" {
		return errors.New("missing required property 'remotePath'")
	}
	cv, ok := in["connection"]
	if !ok {
		return errors.New("missing required property 'connection'")
	}
	conn, err := parseConnection(cv)
	if err != nil {
		return err
	}
	client, closeClient, err := p.dial(ctx, urn, conn)
	if err != nil {
		return err
	}
	defer closeClient()
	sc, err := sftp.NewClient(client)
	if err != nil {
		return fmt.Errorf("sftp %s: %w", conn.address(), err)
	}
	defer func() { _ = sc.Close() }()
	if src.asset != nil && src.asset.IsText() {
		return copyText(sc, src.asset.Text, dest)
	}
	local := ""
	if src.asset != nil {
		local = src.asset.Path
	} else {
		local = src.archive.Path
	}
	return copyPath(sc, local, dest)
}

// remoteStat returns nil, nil when the remote path does not exist.
func remoteStat(sc *sftp.Client, p string) (fs.FileInfo, error) {
	info, err := sc.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("failed to stat remote path %s: %w", p, err)
	}
	return info, nil
}

func copyText(sc *sftp.Client, text, dest string) error {
	info, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	if info != nil && info.IsDir() {
		return fmt.Errorf("remote path %s is a directory; when using a text asset, remotePath must be a file path", dest)
	}
	if err := sc.MkdirAll(path.Dir(dest)); err != nil {
		return fmt.Errorf("failed to create parent directories for %s: %w", dest, err)
	}
	f, err := sc.Create(dest)
	if err != nil {
		return fmt.Errorf("failed to create remote file %s: %w", dest, err)
	}
	if _, err := f.Write([]byte(text)); err != nil {
		_ = f.Close()
		return fmt.Errorf("failed to write text content to remote path %s: %w", dest, err)
	}
	return f.Close()
}

func copyPath(sc *sftp.Client, local, dest string) error {
	info, err := os.Stat(local)
	if err != nil {
		return err
	}
	destInfo, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		switch {
		case destInfo != nil && destInfo.IsDir():
			dest = path.Join(dest, filepath.Base(local))
		case destInfo == nil:
			if err := sc.MkdirAll(path.Dir(dest)); err != nil {
				return fmt.Errorf("failed to create parent directories for %s: %w", dest, err)
			}
		}
		return copyFile(sc, local, dest)
	}
	if destInfo != nil && !destInfo.IsDir() {
		return fmt.Errorf("remote path %s exists but is not a directory", dest)
	}
	if destInfo == nil {
		if err := sc.MkdirAll(dest); err != nil {
			return fmt.Errorf("failed to create remote directory %s: %w", dest, err)
		}
	}
	if !strings.HasSuffix(local, "/") {
		dest = path.Join(dest, filepath.Base(local))
	}
	return filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(local, p)
		if err != nil {
			return err
		}
		target := path.Join(dest, filepath.ToSlash(rel))
		if !d.IsDir() {
			return copyFile(sc, p, target)
		}
		ti, err := remoteStat(sc, target)
		if err != nil {
			return err
		}
		switch {
		case ti == nil:
			if err := sc.Mkdir(target); err != nil {
				return fmt.Errorf("failed to create remote directory %s: %w", target, err)
			}
		case !ti.IsDir():
			return fmt.Errorf("remote path %s exists but is not a directory", target)
		}
		return nil
	})
}

func copyFile(sc *sftp.Client, local, dest string) error {
	in, err := os.Open(local)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := sc.Create(dest)
	if err != nil {
		return fmt.Errorf("failed to create remote file %s: %w", dest, err)
	}
	if _, err := out.ReadFrom(in); err != nil {
		_ = out.Close()
		return fmt.Errorf("failed to copy file %s to remote path %s: %w", local, dest, err)
	}
	return out.Close()
}

package main

import (
	"context"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const copyToRemote = "command:remote:CopyToRemote"

var copyInputKeys = []resource.PropertyKey{"connection", "remotePath", "source", "triggers"}

func (p *provider) createCopy(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	return nil, unsupported(copyToRemote)
}

func (p *provider) updateCopy(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	return nil, unsupported(copyToRemote)
}

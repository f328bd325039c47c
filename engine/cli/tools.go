//go:build tools

// Package tools pins the CLI's main package in this module so that `go mod tidy` keeps its whole
// dependency graph. The binary is built with:
//
//	go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
//
// from this directory (see scripts/engine/install.sh).
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"

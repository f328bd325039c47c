package main

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

type schemaProp struct {
	Secret           bool `json:"secret"`
	ReplaceOnChanges bool `json:"replaceOnChanges"`
	Default          any  `json:"default"`
}

type packageSchema struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Resources map[string]struct {
		InputProperties map[string]schemaProp `json:"inputProperties"`
		Properties      map[string]schemaProp `json:"properties"`
		RequiredInputs  []string              `json:"requiredInputs"`
	} `json:"resources"`
	Functions map[string]struct {
		Inputs struct {
			Properties map[string]schemaProp `json:"properties"`
		} `json:"inputs"`
	} `json:"functions"`
	Types map[string]struct {
		Properties map[string]schemaProp `json:"properties"`
		Enum       []struct {
			Value string `json:"value"`
		} `json:"enum"`
	} `json:"types"`
}

func keysOf[V any](m map[string]V) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func joinKeys(keys []resource.PropertyKey) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// 9. GetSchema serves the schema of @pulumi/command 1.2.1 (generated from its npm package by schema/generate.js,
// which test/engine/command-schema.test.ts keeps in step), and the inputs this provider accepts are exactly the
// schema's. Upstream: pulumi-command provider/cmd/pulumi-resource-command (the provider serves its schema), and
// the SDK's local/command.d.ts, remote/command.d.ts, remote/copyToRemote.d.ts, local/run.d.ts, types/input.d.ts.
func TestGetSchemaServesThePackageSchema(t *testing.T) {
	resp, err := (&provider{}).GetSchema(context.Background(), &pulumirpc.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var s packageSchema
	if err := json.Unmarshal([]byte(resp.GetSchema()), &s); err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	if s.Name != "command" || s.Version != Version {
		t.Errorf("name %q version %q", s.Name, s.Version)
	}
	if got := keysOf(s.Resources); got != "command:local:Command,command:remote:Command,command:remote:CopyFile,command:remote:CopyToRemote" {
		t.Errorf("resources: %s", got)
	}
	for typ, keys := range map[string][]resource.PropertyKey{localCommand: inputKeys, remoteCommand: remoteInputKeys, copyToRemote: copyInputKeys} {
		r := s.Resources[typ]
		if got, want := keysOf(r.InputProperties), joinKeys(keys); got != want {
			t.Errorf("%s: schema inputs %s, provider accepts %s", typ, got, want)
		}
		if !r.InputProperties["triggers"].ReplaceOnChanges {
			t.Errorf("%s: triggers must replace on changes", typ)
		}
	}
	for _, typ := range []string{remoteCommand, copyToRemote} {
		if !s.Resources[typ].Properties["connection"].Secret {
			t.Errorf("%s: connection must be secret", typ)
		}
	}
	conn := s.Types["command:remote:Connection"].Properties
	want := map[string]bool{}
	for k := range connectionKeys {
		want[k] = true
	}
	if keysOf(conn) != keysOf(want) {
		t.Errorf("connection fields: schema %s, provider %s", keysOf(conn), keysOf(want))
	}
	for _, d := range connectionDefaults {
		if got := conn[string(d.key)].Default; got != d.val.V {
			t.Errorf("default of connection.%s: schema %v, Check %v", d.key, got, d.val.V)
		}
	}
	var levels []string
	for _, e := range s.Types["command:local:Logging"].Enum {
		levels = append(levels, e.Value)
	}
	if strings.Join(levels, ",") != "stdout,stderr,stdoutAndStderr,none" {
		t.Errorf("logging values: %v", levels)
	}
	if _, ok := s.Functions[localRun].Inputs.Properties["command"]; !ok {
		t.Errorf("command:local:run lacks its command input")
	}
}

// How inputs flow into outputs and diffs, by the rules of the library upstream builds on (pulumi-go-provider
// infer/resource.go):
//
//   - secretness: an output is secret when the input of the same name holds a secret (markSecret's default flow:
//     outputs follow same-named inputs only), so a secret environment value or connection does not hide stdout;
//     an output that mirrors its input keeps the input's secrets where they are (environment.TOKEN, not all of
//     environment);
//   - unknowns: in a preview of an update, every output that does not mirror an input becomes unknown when an
//     input is unknown or differs from its old value (markComputed's default flow: every output depends on
//     every input), so whatever reads stdout shows as changing;
//   - diffs: the detailed diff names nested paths (environment.FOO, triggers[0]) from an object diff of the old
//     and new inputs; ignoreChanges paths take their old value first.
package main

import (
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// markSecrets makes each output secret, as a whole, whose same-named input holds a secret; an output that
// mirrors its input (same value, secrets in the same places, such as `environment`) stays as it is, as
// upstream's markSecret leaves it.
func markSecrets(state, inputs resource.PropertyMap) {
	for k, v := range state {
		if v.IsSecret() {
			continue
		}
		if in, ok := inputs[k]; ok && in.ContainsSecrets() && !in.DeepEquals(v) {
			state[k] = resource.MakeSecret(unwrapSecrets(v))
		}
	}
}

// unwrapSecrets strips secret markers but keeps unknowns.
func unwrapSecrets(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return unwrapSecrets(v.SecretValue().Element)
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]resource.PropertyValue, len(arr))
		for i, e := range arr {
			out[i] = unwrapSecrets(e)
		}
		return resource.NewArrayProperty(out)
	case v.IsObject():
		out := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			out[k] = unwrapSecrets(e)
		}
		return resource.NewObjectProperty(out)
	}
	return v
}

// inputsChanged reports whether an input is unknown, or was there before with another value (upstream's
// markComputed looks at exactly these: an input added since the last run does not count).
func inputsChanged(oldInputs, news resource.PropertyMap) bool {
	olds := normalizeOldInputs(oldInputs, news)
	news = normalizeOldInputs(news, news)
	for k, n := range news {
		if n.ContainsUnknowns() {
			return true
		}
		if o, ok := olds[k]; ok && !o.DeepEquals(n) {
			return true
		}
	}
	for k, o := range olds {
		if _, ok := news[k]; !ok && !o.IsNull() {
			return true
		}
	}
	return false
}

// markComputed turns every output of an update preview that does not mirror its input into an unknown when
// the inputs changed.
func markComputed(state, oldInputs, news resource.PropertyMap) {
	if !inputsChanged(oldInputs, news) {
		return
	}
	for k, v := range state {
		if in, ok := news[k]; ok && in.DeepEquals(v) {
			continue
		}
		if !v.IsComputed() {
			state[k] = resource.MakeComputed(resource.NewStringProperty(""))
		}
	}
}

// normalizeOldInputs reads inputs recorded by earlier builds of this provider as this build would have
// written them, so that a stack does not run every command again after an upgrade: Check used to add
// `addPreviousOutputInEnv: true` (the default anyway) and did not fill the connection's defaults.
func normalizeOldInputs(olds, news resource.PropertyMap) resource.PropertyMap {
	out := olds.Copy()
	if v, ok := out["addPreviousOutputInEnv"]; ok {
		if _, inNews := news["addPreviousOutputInEnv"]; !inNews {
			if b := unwrap(v); b.IsBool() && b.BoolValue() {
				delete(out, "addPreviousOutputInEnv")
			}
		}
	}
	if _, ok := out["connection"]; ok {
		defaultConnection(out)
	}
	return out
}

// onlyKeys keeps the given keys of m.
func onlyKeys(m resource.PropertyMap, keys []resource.PropertyKey) resource.PropertyMap {
	out := resource.PropertyMap{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

func inputKeysOf(typ string) []resource.PropertyKey {
	switch typ {
	case remoteCommand:
		return remoteInputKeys
	case copyToRemote:
		return copyInputKeys
	}
	return inputKeys
}

// diffInputs compares old and new inputs. A change of `triggers` as a whole replaces; a change inside it is
// reported as an update of that path, and the SDK's replaceOnChanges ["triggers[*]"] makes the engine replace.
func diffInputs(oldInputs, news, state resource.PropertyMap, ignoreChanges []string) *pulumirpc.DiffResponse {
	news = news.Copy()
	for k := range news {
		if k == "version" || strings.HasPrefix(string(k), "__") {
			delete(news, k)
		}
	}
	for _, p := range ignoreChanges {
		path, err := resource.ParsePropertyPath(p)
		if err != nil {
			continue
		}
		if v, ok := path.Get(resource.NewObjectProperty(state)); ok {
			obj := resource.NewObjectProperty(news)
			if path.Set(obj, v) {
				news = obj.ObjectValue()
			}
		}
	}
	olds := normalizeOldInputs(oldInputs, news)
	news = normalizeOldInputs(news, news)
	objDiff := olds.Diff(news)
	detailed := map[string]*pulumirpc.PropertyDiff{}
	diffs, replaces := map[string]bool{}, map[string]bool{}
	for path, d := range plugin.NewDetailedDiffFromObjectDiff(objDiff, false) {
		kind := d.Kind
		if path == "triggers" {
			kind = kind.AsReplace()
		}
		detailed[path] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_Kind(kind), InputDiff: d.InputDiff}
		head := path
		if pp, err := resource.ParsePropertyPath(path); err == nil && len(pp) > 0 {
			if s, ok := pp[0].(string); ok {
				head = s
			}
		}
		diffs[head] = true
		if kind.IsReplace() {
			replaces[head] = true
		}
	}
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if objDiff != nil && objDiff.AnyChanges() {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{
		Changes:         changes,
		Diffs:           sortedKeys(diffs),
		Replaces:        sortedKeys(replaces),
		DetailedDiff:    detailed,
		HasDetailedDiff: true,
	}
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

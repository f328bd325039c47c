package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// alive: the process exists and is not a zombie waiting to be reaped.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) == 0 || fields[0] != "Z"
}

// A cancelled local command ends with everything it started (issue 16, finding 5: a killed `pulumi up` left the
// step's children running). Upstream runs the command with exec.CommandContext (pulumi-command
// provider/pkg/provider/local/commandOutputs.go), whose cancel kills only the direct child, so a `sleep` started by
// the command's shell would survive; our provider starts the command in a process group of its own and ends the
// group. The engine cancels the Create call's context when it goes away or cancels the update.
func TestCancelledCommandEndsItsWholeProcessGroup(t *testing.T) {
	pids := filepath.Join(t.TempDir(), "pids")
	line := "sleep 600 & echo $$ $! > '" + pids + ".tmp' && mv '" + pids + ".tmp' '" + pids + "'; wait"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := (&provider{}).Create(ctx, &pulumirpc.CreateRequest{
			Urn: localURN, Type: localCommand, Name: "step",
			Properties: mustMarshal(t, resource.PropertyMap{"create": resource.NewStringProperty(line)}),
		})
		done <- err
	}()

	var started []int
	for end := time.Now().Add(60 * time.Second); len(started) < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the command did not start its child")
		}
		if b, err := os.ReadFile(pids); err == nil {
			for _, f := range strings.Fields(string(b)) {
				n, _ := strconv.Atoi(f)
				started = append(started, n)
			}
		}
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a cancelled command reported success")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Create did not return after its context was cancelled")
	}
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var left []int
		for _, pid := range started {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(end) {
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Fatalf("processes of the cancelled command still running: %v (of %v)", left, started)
		}
	}
}

package main

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// commandGrace is how long a cancelled command's process group has between SIGTERM and SIGKILL.
const commandGrace = 10 * time.Second

var (
	stopCommands     = make(chan struct{})
	stopCommandsOnce sync.Once
)

// stopAllCommands ends every running local command: the engine cancelled, or the provider shuts down.
func stopAllCommands() { stopCommandsOnce.Do(func() { close(stopCommands) }) }

// runInOwnGroup runs a local command to completion in a process group of its own. The group (the
// command and everything it started) is ended, SIGTERM then SIGKILL after commandGrace, when ctx is
// cancelled, when stopAllCommands is called, or when the engine that started this provider is gone
// (our parent changed). A command that finishes by itself is left as upstream leaves it.
func runInOwnGroup(ctx context.Context, cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return nil } // the whole group is ended below, not only its leader
	if err := cmd.Start(); err != nil {
		return err
	}
	group, parent := cmd.Process.Pid, os.Getppid()
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for alive := true; alive; {
			select {
			case <-done:
				return
			case <-ctx.Done():
				alive = false
			case <-stopCommands:
				alive = false
			case <-tick.C:
				alive = os.Getppid() == parent
			}
		}
		_ = syscall.Kill(-group, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(commandGrace):
		}
		_ = syscall.Kill(-group, syscall.SIGKILL)
	}()
	err := cmd.Wait()
	close(done)
	return err
}

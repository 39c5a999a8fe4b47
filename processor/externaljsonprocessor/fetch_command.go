package externaljsonprocessor

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"
)

// commandWaitDelay bounds how long Wait waits for the output pipes after the
// process group was killed (a grandchild that escaped the group may still
// hold them open).
const commandWaitDelay = time.Second

// stderrKeep is how much of a failing command's standard error is quoted.
const stderrKeep = 1024

// commandFetcher runs argv directly (no shell) in its own process group, so
// that a timeout kills everything it started.
type commandFetcher struct {
	argv    []string
	env     []string
	timeout time.Duration
	maxSize int64
}

func newCommandFetcher(c *CommandConfig, maxSize int64) *commandFetcher {
	var env []string
	if c.InheritEnvironment {
		env = os.Environ()
	}
	keys := make([]string, 0, len(c.Environment))
	for k := range c.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+c.Environment[k])
	}
	if env == nil {
		env = []string{} // exec: nil would mean "inherit"
	}
	return &commandFetcher{argv: c.Argv, env: env, timeout: c.Timeout, maxSize: maxSize}
}

func (f *commandFetcher) fetch(ctx context.Context, _ string) (fetchResult, *fetchError) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.argv[0], f.argv[1:]...) //nolint:gosec // G204: the command is the operator's, from the config
	cmd.Env = f.env
	cmd.Stdin = nil
	setProcessGroup(cmd) // Cancel kills the whole group
	cmd.WaitDelay = commandWaitDelay

	stdout := &cappedBuffer{limit: f.maxSize, onOverflow: cancel}
	stderr := &cappedBuffer{limit: stderrKeep}
	cmd.Stdout = stdout
	cmd.Stderr = stderr

	err := cmd.Run()
	switch {
	case stdout.overflowed():
		return fetchResult{}, refuse(reasonTooLarge, "command %s: output is over max_size %d bytes; it was killed", f.argv[0], f.maxSize)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fetchResult{}, refuse(reasonTimeout, "command %s: no result within timeout %s; its process group was killed", f.argv[0], f.timeout)
	case err != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return fetchResult{}, refuse(reasonExitStatus, "command %s: %v; stderr: %s", f.argv[0], err, msg)
		}
		return fetchResult{}, refuse(reasonExitStatus, "command %s: %v", f.argv[0], err)
	}
	return fetchResult{body: stdout.Bytes()}, nil
}

// cappedBuffer keeps at most limit bytes. Past the limit it drops the rest
// and calls onOverflow once (to kill a command that talks too much). It never
// returns a write error, so that the child does not block on a full pipe.
type cappedBuffer struct {
	mu         sync.Mutex
	buf        bytes.Buffer
	limit      int64
	over       bool
	onOverflow func()
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.limit - int64(b.buf.Len())
	if int64(len(p)) > room {
		if room > 0 {
			b.buf.Write(p[:room])
		}
		if !b.over {
			b.over = true
			if b.onOverflow != nil {
				b.onOverflow()
			}
		}
		return len(p), nil
	}
	b.buf.Write(p)
	return len(p), nil
}

func (b *cappedBuffer) overflowed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.over
}

func (b *cappedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *cappedBuffer) String() string { return string(b.Bytes()) }

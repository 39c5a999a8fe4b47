package push

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// groupSyncer makes the files of many batches durable with one syncfs(2)
// of the file system that holds dir, instead of one fsync per file and one
// per directory. A caller that arrives while a sync runs waits for the next
// one (the running one may have started before its file was written), and
// every caller that waited together shares that next sync: a group commit.
type groupSyncer struct {
	dir string

	mu      sync.Mutex
	cond    *sync.Cond
	running bool
	started uint64 // syncs started
	done    uint64 // syncs finished
	errs    map[uint64]error
	fd      *os.File
	do      func() error // the sync itself: syncfs, or a test's stand-in
	waiters int          // callers blocked waiting for a sync (for tests)
}

func newGroupSyncer(dir string) *groupSyncer {
	g := &groupSyncer{dir: dir, errs: map[uint64]error{}}
	g.cond = sync.NewCond(&g.mu)
	g.do = g.syncfs
	return g
}

// Sync returns once a syncfs that began after the call has finished.
func (g *groupSyncer) Sync() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	// The first sync to start after now (started counts a running one,
	// which may have begun before the caller's file was written).
	want := g.started + 1
	for g.done < want {
		if !g.running {
			g.running = true
			g.started++
			n := g.started
			g.mu.Unlock()
			err := g.do()
			g.mu.Lock()
			g.running = false
			g.done = n
			if err != nil {
				g.errs[n] = err
			}
			// Keep only errors a waiter may still ask about.
			for k := range g.errs {
				if k+64 < n {
					delete(g.errs, k)
				}
			}
			g.cond.Broadcast()
			continue
		}
		g.waiters++
		g.cond.Wait()
		g.waiters--
	}
	return g.errs[want]
}

func (g *groupSyncer) syncfs() error {
	if g.fd == nil {
		f, err := os.Open(g.dir)
		if err != nil {
			return err
		}
		g.fd = f // a directory handle, kept: syncfs needs any fd on the fs
	}
	return unix.Syncfs(int(g.fd.Fd()))
}

// syncers holds one groupSyncer per destination directory, shared by the
// destinations a job reload rebuilds (bounded by the directories jobs name).
var syncers sync.Map

func syncerFor(dir string) *groupSyncer {
	if g, ok := syncers.Load(dir); ok {
		return g.(*groupSyncer)
	}
	g, _ := syncers.LoadOrStore(dir, newGroupSyncer(dir))
	return g.(*groupSyncer)
}

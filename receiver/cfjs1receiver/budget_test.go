package cfjs1receiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// acquireAsync starts acquire and returns a channel with its error.
func acquireAsync(ctx context.Context, b *byteBudget, n int64) chan error {
	done := make(chan error, 1)
	go func() {
		_, err := b.acquire(ctx, n, nil)
		done <- err
	}()
	return done
}

// waiting is how many acquires are queued.
func (b *byteBudget) waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiters)
}

func TestBudgetServesInArrivalOrder(t *testing.T) {
	b := newByteBudget(100)
	waited, err := b.acquire(context.Background(), 60, nil)
	require.NoError(t, err)
	assert.False(t, waited)

	big := acquireAsync(context.Background(), b, 80) // does not fit: waits
	require.Eventually(t, func() bool { return b.waiting() == 1 }, 5*time.Second, time.Millisecond)
	// 30 would fit beside the 60, but the 80 came first: a stream of small
	// requests must not starve a connection that needs a whole line.
	small := acquireAsync(context.Background(), b, 30)
	require.Eventually(t, func() bool { return b.waiting() == 2 }, 5*time.Second, time.Millisecond)

	b.release(60)
	require.NoError(t, <-big)
	assert.EqualValues(t, 80, b.heldBytes())
	assert.Equal(t, 1, b.waiting(), "the 30 waits: 80 + 30 > 100")
	b.release(80)
	require.NoError(t, <-small)
	assert.EqualValues(t, 30, b.heldBytes())
}

func TestBudgetWaitEndsWithContext(t *testing.T) {
	b := newByteBudget(100)
	_, err := b.acquire(context.Background(), 100, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	head := acquireAsync(ctx, b, 50)
	require.Eventually(t, func() bool { return b.waiting() == 1 }, 5*time.Second, time.Millisecond)
	next := acquireAsync(context.Background(), b, 10)
	require.Eventually(t, func() bool { return b.waiting() == 2 }, 5*time.Second, time.Millisecond)

	cancel()
	require.ErrorIs(t, <-head, context.Canceled)
	assert.Equal(t, 1, b.waiting(), "the cancelled waiter left the queue")
	b.release(100)
	require.NoError(t, <-next)
	assert.EqualValues(t, 10, b.heldBytes())
	b.release(10)
	assert.Zero(t, b.heldBytes())
}

package testutil

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// ReceiverStartErr makes a logs receiver of f on cfg, starts it and
// returns the error of Start: what the tests of a refused path, mode or
// directory look at. The receiver is shut down either way.
func ReceiverStartErr(t testing.TB, f receiver.Factory, cfg component.Config) error {
	t.Helper()
	r, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	require.NoError(t, err)
	err = r.Start(context.Background(), componenttest.NewNopHost())
	require.NoError(t, r.Shutdown(context.Background()))
	return err
}

package cfjs1receiver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver/internal/metadata"
)

// telReceiver is a receiver whose own metrics the test can read.
type telReceiver struct {
	*cfjs1Receiver
	tel *componenttest.Telemetry
}

// newTelReceiver makes (but does not start) a receiver on 127.0.0.1:0
// with a telemetry reader.
func newTelReceiver(t *testing.T, next consumer.Logs, adjust func(*Config)) *telReceiver {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = "127.0.0.1:0"
	if adjust != nil {
		adjust(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	r, err := newReceiver(set, cfg, next)
	require.NoError(t, err)
	return &telReceiver{cfjs1Receiver: r, tel: tel}
}

// startTelReceiver makes and starts a receiver (see newTelReceiver).
func startTelReceiver(t *testing.T, next consumer.Logs, adjust func(*Config)) *telReceiver {
	t.Helper()
	r := newTelReceiver(t, next, adjust)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r
}

// sum adds the points of an Int64 sum whose attributes include want.
func (r *telReceiver) sum(t *testing.T, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	return testutil.SumInt64(t, r.tel, name, want...)
}

func reason(r string) attribute.KeyValue { return attribute.String("reason", r) }

// statusHost records the status events a component reports.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

func (h *statusHost) statuses() []componentstatus.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := make([]componentstatus.Status, len(h.events))
	for i, ev := range h.events {
		st[i] = ev.Status()
	}
	return st
}

// waitStatuses waits until the reported statuses are want, and fails if
// they went past it.
func (h *statusHost) waitStatuses(t *testing.T, d time.Duration, what string, want ...componentstatus.Status) {
	t.Helper()
	testutil.WaitFor(t, d, what, func() bool { return len(h.statuses()) >= len(want) },
		func() string { return fmt.Sprint(h.statuses()) })
	assert.Equal(t, want, h.statuses(), what)
}

// lastAt is when the last status was reported.
func (h *statusHost) lastAt() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.events[len(h.events)-1].Timestamp()
}

// testCerts writes a self-signed server certificate for 127.0.0.1 and its
// key; it returns their paths and a pool that trusts the certificate.
func testCerts(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cfjs1 test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// dialTLS connects to r with TLS and completes the handshake.
func dialTLS(t *testing.T, r *telReceiver, pool *x509.CertPool) *tls.Conn {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", r.Addr().String(),
		&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// dialFrom connects to r from the loopback source address src.
func dialFrom(t *testing.T, r *telReceiver, src string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", r.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitClosed reads c until the receiver closes it (EOF or reset) and
// returns how long that took; it fails after limit.
func waitClosed(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	// Tests call this from their own goroutines too: it fails with t.Errorf,
	// never with FailNow, which must not run there.
	start := time.Now()
	if !assert.NoError(t, c.SetReadDeadline(start.Add(limit))) { //nolint:testifylint // called from test goroutines, where FailNow must not run
		return 0
	}
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("connection still open after %s", limit)
		}
		return time.Since(start)
	}
}

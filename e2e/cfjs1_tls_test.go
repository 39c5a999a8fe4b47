package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA, into dir.
func testPKI(t *testing.T, dir string) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	writePEM(t, filepath.Join(dir, "ca.crt"), "CERTIFICATE", caDER)

	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		writePEM(t, filepath.Join(dir, name+".crt"), "CERTIFICATE", der)
		kb, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		writePEM(t, filepath.Join(dir, name+".key"), "EC PRIVATE KEY", kb)
	}
	leaf("server", 2, x509.ExtKeyUsageServerAuth)
	leaf("client", 3, x509.ExtKeyUsageClientAuth)
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	testPKI(t, dir)
	sink := &collectortest.Sink{}
	tier2Addr := testutil.FreeTCPAddr(t)
	collectortest.Start(t, fmt.Sprintf(`
receivers:
  cfjs1:
    endpoint: %s
    tls:
      cert_file: %s/server.crt
      key_file: %s/server.key
      client_ca_file: %s/ca.crt
exporters:
  sink/a: {}
service:
  pipelines:
    logs:
      receivers: [cfjs1]
      exporters: [sink/a]
`, tier2Addr, dir, dir, dir), collectortest.WithSinks(map[string]*collectortest.Sink{"a": sink}))

	edge := func(clientCert string) string {
		otlpAddr := testutil.FreeTCPAddr(t)
		collectortest.Start(t, fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
exporters:
  cfjs1:
    endpoints:
      - name: log-a
        endpoint: %s
        tls:
          ca_file: %s/ca.crt
%s
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [cfjs1]
`, otlpAddr, tier2Addr, dir, clientCert))
		return otlpAddr
	}

	// With its client certificate the edge delivers.
	good := newWriter(t, edge(fmt.Sprintf("          cert_file: %s/client.crt\n          key_file: %s/client.key", dir, dir)))
	good.send(5)
	testutil.WaitFor(t, 10*time.Second, "records over mTLS", func() bool { return sink.LogRecordCount() == 5 })

	// Without one it is refused by the receiver: nothing arrives, and the
	// edge holds the records in its queue rather than losing them silently.
	bad := newWriter(t, edge(""))
	bad.send(5)
	require.Len(t, bad.accepted(), 5, "the edge queues")
	require.Never(t, func() bool { return sink.LogRecordCount() > 5 }, 500*time.Millisecond, 20*time.Millisecond)
}

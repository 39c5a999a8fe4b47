package kafkatopicsexporter

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/kafkaconn"
)

// Each SASL mechanism authenticates against a kfake cluster that requires
// it; a wrong password does not get records in.
func TestSASLMechanisms(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			c := newCluster(t, 1, kfake.EnableSASL(), kfake.Superuser(mech, "logx", "s3cret"))
			cfg := testConfig(c)
			cfg.SASL = configoptional.Some(kafkaconn.SASLConfig{Mechanism: mech, Username: "logx", Password: configopaque.String("s3cret")})
			h := startExporter(t, cfg)
			require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "app", seq: 1})))

			bad := testConfig(c)
			bad.Producer.DeliveryTimeout = time.Second
			bad.SASL = configoptional.Some(kafkaconn.SASLConfig{Mechanism: mech, Username: "logx", Password: configopaque.String("wrong")})
			hb := startExporter(t, bad)
			var err error
			err = hb.exp.ConsumeLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "app", seq: 2}))
			require.Error(t, err)
			opts, err := clientOptions(context.Background(), cfg, zap.NewNop(), nil)
			require.NoError(t, err)
			assert.Equal(t, int64(1), topicEnd(t, c, "logs-app", 1, opts...), "only the authenticated record is in")
		})
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and returns the
// server's tls.Config and the certificate's PEM file (the client's CA).
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kfake"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, certPEM, 0o600))
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, caFile
}

// The exporter talks TLS to a cluster that only speaks TLS, trusting the
// configured CA.
func TestTLS(t *testing.T) {
	serverTLS, caFile := selfSigned(t)
	c := newCluster(t, 1, kfake.TLS(serverTLS))
	cfg := testConfig(c)
	tc := configtls.NewDefaultClientConfig()
	tc.CAFile = caFile
	cfg.TLS = configoptional.Some(tc)
	h := startExporter(t, cfg)
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "app", seq: 1})))
	opts, err := clientOptions(context.Background(), cfg, zap.NewNop(), nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), topicEnd(t, c, "logs-app", 1, opts...))
}

package push

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	jobs "github.com/otelcol-logx/otelcol-logx/internal/tenantjobs"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// newTLSServer starts an httptest TLS server whose certificate is signed
// by a CA made here; it returns the server and the CA's PEM file.
func newTLSServer(t *testing.T, h http.Handler) (*httptest.Server, string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: srvKey}}, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted client's handshake failure is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, caFile
}

// A job with tls.ca_file pushes cfjs1 lines over TLS to a server whose
// certificate that CA signed; a job without it cannot (unknown authority),
// and its records stay buffered.
func TestHTTPDestinationTLSAndCFJS1(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	var contentType string
	srv, caFile := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := bufio.NewScanner(r.Body)
		mu.Lock()
		defer mu.Unlock()
		contentType = r.Header.Get("Content-Type")
		for sc.Scan() {
			var line map[string]any
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Errorf("not a JSON line: %q", sc.Text())
				continue
			}
			if line["format"] != DefaultCFJS1Format {
				t.Errorf("format %v", line["format"])
			}
			inner, _ := line[DefaultCFJS1Format].(map[string]any)
			msg, _ := inner[cfjs1.FieldMessage].(string)
			bodies = append(bodies, msg)
		}
	}))
	st := openStore(t, t.TempDir())
	defer st.Close()
	jt := table(t, fmt.Sprintf(`jobs:
- {name: good, tenant: good, destination: {type: http, url: %q, format: cfjs1, tls: {ca_file: %q}}, batch: {max_records: 5, max_interval: 50ms}}
- {name: untrusted, tenant: untrusted, destination: {type: http, url: %q}, batch: {max_records: 5, max_interval: 50ms}}
`, srv.URL, caFile, srv.URL))
	p := newPusher(t, st, jt, t.TempDir())
	p.Start(nil)
	defer p.Stop()
	appendRecords(t, st, p, "good", 0, 10)
	appendRecords(t, st, p, "untrusted", 0, 3)
	testutil.WaitFor(t, 10*time.Second, "10 records over TLS", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(bodies) >= 10
	})
	mu.Lock()
	for i, b := range bodies {
		if want := fmt.Sprintf("good-%06d", i); b != want {
			t.Errorf("record %d: %q, want %q", i, b, want)
		}
	}
	if contentType != "application/x-ndjson" {
		t.Errorf("content type %q", contentType)
	}
	mu.Unlock()
	testutil.WaitFor(t, 10*time.Second, "a failed untrusted push", func() bool { return p.Failures()["error"] > 0 })
	if pos, end, err := st.Position("untrusted", "push"); err != nil || pos != 0 || end == 0 {
		t.Fatalf("untrusted tenant: pos=%d end=%d err=%v, want its records kept", pos, end, err)
	}
}

func TestHTTPDestinationBadTLSFails(t *testing.T) {
	tb, err := jobsParse(`jobs: [{name: j, tenant: a, destination: {type: http, url: "https://127.0.0.1:1", tls: {ca_file: /nonexistent/ca.pem}}}]`)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDestination(&tb.Jobs()[0])
	if _, ok := d.(failingDestination); !ok {
		t.Fatalf("got %T, want a destination that fails", d)
	}
}

func jobsParse(doc string) (*jobs.Table, error) { return jobs.Parse([]byte(doc), testRules(doc)) }

package kafkaconn

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.uber.org/zap"
)

func TestBrokerListSplitsEntries(t *testing.T) {
	c := Config{Brokers: []string{"k1:9092, k2:9092", " ", "k3:9092"}}
	assert.Equal(t, []string{"k1:9092", "k2:9092", "k3:9092"}, c.BrokerList())
}

func TestValidateSaysWhatToWrite(t *testing.T) {
	c := Config{Brokers: []string{"nohostport"}, SASL: configoptional.Some(SASLConfig{Mechanism: "GSSAPI"})}
	err := c.ValidateAll()
	require.Error(t, err)
	for _, want := range []string{`write host:port`, "client_id: must not be empty", `sasl: mechanism "GSSAPI": write PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; username and password are both required`} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Equal(t, 1, strings.Count(err.Error(), "mechanism"), "the sasl group's error is reported once: %v", err)
	ok := Config{Brokers: []string{"127.0.0.1:9092"}, ClientID: "x",
		SASL: configoptional.Some(SASLConfig{Mechanism: "SCRAM-SHA-512", Username: "u", Password: "p"})}
	require.NoError(t, ok.ValidateAll())
	opts, err := ok.ClientOptions(context.Background(), zap.NewNop())
	require.NoError(t, err)
	assert.Len(t, opts, 4, "seeds, client id, logger, SASL")
}

// Each group's problems stand on one line under the group's name, each
// problem once, and nothing names the Go type the options live in.
func TestValidateAllNamesEachGroupOnce(t *testing.T) {
	c := Config{
		Brokers: []string{"kafka-1"}, ClientID: "x",
		TLS:  configoptional.Some(configtls.ClientConfig{Config: configtls.Config{MinVersion: "0.9"}}),
		SASL: configoptional.Some(SASLConfig{Mechanism: "MD5", Username: "u", Password: "p"}),
	}
	err := c.ValidateAll()
	require.Error(t, err)
	assert.Equal(t, []string{
		`brokers: "kafka-1": write host:port, e.g. kafka-1:9092`,
		`tls: invalid TLS min_version: unsupported TLS version: "0.9"`,
		`sasl: mechanism "MD5": write PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`,
	}, strings.Split(err.Error(), "\n"))
}

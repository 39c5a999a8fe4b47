package configguard

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
)

// LastGoodFile is the name of the last good configuration in the state
// directory.
const LastGoodFile = "last-good-config.yaml"

const lastGoodHeader = "# Written by otelcol-logx: the last configuration that started successfully,\n" +
	"# as resolved (environment variables and ${file:...} references substituted).\n" +
	"# Read at start when logx.startWithLastGoodConfig is on and the configuration is invalid.\n"

// encode renders a resolved configuration as the last good file's content.
func encode(conf *confmap.Conf) ([]byte, error) {
	body, err := yaml.Marshal(conf.ToStringMap())
	if err != nil {
		return nil, fmt.Errorf("encoding the configuration: %w", err)
	}
	return append([]byte(lastGoodHeader), body...), nil
}

// writeAtomic replaces path with data so that a crash at any point leaves
// either the old file or the new one, never a torn one: temp file in the
// same directory, fsync, rename, fsync of the directory. Mode 0600: a
// resolved configuration holds whatever secrets were substituted into it.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		_ = tmp.Close() // the write failed already: that error is returned
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close() // the write failed already: that error is returned
		return err
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close() // the write failed already: that error is returned
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close() //nolint:errcheck // directory opened to fsync it; the Sync error is returned
	return d.Sync()
}

// readLastGood loads the last good file as a configuration, parsed as the
// collector parses its own files.
func readLastGood(path string) (*confmap.Conf, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New(path + " is empty")
	}
	ret, err := confmap.NewRetrievedFromYAML(data)
	if err != nil {
		return nil, err
	}
	conf, err := ret.AsConf()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return conf, nil
}

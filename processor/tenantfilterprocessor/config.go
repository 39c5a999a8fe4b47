package tenantfilterprocessor

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
)

// What happens to records without a tenant attribute.
const (
	missingPass = "pass"
	missingDrop = "drop"
)

// Config is the tenantfilter processor's configuration.
type Config struct {
	// Tenant says how a record's tenant is found, and what happens to
	// records that have none.
	Tenant TenantConfig `mapstructure:"tenant"`
	// JobsFile or JobsURL gives the job document, the one the tenantbuffer
	// exporter reads (its push.jobs_file / push.jobs_url).
	JobsFile string `mapstructure:"jobs_file"`
	JobsURL  string `mapstructure:"jobs_url"`
	// ReloadInterval: how often the document is read again.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`
	// MaxRemovedFraction: a new document taking away more than this
	// fraction of the coverage in force (tenants and prefixes removed or
	// sent elsewhere) is refused; 1 switches the guard off.
	MaxRemovedFraction float64 `mapstructure:"max_removed_fraction"`
	// LastGoodFile, when set, keeps the last accepted document, installed
	// at start before the first read, so that a restart while the document
	// is blank or unreachable keeps the tenants that were admitted.
	LastGoodFile string `mapstructure:"last_good_file"`
}

// TenantConfig finds the tenant of a record.
type TenantConfig struct {
	// Attribute holds the tenant: the record's attribute, else the
	// resource's attribute of that name (as the tenantbuffer exporter's
	// tenant.attribute).
	Attribute string `mapstructure:"attribute"`
	// Missing: pass or drop the records without the attribute.
	Missing string `mapstructure:"missing"`
}

// Validate checks the tenant options; the collector puts the group's path
// ("tenant: ") in front.
func (c *TenantConfig) Validate() error {
	var errs []error
	if c.Attribute == "" {
		errs = append(errs, errors.New("attribute: empty; write the attribute that names the tenant, e.g. logx.tenant (the tenantbuffer exporter's tenant.attribute)"))
	}
	if c.Missing != missingPass && c.Missing != missingDrop {
		errs = append(errs, fmt.Errorf("missing: %q; write pass (records without a tenant go on) or drop", c.Missing))
	}
	return grouperr.Join(errs...)
}

// Validate checks the job source and the guard; the tenant group validates
// itself.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.JobsFile == "" && c.JobsURL == "":
		errs = append(errs, errors.New("jobs_file or jobs_url: required; write the job document the tenantbuffer exporter reads, e.g. jobs_file: /etc/otelcol-logx/jobs.yaml"))
	case c.JobsFile != "" && c.JobsURL != "":
		errs = append(errs, errors.New("jobs_file and jobs_url are both set; write only one, so that there is one document to follow"))
	case c.JobsURL != "":
		if u, err := url.Parse(c.JobsURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("jobs_url: %q; write an http(s) url, e.g. https://jobs.example/logpush.yaml", c.JobsURL))
		}
	}
	if c.ReloadInterval <= 0 {
		errs = append(errs, fmt.Errorf("reload_interval: %v; write a positive duration, e.g. 1m", c.ReloadInterval))
	}
	if c.MaxRemovedFraction < 0 || c.MaxRemovedFraction > 1 {
		errs = append(errs, fmt.Errorf("max_removed_fraction: %v; write a fraction in [0, 1], e.g. 0.1 (1 switches the guard off)", c.MaxRemovedFraction))
	}
	if c.LastGoodFile != "" && c.LastGoodFile == c.JobsFile {
		errs = append(errs, fmt.Errorf("last_good_file: %q is the job document itself; write a path of its own in a writable directory, e.g. /var/lib/otelcol-logx/tenantfilter-jobs.yaml", c.LastGoodFile))
	}
	return errors.Join(errs...)
}

// guardDisabled: max_removed_fraction 1 lets any document replace the one
// in force, however little of it it keeps.
func (c *Config) guardDisabled() bool { return c.MaxRemovedFraction >= 1 }

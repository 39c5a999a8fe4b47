package grouperr

import "strings"

// Join is errors.Join on one line: nil when every err is nil, else an error
// whose message is the non-nil messages separated by "; " and which unwraps
// to them (so errors.Is and errors.As see each one).
func Join(errs ...error) error {
	var kept []error
	for _, err := range errs {
		if err != nil {
			kept = append(kept, err)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return &joinError{errs: kept}
}

type joinError struct {
	errs []error
}

func (e *joinError) Error() string {
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e *joinError) Unwrap() []error { return e.errs }

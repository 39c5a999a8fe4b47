package externaljsonprocessor

import "go.opentelemetry.io/collector/component"

// SetRefreshHook lets the end-to-end test (package externaljsonprocessor_test,
// which runs a whole collector) wait for refreshes instead of sleeping. It
// returns a function that removes the hook.
func SetRefreshHook(f func(id component.ID, source string)) (remove func()) {
	refreshHook.Store(&f)
	return func() { refreshHook.Store(nil) }
}

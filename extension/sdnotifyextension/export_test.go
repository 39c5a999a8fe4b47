package sdnotifyextension

// For the in-process collector tests of package sdnotifyextension_test.

type Manager = manager

var (
	ListenManager = listenManager
	CountLine     = countLine
	WaitFor       = waitFor
)

func (m *manager) Until(want string) []string { return m.until(want) }
func (m *manager) Queued() []string           { return m.queued() }

//go:build tools

// Package tools pins the code generators the repository runs (mdatagen) in
// a module of their own: mdatagen v0.159.0 depends on an older collector
// than the distribution, and must not pull it into the main go.mod. Run it
// with `make generate`, which uses `go tool -modfile=internal/tools/go.mod`.
package tools

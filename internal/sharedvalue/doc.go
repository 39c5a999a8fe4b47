// Package sharedvalue lets many log records hold one scalar attribute value
// (a string, int, double or bool) without an allocation per record.
//
// Why: pdata keeps every attribute value behind a heap object of its own
// (the proto oneof wrapper), so putting the same app name on each line of a
// batch, or the same 10 enrichment fields on each record, costs one
// allocation per value per record, and that allocation and its garbage
// collection were most of the CPU of the parser and of the externaljson
// processor. For scalars the wrapper is never written once made: every
// pdata setter (SetStr, PutInt, CopyTo, unmarshalling) makes a new one
// rather than writing into the old one. So one wrapper can back the same
// value in any number of records, as immutable strings back substrings.
//
// The exception is pdata's alpha gate pdata.useProtoPooling: with it on,
// wrappers are recycled through pools, and a shared one would be handed out
// again while other records still hold it. pdata has no API to share a
// value either, so this package reaches the wrapper through pdata's memory
// layout. Both are checked before the first use (see Enabled); when either
// is not as expected, values are copied as usual: slower, never wrong.
package sharedvalue

// Package grouperr joins the problems a nested option group finds in itself
// into one error that stays under the group's path when the collector
// reports it.
//
// The collector validates every nested group on its own and puts the group's
// path in front of the group's error ("receivers::journal::batch: ..."). It
// puts it in front of the first line only: with errors.Join, the second
// problem of a group would be printed without the group's path
// (e.g. "max_bytes 1: ..." with no sign of which max_bytes). Join keeps them
// on one line.
package grouperr

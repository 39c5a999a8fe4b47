package metadata

// Reasons of dropped records (attribute "reason").
const (
	ReasonDiskMaxTotal = "disk_max_total"  // disk_guard.max_total_bytes reached
	ReasonDiskMinFree  = "disk_min_free"   // free space below disk_guard.min_free_bytes
	ReasonOpen         = "open_error"      // the file (or its directory) could not be created or opened
	ReasonWrite        = "write_error"     // the write to the file failed
	ReasonTooLong      = "record_too_long" // one formatted record above max_record_bytes
	ReasonSymlink      = "symlink"         // a symbolic link where a log file or a directory below the template's fixed part should be
)

// ReasonMaxPaths is why a record went to the overflow file (attribute
// "reason" of LogxLogfileRecordsOverflowed): its path would have passed max_paths.
const ReasonMaxPaths = "max_paths"

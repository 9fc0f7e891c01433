//go:build !linux

package sysmem

// limits knows no figure outside Linux: estimates are then not checked.
func limits() []Limit { return nil }

// Resident is not known outside Linux.
func Resident() (bytes int64, ok bool) { return 0, false }

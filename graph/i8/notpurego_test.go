//go:build !purego

package i8

const purego = false

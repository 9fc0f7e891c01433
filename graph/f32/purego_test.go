//go:build purego

package f32

const purego = true

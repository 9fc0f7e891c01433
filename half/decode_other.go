//go:build !amd64 || purego

package half

const (
	cpuF16C = false
	cpuAVX2 = false
)

var hasF16C, hasAVX2 = false, false

func decodeF16C(dst *float32, src *uint16, n int) { panic("half: no F16C on this architecture") }

func decodeBF16AVX2(dst *float32, src *uint16, n int) {
	panic("half: no AVX2 on this architecture")
}

func roundF16C(dst, src *float32, n int) { panic("half: no F16C on this architecture") }

func roundBF16AVX2(dst, src *float32, n int) { panic("half: no AVX2 on this architecture") }

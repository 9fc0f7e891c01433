package train

import "math/rand"

func randSource(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }

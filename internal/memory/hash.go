package memory

// FNV-1a, 64 bits: a fixed, seedless hash, so features land in the same
// buckets in every process.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvByte(h uint64, c byte) uint64 { return (h ^ uint64(c)) * fnvPrime }

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = fnvByte(h, s[i])
	}
	return h
}

// mix spreads the bits of an FNV hash (the splitmix64 finalizer), so the
// bucket (low bits) and the sign (top bit) are independent.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// hashWord hashes a word.
func hashWord(w string) uint64 {
	return mix(fnvString(fnvByte(fnvOffset, kindWord), w))
}

// hashPair hashes the pair of adjacent words a b.
func hashPair(a, b string) uint64 {
	h := fnvString(fnvByte(fnvOffset, kindBigram), a)
	return mix(fnvString(fnvByte(h, ' '), b))
}

// hashRunes hashes a character 3-gram.
func hashRunes(rs []rune) uint64 {
	h := fnvByte(fnvOffset, kindGram)
	for _, r := range rs {
		for shift := 0; shift < 32; shift += 8 {
			h = fnvByte(h, byte(r>>shift))
		}
	}
	return mix(h)
}

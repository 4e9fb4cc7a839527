package store

import (
	"encoding/binary"
	"fmt"
	"math"
)

// EncodeVector is the stored form of a vector: each component as a
// little-endian IEEE 754 float32, 4 bytes apiece, in order. It never returns
// nil, so an empty vector is stored as zero bytes, not NULL.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// DecodeVector reads what EncodeVector wrote, bit for bit; zero bytes give
// a nil vector. It fails when the length is not a multiple of 4.
func DecodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("stored vector has %d bytes, not a multiple of 4", len(b))
	}
	if len(b) == 0 {
		return nil, nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

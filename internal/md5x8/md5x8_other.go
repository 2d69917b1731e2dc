//go:build !amd64 || purego

package md5x8

const haveAVX2 = false

func block8(state *[4][lanes]uint32, ptrs *[lanes]*byte, k *[64][lanes]uint32, msg *[16][lanes]uint32) {
	panic("md5x8: no vector code on this architecture")
}

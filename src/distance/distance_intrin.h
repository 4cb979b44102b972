/*
 * distance_intrin.h
 *	  Private to src/distance: where the SIMD kernels (distance_avx2.c,
 *	  distance_f16c.c, distance_popcnt.c, distance_avx512.c) get their
 *	  intrinsics from.  Normally that is the compiler's <immintrin.h>, and
 *	  VA_AVX2, VA_F16C, VA_POPCNT, VA_AVX512, VA_AVX512_POPCNT and
 *	  VA_AVX512_VNNI are the
 *	  per-function target attributes that let the kernels use those
 *	  instructions in an otherwise baseline x86-64 build.
 *
 *	  With VA_KERNEL_EMULATE defined (only the build of
 *	  test/kernels/simd_emulated does that) the same kernel sources are
 *	  compiled against SIMD Everywhere (Debian's libsimde-dev): portable C
 *	  versions of the x86 intrinsics under their usual names, so the
 *	  kernels' logic (blocking, masks, tails, reductions) can be tested on a
 *	  CPU without the instructions, or on any CPU at all.  The target
 *	  attributes are then empty: the emulated code must not be compiled for
 *	  the real instructions.  The few AVX-512F intrinsics the packaged SIMDe
 *	  (0.7.4) lacks are written out below from the ones it has, lane by lane
 *	  where that is the point (a masked load reads only the lanes its mask
 *	  selects, so a test with a guard page after the data catches a kernel
 *	  that over-reads).
 */
#ifndef VA_DISTANCE_INTRIN_H
#define VA_DISTANCE_INTRIN_H

#ifdef VA_KERNEL_EMULATE

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
#include <simde/x86/fma.h>

#define VA_AVX2
#define VA_F16C
#define VA_POPCNT
#define VA_AVX512
#define VA_AVX512_POPCNT
#define VA_AVX512_VNNI
#define VA_AVX2_UNFUSED VA_NO_FP_CONTRACT
#define VA_AVX512_UNFUSED VA_NO_FP_CONTRACT

/* SIMDe names the opmask types only with its own prefix. */
#define __mmask16 simde__mmask16
#define __mmask64 simde__mmask64

#ifndef _mm512_maskz_loadu_ps
/* Sixteen floats at p where mask k has a 1 bit, 0.0f elsewhere; reads only those. */
static inline __m512
va_emulated_mm512_maskz_loadu_ps(__mmask16 k, const void *p)
{
	float		lanes[16];

	for (int i = 0; i < 16; i++)
	{
		lanes[i] = 0.0f;
		if ((k >> i) & 1)
			memcpy(&lanes[i], (const char *) p + i * sizeof(float), sizeof(float));
	}
	return _mm512_loadu_ps(lanes);
}
#define _mm512_maskz_loadu_ps(k, p) va_emulated_mm512_maskz_loadu_ps((k), (p))
#endif

#ifndef _mm512_cvtph_ps
/* Sixteen binary16 values widened to float, from two 8-lane F16C conversions. */
static inline __m512
va_emulated_mm512_cvtph_ps(__m256i h)
{
	__m256		lo = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
	__m256		hi = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));

	return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}
#define _mm512_cvtph_ps(h) va_emulated_mm512_cvtph_ps(h)
#endif

#ifndef _mm512_mask_storeu_ps
/* The lanes of v where mask k has a 1 bit to p; writes only those. */
static inline void
va_emulated_mm512_mask_storeu_ps(void *p, __mmask16 k, __m512 v)
{
	float		lanes[16];

	_mm512_storeu_ps(lanes, v);
	for (int i = 0; i < 16; i++)
		if ((k >> i) & 1)
			memcpy((char *) p + i * sizeof(float), &lanes[i], sizeof(float));
}
#define _mm512_mask_storeu_ps(p, k, v) va_emulated_mm512_mask_storeu_ps((p), (k), (v))
#endif

#ifndef _mm512_cvtepi32_ps
/* Sixteen int32 converted to float, from two 8-lane conversions. */
static inline __m512
va_emulated_mm512_cvtepi32_ps(__m512i v)
{
	__m256		lo = _mm256_cvtepi32_ps(_mm512_castsi512_si256(v));
	__m256		hi = _mm256_cvtepi32_ps(_mm512_extracti64x4_epi64(v, 1));

	return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}
#define _mm512_cvtepi32_ps(v) va_emulated_mm512_cvtepi32_ps(v)
#endif

#ifndef _mm512_cvttps_epi32
/* Sixteen floats truncated to int32, from two 8-lane conversions. */
static inline __m512i
va_emulated_mm512_cvttps_epi32(__m512 v)
{
	__m256i		lo = _mm256_cvttps_epi32(_mm512_castps512_ps256(v));
	__m256i		hi = _mm256_cvttps_epi32(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));

	return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
#define _mm512_cvttps_epi32(v) va_emulated_mm512_cvttps_epi32(v)
#endif

#ifndef _mm512_cvtps_pd
/* Eight floats widened to double, from two 4-lane AVX conversions. */
static inline __m512d
va_emulated_mm512_cvtps_pd(__m256 v)
{
	__m256d		lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
	__m256d		hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));

	return _mm512_insertf64x4(_mm512_castpd256_pd512(lo), hi, 1);
}
#define _mm512_cvtps_pd(v) va_emulated_mm512_cvtps_pd(v)
#endif

#ifndef _mm512_i32gather_epi32
/*
 * Sixteen 32-bit words, lane i read (unaligned) at base + vindex[i] * scale;
 * only those 64 bytes are read.
 */
static inline __m512i
va_emulated_mm512_i32gather_epi32(__m512i vindex, const void *base, int scale)
{
	int32_t		idx[16];
	int32_t		lanes[16];

	_mm512_storeu_si512(idx, vindex);
	for (int i = 0; i < 16; i++)
		memcpy(&lanes[i], (const char *) base + (ptrdiff_t) idx[i] * scale, sizeof(int32_t));
	return _mm512_loadu_si512(lanes);
}
#define _mm512_i32gather_epi32(v, b, s) va_emulated_mm512_i32gather_epi32((v), (b), (s))
#endif

#ifndef _mm512_i32gather_ps
/* Sixteen floats, lane i read at base + vindex[i] * scale. */
static inline __m512
va_emulated_mm512_i32gather_ps(__m512i vindex, const void *base, int scale)
{
	int32_t		idx[16];
	float		lanes[16];

	_mm512_storeu_si512(idx, vindex);
	for (int i = 0; i < 16; i++)
		memcpy(&lanes[i], (const char *) base + (ptrdiff_t) idx[i] * scale, sizeof(float));
	return _mm512_loadu_ps(lanes);
}
#define _mm512_i32gather_ps(v, b, s) va_emulated_mm512_i32gather_ps((v), (b), (s))
#endif

#else							/* !VA_KERNEL_EMULATE */

#include <immintrin.h>

/* AVX2 and FMA: 8 float lanes, fused multiply-add. */
#define VA_AVX2 __attribute__((target("avx2,fma")))
/* ... plus F16C's vcvtph2ps / vcvtps2ph. */
#define VA_F16C __attribute__((target("avx2,fma,f16c")))
/* The POPCNT instruction (through __builtin_popcountll). */
#define VA_POPCNT __attribute__((target("popcnt")))
/* AVX-512 Foundation: 16 float lanes, opmask registers, vcvtph2ps on zmm. */
#define VA_AVX512 __attribute__((target("avx512f")))
/* ... plus VPOPCNTQ on zmm (the AVX512_VPOPCNTDQ extension). */
#define VA_AVX512_POPCNT __attribute__((target("avx512f,avx512vpopcntdq")))
/* ... AVX512BW (byte lanes, 64-bit opmasks) and AVX512_VNNI (vpdpbusd). */
#define VA_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
/*
 * VA_AVX2 and VA_AVX512 for kernels whose results must be the same bits as
 * the scalar reference's: no multiplication fused with a later addition
 * (VA_NO_FP_CONTRACT, distance_simd.h).
 */
#define VA_AVX2_UNFUSED __attribute__((target("avx2,fma"))) VA_NO_FP_CONTRACT
#define VA_AVX512_UNFUSED __attribute__((target("avx512f"))) VA_NO_FP_CONTRACT

#endif							/* VA_KERNEL_EMULATE */

#endif							/* VA_DISTANCE_INTRIN_H */

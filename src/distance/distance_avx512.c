/*
 * distance_avx512.c
 *	  AVX-512 distance kernels for x86-64: float4 vectors and halfvec with
 *	  AVX512F (16 lanes; vcvtph2ps widens 16 halves at once), bit strings
 *	  with AVX512_VPOPCNTDQ (popcount of eight 64-bit words at once), RaBitQ
 *	  codes with AVX512BW and AVX512_VNNI; RaBitQ's level search and the
 *	  nearest-centroid panels with AVX512F.  Every
 *	  function carries a per-function target attribute (VA_AVX512,
 *	  VA_AVX512_POPCNT, VA_AVX512_VNNI from distance_intrin.h), so the file builds with the
 *	  default baseline flags and the instructions run only when
 *	  VaDistanceInit() has checked the CPU and the OS.
 *
 *	  Same contracts as the scalar kernels in distance.c: n >= 0, exactly n
 *	  elements (nbytes bytes) of each array are read, no allocation.  Float
 *	  tails are read with masked loads, which touch only the selected lanes;
 *	  AVX512F has no 16-bit or 8-bit masks (those are AVX512BW), so the tails
 *	  of halfvec and bit inputs are copied into a zero-filled 64-byte buffer
 *	  first.  Zero lanes add nothing to any of the sums.  Results may differ
 *	  from the scalar kernels in the last bits because the summation order
 *	  differs (32 partial sums for float4); bit results are equal.
 *
 *	  Compiled a second time, against SIMDe instead of the hardware, by the
 *	  emulated kernel test (VA_KERNEL_EMULATE; test/kernels/).
 */
#include "vectorann.h"

#include <float.h>
#include <string.h>

#include "distance/distance.h"
#include "distance/distance_simd.h"

#if defined(VA_HAVE_AVX512_KERNELS) || defined(VA_KERNEL_EMULATE)

#include "distance/distance_intrin.h"

/* Mask selecting the first r of 16 lanes, 0 <= r <= 16. */
static inline __mmask16
first_lanes(int r)
{
	return (__mmask16) ((1u << r) - 1u);
}

/* Sum of the sixteen lanes of a float vector (pairwise halving). */
static inline VA_AVX512 float
hsum16_ps(__m512 v)
{
	__m256		lo = _mm512_castps512_ps256(v);
	__m256		hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
	__m256		s8 = _mm256_add_ps(lo, hi);
	__m128		s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* Sum of the eight lanes of a double vector (pairwise halving). */
static inline VA_AVX512 double
hsum8_pd(__m512d v)
{
	__m256d		s4 = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
	__m128d		s = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));

	s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
	return _mm_cvtsd_f64(s);
}

/* The low eight floats of v widened to double. */
static inline VA_AVX512 __m512d
low8_pd(__m512 v)
{
	return _mm512_cvtps_pd(_mm512_castps512_ps256(v));
}

/* The high eight floats of v widened to double. */
static inline VA_AVX512 __m512d
high8_pd(__m512 v)
{
	return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

/* ---------------------------------------------------------------------
 * float4 vectors
 * ---------------------------------------------------------------------
 */

/*
 * sum (a[i]-b[i])^2 in float: two 16-lane accumulators over blocks of 32,
 * one more block of 16, then one masked block for the last n % 16.
 */
VA_AVX512 float
VaL2SquaredFloatAvx512(const float *a, const float *b, int n)
{
	__m512		acc0 = _mm512_setzero_ps();
	__m512		acc1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));

		acc0 = _mm512_fmadd_ps(d0, d0, acc0);
		acc1 = _mm512_fmadd_ps(d1, d1, acc1);
	}
	if (i + 16 <= n)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));

		acc0 = _mm512_fmadd_ps(d0, d0, acc0);
		i += 16;
	}
	if (i < n)
	{
		__mmask16	k = first_lanes(n - i);
		__m512		d1 = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, a + i),
									   _mm512_maskz_loadu_ps(k, b + i));

		acc1 = _mm512_fmadd_ps(d1, d1, acc1);
	}
	return hsum16_ps(_mm512_add_ps(acc0, acc1));
}

/* sum a[i]*b[i] in float; blocks and tail as in VaL2SquaredFloatAvx512 */
VA_AVX512 float
VaInnerProductFloatAvx512(const float *a, const float *b, int n)
{
	__m512		acc0 = _mm512_setzero_ps();
	__m512		acc1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
		acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
	}
	if (i + 16 <= n)
	{
		acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
		i += 16;
	}
	if (i < n)
	{
		__mmask16	k = first_lanes(n - i);

		acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, a + i),
							   _mm512_maskz_loadu_ps(k, b + i), acc1);
	}
	return hsum16_ps(_mm512_add_ps(acc0, acc1));
}

/* sum |a[i]-b[i]| in float; blocks and tail as in VaL2SquaredFloatAvx512 */
VA_AVX512 float
VaL1FloatAvx512(const float *a, const float *b, int n)
{
	__m512		acc0 = _mm512_setzero_ps();
	__m512		acc1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));

		acc0 = _mm512_add_ps(acc0, _mm512_abs_ps(d0));
		acc1 = _mm512_add_ps(acc1, _mm512_abs_ps(d1));
	}
	if (i + 16 <= n)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));

		acc0 = _mm512_add_ps(acc0, _mm512_abs_ps(d0));
		i += 16;
	}
	if (i < n)
	{
		__mmask16	k = first_lanes(n - i);
		__m512		d1 = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, a + i),
									   _mm512_maskz_loadu_ps(k, b + i));

		acc1 = _mm512_add_ps(acc1, _mm512_abs_ps(d1));
	}
	return hsum16_ps(_mm512_add_ps(acc0, acc1));
}

/*
 * sum (a[i]-b[i])^2 with elements widened to double, accumulated in double:
 * 16 floats per step (masked for the last n % 16), each half widened to
 * eight doubles into its own accumulator.
 */
VA_AVX512 double
VaL2SquaredDoubleAvx512(const float *a, const float *b, int n)
{
	__m512d		acc0 = _mm512_setzero_pd();
	__m512d		acc1 = _mm512_setzero_pd();

	for (int i = 0; i < n; i += 16)
	{
		__mmask16	k = first_lanes(Min(n - i, 16));
		__m512		fa = _mm512_maskz_loadu_ps(k, a + i);
		__m512		fb = _mm512_maskz_loadu_ps(k, b + i);
		__m512d		d0 = _mm512_sub_pd(low8_pd(fa), low8_pd(fb));
		__m512d		d1 = _mm512_sub_pd(high8_pd(fa), high8_pd(fb));

		acc0 = _mm512_fmadd_pd(d0, d0, acc0);
		acc1 = _mm512_fmadd_pd(d1, d1, acc1);
	}
	return hsum8_pd(_mm512_add_pd(acc0, acc1));
}

/* sum a[i]*b[i] in double (each product of two floats is exact in double) */
VA_AVX512 double
VaInnerProductDoubleAvx512(const float *a, const float *b, int n)
{
	__m512d		acc0 = _mm512_setzero_pd();
	__m512d		acc1 = _mm512_setzero_pd();

	for (int i = 0; i < n; i += 16)
	{
		__mmask16	k = first_lanes(Min(n - i, 16));
		__m512		fa = _mm512_maskz_loadu_ps(k, a + i);
		__m512		fb = _mm512_maskz_loadu_ps(k, b + i);

		acc0 = _mm512_fmadd_pd(low8_pd(fa), low8_pd(fb), acc0);
		acc1 = _mm512_fmadd_pd(high8_pd(fa), high8_pd(fb), acc1);
	}
	return hsum8_pd(_mm512_add_pd(acc0, acc1));
}

/* sum |a[i]-b[i]| in double */
VA_AVX512 double
VaL1DoubleAvx512(const float *a, const float *b, int n)
{
	__m512d		acc0 = _mm512_setzero_pd();
	__m512d		acc1 = _mm512_setzero_pd();

	for (int i = 0; i < n; i += 16)
	{
		__mmask16	k = first_lanes(Min(n - i, 16));
		__m512		fa = _mm512_maskz_loadu_ps(k, a + i);
		__m512		fb = _mm512_maskz_loadu_ps(k, b + i);

		acc0 = _mm512_add_pd(acc0, _mm512_abs_pd(_mm512_sub_pd(low8_pd(fa), low8_pd(fb))));
		acc1 = _mm512_add_pd(acc1, _mm512_abs_pd(_mm512_sub_pd(high8_pd(fa), high8_pd(fb))));
	}
	return hsum8_pd(_mm512_add_pd(acc0, acc1));
}

/* ---------------------------------------------------------------------
 * halfvec (binary16 arrays, float4 accumulation)
 * ---------------------------------------------------------------------
 */

/* Sixteen halves at p widened to float4. */
static inline VA_AVX512 __m512
load16_ph(const uint16_t *p)
{
	return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) p));
}

/*
 * The last r < 16 halves at p widened to float4, the other lanes 0: copied
 * into a zeroed buffer, since AVX512F cannot mask 16-bit lanes.
 */
static inline VA_AVX512 __m512
load_tail_ph(const uint16_t *p, int r)
{
	uint16_t	buf[16] = {0};

	memcpy(buf, p, sizeof(uint16_t) * r);
	return load16_ph(buf);
}

/* sum (a[i]-b[i])^2 over halves, in float4: blocks of 32, 16, then the tail */
VA_AVX512 float
VaHalfL2SquaredFloatAvx512(const uint16_t *a, const uint16_t *b, int n)
{
	__m512		acc0 = _mm512_setzero_ps();
	__m512		acc1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(load16_ph(a + i), load16_ph(b + i));
		__m512		d1 = _mm512_sub_ps(load16_ph(a + i + 16), load16_ph(b + i + 16));

		acc0 = _mm512_fmadd_ps(d0, d0, acc0);
		acc1 = _mm512_fmadd_ps(d1, d1, acc1);
	}
	if (i + 16 <= n)
	{
		__m512		d0 = _mm512_sub_ps(load16_ph(a + i), load16_ph(b + i));

		acc0 = _mm512_fmadd_ps(d0, d0, acc0);
		i += 16;
	}
	if (i < n)
	{
		__m512		d1 = _mm512_sub_ps(load_tail_ph(a + i, n - i), load_tail_ph(b + i, n - i));

		acc1 = _mm512_fmadd_ps(d1, d1, acc1);
	}
	return hsum16_ps(_mm512_add_ps(acc0, acc1));
}

/* sum a[i]*b[i] over halves, in float4 */
VA_AVX512 float
VaHalfInnerProductFloatAvx512(const uint16_t *a, const uint16_t *b, int n)
{
	__m512		acc0 = _mm512_setzero_ps();
	__m512		acc1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		acc0 = _mm512_fmadd_ps(load16_ph(a + i), load16_ph(b + i), acc0);
		acc1 = _mm512_fmadd_ps(load16_ph(a + i + 16), load16_ph(b + i + 16), acc1);
	}
	if (i + 16 <= n)
	{
		acc0 = _mm512_fmadd_ps(load16_ph(a + i), load16_ph(b + i), acc0);
		i += 16;
	}
	if (i < n)
		acc1 = _mm512_fmadd_ps(load_tail_ph(a + i, n - i), load_tail_ph(b + i, n - i), acc1);
	return hsum16_ps(_mm512_add_ps(acc0, acc1));
}

/* sum |a[i]-b[i]| over halves, in float4 */
VA_AVX512 float
VaHalfL1FloatAvx512(const uint16_t *a, const uint16_t *b, int n)
{
	__m512		acc0 = _mm512_setzero_ps();
	__m512		acc1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(load16_ph(a + i), load16_ph(b + i));
		__m512		d1 = _mm512_sub_ps(load16_ph(a + i + 16), load16_ph(b + i + 16));

		acc0 = _mm512_add_ps(acc0, _mm512_abs_ps(d0));
		acc1 = _mm512_add_ps(acc1, _mm512_abs_ps(d1));
	}
	if (i + 16 <= n)
	{
		__m512		d0 = _mm512_sub_ps(load16_ph(a + i), load16_ph(b + i));

		acc0 = _mm512_add_ps(acc0, _mm512_abs_ps(d0));
		i += 16;
	}
	if (i < n)
	{
		__m512		d1 = _mm512_sub_ps(load_tail_ph(a + i, n - i), load_tail_ph(b + i, n - i));

		acc1 = _mm512_add_ps(acc1, _mm512_abs_ps(d1));
	}
	return hsum16_ps(_mm512_add_ps(acc0, acc1));
}

/* ---------------------------------------------------------------------
 * bit strings (AVX512_VPOPCNTDQ)
 * ---------------------------------------------------------------------
 */

/* 64 bytes at p; for the tail (r < 64 bytes) they are copied, zero-padded. */
static inline VA_AVX512_POPCNT __m512i
load_tail_bytes(const uint8_t *p, int r)
{
	uint8_t		buf[64] = {0};

	memcpy(buf, p, r);
	return _mm512_loadu_si512(buf);
}

/* Sum of the eight 64-bit lanes. */
static inline VA_AVX512_POPCNT uint64_t
hsum8_epi64(__m512i v)
{
	uint64_t	lanes[8];
	uint64_t	sum = 0;

	_mm512_storeu_si512(lanes, v);
	for (int i = 0; i < 8; i++)
		sum += lanes[i];
	return sum;
}

/* number of bits that differ between a and b: 64 bytes per step */
VA_AVX512_POPCNT uint64_t
VaBitHammingAvx512(const uint8_t *a, const uint8_t *b, int nbytes)
{
	__m512i		acc = _mm512_setzero_si512();
	int			i = 0;

	for (; i + 64 <= nbytes; i += 64)
		acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(a + i),
																		 _mm512_loadu_si512(b + i))));
	if (i < nbytes)
		acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(load_tail_bytes(a + i, nbytes - i),
																		 load_tail_bytes(b + i, nbytes - i))));
	return hsum8_epi64(acc);
}

/* popcount(a & b) and popcount(a | b): 64 bytes per step */
VA_AVX512_POPCNT void
VaBitJaccardCountsAvx512(const uint8_t *a, const uint8_t *b, int nbytes,
						 uint64_t *both, uint64_t *either)
{
	__m512i		acc_both = _mm512_setzero_si512();
	__m512i		acc_either = _mm512_setzero_si512();
	int			i = 0;

	for (; i < nbytes; i += 64)
	{
		__m512i		wa;
		__m512i		wb;

		if (i + 64 <= nbytes)
		{
			wa = _mm512_loadu_si512(a + i);
			wb = _mm512_loadu_si512(b + i);
		}
		else
		{
			wa = load_tail_bytes(a + i, nbytes - i);
			wb = load_tail_bytes(b + i, nbytes - i);
		}
		acc_both = _mm512_add_epi64(acc_both, _mm512_popcnt_epi64(_mm512_and_si512(wa, wb)));
		acc_either = _mm512_add_epi64(acc_either, _mm512_popcnt_epi64(_mm512_or_si512(wa, wb)));
	}
	*both = hsum8_epi64(acc_both);
	*either = hsum8_epi64(acc_either);
}

/* ---------------------------------------------------------------------
 * RaBitQ codes (AVX512BW + AVX512_VNNI; see VaRabitqDotPlanes in distance.h)
 * ---------------------------------------------------------------------
 */

/* Sum of the sixteen 32-bit lanes (pairwise halving). */
static inline VA_AVX512_VNNI int32_t
hsum16_epi32(__m512i v)
{
	__m256i		s8 = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
	__m128i		s = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));

	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
	return _mm_cvtsi128_si32(s);
}

/*
 * sum u[i] * qq[i]; 4 bits: from packed nibbles (below); other bits: over
 * bit planes, 64 coordinates per step: each plane's
 * 64 bits are an opmask that adds 2^b to the bytes of the coordinates it
 * sets (vpaddb with a mask), which assembles the unsigned u bytes; one
 * vpdpbusd then multiplies them with the signed qq bytes and adds groups of
 * four into 32-bit lanes (no saturation; |lane| <= 255 * 128 * 16000 / 16).
 * Two accumulators, alternating steps.  Exact: the same integer as the
 * scalar kernel.  padded is a multiple of 64, so there is no tail;
 * unaligned loads.
 */
VA_AVX512_VNNI int32_t
VaRabitqDotPlanesAvx512Vnni(const uint8_t *planes, const int8_t *qq, int padded, int bits)
{
	int			nbytes = padded / 8;
	__m512i		acc0 = _mm512_setzero_si512();
	__m512i		acc1 = _mm512_setzero_si512();

	if (bits == 4)
	{
		/*
		 * Packed nibbles: a 64-byte block's low nibbles are the u of 64
		 * coordinates and its high nibbles those of the next 64, so an AND
		 * and a shift give two vectors of u bytes, each one vpdpbusd.  A last
		 * block of 64 coordinates is 32 bytes: its low and high nibbles side
		 * by side make one vector.
		 */
		const __m512i low = _mm512_set1_epi8(0x0F);
		int			j = 0;

		for (; j + 128 <= padded; j += 128)
		{
			__m512i		c = _mm512_loadu_si512(planes + j / 2);

			acc0 = _mm512_dpbusd_epi32(acc0, _mm512_and_si512(c, low),
									   _mm512_loadu_si512(qq + j));
			acc1 = _mm512_dpbusd_epi32(acc1, _mm512_and_si512(_mm512_srli_epi16(c, 4), low),
									   _mm512_loadu_si512(qq + j + 64));
		}
		if (j < padded)
		{
			__m256i		c = _mm256_loadu_si256((const __m256i *) (planes + j / 2));
			__m256i		lo = _mm256_and_si256(c, _mm512_castsi512_si256(low));
			__m256i		hi = _mm256_and_si256(_mm256_srli_epi16(c, 4), _mm512_castsi512_si256(low));
			__m512i		u = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);

			acc0 = _mm512_dpbusd_epi32(acc0, u, _mm512_loadu_si512(qq + j));
		}
		return hsum16_epi32(_mm512_add_epi32(acc0, acc1));
	}

	for (int j = 0; j < padded; j += 64)
	{
		const uint8_t *p = planes + j / 8;
		__m512i		u = _mm512_setzero_si512();

		for (int b = 0; b < bits; b++)
		{
			uint64_t	w;

			memcpy(&w, p + (size_t) b * nbytes, sizeof(w));
			u = _mm512_mask_add_epi8(u, (__mmask64) w, u, _mm512_set1_epi8((char) (1 << b)));
		}
		if ((j / 64) & 1)
			acc1 = _mm512_dpbusd_epi32(acc1, u, _mm512_loadu_si512(qq + j));
		else
			acc0 = _mm512_dpbusd_epi32(acc0, u, _mm512_loadu_si512(qq + j));
	}
	return hsum16_epi32(_mm512_add_epi32(acc0, acc1));
}

/* ---------------------------------------------------------------------
 * Product quantization (AVX512F; see VaPqTableL2, VaPqScan in distance.h)
 * ---------------------------------------------------------------------
 */

/*
 * As pq_table_avx2 in distance_avx2.c: 64 entries at a time in four
 * 16-lane accumulators, named so that they stay in registers.
 */
static inline VA_AVX512 void
pq_table_avx512(const float *x, const float *codebook, int m, int dsub, float *table, bool l2)
{
	for (int j = 0; j < m; j++)
	{
		const float *xs = x + (size_t) j * dsub;
		const float *cb = codebook + (size_t) j * dsub * VA_PQ_KSUB;
		float	   *t = table + (size_t) j * VA_PQ_KSUB;

		for (int k0 = 0; k0 < VA_PQ_KSUB; k0 += 64)
		{
			__m512		a0 = _mm512_setzero_ps();
			__m512		a1 = _mm512_setzero_ps();
			__m512		a2 = _mm512_setzero_ps();
			__m512		a3 = _mm512_setzero_ps();
			const float *row = cb + k0;

			for (int d = 0; d < dsub; d++, row += VA_PQ_KSUB)
			{
				__m512		xd = _mm512_set1_ps(xs[d]);
				__m512		c0 = _mm512_loadu_ps(row);
				__m512		c1 = _mm512_loadu_ps(row + 16);
				__m512		c2 = _mm512_loadu_ps(row + 32);
				__m512		c3 = _mm512_loadu_ps(row + 48);

				if (l2)
				{
					c0 = _mm512_sub_ps(xd, c0);
					c1 = _mm512_sub_ps(xd, c1);
					c2 = _mm512_sub_ps(xd, c2);
					c3 = _mm512_sub_ps(xd, c3);
					a0 = _mm512_fmadd_ps(c0, c0, a0);
					a1 = _mm512_fmadd_ps(c1, c1, a1);
					a2 = _mm512_fmadd_ps(c2, c2, a2);
					a3 = _mm512_fmadd_ps(c3, c3, a3);
				}
				else
				{
					a0 = _mm512_fmadd_ps(xd, c0, a0);
					a1 = _mm512_fmadd_ps(xd, c1, a1);
					a2 = _mm512_fmadd_ps(xd, c2, a2);
					a3 = _mm512_fmadd_ps(xd, c3, a3);
				}
			}
			_mm512_storeu_ps(t + k0, a0);
			_mm512_storeu_ps(t + k0 + 16, a1);
			_mm512_storeu_ps(t + k0 + 32, a2);
			_mm512_storeu_ps(t + k0 + 48, a3);
		}
	}
}

VA_AVX512 void
VaPqTableL2Avx512(const float *x, const float *codebook, int m, int dsub, float *table)
{
	pq_table_avx512(x, codebook, m, dsub, table, true);
}

VA_AVX512 void
VaPqTableIpAvx512(const float *x, const float *codebook, int m, int dsub, float *table)
{
	pq_table_avx512(x, codebook, m, dsub, table, false);
}

/*
 * As VaPqScanAvx2 (distance_avx2.c) with sixteen codes per block: a gather
 * of the codes' byte j (as 32-bit words, masked), a gather of the table
 * entries, added in ascending j; blocks only while the words gathered stay
 * inside the array, the rest one code at a time.
 */
VA_AVX512 void
VaPqScanAvx512(const float *table, int m, const uint8_t *codes, int n, float *out)
{
	const __m512i offs = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7,
															  8, 9, 10, 11, 12, 13, 14, 15),
											_mm512_set1_epi32(m));
	const __m512i lowbyte = _mm512_set1_epi32(0xff);
	size_t		total = (size_t) n * m;
	int			i = 0;

	for (; (size_t) (i + 16) * m + 3 <= total; i += 16)
	{
		const uint8_t *base = codes + (size_t) i * m;
		__m512		acc = _mm512_setzero_ps();

		for (int j = 0; j < m; j++)
		{
			__m512i		idx = _mm512_and_si512(_mm512_i32gather_epi32(offs, (const void *) (base + j), 1),
											   lowbyte);

			acc = _mm512_add_ps(acc, _mm512_i32gather_ps(idx, (const void *) (table + (size_t) j * VA_PQ_KSUB), 4));
		}
		_mm512_storeu_ps(out + i, acc);
	}
	for (; i < n; i++)
	{
		const uint8_t *c = codes + (size_t) i * m;
		float		s = 0.0f;

		for (int j = 0; j < m; j++)
			s += table[(size_t) j * VA_PQ_KSUB + c[j]];
		out[i] = s;
	}
}

/*
 * Sixteen running minima with their indexes (a strict < keeps each lane's
 * earliest index), then, in registers, the smallest value (pairwise
 * minima with the lanes 8, 4, 2 and 1 away, which leave it in every
 * lane) and, among the lanes equal to it, the lowest index: the
 * scalar kernel's answer (the index of the first of the smallest; the
 * values are finite, so equal means ==, whichever sign a zero has).
 */
static inline VA_AVX512 int
pq_argmin_avx512(const float *t)
{
	__m512		vmin = _mm512_loadu_ps(t);
	__m512i		vidx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	__m512i		cur = vidx;
	const __m512i step = _mm512_set1_epi32(16);
	const __m512i lanes = vidx;
	__m512		m;
	__m512i		ix;

	for (int k = 16; k < VA_PQ_KSUB; k += 16)
	{
		__m512		v = _mm512_loadu_ps(t + k);
		__mmask16	lt = _mm512_cmp_ps_mask(v, vmin, _CMP_LT_OQ);

		cur = _mm512_add_epi32(cur, step);
		vmin = _mm512_mask_mov_ps(vmin, lt, v);
		vidx = _mm512_mask_mov_epi32(vidx, lt, cur);
	}
	m = vmin;
	for (int sh = 8; sh >= 1; sh /= 2)
	{
		__m512i		swap = _mm512_xor_si512(lanes, _mm512_set1_epi32(sh));

		m = _mm512_min_ps(m, _mm512_permutexvar_ps(swap, m));
	}
	ix = _mm512_mask_mov_epi32(_mm512_set1_epi32(INT32_MAX),
							   _mm512_cmp_ps_mask(vmin, m, _CMP_EQ_OQ), vidx);
	for (int sh = 8; sh >= 1; sh /= 2)
	{
		__m512i		swap = _mm512_xor_si512(lanes, _mm512_set1_epi32(sh));

		ix = _mm512_min_epi32(ix, _mm512_permutexvar_epi32(swap, ix));
	}
	return _mm_cvtsi128_si32(_mm512_castsi512_si128(ix));
}

VA_AVX512 int
VaPqArgminAvx512(const float *t)
{
	return pq_argmin_avx512(t);
}

/*
 * VaPqEncodeL2: per subspace, four rows at a time against each 64 entries
 * of its codebook slice (sixteen accumulators, the slice's four vectors
 * loaded once per coordinate for the four rows), so the slice is read from
 * L1 once per four rows instead of the whole codebook once per row; rows
 * in groups of 16, so their subvectors stay cached across subspaces.  Each
 * entry is computed exactly as pq_table_avx512 computes it (difference,
 * then a fused multiply-add into a sum from 0 in ascending d) and each
 * row's 256 entries go to pq_argmin_avx512, so the codes are those of
 * VaPqTableL2Avx512 and VaPqArgminAvx512, bit for bit.  scratch unused.
 */
VA_AVX512 void
VaPqEncodeL2Avx512(const float *x, int nrows, const float *codebook, int m, int dsub,
				   uint8_t *codes, float *scratch)
{
	size_t		dims = (size_t) m * dsub;
	float		t[4][VA_PQ_KSUB];

	(void) scratch;
	for (int r0 = 0; r0 < nrows; r0 += 16)
	{
		int			rend = Min(nrows, r0 + 16);

		for (int j = 0; j < m; j++)
		{
			const float *cb = codebook + (size_t) j * dsub * VA_PQ_KSUB;
			int			r = r0;

			for (; r + 4 <= rend; r += 4)
			{
				const float *x0 = x + (size_t) r * dims + (size_t) j * dsub;
				const float *x1 = x0 + dims;
				const float *x2 = x1 + dims;
				const float *x3 = x2 + dims;

				for (int k0 = 0; k0 < VA_PQ_KSUB; k0 += 64)
				{
					__m512		a00 = _mm512_setzero_ps(),
								a01 = _mm512_setzero_ps(),
								a02 = _mm512_setzero_ps(),
								a03 = _mm512_setzero_ps(),
								a10 = _mm512_setzero_ps(),
								a11 = _mm512_setzero_ps(),
								a12 = _mm512_setzero_ps(),
								a13 = _mm512_setzero_ps(),
								a20 = _mm512_setzero_ps(),
								a21 = _mm512_setzero_ps(),
								a22 = _mm512_setzero_ps(),
								a23 = _mm512_setzero_ps(),
								a30 = _mm512_setzero_ps(),
								a31 = _mm512_setzero_ps(),
								a32 = _mm512_setzero_ps(),
								a33 = _mm512_setzero_ps();
					const float *row = cb + k0;

					for (int d = 0; d < dsub; d++, row += VA_PQ_KSUB)
					{
						__m512		c0 = _mm512_loadu_ps(row);
						__m512		c1 = _mm512_loadu_ps(row + 16);
						__m512		c2 = _mm512_loadu_ps(row + 32);
						__m512		c3 = _mm512_loadu_ps(row + 48);
						__m512		xd,
									e0,
									e1,
									e2,
									e3;

#define PQ_ROW4(xr, b0, b1, b2, b3) \
						xd = _mm512_set1_ps((xr)[d]); \
						e0 = _mm512_sub_ps(xd, c0); \
						e1 = _mm512_sub_ps(xd, c1); \
						e2 = _mm512_sub_ps(xd, c2); \
						e3 = _mm512_sub_ps(xd, c3); \
						b0 = _mm512_fmadd_ps(e0, e0, b0); \
						b1 = _mm512_fmadd_ps(e1, e1, b1); \
						b2 = _mm512_fmadd_ps(e2, e2, b2); \
						b3 = _mm512_fmadd_ps(e3, e3, b3)

						PQ_ROW4(x0, a00, a01, a02, a03);
						PQ_ROW4(x1, a10, a11, a12, a13);
						PQ_ROW4(x2, a20, a21, a22, a23);
						PQ_ROW4(x3, a30, a31, a32, a33);
#undef PQ_ROW4
					}
					_mm512_storeu_ps(t[0] + k0, a00);
					_mm512_storeu_ps(t[0] + k0 + 16, a01);
					_mm512_storeu_ps(t[0] + k0 + 32, a02);
					_mm512_storeu_ps(t[0] + k0 + 48, a03);
					_mm512_storeu_ps(t[1] + k0, a10);
					_mm512_storeu_ps(t[1] + k0 + 16, a11);
					_mm512_storeu_ps(t[1] + k0 + 32, a12);
					_mm512_storeu_ps(t[1] + k0 + 48, a13);
					_mm512_storeu_ps(t[2] + k0, a20);
					_mm512_storeu_ps(t[2] + k0 + 16, a21);
					_mm512_storeu_ps(t[2] + k0 + 32, a22);
					_mm512_storeu_ps(t[2] + k0 + 48, a23);
					_mm512_storeu_ps(t[3] + k0, a30);
					_mm512_storeu_ps(t[3] + k0 + 16, a31);
					_mm512_storeu_ps(t[3] + k0 + 32, a32);
					_mm512_storeu_ps(t[3] + k0 + 48, a33);
				}
				for (int i = 0; i < 4; i++)
					codes[(size_t) (r + i) * m + j] = (uint8_t) pq_argmin_avx512(t[i]);
			}
			for (; r < rend; r++)
			{
				pq_table_avx512(x + (size_t) r * dims + (size_t) j * dsub, cb, 1, dsub, t[0], true);
				codes[(size_t) r * m + j] = (uint8_t) pq_argmin_avx512(t[0]);
			}
		}
	}
}

/*
 * The reference's lane-order sums of lanes 0-7 (into ip[0], nx[0]) and,
 * when h is 2, of lanes 8-15 (into ip[1], nx[1]) of s and q.
 */
static inline VA_AVX512_UNFUSED void
level_sums(__m512 s, __m512 q, int h, float *ip, float *nx)
{
	float		sl[16];
	float		ql[16];

	_mm512_storeu_ps(sl, s);
	_mm512_storeu_ps(ql, q);
	for (int g = 0; g < h; g++)
	{
		float		ssum = 0.0f;
		float		qsum = 0.0f;

		for (int k = 0; k < 8; k++)
		{
			ssum += sl[g * 8 + k];
			qsum += ql[g * 8 + k];
		}
		ip[g] = ssum;
		nx[g] = qsum;
	}
}

/*
 * VaRabitqLevels with two rescalings in one zmm register: the low eight
 * lanes hold the reference's partial sums of t[e], the high eight those of
 * t[e + 1] (the same eight magnitudes in both halves), so each lane still
 * adds its coordinates in ascending order; products rounded, levels
 * truncated and capped as in VaRabitqLevelsAvx2 (distance_avx2.c).  Four
 * rescalings (two registers) at a time while there are four, then pairs;
 * an odd last rescaling is paired with itself.
 */
VA_AVX512_UNFUSED void
VaRabitqLevelsAvx512(const float *a, int padded, int maxk, const float *t, int nt,
					 float *ip, float *nx)
{
	const __m512i cap = _mm512_set1_epi32(maxk);
	const __m512 half = _mm512_set1_ps(0.5f);
	int			e = 0;

	/* four rescalings at a time: two chains of additions overlap */
	for (; e + 4 <= nt; e += 4)
	{
		__m512		tv0 = _mm512_mask_blend_ps((__mmask16) 0xFF00, _mm512_set1_ps(t[e]),
											   _mm512_set1_ps(t[e + 1]));
		__m512		tv1 = _mm512_mask_blend_ps((__mmask16) 0xFF00, _mm512_set1_ps(t[e + 2]),
											   _mm512_set1_ps(t[e + 3]));
		__m512		s0 = _mm512_setzero_ps();
		__m512		q0 = _mm512_setzero_ps();
		__m512		s1 = _mm512_setzero_ps();
		__m512		q1 = _mm512_setzero_ps();

		for (int i = 0; i < padded; i += 8)
		{
			__m512		av = _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(a + i))));
			__m512		x0 = _mm512_add_ps(_mm512_cvtepi32_ps(_mm512_min_epi32(_mm512_cvttps_epi32(_mm512_mul_ps(av, tv0)), cap)), half);
			__m512		x1 = _mm512_add_ps(_mm512_cvtepi32_ps(_mm512_min_epi32(_mm512_cvttps_epi32(_mm512_mul_ps(av, tv1)), cap)), half);
			__m512		px0 = _mm512_mul_ps(x0, av);
			__m512		pq0 = _mm512_mul_ps(x0, x0);
			__m512		px1 = _mm512_mul_ps(x1, av);
			__m512		pq1 = _mm512_mul_ps(x1, x1);

			s0 = _mm512_add_ps(s0, px0);
			q0 = _mm512_add_ps(q0, pq0);
			s1 = _mm512_add_ps(s1, px1);
			q1 = _mm512_add_ps(q1, pq1);
		}
		level_sums(s0, q0, 2, ip + e, nx + e);
		level_sums(s1, q1, 2, ip + e + 2, nx + e + 2);
	}
	for (; e < nt; e += 2)
	{
		float		t1 = e + 1 < nt ? t[e + 1] : t[e];
		__m512		tv = _mm512_mask_blend_ps((__mmask16) 0xFF00, _mm512_set1_ps(t[e]),
											  _mm512_set1_ps(t1));
		__m512		s0 = _mm512_setzero_ps();
		__m512		q0 = _mm512_setzero_ps();

		for (int i = 0; i < padded; i += 8)
		{
			__m512		av = _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(a + i))));
			__m512		x = _mm512_add_ps(_mm512_cvtepi32_ps(_mm512_min_epi32(_mm512_cvttps_epi32(_mm512_mul_ps(av, tv)), cap)), half);
			__m512		px = _mm512_mul_ps(x, av);
			__m512		pq = _mm512_mul_ps(x, x);

			s0 = _mm512_add_ps(s0, px);
			q0 = _mm512_add_ps(q0, pq);
		}
		level_sums(s0, q0, Min(nt - e, 2), ip + e, nx + e);
	}
}

/*
 * VaDotPanels: eight rows against two panels at a time, each panel's 16
 * columns in one zmm register, loaded once per coordinate for the eight
 * rows (sixteen accumulators, one broadcast per row and coordinate, so
 * ten loads feed sixteen multiply-adds); an odd last panel against eight
 * rows at a time as well; the rows left over one at a time.  Every sum is
 * the scalar kernel's order (ascending d from 0, fused).
 */
VA_AVX512 void
VaDotPanelsAvx512(const float *rows, int nrows, int dims, const float *panels,
				  int npanels, float *out, int ldo)
{
	int			p = 0;

	for (; p + 2 <= npanels; p += 2)
	{
		const float *pa = panels + (size_t) p * dims * VA_PANEL_WIDTH;
		const float *pb = pa + (size_t) dims * VA_PANEL_WIDTH;
		int			r = 0;

		for (; r + 8 <= nrows; r += 8)
		{
			const float *x = rows + (size_t) r * dims;
			__m512		a0 = _mm512_setzero_ps(),
						a1 = _mm512_setzero_ps(),
						a2 = _mm512_setzero_ps(),
						a3 = _mm512_setzero_ps(),
						a4 = _mm512_setzero_ps(),
						a5 = _mm512_setzero_ps(),
						a6 = _mm512_setzero_ps(),
						a7 = _mm512_setzero_ps(),
						b0 = _mm512_setzero_ps(),
						b1 = _mm512_setzero_ps(),
						b2 = _mm512_setzero_ps(),
						b3 = _mm512_setzero_ps(),
						b4 = _mm512_setzero_ps(),
						b5 = _mm512_setzero_ps(),
						b6 = _mm512_setzero_ps(),
						b7 = _mm512_setzero_ps();
			float	   *o = out + (size_t) r * ldo + p * VA_PANEL_WIDTH;

			for (int d = 0; d < dims; d++)
			{
				__m512		ca = _mm512_loadu_ps(pa + d * VA_PANEL_WIDTH);
				__m512		cb = _mm512_loadu_ps(pb + d * VA_PANEL_WIDTH);
				__m512		xd;

#define PANEL_ROW(i, acca, accb) \
				xd = _mm512_set1_ps(x[(i) * (size_t) dims + d]); \
				acca = _mm512_fmadd_ps(xd, ca, acca); \
				accb = _mm512_fmadd_ps(xd, cb, accb)

				PANEL_ROW(0, a0, b0);
				PANEL_ROW(1, a1, b1);
				PANEL_ROW(2, a2, b2);
				PANEL_ROW(3, a3, b3);
				PANEL_ROW(4, a4, b4);
				PANEL_ROW(5, a5, b5);
				PANEL_ROW(6, a6, b6);
				PANEL_ROW(7, a7, b7);
#undef PANEL_ROW
			}
			_mm512_storeu_ps(o, a0);
			_mm512_storeu_ps(o + VA_PANEL_WIDTH, b0);
			_mm512_storeu_ps(o + ldo, a1);
			_mm512_storeu_ps(o + ldo + VA_PANEL_WIDTH, b1);
			_mm512_storeu_ps(o + 2 * (size_t) ldo, a2);
			_mm512_storeu_ps(o + 2 * (size_t) ldo + VA_PANEL_WIDTH, b2);
			_mm512_storeu_ps(o + 3 * (size_t) ldo, a3);
			_mm512_storeu_ps(o + 3 * (size_t) ldo + VA_PANEL_WIDTH, b3);
			_mm512_storeu_ps(o + 4 * (size_t) ldo, a4);
			_mm512_storeu_ps(o + 4 * (size_t) ldo + VA_PANEL_WIDTH, b4);
			_mm512_storeu_ps(o + 5 * (size_t) ldo, a5);
			_mm512_storeu_ps(o + 5 * (size_t) ldo + VA_PANEL_WIDTH, b5);
			_mm512_storeu_ps(o + 6 * (size_t) ldo, a6);
			_mm512_storeu_ps(o + 6 * (size_t) ldo + VA_PANEL_WIDTH, b6);
			_mm512_storeu_ps(o + 7 * (size_t) ldo, a7);
			_mm512_storeu_ps(o + 7 * (size_t) ldo + VA_PANEL_WIDTH, b7);
		}
		for (; r < nrows; r++)
		{
			const float *x = rows + (size_t) r * dims;
			__m512		acca = _mm512_setzero_ps();
			__m512		accb = _mm512_setzero_ps();

			for (int d = 0; d < dims; d++)
			{
				__m512		xd = _mm512_set1_ps(x[d]);

				acca = _mm512_fmadd_ps(xd, _mm512_loadu_ps(pa + d * VA_PANEL_WIDTH), acca);
				accb = _mm512_fmadd_ps(xd, _mm512_loadu_ps(pb + d * VA_PANEL_WIDTH), accb);
			}
			_mm512_storeu_ps(out + (size_t) r * ldo + p * VA_PANEL_WIDTH, acca);
			_mm512_storeu_ps(out + (size_t) r * ldo + (p + 1) * VA_PANEL_WIDTH, accb);
		}
	}
	for (; p < npanels; p++)
	{
		const float *panel = panels + (size_t) p * dims * VA_PANEL_WIDTH;
		int			r = 0;

		for (; r + 8 <= nrows; r += 8)
		{
			const float *x = rows + (size_t) r * dims;
			__m512		a0 = _mm512_setzero_ps(),
						a1 = _mm512_setzero_ps(),
						a2 = _mm512_setzero_ps(),
						a3 = _mm512_setzero_ps(),
						a4 = _mm512_setzero_ps(),
						a5 = _mm512_setzero_ps(),
						a6 = _mm512_setzero_ps(),
						a7 = _mm512_setzero_ps();
			float	   *o = out + (size_t) r * ldo + p * VA_PANEL_WIDTH;

			for (int d = 0; d < dims; d++)
			{
				__m512		c = _mm512_loadu_ps(panel + d * VA_PANEL_WIDTH);

				a0 = _mm512_fmadd_ps(_mm512_set1_ps(x[d]), c, a0);
				a1 = _mm512_fmadd_ps(_mm512_set1_ps(x[(size_t) dims + d]), c, a1);
				a2 = _mm512_fmadd_ps(_mm512_set1_ps(x[2 * (size_t) dims + d]), c, a2);
				a3 = _mm512_fmadd_ps(_mm512_set1_ps(x[3 * (size_t) dims + d]), c, a3);
				a4 = _mm512_fmadd_ps(_mm512_set1_ps(x[4 * (size_t) dims + d]), c, a4);
				a5 = _mm512_fmadd_ps(_mm512_set1_ps(x[5 * (size_t) dims + d]), c, a5);
				a6 = _mm512_fmadd_ps(_mm512_set1_ps(x[6 * (size_t) dims + d]), c, a6);
				a7 = _mm512_fmadd_ps(_mm512_set1_ps(x[7 * (size_t) dims + d]), c, a7);
			}
			_mm512_storeu_ps(o, a0);
			_mm512_storeu_ps(o + ldo, a1);
			_mm512_storeu_ps(o + 2 * (size_t) ldo, a2);
			_mm512_storeu_ps(o + 3 * (size_t) ldo, a3);
			_mm512_storeu_ps(o + 4 * (size_t) ldo, a4);
			_mm512_storeu_ps(o + 5 * (size_t) ldo, a5);
			_mm512_storeu_ps(o + 6 * (size_t) ldo, a6);
			_mm512_storeu_ps(o + 7 * (size_t) ldo, a7);
		}
		for (; r < nrows; r++)
		{
			const float *x = rows + (size_t) r * dims;
			__m512		acc = _mm512_setzero_ps();

			for (int d = 0; d < dims; d++)
				acc = _mm512_fmadd_ps(_mm512_set1_ps(x[d]),
									  _mm512_loadu_ps(panel + d * VA_PANEL_WIDTH), acc);
			_mm512_storeu_ps(out + (size_t) r * ldo + p * VA_PANEL_WIDTH, acc);
		}
	}
}

/*
 * VaPanelKeys sixteen keys at a time, the tail with masked loads and
 * stores; vminps keeps the smaller of a key and the running minimum.
 */
VA_AVX512 float
VaPanelKeysAvx512(float *key, const float *bias, int n)
{
	const __m512 two = _mm512_set1_ps(2.0f);
	__m512		vmin = _mm512_set1_ps(FLT_MAX);
	float		mins[16];
	float		kmin = FLT_MAX;

	for (int j = 0; j < n; j += 16)
	{
		__mmask16	m = first_lanes(Min(n - j, 16));
		__m512		k = _mm512_maskz_loadu_ps(m, key + j);

		k = bias != NULL ?
			_mm512_sub_ps(_mm512_maskz_loadu_ps(m, bias + j), _mm512_mul_ps(two, k)) :
			_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(k), _mm512_set1_epi32(INT32_MIN)));
		_mm512_mask_storeu_ps(key + j, m, k);
		vmin = _mm512_mask_min_ps(vmin, m, k, vmin);
	}
	_mm512_storeu_ps(mins, vmin);
	for (int l = 0; l < 16; l++)
		if (mins[l] < kmin)
			kmin = mins[l];
	return kmin;
}

/* VaCountAtMost sixteen keys at a time: the comparison's mask bits counted. */
VA_AVX512 int
VaCountAtMostAvx512(const float *key, int n, float limit)
{
	const __m512 lim = _mm512_set1_ps(limit);
	int			count = 0;

	for (int j = 0; j < n; j += 16)
	{
		__mmask16	m = first_lanes(Min(n - j, 16));

		count += __builtin_popcount((unsigned) (m & _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m, key + j), lim, _CMP_LE_OQ)));
	}
	return count;
}

#else							/* no AVX-512 kernels */

/* Nothing to build on this platform; keep the translation unit non-empty. */
typedef int VaDistanceAvx512Unavailable;

#endif

/*
 * distance_avx2.c
 *	  AVX2+FMA distance kernels for x86-64 (and the AVX2 RaBitQ code and
 *	  level-search kernels and the nearest-centroid panel kernel).  Every function carries VA_AVX2
 *	  (target("avx2,fma"), distance_intrin.h), so the file builds with the
 *	  default flags and the instructions run only when VaDistanceInit() has
 *	  checked the CPU.  Same contracts as the scalar kernels in distance.c:
 *	  n >= 0, exactly n elements of each array are read (the tail past the
 *	  last full 8-float block is done one element at a time), no allocation.
 *	  Results may differ from the scalar kernels in the last bits because the
 *	  summation order differs (eight or more partial sums).
 *
 *	  Compiled a second time, against SIMDe instead of the hardware, by the
 *	  emulated kernel test (VA_KERNEL_EMULATE; test/kernels/).
 */
#include "vectorann.h"

#include "distance/distance.h"
#include "distance/distance_simd.h"

#if defined(VA_HAVE_AVX2_KERNELS) || defined(VA_KERNEL_EMULATE)

#include "distance/distance_intrin.h"
#include <float.h>
#include <math.h>
#include <string.h>

/* Sum of the eight lanes of a float vector. */
static inline VA_AVX2 float
hsum_ps(__m256 v)
{
	__m128		lo = _mm256_castps256_ps128(v);
	__m128		hi = _mm256_extractf128_ps(v, 1);
	__m128		s = _mm_add_ps(lo, hi);

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* Sum of the four lanes of a double vector. */
static inline VA_AVX2 double
hsum_pd(__m256d v)
{
	__m128d		lo = _mm256_castpd256_pd128(v);
	__m128d		hi = _mm256_extractf128_pd(v, 1);
	__m128d		s = _mm_add_pd(lo, hi);

	s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
	return _mm_cvtsd_f64(s);
}

/* Four floats at p, widened to double. */
static inline VA_AVX2 __m256d
load4_pd(const float *p)
{
	return _mm256_cvtps_pd(_mm_loadu_ps(p));
}

/* sum (a[i]-b[i])^2 in float: two 8-lane accumulators, then a scalar tail */
VA_AVX2 float
VaL2SquaredFloatAvx2(const float *a, const float *b, int n)
{
	__m256		acc0 = _mm256_setzero_ps();
	__m256		acc1 = _mm256_setzero_ps();
	float		sum;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		acc0 = _mm256_fmadd_ps(d0, d0, acc0);
		acc1 = _mm256_fmadd_ps(d1, d1, acc1);
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));

		acc0 = _mm256_fmadd_ps(d0, d0, acc0);
	}
	sum = hsum_ps(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		sum += d * d;
	}
	return sum;
}

/* sum a[i]*b[i] in float */
VA_AVX2 float
VaInnerProductFloatAvx2(const float *a, const float *b, int n)
{
	__m256		acc0 = _mm256_setzero_ps();
	__m256		acc1 = _mm256_setzero_ps();
	float		sum;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
		acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
	}
	for (; i + 8 <= n; i += 8)
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
	sum = hsum_ps(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		sum += a[i] * b[i];
	return sum;
}

/* sum |a[i]-b[i]| in float; |x| clears the sign bit */
VA_AVX2 float
VaL1FloatAvx2(const float *a, const float *b, int n)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256		acc0 = _mm256_setzero_ps();
	__m256		acc1 = _mm256_setzero_ps();
	float		sum;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		acc0 = _mm256_add_ps(acc0, _mm256_andnot_ps(sign, d0));
		acc1 = _mm256_add_ps(acc1, _mm256_andnot_ps(sign, d1));
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));

		acc0 = _mm256_add_ps(acc0, _mm256_andnot_ps(sign, d0));
	}
	sum = hsum_ps(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		sum += fabsf(a[i] - b[i]);
	return sum;
}

/* sum (a[i]-b[i])^2 with elements widened to double, accumulated in double */
VA_AVX2 double
VaL2SquaredDoubleAvx2(const float *a, const float *b, int n)
{
	__m256d		acc0 = _mm256_setzero_pd();
	__m256d		acc1 = _mm256_setzero_pd();
	double		sum;
	int			i = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256d		d0 = _mm256_sub_pd(load4_pd(a + i), load4_pd(b + i));
		__m256d		d1 = _mm256_sub_pd(load4_pd(a + i + 4), load4_pd(b + i + 4));

		acc0 = _mm256_fmadd_pd(d0, d0, acc0);
		acc1 = _mm256_fmadd_pd(d1, d1, acc1);
	}
	for (; i + 4 <= n; i += 4)
	{
		__m256d		d0 = _mm256_sub_pd(load4_pd(a + i), load4_pd(b + i));

		acc0 = _mm256_fmadd_pd(d0, d0, acc0);
	}
	sum = hsum_pd(_mm256_add_pd(acc0, acc1));
	for (; i < n; i++)
	{
		double		d = (double) a[i] - (double) b[i];

		sum += d * d;
	}
	return sum;
}

/* sum a[i]*b[i] in double; each product of two floats is exact in double */
VA_AVX2 double
VaInnerProductDoubleAvx2(const float *a, const float *b, int n)
{
	__m256d		acc0 = _mm256_setzero_pd();
	__m256d		acc1 = _mm256_setzero_pd();
	double		sum;
	int			i = 0;

	for (; i + 8 <= n; i += 8)
	{
		acc0 = _mm256_fmadd_pd(load4_pd(a + i), load4_pd(b + i), acc0);
		acc1 = _mm256_fmadd_pd(load4_pd(a + i + 4), load4_pd(b + i + 4), acc1);
	}
	for (; i + 4 <= n; i += 4)
		acc0 = _mm256_fmadd_pd(load4_pd(a + i), load4_pd(b + i), acc0);
	sum = hsum_pd(_mm256_add_pd(acc0, acc1));
	for (; i < n; i++)
		sum += (double) a[i] * (double) b[i];
	return sum;
}

/* sum |a[i]-b[i]| in double */
VA_AVX2 double
VaL1DoubleAvx2(const float *a, const float *b, int n)
{
	const __m256d sign = _mm256_set1_pd(-0.0);
	__m256d		acc0 = _mm256_setzero_pd();
	__m256d		acc1 = _mm256_setzero_pd();
	double		sum;
	int			i = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256d		d0 = _mm256_sub_pd(load4_pd(a + i), load4_pd(b + i));
		__m256d		d1 = _mm256_sub_pd(load4_pd(a + i + 4), load4_pd(b + i + 4));

		acc0 = _mm256_add_pd(acc0, _mm256_andnot_pd(sign, d0));
		acc1 = _mm256_add_pd(acc1, _mm256_andnot_pd(sign, d1));
	}
	for (; i + 4 <= n; i += 4)
	{
		__m256d		d0 = _mm256_sub_pd(load4_pd(a + i), load4_pd(b + i));

		acc0 = _mm256_add_pd(acc0, _mm256_andnot_pd(sign, d0));
	}
	sum = hsum_pd(_mm256_add_pd(acc0, acc1));
	for (; i < n; i++)
		sum += fabs((double) a[i] - (double) b[i]);
	return sum;
}

/* ---------------------------------------------------------------------
 * RaBitQ codes (see VaRabitqDotPlanes in distance.h)
 * ---------------------------------------------------------------------
 */

/* Sum of the eight 32-bit lanes (pairwise halving). */
static inline VA_AVX2 int32_t
hsum8_epi32(__m256i v)
{
	__m128i		s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));

	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
	return _mm_cvtsi128_si32(s);
}

/*
 * sum u[i] * qq[i]; 4 bits: from packed nibbles (below); other bits: over
 * bit planes, 32 coordinates per step: the step's 32
 * bits of a plane are spread to one byte per coordinate (byte shuffle of
 * the broadcast word, AND with the bit each byte stands for, unsigned min
 * with 1, giving 0 or 1), multiplied with the signed qq bytes and added in
 * pairs (vpmaddubsw: |sum| <= 2 * 128, no saturation), then weighted by 2^b
 * and added in pairs into 32-bit lanes (vpmaddwd).  Exact: the same
 * integer as the scalar kernel.  padded is a multiple of 64, so there is
 * no tail; unaligned loads.
 */
VA_AVX2 int32_t
VaRabitqDotPlanesAvx2(const uint8_t *planes, const int8_t *qq, int padded, int bits)
{
	const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
											2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
	const __m256i bitsel = _mm256_set1_epi64x((long long) 0x8040201008040201ULL);
	const __m256i one = _mm256_set1_epi8(1);
	int			nbytes = padded / 8;
	__m256i		acc = _mm256_setzero_si256();

	if (bits == 4)
	{
		/*
		 * Packed nibbles: 32 bytes of a 128-coordinate block hold in their
		 * low nibbles the u of 32 coordinates and in their high ones those of
		 * the 32 that are 64 further on (in a last block of 64 coordinates,
		 * 32 further on); vpmaddubsw (|pair sum| <= 2 * 15 * 128) and
		 * vpmaddwd with ones add them into 32-bit lanes.
		 */
		const __m256i low = _mm256_set1_epi8(0x0F);
		const __m256i ones = _mm256_set1_epi16(1);

		for (int j = 0; j < padded; j += 128)
		{
			int half = (j + 128 <= padded) ? 64 : 32;

			for (int k = 0; k < half; k += 32)
			{
				__m256i		c = _mm256_loadu_si256((const __m256i *) (planes + j / 2 + k));
				__m256i		lo = _mm256_and_si256(c, low);
				__m256i		hi = _mm256_and_si256(_mm256_srli_epi16(c, 4), low);
				__m256i		q0 = _mm256_loadu_si256((const __m256i *) (qq + j + k));
				__m256i		q1 = _mm256_loadu_si256((const __m256i *) (qq + j + half +k));

				acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, q0), ones));
				acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(hi, q1), ones));
			}
		}
		return hsum8_epi32(acc);
	}

	for (int j = 0; j < padded; j += 32)
	{
		__m256i		q = _mm256_loadu_si256((const __m256i *) (qq + j));

		for (int b = 0; b < bits; b++)
		{
			uint32_t	w;
			__m256i		m;

			memcpy(&w, planes + (size_t) b * nbytes + j / 8, sizeof(w));
			m = _mm256_shuffle_epi8(_mm256_set1_epi32((int) w), spread);
			m = _mm256_min_epu8(_mm256_and_si256(m, bitsel), one);
			acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(m, q),
														  _mm256_set1_epi16((short) (1 << b))));
		}
	}
	return hsum8_epi32(acc);
}

/* ---------------------------------------------------------------------
 * Product quantization (see VaPqTableL2, VaPqScan in distance.h)
 * ---------------------------------------------------------------------
 */

/*
 * One subspace's 256 table entries, 32 at a time in four accumulators
 * (named, so that they stay in registers): per coordinate d the broadcast
 * x[d] meets 32 contiguous centroid coordinates; l2 says squared
 * differences, else products.
 */
static inline VA_AVX2 void
pq_table_avx2(const float *x, const float *codebook, int m, int dsub, float *table, bool l2)
{
	for (int j = 0; j < m; j++)
	{
		const float *xs = x + (size_t) j * dsub;
		const float *cb = codebook + (size_t) j * dsub * VA_PQ_KSUB;
		float	   *t = table + (size_t) j * VA_PQ_KSUB;

		for (int k0 = 0; k0 < VA_PQ_KSUB; k0 += 32)
		{
			__m256		a0 = _mm256_setzero_ps();
			__m256		a1 = _mm256_setzero_ps();
			__m256		a2 = _mm256_setzero_ps();
			__m256		a3 = _mm256_setzero_ps();
			const float *row = cb + k0;

			for (int d = 0; d < dsub; d++, row += VA_PQ_KSUB)
			{
				__m256		xd = _mm256_set1_ps(xs[d]);
				__m256		c0 = _mm256_loadu_ps(row);
				__m256		c1 = _mm256_loadu_ps(row + 8);
				__m256		c2 = _mm256_loadu_ps(row + 16);
				__m256		c3 = _mm256_loadu_ps(row + 24);

				if (l2)
				{
					c0 = _mm256_sub_ps(xd, c0);
					c1 = _mm256_sub_ps(xd, c1);
					c2 = _mm256_sub_ps(xd, c2);
					c3 = _mm256_sub_ps(xd, c3);
					a0 = _mm256_fmadd_ps(c0, c0, a0);
					a1 = _mm256_fmadd_ps(c1, c1, a1);
					a2 = _mm256_fmadd_ps(c2, c2, a2);
					a3 = _mm256_fmadd_ps(c3, c3, a3);
				}
				else
				{
					a0 = _mm256_fmadd_ps(xd, c0, a0);
					a1 = _mm256_fmadd_ps(xd, c1, a1);
					a2 = _mm256_fmadd_ps(xd, c2, a2);
					a3 = _mm256_fmadd_ps(xd, c3, a3);
				}
			}
			_mm256_storeu_ps(t + k0, a0);
			_mm256_storeu_ps(t + k0 + 8, a1);
			_mm256_storeu_ps(t + k0 + 16, a2);
			_mm256_storeu_ps(t + k0 + 24, a3);
		}
	}
}

VA_AVX2 void
VaPqTableL2Avx2(const float *x, const float *codebook, int m, int dsub, float *table)
{
	pq_table_avx2(x, codebook, m, dsub, table, true);
}

VA_AVX2 void
VaPqTableIpAvx2(const float *x, const float *codebook, int m, int dsub, float *table)
{
	pq_table_avx2(x, codebook, m, dsub, table, false);
}

/*
 * Eight codes at a time, one lane each: per subspace j a gather of 32-bit
 * words at the codes' byte j (masked to the byte) gives the eight table
 * indices, a second gather the eight entries, added in ascending j as the
 * scalar kernel does (bit for bit the same sums).  A word gathered at byte
 * j of the block's last code may reach 3 bytes past that code, so blocks
 * run only while those bytes are still inside the array; the rest go one
 * code at a time.
 */
VA_AVX2 void
VaPqScanAvx2(const float *table, int m, const uint8_t *codes, int n, float *out)
{
	const __m256i offs = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
											_mm256_set1_epi32(m));
	const __m256i lowbyte = _mm256_set1_epi32(0xff);
	size_t		total = (size_t) n * m;
	int			i = 0;

	for (; (size_t) (i + 8) * m + 3 <= total; i += 8)
	{
		const uint8_t *base = codes + (size_t) i * m;
		__m256		acc = _mm256_setzero_ps();

		for (int j = 0; j < m; j++)
		{
			__m256i		idx = _mm256_and_si256(_mm256_i32gather_epi32((const int *) (base + j), offs, 1),
											   lowbyte);

			acc = _mm256_add_ps(acc, _mm256_i32gather_ps(table + (size_t) j * VA_PQ_KSUB, idx, 4));
		}
		_mm256_storeu_ps(out + i, acc);
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
 * Eight running minima with their indexes (a strict < keeps each lane's
 * earliest index), then the smallest value and, among the lanes holding
 * it, the lowest index: the scalar kernel's answer.
 */
VA_AVX2 int
VaPqArgminAvx2(const float *t)
{
	__m256		vmin = _mm256_loadu_ps(t);
	__m256i		vidx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	__m256i		cur = vidx;
	const __m256i step = _mm256_set1_epi32(8);
	float		mins[8];
	int32_t		idxs[8];
	int			best = 0;

	for (int k = 8; k < VA_PQ_KSUB; k += 8)
	{
		__m256		v = _mm256_loadu_ps(t + k);
		__m256		lt = _mm256_cmp_ps(v, vmin, _CMP_LT_OQ);

		cur = _mm256_add_epi32(cur, step);
		vmin = _mm256_blendv_ps(vmin, v, lt);
		vidx = _mm256_blendv_epi8(vidx, cur, _mm256_castps_si256(lt));
	}
	_mm256_storeu_ps(mins, vmin);
	_mm256_storeu_si256((__m256i *) idxs, vidx);
	for (int l = 1; l < 8; l++)
		if (mins[l] < mins[best] || (mins[l] == mins[best] && idxs[l] < idxs[best]))
			best = l;
	return idxs[best];
}

/*
 * VaPqEncodeL2 from this file's table and argmin kernels, one row at a
 * time (the AVX-512 version blocks rows; this one only has to agree with
 * VaPqTableL2Avx2 and VaPqArgminAvx2, which it is made of).
 */
VA_AVX2 void
VaPqEncodeL2Avx2(const float *x, int nrows, const float *codebook, int m, int dsub,
				 uint8_t *codes, float *scratch)
{
	for (int r = 0; r < nrows; r++)
	{
		VaPqTableL2Avx2(x + (size_t) r * m * dsub, codebook, m, dsub, scratch);
		for (int j = 0; j < m; j++)
			codes[(size_t) r * m + j] = (uint8_t) VaPqArgminAvx2(scratch + (size_t) j * VA_PQ_KSUB);
	}
}

/*
 * The eight lanes' sums of one rescaling, added in lane order (the tail of
 * the VaRabitqLevels order).
 */
static inline VA_AVX2 void
lane_sums(__m256 s, __m256 q, float *ip, float *nx)
{
	float		sl[8];
	float		ql[8];
	float		ssum = 0.0f;
	float		qsum = 0.0f;

	_mm256_storeu_ps(sl, s);
	_mm256_storeu_ps(ql, q);
	for (int k = 0; k < 8; k++)
	{
		ssum += sl[k];
		qsum += ql[k];
	}
	*ip = ssum;
	*nx = qsum;
}

/*
 * VaRabitqLevels: the lanes of one ymm register are the reference's eight
 * partial sums; two rescalings at a time, so two chains of additions
 * overlap.  Products are rounded (mul, then add: VA_NO_FP_CONTRACT keeps
 * GCC from fusing them); the levels are truncated with vcvttps2dq and capped
 * with vpminsd, as the reference's (int) and Min.
 */
VA_AVX2_UNFUSED void
VaRabitqLevelsAvx2(const float *a, int padded, int maxk, const float *t, int nt,
				   float *ip, float *nx)
{
	const __m256i cap = _mm256_set1_epi32(maxk);
	const __m256 half = _mm256_set1_ps(0.5f);
	int			e = 0;

	for (; e + 2 <= nt; e += 2)
	{
		__m256		t0 = _mm256_set1_ps(t[e]);
		__m256		t1 = _mm256_set1_ps(t[e + 1]);
		__m256		s0 = _mm256_setzero_ps();
		__m256		q0 = _mm256_setzero_ps();
		__m256		s1 = _mm256_setzero_ps();
		__m256		q1 = _mm256_setzero_ps();

		for (int i = 0; i < padded; i += 8)
		{
			__m256		av = _mm256_loadu_ps(a + i);
			__m256		x0 = _mm256_add_ps(_mm256_cvtepi32_ps(_mm256_min_epi32(_mm256_cvttps_epi32(_mm256_mul_ps(av, t0)), cap)), half);
			__m256		x1 = _mm256_add_ps(_mm256_cvtepi32_ps(_mm256_min_epi32(_mm256_cvttps_epi32(_mm256_mul_ps(av, t1)), cap)), half);
			__m256		p0 = _mm256_mul_ps(x0, av);
			__m256		r0 = _mm256_mul_ps(x0, x0);
			__m256		p1 = _mm256_mul_ps(x1, av);
			__m256		r1 = _mm256_mul_ps(x1, x1);

			s0 = _mm256_add_ps(s0, p0);
			q0 = _mm256_add_ps(q0, r0);
			s1 = _mm256_add_ps(s1, p1);
			q1 = _mm256_add_ps(q1, r1);
		}
		lane_sums(s0, q0, &ip[e], &nx[e]);
		lane_sums(s1, q1, &ip[e + 1], &nx[e + 1]);
	}
	for (; e < nt; e++)
	{
		__m256		t0 = _mm256_set1_ps(t[e]);
		__m256		s0 = _mm256_setzero_ps();
		__m256		q0 = _mm256_setzero_ps();

		for (int i = 0; i < padded; i += 8)
		{
			__m256		av = _mm256_loadu_ps(a + i);
			__m256		x0 = _mm256_add_ps(_mm256_cvtepi32_ps(_mm256_min_epi32(_mm256_cvttps_epi32(_mm256_mul_ps(av, t0)), cap)), half);
			__m256		p0 = _mm256_mul_ps(x0, av);
			__m256		r0 = _mm256_mul_ps(x0, x0);

			s0 = _mm256_add_ps(s0, p0);
			q0 = _mm256_add_ps(q0, r0);
		}
		lane_sums(s0, q0, &ip[e], &nx[e]);
	}
}

/*
 * VaDotPanels: four rows against one panel at a time, the panel's 16
 * columns in two ymm registers, so each coordinate of the panel is loaded
 * once for four rows and every row's coordinate broadcast once (eight
 * accumulators); the rows left over one at a time.
 */
VA_AVX2 void
VaDotPanelsAvx2(const float *rows, int nrows, int dims, const float *panels,
				int npanels, float *out, int ldo)
{
	for (int p = 0; p < npanels; p++)
	{
		const float *panel = panels + (size_t) p * dims * VA_PANEL_WIDTH;
		int			r = 0;

		for (; r + 4 <= nrows; r += 4)
		{
			const float *x0 = rows + (size_t) r * dims;
			const float *x1 = x0 + dims;
			const float *x2 = x1 + dims;
			const float *x3 = x2 + dims;
			__m256		a00 = _mm256_setzero_ps(),
						a01 = _mm256_setzero_ps();
			__m256		a10 = _mm256_setzero_ps(),
						a11 = _mm256_setzero_ps();
			__m256		a20 = _mm256_setzero_ps(),
						a21 = _mm256_setzero_ps();
			__m256		a30 = _mm256_setzero_ps(),
						a31 = _mm256_setzero_ps();
			float	   *o = out + (size_t) r * ldo + p * VA_PANEL_WIDTH;

			for (int d = 0; d < dims; d++)
			{
				__m256		c0 = _mm256_loadu_ps(panel + d * VA_PANEL_WIDTH);
				__m256		c1 = _mm256_loadu_ps(panel + d * VA_PANEL_WIDTH + 8);
				__m256		b;

				b = _mm256_broadcast_ss(x0 + d);
				a00 = _mm256_fmadd_ps(b, c0, a00);
				a01 = _mm256_fmadd_ps(b, c1, a01);
				b = _mm256_broadcast_ss(x1 + d);
				a10 = _mm256_fmadd_ps(b, c0, a10);
				a11 = _mm256_fmadd_ps(b, c1, a11);
				b = _mm256_broadcast_ss(x2 + d);
				a20 = _mm256_fmadd_ps(b, c0, a20);
				a21 = _mm256_fmadd_ps(b, c1, a21);
				b = _mm256_broadcast_ss(x3 + d);
				a30 = _mm256_fmadd_ps(b, c0, a30);
				a31 = _mm256_fmadd_ps(b, c1, a31);
			}
			_mm256_storeu_ps(o, a00);
			_mm256_storeu_ps(o + 8, a01);
			_mm256_storeu_ps(o + ldo, a10);
			_mm256_storeu_ps(o + ldo + 8, a11);
			_mm256_storeu_ps(o + 2 * (size_t) ldo, a20);
			_mm256_storeu_ps(o + 2 * (size_t) ldo + 8, a21);
			_mm256_storeu_ps(o + 3 * (size_t) ldo, a30);
			_mm256_storeu_ps(o + 3 * (size_t) ldo + 8, a31);
		}
		for (; r < nrows; r++)
		{
			const float *x0 = rows + (size_t) r * dims;
			__m256		a00 = _mm256_setzero_ps(),
						a01 = _mm256_setzero_ps();
			float	   *o = out + (size_t) r * ldo + p * VA_PANEL_WIDTH;

			for (int d = 0; d < dims; d++)
			{
				__m256		b = _mm256_broadcast_ss(x0 + d);

				a00 = _mm256_fmadd_ps(b, _mm256_loadu_ps(panel + d * VA_PANEL_WIDTH), a00);
				a01 = _mm256_fmadd_ps(b, _mm256_loadu_ps(panel + d * VA_PANEL_WIDTH + 8), a01);
			}
			_mm256_storeu_ps(o, a00);
			_mm256_storeu_ps(o + 8, a01);
		}
	}
}

/* VaPanelKeys eight keys at a time: vminps keeps the smaller of a key and the running minimum. */
VA_AVX2 float
VaPanelKeysAvx2(float *key, const float *bias, int n)
{
	const __m256 two = _mm256_set1_ps(2.0f);
	__m256		vmin = _mm256_set1_ps(FLT_MAX);
	float		mins[8];
	float		kmin = FLT_MAX;
	int			j = 0;

	for (; j + 8 <= n; j += 8)
	{
		__m256		k = _mm256_loadu_ps(key + j);

		k = bias != NULL ? _mm256_sub_ps(_mm256_loadu_ps(bias + j), _mm256_mul_ps(two, k)) :
			_mm256_xor_ps(k, _mm256_set1_ps(-0.0f));
		_mm256_storeu_ps(key + j, k);
		vmin = _mm256_min_ps(k, vmin);
	}
	for (; j < n; j++)
	{
		key[j] = bias != NULL ? bias[j] - 2.0f * key[j] : -key[j];
		if (key[j] < kmin)
			kmin = key[j];
	}
	_mm256_storeu_ps(mins, vmin);
	for (int l = 0; l < 8; l++)
		if (mins[l] < kmin)
			kmin = mins[l];
	return kmin;
}

/* VaCountAtMost eight keys at a time: the comparison's mask bits counted. */
VA_AVX2 int
VaCountAtMostAvx2(const float *key, int n, float limit)
{
	const __m256 lim = _mm256_set1_ps(limit);
	int			count = 0;
	int			j = 0;

	for (; j + 8 <= n; j += 8)
		count += __builtin_popcount((unsigned) _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(key + j), lim, _CMP_LE_OQ)));
	for (; j < n; j++)
		count += key[j] <= limit;
	return count;
}

#else							/* !VA_HAVE_AVX2_KERNELS && !VA_KERNEL_EMULATE */

/* Nothing to build on this platform; keep the translation unit non-empty. */
typedef int VaDistanceAvx2Unavailable;

#endif							/* VA_HAVE_AVX2_KERNELS || VA_KERNEL_EMULATE */

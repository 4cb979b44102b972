/*
 * distance_avx2.c
 *	  AVX2+FMA distance kernels for x86-64.  Every function carries VA_AVX2
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

#include "distance/distance_simd.h"

#if defined(VA_HAVE_AVX2_KERNELS) || defined(VA_KERNEL_EMULATE)

#include "distance/distance_intrin.h"
#include <math.h>

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

#else							/* !VA_HAVE_AVX2_KERNELS && !VA_KERNEL_EMULATE */

/* Nothing to build on this platform; keep the translation unit non-empty. */
typedef int VaDistanceAvx2Unavailable;

#endif							/* VA_HAVE_AVX2_KERNELS || VA_KERNEL_EMULATE */

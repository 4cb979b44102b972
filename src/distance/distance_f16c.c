/*
 * distance_f16c.c
 *	  halfvec distance kernels for x86-64 with AVX2, FMA and F16C.  Every
 *	  function carries VA_F16C (target("avx2,fma,f16c"), distance_intrin.h), so the file
 *	  builds with the default flags and the instructions run only when
 *	  VaDistanceInit() has checked the CPU.  Same contracts as the scalar
 *	  halfvec kernels in distance.c: n >= 0 raw binary16 values per array,
 *	  exactly n read (the tail past the last full block of eight is done one
 *	  element at a time with the same widening), float4 accumulation, no
 *	  allocation.  Results may differ from the scalar ones in the last bits
 *	  because the summation order differs.
 *
 *	  Compiled a second time, against SIMDe instead of the hardware, by the
 *	  emulated kernel test (VA_KERNEL_EMULATE; test/kernels/).
 */
#include "vectorann.h"

#include "distance/distance.h"
#include "distance/distance_simd.h"

#if defined(VA_HAVE_F16C_KERNELS) || defined(VA_KERNEL_EMULATE)

#include "distance/distance_intrin.h"
#include <math.h>

/* Eight halves at p widened to float4. */
static inline VA_F16C __m256
load8_ph(const uint16_t *p)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) p));
}

/* One half widened to float4 with the same instruction as the body. */
static inline VA_F16C float
half1(uint16_t h)
{
	return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

/* Sum of the eight lanes. */
static inline VA_F16C float
hsum8(__m256 v)
{
	__m128		s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* sum (a[i]-b[i])^2 over halves, in float4 */
VA_F16C float
VaHalfL2SquaredFloatF16c(const uint16_t *a, const uint16_t *b, int n)
{
	__m256		acc0 = _mm256_setzero_ps();
	__m256		acc1 = _mm256_setzero_ps();
	float		sum;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(load8_ph(a + i), load8_ph(b + i));
		__m256		d1 = _mm256_sub_ps(load8_ph(a + i + 8), load8_ph(b + i + 8));

		acc0 = _mm256_fmadd_ps(d0, d0, acc0);
		acc1 = _mm256_fmadd_ps(d1, d1, acc1);
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d0 = _mm256_sub_ps(load8_ph(a + i), load8_ph(b + i));

		acc0 = _mm256_fmadd_ps(d0, d0, acc0);
	}
	sum = hsum8(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
	{
		float		d = half1(a[i]) - half1(b[i]);

		sum += d * d;
	}
	return sum;
}

/* sum a[i]*b[i] over halves, in float4 */
VA_F16C float
VaHalfInnerProductFloatF16c(const uint16_t *a, const uint16_t *b, int n)
{
	__m256		acc0 = _mm256_setzero_ps();
	__m256		acc1 = _mm256_setzero_ps();
	float		sum;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		acc0 = _mm256_fmadd_ps(load8_ph(a + i), load8_ph(b + i), acc0);
		acc1 = _mm256_fmadd_ps(load8_ph(a + i + 8), load8_ph(b + i + 8), acc1);
	}
	for (; i + 8 <= n; i += 8)
		acc0 = _mm256_fmadd_ps(load8_ph(a + i), load8_ph(b + i), acc0);
	sum = hsum8(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		sum += half1(a[i]) * half1(b[i]);
	return sum;
}

/* sum |a[i]-b[i]| over halves, in float4 */
VA_F16C float
VaHalfL1FloatF16c(const uint16_t *a, const uint16_t *b, int n)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256		acc0 = _mm256_setzero_ps();
	__m256		acc1 = _mm256_setzero_ps();
	float		sum;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(load8_ph(a + i), load8_ph(b + i));
		__m256		d1 = _mm256_sub_ps(load8_ph(a + i + 8), load8_ph(b + i + 8));

		acc0 = _mm256_add_ps(acc0, _mm256_andnot_ps(sign, d0));
		acc1 = _mm256_add_ps(acc1, _mm256_andnot_ps(sign, d1));
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d0 = _mm256_sub_ps(load8_ph(a + i), load8_ph(b + i));

		acc0 = _mm256_add_ps(acc0, _mm256_andnot_ps(sign, d0));
	}
	sum = hsum8(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		sum += fabsf(half1(a[i]) - half1(b[i]));
	return sum;
}

/*
 * The hardware conversions, for checking the portable VaFloatToHalf /
 * VaHalfToFloat: n values each way, round to nearest even.
 */
VA_F16C void
VaFloatToHalfF16c(const float *src, uint16_t *dst, int n)
{
	for (int i = 0; i < n; i++)
		dst[i] = (uint16_t) _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(src[i]), _MM_FROUND_TO_NEAREST_INT), 0);
}

VA_F16C void
VaHalfToFloatF16c(const uint16_t *src, float *dst, int n)
{
	for (int i = 0; i < n; i++)
		dst[i] = half1(src[i]);
}

#else							/* !VA_HAVE_F16C_KERNELS && !VA_KERNEL_EMULATE */

/* Nothing to build on this platform; keep the translation unit non-empty. */
typedef int VaDistanceF16cUnavailable;

#endif							/* VA_HAVE_F16C_KERNELS || VA_KERNEL_EMULATE */

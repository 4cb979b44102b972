/*
 * distance.c
 *	  Scalar reference distance kernels, the function pointers through which
 *	  everyone calls a kernel, and VaDistanceInit(), which picks the fastest
 *	  kernel set the CPU supports once at load time.
 *
 *	  All kernels take two arrays of n >= 0 floats (n == 0 gives 0) and read
 *	  exactly n elements of each; they never fail and never allocate.
 *	  *Float kernels accumulate in float4 (index hot path), *Double kernels
 *	  widen every element to float8 first and accumulate in float8 (SQL
 *	  functions).
 *
 *	  The halfvec kernels (binary16 arrays, float4 accumulation), the bit
 *	  kernels (Hamming, Jaccard counts), the binary16 conversions and the
 *	  SIMD-vs-scalar self check VaDistanceCheckKernels() live here too.
 *
 *	  The environment variable VECTORANN_KERNELS, read when the library is
 *	  loaded, caps the choice (for testing the fallback paths): "scalar"
 *	  forces the portable kernels, "avx2" everything short of AVX-512 (AVX2,
 *	  FMA, F16C, POPCNT); unset or any other value picks the best the CPU has.
 */
#include "vectorann.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distance/cpu.h"
#include "distance/distance.h"
#include "distance/distance_simd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

/* sum over i of (a[i] - b[i])^2, accumulated in float */
static float
l2_squared_float_scalar(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
	{
		float		d = a[i] - b[i];

		sum += d * d;
	}
	return sum;
}

/* sum over i of a[i] * b[i], accumulated in float */
static float
inner_product_float_scalar(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += a[i] * b[i];
	return sum;
}

/* sum over i of |a[i] - b[i]|, accumulated in float */
static float
l1_float_scalar(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += fabsf(a[i] - b[i]);
	return sum;
}

/* sum over i of (a[i] - b[i])^2, every term and the sum in double */
static double
l2_squared_double_scalar(const float *a, const float *b, int n)
{
	double		sum = 0.0;

	for (int i = 0; i < n; i++)
	{
		double		d = (double) a[i] - (double) b[i];

		sum += d * d;
	}
	return sum;
}

/* sum over i of a[i] * b[i] in double (each product is exact) */
static double
inner_product_double_scalar(const float *a, const float *b, int n)
{
	double		sum = 0.0;

	for (int i = 0; i < n; i++)
		sum += (double) a[i] * (double) b[i];
	return sum;
}

/* sum over i of |a[i] - b[i]| in double */
static double
l1_double_scalar(const float *a, const float *b, int n)
{
	double		sum = 0.0;

	for (int i = 0; i < n; i++)
		sum += fabs((double) a[i] - (double) b[i]);
	return sum;
}

/* ---------------------------------------------------------------------
 * IEEE binary16 conversions (portable C; see distance.h)
 * ---------------------------------------------------------------------
 */

/* Exact widening of a binary16 bit pattern to float4. */
float
VaHalfToFloat(uint16_t h)
{
	uint32_t	sign = (uint32_t) (h & 0x8000) << 16;
	uint32_t	exponent = (h >> 10) & 0x1f;
	uint32_t	mantissa = h & 0x3ff;
	uint32_t	bits;
	float		f;

	if (exponent == 0)
	{
		/* zero or subnormal: mantissa * 2^-24, exact in float4 */
		f = (float) mantissa * (1.0f / 16777216.0f);
		return sign ? -f : f;
	}
	if (exponent == 31)
		bits = sign | 0x7f800000 | (mantissa << 13);	/* infinity, NaN */
	else
		bits = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
	memcpy(&f, &bits, sizeof(f));
	return f;
}

/* float4 to binary16, round to nearest even; see distance.h for edge cases. */
uint16_t
VaFloatToHalf(float f)
{
	uint32_t	bits;
	uint32_t	sign;
	uint32_t	absbits;

	memcpy(&bits, &f, sizeof(bits));
	sign = (bits >> 16) & 0x8000;
	absbits = bits & 0x7fffffff;

	if (absbits >= 0x7f800000)	/* infinity or NaN (keep it a NaN) */
		return (uint16_t) (sign | 0x7c00 | (absbits > 0x7f800000 ? 0x200 : 0));
	if (absbits >= 0x477ff000)	/* >= 65520 rounds past the largest half */
		return (uint16_t) (sign | 0x7c00);
	if (absbits < 0x38800000)
	{
		/*
		 * Below 2^-14, the smallest normal half: a multiple of 2^-24.  The
		 * scaling by 2^24 is exact and rintf() rounds half to even; 1024 (a
		 * carry into the exponent) is the right encoding of 2^-14.
		 */
		return (uint16_t) (sign | (uint32_t) rintf(fabsf(f) * 16777216.0f));
	}
	else
	{
		uint32_t	mantissa = absbits & 0x7fffff;
		uint32_t	h = ((((absbits >> 23) - 127 + 15) << 10) | (mantissa >> 13));
		uint32_t	rest = mantissa & 0x1fff;

		/* round to nearest, ties to even; a carry may raise the exponent */
		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++;
		return (uint16_t) (sign | h);
	}
}

/* ---------------------------------------------------------------------
 * Scalar halfvec and bit kernels
 * ---------------------------------------------------------------------
 */

/* sum (a[i]-b[i])^2 over halves widened to float, accumulated in float */
static float
half_l2_squared_float_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
	{
		float		d = VaHalfToFloat(a[i]) - VaHalfToFloat(b[i]);

		sum += d * d;
	}
	return sum;
}

/* sum a[i]*b[i] over halves, in float */
static float
half_inner_product_float_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += VaHalfToFloat(a[i]) * VaHalfToFloat(b[i]);
	return sum;
}

/* sum |a[i]-b[i]| over halves, in float */
static float
half_l1_float_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += fabsf(VaHalfToFloat(a[i]) - VaHalfToFloat(b[i]));
	return sum;
}

/* Bits set in one byte, by halving (no popcount instruction needed). */
static inline uint64_t
popcount8(uint8_t x)
{
	x = (uint8_t) (x - ((x >> 1) & 0x55));
	x = (uint8_t) ((x & 0x33) + ((x >> 2) & 0x33));
	return (uint64_t) ((x + (x >> 4)) & 0x0f);
}

/* number of differing bits, byte by byte */
static uint64_t
bit_hamming_scalar(const uint8_t *a, const uint8_t *b, int nbytes)
{
	uint64_t	count = 0;

	for (int i = 0; i < nbytes; i++)
		count += popcount8(a[i] ^ b[i]);
	return count;
}

/* popcount(a & b) and popcount(a | b), byte by byte */
static void
bit_jaccard_counts_scalar(const uint8_t *a, const uint8_t *b, int nbytes,
						  uint64_t *both, uint64_t *either)
{
	uint64_t	nboth = 0;
	uint64_t	neither = 0;

	for (int i = 0; i < nbytes; i++)
	{
		nboth += popcount8(a[i] & b[i]);
		neither += popcount8(a[i] | b[i]);
	}
	*both = nboth;
	*either = neither;
}

/* ---------------------------------------------------------------------
 * RaBitQ code kernel (see VaRabitqDotPlanes in distance.h)
 * ---------------------------------------------------------------------
 */

/*
 * sum u[i] * qq[i]: for 4 bits straight from the nibbles; otherwise with
 * u[i] assembled from the bit planes: per plane b, 2^b times the sum of qq
 * over the coordinates whose bit is set.
 */
static int32_t
rabitq_dot_planes_scalar(const uint8_t *planes, const int8_t *qq, int padded, int bits)
{
	int			nbytes = padded / 8;
	int32_t		sum = 0;

	if (bits == 4)
	{
		/* packed nibbles: blocks of 128 coordinates, the last maybe 64 */
		for (int s = 0; s < padded; s += 128)
		{
			int half = Min(128, padded - s) / 2;
			const uint8_t *block = planes + s / 2;

			for (int k = 0; k < half; k++)
				sum += (block[k] & 15) * qq[s + k] + (block[k] >> 4) * qq[s + half +k];
		}
		return sum;
	}

	for (int b = 0; b < bits; b++)
	{
		const uint8_t *plane = planes + (size_t) b * nbytes;
		int32_t		psum = 0;

		for (int j = 0; j < nbytes; j++)
		{
			uint8_t		byte = plane[j];
			const int8_t *q = qq + 8 * j;

			/* branch-free: the bits are random, a branch mispredicts */
			for (int k = 0; k < 8; k++)
				psum += q[k] * ((byte >> k) & 1);
		}
		sum += psum * (1 << b);
	}
	return sum;
}

/* ---------------------------------------------------------------------
 * sparsevec kernels (see distance.h): merges of two sorted index lists
 * ---------------------------------------------------------------------
 */

/* sum over the union of indices of (a_i - b_i)^2, a missing value being 0 */
double
VaSparseL2SquaredDouble(const int32_t *ia, const float *va, int na,
						const int32_t *ib, const float *vb, int nb)
{
	double		sum = 0.0;
	int			i = 0;
	int			j = 0;

	while (i < na || j < nb)
	{
		double		d;

		if (j >= nb || (i < na && ia[i] < ib[j]))
			d = va[i++];
		else if (i >= na || ib[j] < ia[i])
			d = vb[j++];
		else
			d = (double) va[i++] - (double) vb[j++];
		sum += d * d;
	}
	return sum;
}

/* sum over the common indices of a_i * b_i */
double
VaSparseInnerProductDouble(const int32_t *ia, const float *va, int na,
						   const int32_t *ib, const float *vb, int nb)
{
	double		sum = 0.0;
	int			i = 0;
	int			j = 0;

	while (i < na && j < nb)
	{
		if (ia[i] < ib[j])
			i++;
		else if (ib[j] < ia[i])
			j++;
		else
			sum += (double) va[i++] * (double) vb[j++];
	}
	return sum;
}

/* sum over the union of indices of |a_i - b_i| */
double
VaSparseL1Double(const int32_t *ia, const float *va, int na,
				 const int32_t *ib, const float *vb, int nb)
{
	double		sum = 0.0;
	int			i = 0;
	int			j = 0;

	while (i < na || j < nb)
	{
		if (j >= nb || (i < na && ia[i] < ib[j]))
			sum += fabs((double) va[i++]);
		else if (i >= na || ib[j] < ia[i])
			sum += fabs((double) vb[j++]);
		else
		{
			sum += fabs((double) va[i] - (double) vb[j]);
			i++;
			j++;
		}
	}
	return sum;
}

/* ---------------------------------------------------------------------
 * Product-quantization kernels (see VaPqTableL2, VaPqScan in distance.h)
 * ---------------------------------------------------------------------
 */

/*
 * Per subspace, all 256 entries at once: coordinate by coordinate, each
 * entry gains its squared difference (the transposed codebook makes the
 * inner loop contiguous).
 */
static void
pq_table_l2_scalar(const float *x, const float *codebook, int m, int dsub, float *table)
{
	for (int j = 0; j < m; j++)
	{
		float	   *t = table + (size_t) j * VA_PQ_KSUB;

		for (int k = 0; k < VA_PQ_KSUB; k++)
			t[k] = 0.0f;
		for (int d = 0; d < dsub; d++)
		{
			float		xd = x[(size_t) j * dsub + d];
			const float *row = codebook + ((size_t) j * dsub + d) * VA_PQ_KSUB;

			for (int k = 0; k < VA_PQ_KSUB; k++)
			{
				float		diff = xd - row[k];

				t[k] += diff * diff;
			}
		}
	}
}

/* As pq_table_l2_scalar, with products instead of squared differences. */
static void
pq_table_ip_scalar(const float *x, const float *codebook, int m, int dsub, float *table)
{
	for (int j = 0; j < m; j++)
	{
		float	   *t = table + (size_t) j * VA_PQ_KSUB;

		for (int k = 0; k < VA_PQ_KSUB; k++)
			t[k] = 0.0f;
		for (int d = 0; d < dsub; d++)
		{
			float		xd = x[(size_t) j * dsub + d];
			const float *row = codebook + ((size_t) j * dsub + d) * VA_PQ_KSUB;

			for (int k = 0; k < VA_PQ_KSUB; k++)
				t[k] += xd * row[k];
		}
	}
}

/*
 * Table lookups summed per code, four codes at a time so that four
 * independent chains of additions overlap (each code's own sum is still
 * taken in ascending j from 0.0f, as the contract requires).
 */
static void
pq_scan_scalar(const float *table, int m, const uint8_t *codes, int n, float *out)
{
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		const uint8_t *c0 = codes + (size_t) i * m;
		const uint8_t *c1 = c0 + m;
		const uint8_t *c2 = c1 + m;
		const uint8_t *c3 = c2 + m;
		float		s0 = 0.0f,
					s1 = 0.0f,
					s2 = 0.0f,
					s3 = 0.0f;

		for (int j = 0; j < m; j++)
		{
			const float *t = table + (size_t) j * VA_PQ_KSUB;

			s0 += t[c0[j]];
			s1 += t[c1[j]];
			s2 += t[c2[j]];
			s3 += t[c3[j]];
		}
		out[i] = s0;
		out[i + 1] = s1;
		out[i + 2] = s2;
		out[i + 3] = s3;
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

/* The first index of the smallest of t[0..256). */
static int
pq_argmin_scalar(const float *t)
{
	int			best = 0;

	for (int k = 1; k < VA_PQ_KSUB; k++)
		if (t[k] < t[best])
			best = k;
	return best;
}

/* VaPqEncodeL2 from the scalar table and argmin, one row at a time. */
static void
pq_encode_l2_scalar(const float *x, int nrows, const float *codebook, int m, int dsub,
					uint8_t *codes, float *scratch)
{
	for (int r = 0; r < nrows; r++)
	{
		pq_table_l2_scalar(x + (size_t) r * m * dsub, codebook, m, dsub, scratch);
		for (int j = 0; j < m; j++)
			codes[(size_t) r * m + j] = (uint8_t) pq_argmin_scalar(scratch + (size_t) j * VA_PQ_KSUB);
	}
}

/* ---------------------------------------------------------------------
 * RaBitQ level search and nearest-centroid panels (see VaRabitqLevels and
 * VaDotPanels in distance.h)
 * ---------------------------------------------------------------------
 */

/*
 * The reference order written out: eight lanes, each summing its
 * coordinates in ascending order, products rounded into variables of their
 * own before they are added (VA_NO_FP_CONTRACT keeps GCC from fusing them
 * on targets with fused multiply-add).
 */
static VA_NO_FP_CONTRACT void
rabitq_levels_scalar(const float *a, int padded, int maxk, const float *t, int nt,
					 float *ip, float *nx)
{
	for (int e = 0; e < nt; e++)
	{
		float		s[8] = {0};
		float		q[8] = {0};
		float		ssum = 0.0f;
		float		qsum = 0.0f;

		for (int i = 0; i < padded; i += 8)
		{
			for (int k = 0; k < 8; k++)
			{
				int			l = (int) (t[e] * a[i + k]);
				float		x = (float) Min(l, maxk) + 0.5f;
				float		px = x * a[i + k];
				float		pq = x * x;

				s[k] += px;
				q[k] += pq;
			}
		}
		for (int k = 0; k < 8; k++)
		{
			ssum += s[k];
			qsum += q[k];
		}
		ip[e] = ssum;
		nx[e] = qsum;
	}
}

/* One row against one panel at a time, 16 sums in ascending d. */
static void
dot_panels_scalar(const float *rows, int nrows, int dims, const float *panels,
				  int npanels, float *out, int ldo)
{
	for (int p = 0; p < npanels; p++)
	{
		const float *panel = panels + (size_t) p * dims * VA_PANEL_WIDTH;

		for (int r = 0; r < nrows; r++)
		{
			const float *x = rows + (size_t) r * dims;
			float		acc[VA_PANEL_WIDTH] = {0};

			for (int d = 0; d < dims; d++)
				for (int k = 0; k < VA_PANEL_WIDTH; k++)
					acc[k] += x[d] * panel[d * VA_PANEL_WIDTH + k];
			memcpy(out + (size_t) r * ldo + p * VA_PANEL_WIDTH, acc, sizeof(acc));
		}
	}
}

/* VaPanelKeys one key at a time. */
static float
panel_keys_scalar(float *key, const float *bias, int n)
{
	float		kmin = FLT_MAX;

	for (int j = 0; j < n; j++)
	{
		key[j] = bias != NULL ? bias[j] - 2.0f * key[j] : -key[j];
		if (key[j] < kmin)
			kmin = key[j];
	}
	return kmin;
}

/* VaCountAtMost one key at a time. */
static int
count_at_most_scalar(const float *key, int n, float limit)
{
	int			count = 0;

	for (int j = 0; j < n; j++)
		count += key[j] <= limit;
	return count;
}

/* The kernels in use; scalar until VaDistanceInit() has run. */
float		(*VaL2SquaredFloat) (const float *a, const float *b, int n) = l2_squared_float_scalar;
float		(*VaInnerProductFloat) (const float *a, const float *b, int n) = inner_product_float_scalar;
float		(*VaL1Float) (const float *a, const float *b, int n) = l1_float_scalar;
double		(*VaL2SquaredDouble) (const float *a, const float *b, int n) = l2_squared_double_scalar;
double		(*VaInnerProductDouble) (const float *a, const float *b, int n) = inner_product_double_scalar;
double		(*VaL1Double) (const float *a, const float *b, int n) = l1_double_scalar;

float		(*VaHalfL2SquaredFloat) (const uint16_t *a, const uint16_t *b, int n) = half_l2_squared_float_scalar;
float		(*VaHalfInnerProductFloat) (const uint16_t *a, const uint16_t *b, int n) = half_inner_product_float_scalar;
float		(*VaHalfL1Float) (const uint16_t *a, const uint16_t *b, int n) = half_l1_float_scalar;
uint64_t	(*VaBitHamming) (const uint8_t *a, const uint8_t *b, int nbytes) = bit_hamming_scalar;
void		(*VaBitJaccardCounts) (const uint8_t *a, const uint8_t *b, int nbytes,
								   uint64_t *both, uint64_t *either) = bit_jaccard_counts_scalar;
int32_t		(*VaRabitqDotPlanes) (const uint8_t *planes, const int8_t *qq, int padded, int bits) = rabitq_dot_planes_scalar;
void		(*VaPqTableL2) (const float *x, const float *codebook, int m, int dsub, float *table) = pq_table_l2_scalar;
void		(*VaPqTableIp) (const float *x, const float *codebook, int m, int dsub, float *table) = pq_table_ip_scalar;
void		(*VaPqScan) (const float *table, int m, const uint8_t *codes, int n, float *out) = pq_scan_scalar;
int			(*VaPqArgmin) (const float *t) = pq_argmin_scalar;
void		(*VaPqEncodeL2) (const float *x, int nrows, const float *codebook, int m, int dsub,
							 uint8_t *codes, float *scratch) = pq_encode_l2_scalar;
void		(*VaRabitqLevels) (const float *a, int padded, int maxk, const float *t, int nt,
							   float *ip, float *nx) = rabitq_levels_scalar;
void		(*VaDotPanels) (const float *rows, int nrows, int dims, const float *panels,
							int npanels, float *out, int ldo) = dot_panels_scalar;
float		(*VaPanelKeys) (float *key, const float *bias, int n) = panel_keys_scalar;
int			(*VaCountAtMost) (const float *key, int n, float limit) = count_at_most_scalar;

static const char *kernel_name = "scalar";

/* "scalar", "avx2+fma", "avx2+fma+f16c+popcnt", ... built by VaDistanceInit */
static char kernel_name_buf[64];

#ifdef VA_HAVE_AVX2_KERNELS
/*
 * Does this CPU (and the OS, which must save the YMM registers) support
 * AVX2 and FMA?  libgcc's / compiler-rt's cpu model checks both.
 */
static bool
cpu_has_avx2_fma(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

#ifdef VA_HAVE_F16C_KERNELS
/*
 * AVX2, FMA and F16C (the halfvec kernels use all three).  F16C is read from
 * CPUID leaf 1, ECX bit 29, since not every compiler's
 * __builtin_cpu_supports() knows it; the AVX2 check covers OS support for
 * the YMM registers.
 */
static bool
cpu_has_f16c(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;

	if (!cpu_has_avx2_fma())
		return false;
	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return false;
	return (ecx & (1u << 29)) != 0;
}
#endif

#ifdef VA_HAVE_POPCNT_KERNELS
/* The POPCNT instruction. */
static bool
cpu_has_popcnt(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("popcnt");
}
#endif

#ifdef VA_HAVE_AVX512_KERNELS
/*
 * Has the OS enabled saving of the AVX-512 state?  XCR0 (read with XGETBV,
 * which exists once CPUID leaf 1 reports OSXSAVE, ECX bit 27) must have
 * the SSE, AVX, opmask, ZMM_Hi256 and Hi16_ZMM bits: 0xE6.  The instruction
 * is written out so that no xsave target flag is needed.
 */
static bool
os_saves_avx512_state(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;
	unsigned int xcr0_lo,
				xcr0_hi;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || (ecx & (1u << 27)) == 0)
		return false;
	/* INDENT OFF */
	__asm__ __volatile__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
	/* INDENT ON */
	(void) xcr0_hi;
	return (xcr0_lo & 0xE6) == 0xE6;
}

/*
 * CPUID leaf 7, sub-leaf 0, into *ebx and *ecx; false if the CPU has no
 * such leaf.
 */
static bool
cpuid_leaf7(unsigned int *ebx, unsigned int *ecx)
{
	unsigned int eax,
				edx;

	if (__get_cpuid_max(0, NULL) < 7)
		return false;
	__cpuid_count(7, 0, eax, *ebx, *ecx, edx);
	return true;
}

/*
 * AVX512F (CPUID leaf 7 EBX bit 16) with OS support for its registers: the
 * float and halfvec AVX-512 kernels need nothing more.
 */
static bool
cpu_has_avx512f(void)
{
	unsigned int ebx,
				ecx;

	if (!cpuid_leaf7(&ebx, &ecx) || (ebx & (1u << 16)) == 0)
		return false;
	return os_saves_avx512_state();
}

/*
 * AVX512F and AVX512_VPOPCNTDQ (leaf 7 ECX bit 14), for the bit kernels.
 */
static bool
cpu_has_avx512_vpopcntdq(void)
{
	unsigned int ebx,
				ecx;

	if (!cpu_has_avx512f() || !cpuid_leaf7(&ebx, &ecx))
		return false;
	return (ecx & (1u << 14)) != 0;
}

/*
 * AVX512F, AVX512BW (leaf 7 EBX bit 30) and AVX512_VNNI (leaf 7 ECX bit
 * 11), for the RaBitQ code kernel.
 */
static bool
cpu_has_avx512_vnni(void)
{
	unsigned int ebx,
				ecx;

	if (!cpu_has_avx512f() || !cpuid_leaf7(&ebx, &ecx))
		return false;
	return (ebx & (1u << 30)) != 0 && (ecx & (1u << 11)) != 0;
}
#endif

bool		va_cpu_has_prefetchw = false;
bool		va_cpu_has_avx2 = false;

/*
 * PREFETCHW (CPUID 0x80000001, ECX bit 8, "3DNowPrefetch"/PRFCHW: AMD
 * since K8, Intel since Broadwell), for VaPrefetchWrite (cpu.h).
 */
static bool
cpu_has_prefetchw(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	unsigned int eax,
				ebx,
				ecx,
				edx;

	if (__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx))
		return (ecx & (1u << 8)) != 0;
#endif
	return false;
}

/*
 * Choose the kernel set for this process: for each of float4 vectors,
 * halfvec and bit the best kernels this build has and the CPU (and OS)
 * supports (and for RaBitQ codes), AVX-512 before AVX2/F16C/POPCNT before
 * scalar, within the cap
 * set by VECTORANN_KERNELS (see the file header); and the CPU features
 * used outside the kernels (cpu.h, whatever VECTORANN_KERNELS says).
 * Called once from _PG_init; calling it again is harmless.  Never fails.
 */
void
VaDistanceInit(void)
{
	const char *force = getenv("VECTORANN_KERNELS");
	bool		allow_avx512 = !(force != NULL && strcmp(force, "avx2") == 0);
	bool		have_avx512f = false;
	bool		have_avx512_popcnt = false;
	bool		have_avx512_vnni = false;

	va_cpu_has_prefetchw = cpu_has_prefetchw();

	VaL2SquaredFloat = l2_squared_float_scalar;
	VaInnerProductFloat = inner_product_float_scalar;
	VaL1Float = l1_float_scalar;
	VaL2SquaredDouble = l2_squared_double_scalar;
	VaInnerProductDouble = inner_product_double_scalar;
	VaL1Double = l1_double_scalar;
	VaHalfL2SquaredFloat = half_l2_squared_float_scalar;
	VaHalfInnerProductFloat = half_inner_product_float_scalar;
	VaHalfL1Float = half_l1_float_scalar;
	VaBitHamming = bit_hamming_scalar;
	VaBitJaccardCounts = bit_jaccard_counts_scalar;
	VaRabitqDotPlanes = rabitq_dot_planes_scalar;
	VaPqTableL2 = pq_table_l2_scalar;
	VaPqTableIp = pq_table_ip_scalar;
	VaPqScan = pq_scan_scalar;
	VaPqArgmin = pq_argmin_scalar;
	VaPqEncodeL2 = pq_encode_l2_scalar;
	VaRabitqLevels = rabitq_levels_scalar;
	VaDotPanels = dot_panels_scalar;
	VaPanelKeys = panel_keys_scalar;
	VaCountAtMost = count_at_most_scalar;
	kernel_name = "scalar";
	kernel_name_buf[0] = '\0';
	va_cpu_has_avx2 = false;

	if (force != NULL && strcmp(force, "scalar") == 0)
		return;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	va_cpu_has_avx2 = __builtin_cpu_supports("avx2");
#endif

#ifdef VA_HAVE_AVX512_KERNELS
	if (allow_avx512)
	{
		have_avx512f = cpu_has_avx512f();
		have_avx512_popcnt = cpu_has_avx512_vpopcntdq();
		have_avx512_vnni = cpu_has_avx512_vnni();
	}
	if (have_avx512f)
	{
		VaL2SquaredFloat = VaL2SquaredFloatAvx512;
		VaInnerProductFloat = VaInnerProductFloatAvx512;
		VaL1Float = VaL1FloatAvx512;
		VaL2SquaredDouble = VaL2SquaredDoubleAvx512;
		VaInnerProductDouble = VaInnerProductDoubleAvx512;
		VaL1Double = VaL1DoubleAvx512;
		VaHalfL2SquaredFloat = VaHalfL2SquaredFloatAvx512;
		VaHalfInnerProductFloat = VaHalfInnerProductFloatAvx512;
		VaHalfL1Float = VaHalfL1FloatAvx512;
		VaPqTableL2 = VaPqTableL2Avx512;
		VaPqTableIp = VaPqTableIpAvx512;
		/* VaPqScan stays scalar: see distance.h */
		VaPqArgmin = VaPqArgminAvx512;
		VaPqEncodeL2 = VaPqEncodeL2Avx512;
		VaRabitqLevels = VaRabitqLevelsAvx512;
		VaDotPanels = VaDotPanelsAvx512;
		VaPanelKeys = VaPanelKeysAvx512;
		VaCountAtMost = VaCountAtMostAvx512;
		strcat(kernel_name_buf, "+avx512f");
	}
	if (have_avx512_popcnt)
	{
		VaBitHamming = VaBitHammingAvx512;
		VaBitJaccardCounts = VaBitJaccardCountsAvx512;
		strcat(kernel_name_buf, "+avx512vpopcntdq");
	}
	if (have_avx512_vnni)
	{
		VaRabitqDotPlanes = VaRabitqDotPlanesAvx512Vnni;
		strcat(kernel_name_buf, "+avx512bw+avx512vnni");
	}
#endif
	/* not every build reads all four */
	(void) allow_avx512;
	(void) have_avx512f;
	(void) have_avx512_popcnt;
	(void) have_avx512_vnni;

#ifdef VA_HAVE_AVX2_KERNELS
	if (!have_avx512f && cpu_has_avx2_fma())
	{
		VaL2SquaredFloat = VaL2SquaredFloatAvx2;
		VaInnerProductFloat = VaInnerProductFloatAvx2;
		VaL1Float = VaL1FloatAvx2;
		VaL2SquaredDouble = VaL2SquaredDoubleAvx2;
		VaInnerProductDouble = VaInnerProductDoubleAvx2;
		VaL1Double = VaL1DoubleAvx2;
		VaPqTableL2 = VaPqTableL2Avx2;
		VaPqTableIp = VaPqTableIpAvx2;
		/* VaPqScan stays scalar: see distance.h */
		VaPqArgmin = VaPqArgminAvx2;
		VaPqEncodeL2 = VaPqEncodeL2Avx2;
		VaRabitqLevels = VaRabitqLevelsAvx2;
		VaDotPanels = VaDotPanelsAvx2;
		VaPanelKeys = VaPanelKeysAvx2;
		VaCountAtMost = VaCountAtMostAvx2;
		strcat(kernel_name_buf, "+avx2+fma");
	}
	if (!have_avx512_vnni && cpu_has_avx2_fma())
	{
		VaRabitqDotPlanes = VaRabitqDotPlanesAvx2;
		/* named above unless the float kernels are AVX-512 ones */
		if (have_avx512f)
			strcat(kernel_name_buf, "+avx2");
	}
#endif
#ifdef VA_HAVE_F16C_KERNELS
	if (!have_avx512f && cpu_has_f16c())
	{
		VaHalfL2SquaredFloat = VaHalfL2SquaredFloatF16c;
		VaHalfInnerProductFloat = VaHalfInnerProductFloatF16c;
		VaHalfL1Float = VaHalfL1FloatF16c;
		strcat(kernel_name_buf, "+f16c");
	}
#endif
#ifdef VA_HAVE_POPCNT_KERNELS
	if (!have_avx512_popcnt && cpu_has_popcnt())
	{
		VaBitHamming = VaBitHammingPopcnt;
		VaBitJaccardCounts = VaBitJaccardCountsPopcnt;
		strcat(kernel_name_buf, "+popcnt");
	}
#endif
	if (kernel_name_buf[0] != '\0')
		kernel_name = kernel_name_buf + 1;	/* skip the leading '+' */
}

/*
 * Name of the kernel set in use: "scalar", or the '+'-joined features whose
 * kernels were picked, e.g. "avx2+fma+f16c+popcnt", "avx512f+popcnt" or
 * "avx512f+avx512vpopcntdq".
 */
const char *
VaDistanceKernelName(void)
{
	return kernel_name;
}

/* ---------------------------------------------------------------------
 * SIMD-vs-scalar comparison (see VaDistanceCheckKernels in distance.h)
 * ---------------------------------------------------------------------
 */

#if defined(VA_HAVE_AVX2_KERNELS) || defined(VA_HAVE_F16C_KERNELS) || defined(VA_HAVE_POPCNT_KERNELS) || defined(VA_HAVE_AVX512_KERNELS)

#define CHECK_MAXN 16000

/* xorshift64: deterministic, platform-independent pseudo-random numbers */
static uint64_t
check_next(uint64_t *state)
{
	uint64_t	x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* A float in [-1, 1) with 24 random bits. */
static float
check_float(uint64_t *state)
{
	return (float) ((int64_t) (check_next(state) >> 40) - (1 << 23)) / (float) (1 << 23);
}

/* Does a float kernel agree with its reference within rel * scale? */
static int
check_close(double simd, double ref, double scale, double rel)
{
	return fabs(simd - ref) <= rel * scale + 1e-30;
}

static const int check_lengths[] = {1, 7, 15, 16, 17, 1023, 16000};

/* padded lengths for the RaBitQ code kernel (multiples of 64) */
static const int check_rabitq_lengths[] = {64, 832, 3072, 16000};

/*
 * Does a RaBitQ code kernel give the scalar kernel's integer for every bits
 * 1..8 on planes (8 * padded / 8 bytes) and qq (padded bytes)?
 */
static int
check_rabitq(int32_t (*kernel) (const uint8_t *, const int8_t *, int, int),
			 const uint8_t *planes, const int8_t *qq, int padded)
{
	int			ok = 1;

	for (int bits = 1; bits <= 8; bits++)
		ok &= kernel(planes, qq, padded, bits) == rabitq_dot_planes_scalar(planes, qq, padded, bits);
	return ok;
}

/* (m, dsub) shapes for the PQ table kernels: m * dsub <= 1000 */
static const int check_pq_table_shapes[][2] = {{1, 1}, {3, 5}, {49, 16}, {8, 96}};

/* code counts and code lengths for the PQ scan kernel: n * m <= 49000 */
static const int check_pq_scan_n[] = {1, 7, 15, 16, 17, 33, 1000};
static const int check_pq_scan_m[] = {1, 3, 49};

typedef void (*PqTableKernel) (const float *, const float *, int, int, float *);
typedef void (*PqScanKernel) (const float *, int, const uint8_t *, int, float *);
typedef int (*PqArgminKernel) (const float *);
typedef void (*PqEncodeKernel) (const float *, int, const float *, int, int, uint8_t *, float *);

/* rows of the PQ encoding check: four-row groups, a 16-row block and tails */
#define CHECK_PQ_ENCODE_ROWS 21

/*
 * Do the PQ kernels agree with the scalar ones?  Tables (both metrics) on
 * every shape above, x and codebook from state, within 1e-5 of the sum of
 * |terms| per entry; scans exactly, on every (n, m) above with random codes
 * and, at n = 1000, all codes 0 and all 255.  Encoding: on every shape,
 * CHECK_PQ_ENCODE_ROWS rows with random and with small-integer codebooks
 * (many ties), the encode kernel's codes exactly those of the same
 * instruction set's table_l2 and argmin, row by row (one report per
 * shape).  scratch holds 1000 + 1000 * 256 + 2 * 49 * 256 + 2000 floats
 * and then 49000 bytes; the encoding check mallocs its own rows.  One
 * report per kernel and shape group; returns the failures.
 */
static int
check_pq(const char *name_table_l2, const char *name_table_ip, const char *name_scan,
		 const char *name_argmin, const char *name_encode,
		 PqTableKernel table_l2, PqTableKernel table_ip, PqScanKernel scan,
		 PqArgminKernel argmin, PqEncodeKernel encode,
		 uint64_t *state, float *scratch, VaKernelCheckReport report, void *arg)
{
	int			failures = 0;
	float	   *x = scratch;	/* up to 1000 floats */
	float	   *cb = scratch + 1000;	/* up to 1000 * 256 */
	float	   *t1 = cb + 1000 * VA_PQ_KSUB;	/* up to 49 * 256 */
	float	   *t2 = t1 + 49 * VA_PQ_KSUB;
	float	   *o1 = t2 + 49 * VA_PQ_KSUB;	/* up to 1000 */
	float	   *o2 = o1 + 1000;
	uint8_t    *codes = (uint8_t *) (o2 + 1000);	/* up to 49000 bytes */

	for (size_t si = 0; si < lengthof(check_pq_table_shapes); si++)
	{
		int			m = check_pq_table_shapes[si][0];
		int			dsub = check_pq_table_shapes[si][1];
		int			ok_l2 = 1,
					ok_ip = 1;

		for (int i = 0; i < m * dsub; i++)
			x[i] = check_float(state);
		for (int i = 0; i < m * dsub * VA_PQ_KSUB; i++)
			cb[i] = check_float(state);
		for (int pass = 0; pass < 2; pass++)
		{
			if (pass == 0)
			{
				table_l2(x, cb, m, dsub, t1);
				pq_table_l2_scalar(x, cb, m, dsub, t2);
			}
			else
			{
				table_ip(x, cb, m, dsub, t1);
				pq_table_ip_scalar(x, cb, m, dsub, t2);
			}
			for (int j = 0; j < m; j++)
				for (int k = 0; k < VA_PQ_KSUB; k++)
				{
					double		scale = 0.0;

					for (int d = 0; d < dsub; d++)
					{
						double		c = cb[((size_t) j * dsub + d) * VA_PQ_KSUB + k];
						double		xd = x[j * dsub + d];

						scale += pass == 0 ? (xd - c) * (xd - c) : fabs(xd * c);
					}
					if (!check_close(t1[j * VA_PQ_KSUB + k], t2[j * VA_PQ_KSUB + k], scale, 1e-5))
					{
						if (pass == 0)
							ok_l2 = 0;
						else
							ok_ip = 0;
					}
				}
		}
		report(name_table_l2, m * dsub, ok_l2, arg);
		report(name_table_ip, m * dsub, ok_ip, arg);
		failures += !ok_l2 + !ok_ip;
	}

	for (size_t mi = 0; mi < lengthof(check_pq_scan_m); mi++)
	{
		int			m = check_pq_scan_m[mi];
		int			ok = 1;

		for (int i = 0; i < m * VA_PQ_KSUB; i++)
			t1[i] = check_float(state);
		for (size_t ni = 0; ni < lengthof(check_pq_scan_n); ni++)
		{
			int			n = check_pq_scan_n[ni];

			for (int pass = 0; pass < (n == 1000 ? 3 : 1); pass++)
			{
				for (int i = 0; i < n * m; i++)
					codes[i] = pass == 0 ? (uint8_t) (check_next(state) >> 56) : pass == 1 ? 0 : 255;
				scan(t1, m, codes, n, o1);
				pq_scan_scalar(t1, m, codes, n, o2);
				ok &= memcmp(o1, o2, sizeof(float) * n) == 0;
			}
		}
		report(name_scan, m, ok, arg);
		failures += !ok;
	}

	/*
	 * argmin: 1000 random rows (t1 as scratch), rows of few distinct values
	 * (many ties), and constant rows; reported as n = 256.
	 */
	{
		int			ok = 1;

		for (int r = 0; r < 1000; r++)
		{
			for (int k = 0; k < VA_PQ_KSUB; k++)
				t1[k] = r < 600 ? check_float(state) :
					r < 999 ? (float) (check_next(state) % 4) : 1.0f;
			ok &= argmin(t1) == pq_argmin_scalar(t1);
		}
		report(name_argmin, VA_PQ_KSUB, ok, arg);
		failures += !ok;
	}

	/* encoding: blocks of rows against the row-by-row table and argmin */
	{
		float	   *rows = malloc(sizeof(float) * CHECK_PQ_ENCODE_ROWS * 1000);
		uint8_t    *c1 = malloc(CHECK_PQ_ENCODE_ROWS * 96);
		uint8_t    *c2 = malloc(CHECK_PQ_ENCODE_ROWS * 96);

		for (size_t si = 0; si < lengthof(check_pq_table_shapes); si++)
		{
			int			m = check_pq_table_shapes[si][0];
			int			dsub = check_pq_table_shapes[si][1];
			int			ok = rows != NULL && c1 != NULL && c2 != NULL;

			for (int pass = 0; ok && pass < 2; pass++)
			{
				for (int i = 0; i < m * dsub * VA_PQ_KSUB; i++)
					cb[i] = pass == 0 ? check_float(state) : (float) (check_next(state) % 4);
				for (int i = 0; i < CHECK_PQ_ENCODE_ROWS * m * dsub; i++)
					rows[i] = pass == 0 ? check_float(state) : (float) (check_next(state) % 4);
				for (int nrows = 0; nrows <= CHECK_PQ_ENCODE_ROWS; nrows += (nrows < 6 ? 1 : 5))
				{
					memset(c1, 0xAA, (size_t) CHECK_PQ_ENCODE_ROWS * m);
					memset(c2, 0xAA, (size_t) CHECK_PQ_ENCODE_ROWS * m);
					encode(rows, nrows, cb, m, dsub, c1, t2);
					for (int r = 0; r < nrows; r++)
					{
						table_l2(rows + (size_t) r * m * dsub, cb, m, dsub, t1);
						for (int j = 0; j < m; j++)
							c2[r * m + j] = (uint8_t) argmin(t1 + (size_t) j * VA_PQ_KSUB);
					}
					ok &= memcmp(c1, c2, (size_t) CHECK_PQ_ENCODE_ROWS * m) == 0;
				}
			}
			report(name_encode, m * dsub, ok, arg);
			failures += !ok;
		}
		free(rows);
		free(c1);
		free(c2);
	}
	return failures;
}

/* padded lengths, caps and rescaling counts for the RaBitQ level search */
static const int check_levels_lengths[] = {64, 832, 3072, 16000};
static const int check_levels_maxk[] = {0, 1, 7, 127};

/* rows, dimensions and panels for the nearest-centroid panel kernel */
static const int check_panel_rows[] = {1, 7, 33};
static const int check_panel_dims[] = {1, 17, 128};

typedef void (*LevelsKernel) (const float *, int, int, const float *, int, float *, float *);
typedef void (*PanelsKernel) (const float *, int, int, const float *, int, float *, int);
typedef float (*KeysKernel) (float *, const float *, int);
typedef int (*CountKernel) (const float *, int, float);

/*
 * Does a RaBitQ level-search kernel give the scalar kernel's bits, and a
 * panel kernel the scalar one's inner products within 1e-5 of the sum of
 * |terms|?  Level search: magnitudes in [0, 1) at every length above, for
 * every cap above, 1 to 5 rescalings in [0.5, 300) (one report per
 * length).  Panels: every (rows, dims) above against 1 and 3 panels (a
 * pair and an odd one in the AVX-512 kernel), out
 * with a stride past the panels' width (one report per shape).  Keys and
 * counts: 0 to 1000 keys with and without a bias, exactly (one report).
 * x holds 4224 floats, y 6144, o1 and o2 1749 each.  Returns the failures.
 */
static int
check_levels_panels(const char *name_levels, const char *name_panels, const char *name_keys,
					LevelsKernel levels, PanelsKernel panels_kernel, KeysKernel keys,
					CountKernel count, uint64_t *state,
					float *x, float *y, float *o1, float *o2,
					VaKernelCheckReport report, void *arg)
{
	int			failures = 0;

	for (size_t li = 0; li < lengthof(check_levels_lengths); li++)
	{
		int			padded = check_levels_lengths[li];
		int			ok = 1;

		for (int i = 0; i < padded; i++)
			x[i] = fabsf(check_float(state));
		for (size_t mi = 0; mi < lengthof(check_levels_maxk); mi++)
			for (int nt = 1; nt <= 5; nt++)
			{
				float		t[5];
				float		ip1[5],
							nx1[5],
							ip2[5],
							nx2[5];

				for (int e = 0; e < nt; e++)
					t[e] = 0.5f + 150.0f * (check_float(state) + 1.0f);
				levels(x, padded, check_levels_maxk[mi], t, nt, ip1, nx1);
				rabitq_levels_scalar(x, padded, check_levels_maxk[mi], t, nt, ip2, nx2);
				ok &= memcmp(ip1, ip2, sizeof(float) * nt) == 0 &&
					memcmp(nx1, nx2, sizeof(float) * nt) == 0;
			}
		report(name_levels, padded, ok, arg);
		failures += !ok;
	}

	for (size_t ri = 0; ri < lengthof(check_panel_rows); ri++)
		for (size_t di = 0; di < lengthof(check_panel_dims); di++)
			for (int npanels = 1; npanels <= 3; npanels += 2)
			{
				int			nrows = check_panel_rows[ri];
				int			dims = check_panel_dims[di];
				int			ldo = npanels * VA_PANEL_WIDTH + 5;
				int			ok = 1;

				for (int i = 0; i < nrows * dims; i++)
					x[i] = check_float(state);
				for (int i = 0; i < npanels * dims * VA_PANEL_WIDTH; i++)
					y[i] = check_float(state);
				panels_kernel(x, nrows, dims, y, npanels, o1, ldo);
				dot_panels_scalar(x, nrows, dims, y, npanels, o2, ldo);
				for (int r = 0; r < nrows; r++)
					for (int j = 0; j < npanels * VA_PANEL_WIDTH; j++)
					{
						double		scale = 0.0;

						for (int d = 0; d < dims; d++)
							scale += fabs((double) x[r * dims + d] *
										  y[((j / VA_PANEL_WIDTH) * dims + d) * VA_PANEL_WIDTH + j % VA_PANEL_WIDTH]);
						ok &= check_close(o1[r * ldo + j], o2[r * ldo + j], scale, 1e-5);
					}
				report(name_panels, nrows * dims * npanels, ok, arg);
				failures += !ok;
			}

	{
		int			ok = 1;

		for (int n = 0; n <= 1000; n += (n < 40 ? 1 : 97))
			for (int b = 0; b < 2; b++)
			{
				float		m1,
							m2;

				for (int j = 0; j < n; j++)
				{
					o1[j] = o2[j] = check_float(state);
					y[j] = check_float(state);
				}
				m1 = keys(o1, b ? y : NULL, n);
				m2 = panel_keys_scalar(o2, b ? y : NULL, n);
				ok &= memcmp(&m1, &m2, sizeof(float)) == 0 &&
					memcmp(o1, o2, sizeof(float) * n) == 0;
				ok &= count(o1, n, m2) == count_at_most_scalar(o1, n, m2);
				ok &= count(o1, n, 0.0f) == count_at_most_scalar(o1, n, 0.0f);
				ok &= count(o1, n, 5.0f) == count_at_most_scalar(o1, n, 5.0f);
			}
		report(name_keys, 1000, ok, arg);
		failures += !ok;
	}
	return failures;
}
#endif

int
VaDistanceCheckKernels(VaKernelCheckReport report, void *arg)
{
	int			failures = 0;

#if defined(VA_HAVE_AVX2_KERNELS) || defined(VA_HAVE_F16C_KERNELS) || defined(VA_HAVE_POPCNT_KERNELS) || defined(VA_HAVE_AVX512_KERNELS)
	float	   *fa = malloc(sizeof(float) * CHECK_MAXN);
	float	   *fb = malloc(sizeof(float) * CHECK_MAXN);
	uint16_t   *ha = malloc(sizeof(uint16_t) * CHECK_MAXN);
	uint16_t   *hb = malloc(sizeof(uint16_t) * CHECK_MAXN);
	uint64_t	state = 0x9E3779B97F4A7C15ULL;

	if (fa == NULL || fb == NULL || ha == NULL || hb == NULL)
	{
		free(fa);
		free(fb);
		free(ha);
		free(hb);
		return -1;
	}

	for (size_t li = 0; li < lengthof(check_lengths); li++)
	{
		int			n = check_lengths[li];
		double		sabs_ip = 0.0;
		double		sabs_l2 = 0.0;
		double		sabs_l1 = 0.0;
		double		hsabs_ip = 0.0;
		double		hsabs_l2 = 0.0;
		double		hsabs_l1 = 0.0;
		int			ok;

		/* fresh inputs for every length; halves scaled to [-64, 64) */
		for (int i = 0; i < n; i++)
		{
			fa[i] = check_float(&state);
			fb[i] = check_float(&state);
			ha[i] = VaFloatToHalf(check_float(&state) * 64.0f);
			hb[i] = VaFloatToHalf(check_float(&state) * 64.0f);
		}
		for (int i = 0; i < n; i++)
		{
			double		d = (double) fa[i] - fb[i];
			double		hd = (double) VaHalfToFloat(ha[i]) - VaHalfToFloat(hb[i]);

			sabs_ip += fabs((double) fa[i] * fb[i]);
			sabs_l2 += d * d;
			sabs_l1 += fabs(d);
			hsabs_ip += fabs((double) VaHalfToFloat(ha[i]) * VaHalfToFloat(hb[i]));
			hsabs_l2 += hd * hd;
			hsabs_l1 += fabs(hd);
		}

#ifdef VA_HAVE_AVX2_KERNELS
		if (cpu_has_avx2_fma())
		{
			ok = check_close(VaL2SquaredFloatAvx2(fa, fb, n), l2_squared_float_scalar(fa, fb, n), sabs_l2, 1e-5);
			report("l2_squared_float_avx2", n, ok, arg);
			failures += !ok;
			ok = check_close(VaInnerProductFloatAvx2(fa, fb, n), inner_product_float_scalar(fa, fb, n), sabs_ip, 1e-5);
			report("inner_product_float_avx2", n, ok, arg);
			failures += !ok;
			ok = check_close(VaL1FloatAvx2(fa, fb, n), l1_float_scalar(fa, fb, n), sabs_l1, 1e-5);
			report("l1_float_avx2", n, ok, arg);
			failures += !ok;
			ok = check_close(VaL2SquaredDoubleAvx2(fa, fb, n), l2_squared_double_scalar(fa, fb, n), sabs_l2, 1e-12);
			report("l2_squared_double_avx2", n, ok, arg);
			failures += !ok;
			ok = check_close(VaInnerProductDoubleAvx2(fa, fb, n), inner_product_double_scalar(fa, fb, n), sabs_ip, 1e-12);
			report("inner_product_double_avx2", n, ok, arg);
			failures += !ok;
			ok = check_close(VaL1DoubleAvx2(fa, fb, n), l1_double_scalar(fa, fb, n), sabs_l1, 1e-12);
			report("l1_double_avx2", n, ok, arg);
			failures += !ok;
		}
#endif
#ifdef VA_HAVE_AVX512_KERNELS
		if (cpu_has_avx512f())
		{
			ok = check_close(VaL2SquaredFloatAvx512(fa, fb, n), l2_squared_float_scalar(fa, fb, n), sabs_l2, 1e-5);
			report("l2_squared_float_avx512", n, ok, arg);
			failures += !ok;
			ok = check_close(VaInnerProductFloatAvx512(fa, fb, n), inner_product_float_scalar(fa, fb, n), sabs_ip, 1e-5);
			report("inner_product_float_avx512", n, ok, arg);
			failures += !ok;
			ok = check_close(VaL1FloatAvx512(fa, fb, n), l1_float_scalar(fa, fb, n), sabs_l1, 1e-5);
			report("l1_float_avx512", n, ok, arg);
			failures += !ok;
			ok = check_close(VaL2SquaredDoubleAvx512(fa, fb, n), l2_squared_double_scalar(fa, fb, n), sabs_l2, 1e-12);
			report("l2_squared_double_avx512", n, ok, arg);
			failures += !ok;
			ok = check_close(VaInnerProductDoubleAvx512(fa, fb, n), inner_product_double_scalar(fa, fb, n), sabs_ip, 1e-12);
			report("inner_product_double_avx512", n, ok, arg);
			failures += !ok;
			ok = check_close(VaL1DoubleAvx512(fa, fb, n), l1_double_scalar(fa, fb, n), sabs_l1, 1e-12);
			report("l1_double_avx512", n, ok, arg);
			failures += !ok;
			ok = check_close(VaHalfL2SquaredFloatAvx512(ha, hb, n), half_l2_squared_float_scalar(ha, hb, n), hsabs_l2, 1e-5);
			report("halfvec_l2_squared_float_avx512", n, ok, arg);
			failures += !ok;
			ok = check_close(VaHalfInnerProductFloatAvx512(ha, hb, n), half_inner_product_float_scalar(ha, hb, n), hsabs_ip, 1e-5);
			report("halfvec_inner_product_float_avx512", n, ok, arg);
			failures += !ok;
			ok = check_close(VaHalfL1FloatAvx512(ha, hb, n), half_l1_float_scalar(ha, hb, n), hsabs_l1, 1e-5);
			report("halfvec_l1_float_avx512", n, ok, arg);
			failures += !ok;
		}
#endif
#ifdef VA_HAVE_F16C_KERNELS
		if (cpu_has_f16c())
		{
			ok = check_close(VaHalfL2SquaredFloatF16c(ha, hb, n), half_l2_squared_float_scalar(ha, hb, n), hsabs_l2, 1e-5);
			report("halfvec_l2_squared_float_f16c", n, ok, arg);
			failures += !ok;
			ok = check_close(VaHalfInnerProductFloatF16c(ha, hb, n), half_inner_product_float_scalar(ha, hb, n), hsabs_ip, 1e-5);
			report("halfvec_inner_product_float_f16c", n, ok, arg);
			failures += !ok;
			ok = check_close(VaHalfL1FloatF16c(ha, hb, n), half_l1_float_scalar(ha, hb, n), hsabs_l1, 1e-5);
			report("halfvec_l1_float_f16c", n, ok, arg);
			failures += !ok;

			/*
			 * The portable conversions against the hardware's, bit for bit:
			 * floats spread over the whole half range and past it (fb is
			 * reused as scratch), and the halves in ha back to float.
			 */
			{
				/* hb and fb become scratch; later checks need only bytes */
				uint16_t   *hc = hb;
				float	   *fc = fb;

				for (int i = 0; i < n; i++)
					fc[i] = ldexpf(fa[i], (int) (check_next(&state) % 48) - 30);
				VaFloatToHalfF16c(fc, hc, n);
				ok = 1;
				for (int i = 0; i < n; i++)
					ok &= (VaFloatToHalf(fc[i]) == hc[i]);
				VaHalfToFloatF16c(ha, fc, n);
				for (int i = 0; i < n; i++)
				{
					float		ref = VaHalfToFloat(ha[i]);

					ok &= (memcmp(&fc[i], &ref, sizeof(float)) == 0);
				}
				report("halfvec_conversions_f16c", n, ok, arg);
				failures += !ok;
			}
		}
#endif
#ifdef VA_HAVE_POPCNT_KERNELS
		if (cpu_has_popcnt())
		{
			/* n bytes of the float bits: arbitrary patterns */
			const uint8_t *ba = (const uint8_t *) fa;
			const uint8_t *bb = (const uint8_t *) fb;
			uint64_t	both1,
						either1,
						both2,
						either2;

			ok = VaBitHammingPopcnt(ba, bb, n) == bit_hamming_scalar(ba, bb, n);
			report("bit_hamming_popcnt", n, ok, arg);
			failures += !ok;
			VaBitJaccardCountsPopcnt(ba, bb, n, &both1, &either1);
			bit_jaccard_counts_scalar(ba, bb, n, &both2, &either2);
			ok = both1 == both2 && either1 == either2;
			report("bit_jaccard_counts_popcnt", n, ok, arg);
			failures += !ok;
		}
#endif
#ifdef VA_HAVE_AVX512_KERNELS
		if (cpu_has_avx512_vpopcntdq())
		{
			const uint8_t *ba = (const uint8_t *) fa;
			const uint8_t *bb = (const uint8_t *) fb;
			uint64_t	both1,
						either1,
						both2,
						either2;

			ok = VaBitHammingAvx512(ba, bb, n) == bit_hamming_scalar(ba, bb, n);
			report("bit_hamming_avx512", n, ok, arg);
			failures += !ok;
			VaBitJaccardCountsAvx512(ba, bb, n, &both1, &either1);
			bit_jaccard_counts_scalar(ba, bb, n, &both2, &either2);
			ok = both1 == both2 && either1 == either2;
			report("bit_jaccard_counts_avx512", n, ok, arg);
			failures += !ok;
		}
#endif
		(void) ok;
	}

	/*
	 * The RaBitQ code kernel: random planes and qq (the bytes of fa and fb),
	 * then the extremes (every bit set, qq all -128 or all 127) at the
	 * longest length.
	 */
	for (size_t li = 0; li < lengthof(check_rabitq_lengths); li++)
	{
		int			padded = check_rabitq_lengths[li];
		uint8_t    *planes = (uint8_t *) fa;
		int8_t	   *qq = (int8_t *) fb;
		int			ok;

		for (int i = 0; i < padded; i++)
		{
			planes[i] = (uint8_t) (check_next(&state) >> 56);
			qq[i] = (int8_t) (check_next(&state) >> 56);
		}
		(void) planes;
		(void) qq;
		(void) ok;
#ifdef VA_HAVE_AVX2_KERNELS
		if (cpu_has_avx2_fma())
		{
			ok = check_rabitq(VaRabitqDotPlanesAvx2, planes, qq, padded);
			if (padded == CHECK_MAXN)
			{
				memset(planes, 0xff, padded);
				memset(qq, 0x80, padded);
				ok &= check_rabitq(VaRabitqDotPlanesAvx2, planes, qq, padded);
				memset(qq, 0x7f, padded);
				ok &= check_rabitq(VaRabitqDotPlanesAvx2, planes, qq, padded);
			}
			report("rabitq_dot_planes_avx2", padded, ok, arg);
			failures += !ok;
		}
#endif
#ifdef VA_HAVE_AVX512_KERNELS
		if (cpu_has_avx512_vnni())
		{
			for (int i = 0; i < padded; i++)
			{
				planes[i] = (uint8_t) (check_next(&state) >> 56);
				qq[i] = (int8_t) (check_next(&state) >> 56);
			}
			ok = check_rabitq(VaRabitqDotPlanesAvx512Vnni, planes, qq, padded);
			if (padded == CHECK_MAXN)
			{
				memset(planes, 0xff, padded);
				memset(qq, 0x80, padded);
				ok &= check_rabitq(VaRabitqDotPlanesAvx512Vnni, planes, qq, padded);
				memset(qq, 0x7f, padded);
				ok &= check_rabitq(VaRabitqDotPlanesAvx512Vnni, planes, qq, padded);
			}
			report("rabitq_dot_planes_avx512vnni", padded, ok, arg);
			failures += !ok;
		}
#endif
	}

	/* The PQ kernels, on scratch of their own (about 1 MB). */
	{
		float	   *scratch = malloc(sizeof(float) * (1000 + 1000 * VA_PQ_KSUB + 2 * 49 * VA_PQ_KSUB + 2000) + 49000);

		if (scratch == NULL)
		{
			free(fa);
			free(fb);
			free(ha);
			free(hb);
			return -1;
		}
		(void) scratch;
#ifdef VA_HAVE_AVX2_KERNELS
		if (cpu_has_avx2_fma())
			failures += check_pq("pq_table_l2_avx2", "pq_table_ip_avx2", "pq_scan_avx2",
								 "pq_argmin_avx2", "pq_encode_l2_avx2",
								 VaPqTableL2Avx2, VaPqTableIpAvx2, VaPqScanAvx2, VaPqArgminAvx2,
								 VaPqEncodeL2Avx2,
								 &state, scratch, report, arg);
#endif
#ifdef VA_HAVE_AVX512_KERNELS
		if (cpu_has_avx512f())
			failures += check_pq("pq_table_l2_avx512", "pq_table_ip_avx512", "pq_scan_avx512",
								 "pq_argmin_avx512", "pq_encode_l2_avx512",
								 VaPqTableL2Avx512, VaPqTableIpAvx512, VaPqScanAvx512, VaPqArgminAvx512,
								 VaPqEncodeL2Avx512,
								 &state, scratch, report, arg);
#endif
		free(scratch);
	}

	/* RaBitQ level search and nearest-centroid panels: inputs in fa, fb */
#ifdef VA_HAVE_AVX2_KERNELS
	if (cpu_has_avx2_fma())
		failures += check_levels_panels("rabitq_levels_avx2", "dot_panels_avx2",
										"panel_keys_avx2",
										VaRabitqLevelsAvx2, VaDotPanelsAvx2, VaPanelKeysAvx2,
										VaCountAtMostAvx2, &state,
										fa, fb, (float *) ha, (float *) hb, report, arg);
#endif
#ifdef VA_HAVE_AVX512_KERNELS
	if (cpu_has_avx512f())
		failures += check_levels_panels("rabitq_levels_avx512", "dot_panels_avx512",
										"panel_keys_avx512",
										VaRabitqLevelsAvx512, VaDotPanelsAvx512, VaPanelKeysAvx512,
										VaCountAtMostAvx512, &state,
										fa, fb, (float *) ha, (float *) hb, report, arg);
#endif

	free(fa);
	free(fb);
	free(ha);
	free(hb);
#endif
	return failures;
}

double
VaToSqlSqrt(float distance)
{
	return sqrt((double) Max(distance, 0.0f));
}

double
VaToSqlIdentity(float distance)
{
	return (double) distance;
}

double
VaToSqlCosine(float distance)
{
	if (distance < 0.0f)
		return 0.0;
	if (distance > 2.0f)
		return 2.0;
	return (double) distance;
}

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
 *	  The environment variable VECTORANN_KERNELS=scalar, read when the library
 *	  is loaded, forces the scalar kernels (for testing the fallback path).
 */
#include "vectorann.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distance/distance.h"
#include "distance/distance_simd.h"

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

/* The kernels in use; scalar until VaDistanceInit() has run. */
float		(*VaL2SquaredFloat) (const float *a, const float *b, int n) = l2_squared_float_scalar;
float		(*VaInnerProductFloat) (const float *a, const float *b, int n) = inner_product_float_scalar;
float		(*VaL1Float) (const float *a, const float *b, int n) = l1_float_scalar;
double		(*VaL2SquaredDouble) (const float *a, const float *b, int n) = l2_squared_double_scalar;
double		(*VaInnerProductDouble) (const float *a, const float *b, int n) = inner_product_double_scalar;
double		(*VaL1Double) (const float *a, const float *b, int n) = l1_double_scalar;

static const char *kernel_name = "scalar";

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

/*
 * Choose the kernel set for this process: AVX2+FMA when the build has those
 * kernels and the CPU supports them, else the scalar ones.  Called once from
 * _PG_init; calling it again is harmless.  Never fails.
 */
void
VaDistanceInit(void)
{
	const char *force = getenv("VECTORANN_KERNELS");

	VaL2SquaredFloat = l2_squared_float_scalar;
	VaInnerProductFloat = inner_product_float_scalar;
	VaL1Float = l1_float_scalar;
	VaL2SquaredDouble = l2_squared_double_scalar;
	VaInnerProductDouble = inner_product_double_scalar;
	VaL1Double = l1_double_scalar;
	kernel_name = "scalar";

	if (force != NULL && strcmp(force, "scalar") == 0)
		return;

#ifdef VA_HAVE_AVX2_KERNELS
	if (cpu_has_avx2_fma())
	{
		VaL2SquaredFloat = VaL2SquaredFloatAvx2;
		VaInnerProductFloat = VaInnerProductFloatAvx2;
		VaL1Float = VaL1FloatAvx2;
		VaL2SquaredDouble = VaL2SquaredDoubleAvx2;
		VaInnerProductDouble = VaInnerProductDoubleAvx2;
		VaL1Double = VaL1DoubleAvx2;
		kernel_name = "avx2+fma";
	}
#endif
}

/* Name of the kernel set in use: "scalar" or "avx2+fma". */
const char *
VaDistanceKernelName(void)
{
	return kernel_name;
}

/*
 * distance_simd.h
 *	  Private to src/distance: the SIMD kernel sets that distance.c may pick
 *	  at load time, and the macro saying whether this build has them.  The
 *	  kernels take the same arguments and promise the same results (up to
 *	  floating-point summation order) as the scalar ones in distance.c.
 */
#ifndef VA_DISTANCE_SIMD_H
#define VA_DISTANCE_SIMD_H

/*
 * AVX2+FMA kernels: x86-64 with a compiler that understands per-function
 * target attributes (GCC, clang).  The functions are compiled for AVX2+FMA
 * whatever the build flags, so they must only be called after
 * __builtin_cpu_supports() said the CPU has both.
 */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VA_HAVE_AVX2_KERNELS 1

extern float VaL2SquaredFloatAvx2(const float *a, const float *b, int n);
extern float VaInnerProductFloatAvx2(const float *a, const float *b, int n);
extern float VaL1FloatAvx2(const float *a, const float *b, int n);
extern double VaL2SquaredDoubleAvx2(const float *a, const float *b, int n);
extern double VaInnerProductDoubleAvx2(const float *a, const float *b, int n);
extern double VaL1DoubleAvx2(const float *a, const float *b, int n);
#endif

#endif							/* VA_DISTANCE_SIMD_H */

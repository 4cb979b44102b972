/*
 * distance_simd.h
 *	  Private to src/distance: the SIMD kernel sets that distance.c may pick
 *	  at load time (AVX2+FMA for vector, AVX2+FMA+F16C for halfvec, POPCNT
 *	  for bit), and the macros saying whether this build has them.  The
 *	  kernels take the same arguments and promise the same results (up to
 *	  floating-point summation order) as the scalar ones in distance.c.
 */
#ifndef VA_DISTANCE_SIMD_H
#define VA_DISTANCE_SIMD_H

#include <stdint.h>

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

/*
 * halfvec kernels: AVX2+FMA+F16C (vcvtph2ps widens eight halves at once);
 * call only after __builtin_cpu_supports() said the CPU has all three.
 */
#define VA_HAVE_F16C_KERNELS 1

extern float VaHalfL2SquaredFloatF16c(const uint16_t *a, const uint16_t *b, int n);
extern float VaHalfInnerProductFloatF16c(const uint16_t *a, const uint16_t *b, int n);
extern float VaHalfL1FloatF16c(const uint16_t *a, const uint16_t *b, int n);
extern void VaFloatToHalfF16c(const float *src, uint16_t *dst, int n);
extern void VaHalfToFloatF16c(const uint16_t *src, float *dst, int n);

/* bit kernels using the POPCNT instruction; call only when the CPU has it. */
#define VA_HAVE_POPCNT_KERNELS 1

extern uint64_t VaBitHammingPopcnt(const uint8_t *a, const uint8_t *b, int nbytes);
extern void VaBitJaccardCountsPopcnt(const uint8_t *a, const uint8_t *b, int nbytes,
									 uint64_t *both, uint64_t *either);
#endif

#endif							/* VA_DISTANCE_SIMD_H */

/*
 * distance_simd.h
 *	  Private to src/distance: the SIMD kernel sets that distance.c may pick
 *	  at load time (AVX-512F, else AVX2+FMA, for vector; AVX-512F, else
 *	  AVX2+FMA+F16C, for halfvec; AVX-512 VPOPCNTDQ, else POPCNT, for bit;
 *	  AVX512BW+VNNI, else AVX2, for RaBitQ codes),
 *	  and the macros saying whether this build has them.  The
 *	  kernels take the same arguments and promise the same results (up to
 *	  floating-point summation order) as the scalar ones in distance.c.
 */
#ifndef VA_DISTANCE_SIMD_H
#define VA_DISTANCE_SIMD_H

#include <stdint.h>

/*
 * Which SIMD kernel sets this build has: x86-64 with a compiler that
 * understands per-function target attributes (GCC, clang).  The functions
 * are compiled for their instructions whatever the build flags, so they
 * must only be called after distance.c has checked that the CPU (and, for
 * AVX-512, the OS) supports them:
 *   AVX2+FMA (distance_avx2.c)        float4 vectors, RaBitQ codes (AVX2),
 *                                     PQ tables and scans (gathers)
 *   AVX2+FMA+F16C (distance_f16c.c)   halfvec (vcvtph2ps widens eight halves)
 *   POPCNT (distance_popcnt.c)        bit strings
 *   AVX-512 (distance_avx512.c)       all three, for compilers that know the
 *                                     avx512f and avx512vpopcntdq targets (GCC
 *                                     8, clang 6 and later); the float and
 *                                     halfvec and PQ kernels need AVX512F, the bit
 *                                     ones AVX512F and AVX512_VPOPCNTDQ, the
 *                                     RaBitQ one AVX512BW and AVX512_VNNI.
 */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VA_HAVE_AVX2_KERNELS 1
#define VA_HAVE_F16C_KERNELS 1
#define VA_HAVE_POPCNT_KERNELS 1
#if defined(__clang__) ? (__clang_major__ >= 6) : (__GNUC__ >= 8)
#define VA_HAVE_AVX512_KERNELS 1
#endif
#endif							/* x86-64 with GCC or clang */

/*
 * For a kernel whose float results must be the same bits in every
 * implementation (VaRabitqLevels): GCC fuses a multiplication and a later
 * addition into one fused multiply-add (which rounds once, not twice)
 * wherever the target has the instruction, also across statements and
 * intrinsics (-ffp-contract=fast, its default); this turns that off for
 * one function.  clang fuses only within one source expression, which the
 * kernels avoid by rounding each product into a variable of its own.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define VA_NO_FP_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define VA_NO_FP_CONTRACT
#endif

/*
 * The kernels' prototypes: for the sets this build has, and for all of them
 * when the test build compiles them against the SIMDe emulation
 * (VA_KERNEL_EMULATE, see distance_intrin.h), which it may do on any CPU.
 */
#if defined(VA_HAVE_AVX2_KERNELS) || defined(VA_KERNEL_EMULATE)
extern float VaL2SquaredFloatAvx2(const float *a, const float *b, int n);
extern float VaInnerProductFloatAvx2(const float *a, const float *b, int n);
extern float VaL1FloatAvx2(const float *a, const float *b, int n);
extern double VaL2SquaredDoubleAvx2(const float *a, const float *b, int n);
extern double VaInnerProductDoubleAvx2(const float *a, const float *b, int n);
extern double VaL1DoubleAvx2(const float *a, const float *b, int n);
extern int32_t VaRabitqDotPlanesAvx2(const uint8_t *planes, const int8_t *qq, int padded, int bits);
extern void VaPqTableL2Avx2(const float *x, const float *codebook, int m, int dsub, float *table);
extern void VaPqTableIpAvx2(const float *x, const float *codebook, int m, int dsub, float *table);
extern void VaPqScanAvx2(const float *table, int m, const uint8_t *codes, int n, float *out);
extern int	VaPqArgminAvx2(const float *t);
extern void VaPqEncodeL2Avx2(const float *x, int nrows, const float *codebook, int m, int dsub,
							 uint8_t *codes, float *scratch);
extern void VaRabitqLevelsAvx2(const float *a, int padded, int maxk, const float *t, int nt,
							   float *ip, float *nx);
extern void VaDotPanelsAvx2(const float *rows, int nrows, int dims, const float *panels,
							int npanels, float *out, int ldo);
extern float VaPanelKeysAvx2(float *key, const float *bias, int n);
extern int	VaCountAtMostAvx2(const float *key, int n, float limit);
#endif

#if defined(VA_HAVE_F16C_KERNELS) || defined(VA_KERNEL_EMULATE)
extern float VaHalfL2SquaredFloatF16c(const uint16_t *a, const uint16_t *b, int n);
extern float VaHalfInnerProductFloatF16c(const uint16_t *a, const uint16_t *b, int n);
extern float VaHalfL1FloatF16c(const uint16_t *a, const uint16_t *b, int n);
extern void VaFloatToHalfF16c(const float *src, uint16_t *dst, int n);
extern void VaHalfToFloatF16c(const uint16_t *src, float *dst, int n);
#endif

#if defined(VA_HAVE_POPCNT_KERNELS) || defined(VA_KERNEL_EMULATE)
extern uint64_t VaBitHammingPopcnt(const uint8_t *a, const uint8_t *b, int nbytes);
extern void VaBitJaccardCountsPopcnt(const uint8_t *a, const uint8_t *b, int nbytes,
									 uint64_t *both, uint64_t *either);
#endif

#if defined(VA_HAVE_AVX512_KERNELS) || defined(VA_KERNEL_EMULATE)
extern float VaL2SquaredFloatAvx512(const float *a, const float *b, int n);
extern float VaInnerProductFloatAvx512(const float *a, const float *b, int n);
extern float VaL1FloatAvx512(const float *a, const float *b, int n);
extern double VaL2SquaredDoubleAvx512(const float *a, const float *b, int n);
extern double VaInnerProductDoubleAvx512(const float *a, const float *b, int n);
extern double VaL1DoubleAvx512(const float *a, const float *b, int n);
extern float VaHalfL2SquaredFloatAvx512(const uint16_t *a, const uint16_t *b, int n);
extern float VaHalfInnerProductFloatAvx512(const uint16_t *a, const uint16_t *b, int n);
extern float VaHalfL1FloatAvx512(const uint16_t *a, const uint16_t *b, int n);
extern uint64_t VaBitHammingAvx512(const uint8_t *a, const uint8_t *b, int nbytes);
extern void VaBitJaccardCountsAvx512(const uint8_t *a, const uint8_t *b, int nbytes,
									 uint64_t *both, uint64_t *either);
extern int32_t VaRabitqDotPlanesAvx512Vnni(const uint8_t *planes, const int8_t *qq, int padded, int bits);
extern void VaPqTableL2Avx512(const float *x, const float *codebook, int m, int dsub, float *table);
extern void VaPqTableIpAvx512(const float *x, const float *codebook, int m, int dsub, float *table);
extern void VaPqScanAvx512(const float *table, int m, const uint8_t *codes, int n, float *out);
extern int	VaPqArgminAvx512(const float *t);
extern void VaPqEncodeL2Avx512(const float *x, int nrows, const float *codebook, int m, int dsub,
							   uint8_t *codes, float *scratch);
extern void VaRabitqLevelsAvx512(const float *a, int padded, int maxk, const float *t, int nt,
								 float *ip, float *nx);
extern void VaDotPanelsAvx512(const float *rows, int nrows, int dims, const float *panels,
							  int npanels, float *out, int ldo);
extern float VaPanelKeysAvx512(float *key, const float *bias, int n);
extern int	VaCountAtMostAvx512(const float *key, int n, float limit);
#endif

#endif							/* VA_DISTANCE_SIMD_H */

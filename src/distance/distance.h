/*
 * distance.h
 *	  Distance kernels on plain float arrays: no fmgr, no palloc, no Postgres
 *	  types.  Each kernel is a function pointer chosen once at load time by
 *	  VaDistanceInit() from the CPU's features (scalar, AVX2+FMA, F16C,
 *	  POPCNT, AVX-512F, AVX-512 VPOPCNTDQ).
 *
 *	  *Float kernels accumulate in float4: they are the index hot path.
 *	  *Double kernels accumulate in float8: they back the SQL functions,
 *	  whose results must be exact to float8 accumulation.
 */
#ifndef VA_DISTANCE_H
#define VA_DISTANCE_H

#include <stdint.h>

/* sum (a[i]-b[i])^2, n >= 0 */
extern float (*VaL2SquaredFloat) (const float *a, const float *b, int n);

/* sum a[i]*b[i] */
extern float (*VaInnerProductFloat) (const float *a, const float *b, int n);

/* sum |a[i]-b[i]| */
extern float (*VaL1Float) (const float *a, const float *b, int n);

extern double (*VaL2SquaredDouble) (const float *a, const float *b, int n);
extern double (*VaInnerProductDouble) (const float *a, const float *b, int n);
extern double (*VaL1Double) (const float *a, const float *b, int n);

/*
 * halfvec kernels: arrays of n >= 0 IEEE binary16 values (raw bit patterns),
 * each widened exactly to float4, accumulated in float4.  They back both
 * the index and the SQL functions on halfvec (a half has 11 significant
 * bits, so a float4 sum of products of halves is exact for short vectors of
 * small integers and within float4 rounding otherwise).
 */
extern float (*VaHalfL2SquaredFloat) (const uint16_t *a, const uint16_t *b, int n);
extern float (*VaHalfInnerProductFloat) (const uint16_t *a, const uint16_t *b, int n);
extern float (*VaHalfL1Float) (const uint16_t *a, const uint16_t *b, int n);

/*
 * bit kernels on byte strings of nbytes >= 0 bytes (padding bits past the
 * bit length must be zero, as Postgres keeps them).
 * VaBitHamming: number of differing bits.
 * VaBitJaccardCounts: sets *both = popcount(a & b) and *either =
 * popcount(a | b).
 */
extern uint64_t (*VaBitHamming) (const uint8_t *a, const uint8_t *b, int nbytes);
extern void (*VaBitJaccardCounts) (const uint8_t *a, const uint8_t *b, int nbytes,
								   uint64_t *both, uint64_t *either);

/*
 * sparsevec kernels: two sparse vectors given as strictly increasing
 * 0-based indices ia[0..na) / ib[0..nb) with their float4 values; only the
 * non-zeros are visited (a merge of the two index lists), every term in
 * float8.  Plain C, no dispatch (the merge, not arithmetic, dominates).
 */
extern double VaSparseL2SquaredDouble(const int32_t *ia, const float *va, int na,
									  const int32_t *ib, const float *vb, int nb);
extern double VaSparseInnerProductDouble(const int32_t *ia, const float *va, int na,
										 const int32_t *ib, const float *vb, int nb);
extern double VaSparseL1Double(const int32_t *ia, const float *va, int na,
							   const int32_t *ib, const float *vb, int nb);

/*
 * RaBitQ code kernel (src/quant/rabitq.c): sum over i in [0, padded) of
 * u[i] * qq[i], where u[i] in [0, 2^bits - 1] and qq are padded signed
 * bytes.  How the code bytes hold the u[i] depends on bits:
 *   bits = 4: packed nibbles, in blocks of 128 coordinates (64 bytes; the
 *     last block holds 64 coordinates in 32 bytes when padded % 128 = 64):
 *     byte k of the block starting at coordinate s, of L coordinates, holds
 *     u[s + k] in its low nibble and u[s + L/2 + k] in its high one, so a
 *     block's low nibbles and its high nibbles each meet a contiguous run
 *     of qq;
 *   other bits: bits planes of padded bits each (plane b at
 *     code + b * padded / 8 holds bit b of every u[i], coordinate i in bit
 *     i % 8 of byte i / 8).
 * Either way the code takes padded * bits / 8 bytes.  padded is a positive
 * multiple of 64, at most 16000 rounded up (so the sum, at most 255 * 128 *
 * 16000 in magnitude, fits); bits is 1..8.  Reads exactly padded * bits / 8
 * bytes of the code and padded of qq; no alignment needed; never fails,
 * never allocates.  Every implementation returns the same integer.
 */
extern int32_t (*VaRabitqDotPlanes) (const uint8_t *planes, const int8_t *qq, int padded, int bits);

/*
 * Product-quantization kernels (src/quant/pq.c; Jegou, Douze & Schmid,
 * "Product quantization for nearest neighbor search", IEEE TPAMI 2011).
 * A codebook of m subspaces of dsub dimensions each holds VA_PQ_KSUB (256)
 * centroids per subspace, stored transposed so that the 256 centroids'
 * coordinate d of subspace j are contiguous: centroid k of subspace j has
 * coordinate d at codebook[(j * dsub + d) * 256 + k].
 *
 * VaPqTableL2: table[j * 256 + k] := sum over d < dsub of
 *   (x[j * dsub + d] - centroid k of subspace j, coordinate d)^2,
 * VaPqTableIp: the same with x[...] * centroid instead (inner products).
 *   x has m * dsub floats, table m * 256; m >= 1, dsub >= 1.  Each entry is
 *   summed over d in ascending order in float4; SIMD versions may fuse
 *   multiply and add (results within 1e-5 of the sum of |terms|).
 *
 * VaPqScan: out[i] := sum over j < m, in ascending j, of
 *   table[j * 256 + codes[i * m + j]] for i < n: the asymmetric distance
 *   (ADC) of n codes of m bytes each, stored one after the other.  Reads
 *   exactly n * m code bytes and the table entries they name; every
 *   implementation adds the same floats in the same order from 0.0f, so
 *   the results are bit for bit equal.  n >= 0, m >= 1.  The SIMD versions
 *   (two gathers per subspace and 8 or 16 codes) exist and are checked, but
 *   VaDistanceInit keeps the scalar one: on the development machine (a
 *   Xeon with AVX-512) the gathers were slower (m = 49, 2,000 codes: scalar
 *   61-66 ns a code, AVX2 78-89, AVX-512 75-109; test/bench/RESULTS.md).
 *
 * VaPqArgmin: the index of the smallest of t[0..256), the lowest index on a
 *   tie (as a strict < scan from 0 finds it); t finite.  Every
 *   implementation returns the same index.  Encoding and training use it on
 *   each subspace's row of a VaPqTableL2 table.
 *
 * VaPqEncodeL2: codes[r * m + j] := VaPqArgmin of row j of the VaPqTableL2
 *   table of row r, x + r * m * dsub, for r < nrows (nrows >= 0): the PQ
 *   codes of nrows rows at once (src/quant/pq.c: encoding and training).
 *   Each implementation gives exactly the codes of the table and argmin
 *   kernels of its own instruction set (VaDistanceInit picks all three
 *   together), so a block of rows is encoded as each row alone would be;
 *   the AVX-512 one computes the same table entries for four rows at a time
 *   per codebook slice, the others one row at a time.  scratch: m * 256
 *   floats.
 *
 * Never fail, never allocate.
 */
#define VA_PQ_KSUB 256
extern void (*VaPqTableL2) (const float *x, const float *codebook, int m, int dsub, float *table);
extern void (*VaPqTableIp) (const float *x, const float *codebook, int m, int dsub, float *table);
extern void (*VaPqScan) (const float *table, int m, const uint8_t *codes, int n, float *out);
extern int	(*VaPqArgmin) (const float *t);
extern void (*VaPqEncodeL2) (const float *x, int nrows, const float *codebook, int m, int dsub,
							 uint8_t *codes, float *scratch);

/*
 * RaBitQ level-search kernel (src/quant/rabitq.c, choose_levels; extended
 * RaBitQ, Gao et al., SIGMOD 2025): for each of nt >= 1 rescalings t[e],
 * with the level l(i) = min(trunc(t[e] * a[i]), maxk) of coordinate i and
 * x(i) = (float) l(i) + 0.5f, sets ip[e] := sum of x(i) * a[i] and
 * nx[e] := sum of x(i) * x(i) over i < padded, in float4 and in one fixed
 * order: eight partial sums from 0.0f, that of lane k over i = k, k + 8,
 * k + 16, ... in ascending i, each product rounded before it is added
 * (never a fused multiply-add), then the eight added to 0.0f in lane
 * order.  Every implementation returns the same bits, so RaBitQ codes do
 * not depend on the CPU that made them (ivfflat_check and hnsw_check
 * recompute them).  padded is a positive multiple of 8; a[i] >= 0,
 * 0 <= t[e] * a[i] < 2^31, maxk >= 0.  Never fails, never allocates.
 */
extern void (*VaRabitqLevels) (const float *a, int padded, int maxk, const float *t, int nt,
							   float *ip, float *nx);

/*
 * Blocked inner products for nearest-centroid search (src/ivfflat/
 * nearest.c).  The centroids are laid out in panels of VA_PANEL_WIDTH (16):
 * coordinate d of centroid j is panels[((j / 16) * dims + d) * 16 + j % 16],
 * i.e. a panel holds its 16 centroids' coordinate 0, then their coordinate
 * 1, and so on (a short last panel is padded with zero centroids).
 *
 * VaDotPanels: out[r * ldo + j] := sum over d < dims of rows[r * dims + d] *
 *   (coordinate d of centroid j), for r < nrows and j < npanels * 16: the
 *   inner products of a block of rows with every centroid at once, with no
 *   horizontal sums.  Each is summed in float4 over ascending d from 0.0f,
 *   one product (rounded, or fused into the addition) at a time, so every
 *   kernel is within gamma(dims) = dims u / (1 - dims u), u = 2^-24, of
 *   the sum of |terms| (Higham, Accuracy and Stability of Numerical
 *   Algorithms, 2nd ed., 2002, section 3.1); kernels may differ in the last
 *   bits.  dims >= 1, nrows >= 0, npanels >= 1, ldo >= npanels * 16.
 *   Never fails, never allocates.
 */
#define VA_PANEL_WIDTH 16
extern void (*VaDotPanels) (const float *rows, int nrows, int dims, const float *panels,
							int npanels, float *out, int ldo);

/*
 * VaPanelKeys: key[j] := bias[j] - 2 key[j] for j < n, or key[j] := -key[j]
 *   when bias is NULL (the ranking values of nearest.c from the inner
 *   products), and returns the smallest of the new key[0..n) (FLT_MAX when
 *   n = 0; a zero of either sign when that is zero).  2 key[j] is exact,
 *   so fused or not every implementation writes the same bits.  Keys are
 *   finite.
 *
 * VaCountAtMost: the number of j < n with key[j] <= limit.
 *
 * n >= 0; never fail, never allocate.
 */
extern float (*VaPanelKeys) (float *key, const float *bias, int n);
extern int	(*VaCountAtMost) (const float *key, int n, float limit);

/*
 * IEEE binary16 <-> float4 in portable C.
 * VaHalfToFloat is exact.  VaFloatToHalf rounds to nearest, ties to even;
 * finite values of magnitude >= 65520 give an infinity (callers check with
 * VaHalfIsInf), NaN gives a NaN, values below the smallest subnormal half
 * round to (signed) zero.
 */
extern float VaHalfToFloat(uint16_t h);
extern uint16_t VaFloatToHalf(float f);

#define VA_HALF_MAX 65504.0f
static inline int
VaHalfIsInf(uint16_t h)
{
	return (h & 0x7fff) == 0x7c00;
}

/*
 * Compare every SIMD kernel in this build that the CPU can run (whether or
 * not VECTORANN_KERNELS kept it from being picked) with its scalar
 * reference on pseudo-random inputs of lengths 1, 7, 15, 16, 17, 1023 and
 * 16000 (bit kernels: as many bytes).  Float kernels pass when
 * |simd - scalar| <= 1e-5 * (sum of |terms|) + 1e-30 (a bound on the
 * difference two summation orders can make in float4 accumulation at
 * 16000 terms is far below that); double kernels with 1e-12; bit kernels
 * must be equal, and so must the portable binary16 conversions and the
 * F16C instructions' (n floats over and past the half range, n halves).
 * The RaBitQ code kernels are compared on padded lengths 64, 832, 3072
 * and 16000 (random planes and qq; at 16000 also every bit set with qq all
 * -128 and all 127), each at every bits 1..8, and must be equal; one
 * comparison per length.  The PQ kernels: tables at (m, dsub) = (1, 1),
 * (3, 5), (49, 16), (8, 96) within 1e-5 of the sum of |terms|, and scans of
 * n = 1, 7, 15, 16, 17, 33, 1000 codes at m = 1, 3, 49 (random codes, plus
 * all 0 and all 255) exactly equal; the argmin on random rows, rows with
 * ties and constant rows, exactly equal.
 * The RaBitQ level-search kernels on padded lengths 64, 832, 3072 and 16000
 * (random magnitudes, 1 to 5 rescalings, maxk 0, 1, 7 and 127) must be
 * equal; the panel kernels (1, 7 and 33 rows of 1, 17 and 128 dimensions
 * against 1 and 3 panels) within 1e-5 of the sum of |terms|; the key and
 * count kernels on 0 to 1000 keys (with and without bias) exactly.
 * For each comparison calls report(kernel, n, ok, arg);
 * returns the number of failed comparisons.  Never allocates more than
 * four arrays of 16000 floats (malloc; returns -1 if that fails).
 */
typedef void (*VaKernelCheckReport) (const char *kernel, int n, int ok, void *arg);
extern int	VaDistanceCheckKernels(VaKernelCheckReport report, void *arg);

/*
 * Pick the kernels for the CPU and detect the CPU features of cpu.h (see
 * distance.c); called once from _PG_init.
 */
extern void VaDistanceInit(void);

/* Name of the kernel set in use, e.g. "avx2+fma" or "scalar". */
extern const char *VaDistanceKernelName(void);

/*
 * Maps from an index distance to the value of the SQL operator, for
 * VaIndexOps.to_sql: root of a squared L2 distance (negative rounding
 * clamped to 0), the value itself, and a cosine distance clamped to [0, 2].
 */
extern double VaToSqlSqrt(float distance);
extern double VaToSqlIdentity(float distance);
extern double VaToSqlCosine(float distance);

#endif							/* VA_DISTANCE_H */

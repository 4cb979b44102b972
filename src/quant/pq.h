/*
 * pq.h
 *	  Product quantization of float vectors, knowing no access method:
 *	  training of the codebooks, encoding, decoding, and the asymmetric
 *	  distance tables a query meets codes with.  Jegou, Douze & Schmid,
 *	  "Product quantization for nearest neighbor search", IEEE TPAMI 33(1),
 *	  2011 (sections II-III: subspaces, codebooks, asymmetric distance
 *	  computation (ADC); section IV: IVFADC, the coarse quantizer and
 *	  residuals).
 *
 *	  Notation.  dims is the input dimension, split into m subspaces of
 *	  dsub = dims / m consecutive coordinates; subspace j holds coordinates
 *	  [j * dsub, (j + 1) * dsub).  Each subspace has its own codebook of
 *	  VA_PQ_KSUB = 256 centroids ("codewords"), so a code is m bytes, byte j
 *	  naming the codeword of subspace j; the vector a code stands for (its
 *	  reconstruction) is the concatenation of its m codewords.  Codebooks
 *	  are stored transposed per subspace (centroid k's coordinate d of
 *	  subspace j at codebook[(j * dsub + d) * 256 + k]), the layout the
 *	  table kernels in distance.h read.
 *
 *	  Distances.  With a table T of m * 256 floats made from a query, the
 *	  ADC distance of a code is sum over j of T[j][code[j]]:
 *	    L2:  T[j][k] = |q_j - r_jk|^2, so the sum is |q - r|^2 exactly (up to
 *	         float rounding) for the reconstruction r of the code;
 *	    IP:  T[j][k] = <q_j, r_jk>, the sum is <q, r>.
 *
 *	  Residuals (IVFADC).  An inverted list with coarse centroid c encodes
 *	  the residual x - c of each vector x.  Then for a query q and a code
 *	  with reconstruction r (so x ~ c + r):
 *	    IP:  <q, c + r> = <q, c> + sum_j <q_j, r_j>: one table per query
 *	         (VaPqIpTable on q), the same for every list, plus <q, c>.
 *	    L2:  |q - c - r|^2 directly needs a table from q - c, i.e. one per
 *	         probed list (VaPqL2Table on q - c: 256 * dims multiply-adds).
 *	         Expanding instead,
 *	           |q - c - r|^2 = |q - c|^2 + |r|^2 + 2 <c, r> - 2 <q, r>
 *	                         = |q - c|^2
 *	                           + sum_j (|r_jk|^2 + 2 <c_j, r_jk>)   (term 2)
 *	                           - 2 sum_j <q_j, r_jk>                (term 3)
 *	         because the subspaces are disjoint, so |r|^2 and <c, r> split
 *	         by subspace.  |q - c|^2 is the distance the scan already has
 *	         from ranking the lists; term 2 depends only on the list and
 *	         the codebook (VaPqListTerms: computed once per list and kept);
 *	         term 3 only on the query (VaPqIpTable on q, once per query).
 *	         A list's table is then term2 - 2 * term3, m * 256 additions
 *	         (VaPqCombineTables).  This is the "precomputed tables" variant
 *	         of IVFADC that FAISS's IndexIVFPQ also offers (Jegou et al.
 *	         2011 section IV-B describe the per-list table; the expansion is
 *	         plain algebra).  In float4 the expansion loses some precision
 *	         to cancellation when |q - c| is small against |c|; ADC distances
 *	         only rank candidates for exact re-ranking, so that is harmless.
 *
 *	  Everything here is deterministic: training depends only on the
 *	  sample, its order, the seed and the iteration count (pg_prng), and on
 *	  the table kernel in use (SIMD and scalar kernels may round a distance
 *	  differently and so break a tie differently).
 */
#ifndef VA_PQ_H
#define VA_PQ_H

#include "vectorann.h"

#include "distance/distance.h"	/* VA_PQ_KSUB, the kernels */

/* Lloyd iterations of training when the caller has no preference. */
#define VA_PQ_DEFAULT_ITERATIONS 20

/*
 * A product quantizer.  codebook points to m * dsub * 256 = dims * 256
 * floats (VaPqCodebookSize bytes) in the layout above, owned by whoever
 * set the struct up (VaPqInit allocates; an index may point it into a
 * cached copy).  Read-only once trained, so it may be shared.
 */
typedef struct VaPq
{
	int			dims;			/* input dimensions, 1..VA_MAX_DIM */
	int			m;				/* subspaces = code bytes, divides dims */
	int			dsub;			/* dims / m */
	float	   *codebook;		/* dims * 256 floats, transposed per subspace */
} VaPq;

/*
 * The default number of subspaces for dims dimensions (1..VA_MAX_DIM): the
 * divisor m of dims whose subvector length dims / m is nearest 8 (the
 * smaller length on a tie), so codes take about one bit per dimension, a
 * 32nd of a float4 vector: 98 for 784 dimensions, 96 for 768, 192 for
 * 1536, 10 for 100 (subvectors of 10), 6 for 48, 97 for the prime 97
 * (subvectors of 1).  Larger subvectors (Fashion-MNIST's pq_m = 49: 16
 * dimensions) halve the codes and suit data as redundant as images; data
 * with little structure or widely varying norms may need smaller ones.
 * Always valid for VaPqCheckM.  Never fails.
 */
extern int	VaPqDefaultM(int dims);

/*
 * ereport(ERROR) unless 1 <= m <= dims and m divides dims (dims in
 * 1..VA_MAX_DIM): ERRCODE_INVALID_PARAMETER_VALUE, naming the option as
 * what (e.g. "pq_m") and suggesting the default.
 */
extern void VaPqCheckM(int dims, int m, const char *what);

/* Bytes of a codebook for (dims, m): dims * 256 floats. */
extern Size VaPqCodebookSize(int dims);

/*
 * Set up pq for (dims, m) (checked with VaPqCheckM) with a zeroed codebook
 * palloc'd in CurrentMemoryContext (dims KB).
 */
extern void VaPqInit(VaPq *pq, int dims, int m);

/*
 * Train pq's codebook on n samples, row-major n * dims floats (finite), by
 * k-means in each subspace (Lloyd's algorithm, Jegou et al. 2011 section
 * II-A): the initial centroids are distinct subvectors drawn in a random
 * order from seed (pg_prng), then at most iterations rounds of assigning
 * every subvector to its nearest centroid (VaPqTableL2, lowest index on a
 * tie; VaPqEncodeRows on blocks of samples) and moving each centroid to
 * the mean of its subvectors (in float8),
 * stopping early when no assignment changes.  A centroid that loses all
 * its subvectors stays where it was.  With fewer than 256 distinct
 * subvectors in a subspace (few samples, duplicates) every distinct one
 * becomes a centroid and the remaining centroids repeat them, so the
 * samples are encoded exactly; with n = 0 all centroids are 0.
 * Memory: palloc'd n * m bytes of assignments and dims * 256 doubles of
 * sums, freed before return.  Work: iterations * n * 256 * dims
 * multiply-adds.  Checks for interrupts between rounds.
 */
extern void VaPqTrain(VaPq *pq, const float *samples, int n, uint64 seed, int iterations);

/*
 * How unevenly the reconstruction errors delta = x - x^ of the n samples
 * (row-major n * dims floats; overwritten with their errors) spread over
 * directions: sqrt(lambda_max / trace) of their second-moment matrix
 * M = sum_i delta_i delta_i^T, in [1 / sqrt(dims), 1] (0 when every
 * sample is encoded exactly).  For a direction u independent of a row's
 * error, <delta, u> has variance at most lambda_max |u|^2 where
 * E |delta|^2 is trace: so s |delta| |u| with s this number is about one
 * standard deviation of <delta, u>, the number an error bound on ADC
 * distances scales (a codebook trained by k-means leaves E[delta | code]
 * = 0, so the error has no bias in any direction).  lambda_max by
 * VA_PQ_SPREAD_ITERATIONS rounds of power iteration from a random start
 * (seed; pg_prng), whose Rayleigh quotient approaches it from below.
 * Memory: dims doubles twice, a table.  Work: n encodings and
 * 2 * iterations * n * dims multiply-adds.  Checks for interrupts.
 */
#define VA_PQ_SPREAD_ITERATIONS 30

/*
 * Standard deviations of <delta, u> an error bound allows (as
 * VA_RABITQ_BOUND_EPS0 for RaBitQ's estimator).
 */
#define VA_PQ_BOUND_EPS0	3.0f
extern float VaPqErrorSpread(const VaPq *pq, float *samples, int n, uint64 seed);

/*
 * Encode v[0..dims) into code[0..m): the nearest codeword of each
 * subspace (squared L2, lowest index on a tie).  scratch holds m * 256
 * floats (the distance table of v).  No allocation.
 */
extern void VaPqEncode(const VaPq *pq, const float *v, uint8 *code, float *scratch);

/*
 * Encode n >= 0 rows v[0..n * dims) into codes[0..n * m), row r's code at
 * codes + r * m: exactly the codes VaPqEncode gives each row alone (both
 * are the VaPqEncodeL2 kernel), in less time per row on CPUs whose kernel
 * blocks rows (AVX-512: the codebook is read once per four rows).
 * scratch holds m * 256 floats.  No allocation.
 */
extern void VaPqEncodeRows(const VaPq *pq, const float *v, int n, uint8 *codes, float *scratch);

/* The reconstruction of code: out[0..dims) := its m codewords. */
extern void VaPqDecode(const VaPq *pq, const uint8 *code, float *out);

/*
 * Distance tables, table[0..m * 256) (see the header comment):
 *   VaPqL2Table: |x_j - r_jk|^2 (x = q, or x = q - c for a list c);
 *   VaPqIpTable: <x_j, r_jk>;
 *   VaPqCodewordNorms: |r_jk|^2 (from the table kernel on a zero vector;
 *     zero is scratch of dims floats);
 *   VaPqListTerms: |r_jk|^2 + 2 <c_j, r_jk>, term 2 of the L2 expansion
 *     for the list with centroid c[0..dims), given VaPqCodewordNorms's
 *     norms (m * 256 floats, the same for every list);
 *   VaPqCombineTables: table := terms - 2 * ip (term 2 and the query's
 *     VaPqIpTable), the list's L2 table up to the constant |q - c|^2.
 * No allocation.  All but VaPqCombineTables (m * 256 additions) cost
 * 256 * dims multiply-adds in the SIMD table kernels.
 */
extern void VaPqL2Table(const VaPq *pq, const float *x, float *table);
extern void VaPqIpTable(const VaPq *pq, const float *x, float *table);
extern void VaPqCodewordNorms(const VaPq *pq, float *zero, float *norms);
extern void VaPqListTerms(const VaPq *pq, const float *c, const float *norms, float *table);
extern void VaPqCombineTables(const VaPq *pq, const float *terms, const float *ip, float *table);

/*
 * ADC distances of n codes of m bytes each, stored one after another:
 * out[i] := bias + sum_j table[j][codes[i * m + j]] (the VaPqScan kernel,
 * then the constant).  The hot path of a PQ scan: no allocation.
 */
extern void VaPqDistances(const VaPq *pq, const float *table, const uint8 *codes, int n,
						  float bias, float *out);

#endif							/* VA_PQ_H */

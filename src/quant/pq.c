/*
 * pq.c
 *	  Product quantization (Jegou, Douze & Schmid, IEEE TPAMI 2011): codebook
 *	  training by k-means per subspace, encoding, decoding and distance
 *	  tables.  See pq.h for the notation, the layout and the derivation of
 *	  the residual tables; the kernels (tables, table sums) are in
 *	  src/distance/.
 */
#include "vectorann.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "quant/pq.h"

int
VaPqDefaultM(int dims)
{
	int			best = dims;	/* subvectors of 1 */

	for (int m = 1; m <= dims; m++)
	{
		int			len,
					best_len;

		if (dims % m != 0)
			continue;
		len = dims / m;
		best_len = dims / best;
		/* nearer 8; on a tie the shorter subvector (larger m) */
		if (abs(len - 8) < abs(best_len - 8) ||
			(abs(len - 8) == abs(best_len - 8) && len < best_len))
			best = m;
	}
	return best;
}

void
VaPqCheckM(int dims, int m, const char *what)
{
	if (m < 1 || m > dims || dims % m != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must divide the number of dimensions", what),
				 errdetail("%s is %d and the vectors have %d dimensions.", what, m, dims),
				 errhint("Choose a divisor of %d, for example %d (the default).",
						 dims, VaPqDefaultM(dims))));
}

Size
VaPqCodebookSize(int dims)
{
	return sizeof(float) * (Size) dims * VA_PQ_KSUB;
}

void
VaPqInit(VaPq *pq, int dims, int m)
{
	if (dims < 1 || dims > VA_MAX_DIM)
		elog(ERROR, "product quantizer of %d dimensions", dims);
	VaPqCheckM(dims, m, "pq_m");
	pq->dims = dims;
	pq->m = m;
	pq->dsub = dims / m;
	pq->codebook = palloc0(VaPqCodebookSize(dims));
}

/* Coordinate d of centroid k of subspace j. */
static inline float *
centroid_coord(const VaPq *pq, int j, int d, int k)
{
	return pq->codebook + ((Size) j * pq->dsub + d) * VA_PQ_KSUB + k;
}

/*
 * Initial centroids of subspace j: the samples' subvectors in the random
 * order of perm, each taken unless it equals one taken already, until 256
 * are taken; if fewer are distinct, centroid k (k >= taken) repeats
 * centroid k % taken.
 */
static void
init_subspace(VaPq *pq, int j, const float *samples, int n, const int *perm)
{
	int			dims = pq->dims;
	int			dsub = pq->dsub;
	int			taken = 0;

	for (int p = 0; p < n && taken < VA_PQ_KSUB; p++)
	{
		const float *x = samples + (Size) perm[p] * dims + (Size) j * dsub;
		bool		dup = false;

		for (int k = 0; k < taken && !dup; k++)
		{
			int			d;

			for (d = 0; d < dsub; d++)
				if (*centroid_coord(pq, j, d, k) != x[d])
					break;
			dup = (d == dsub);
		}
		if (dup)
			continue;
		for (int d = 0; d < dsub; d++)
			*centroid_coord(pq, j, d, taken) = x[d];
		taken++;
	}
	for (int k = taken; k < VA_PQ_KSUB; k++)
		for (int d = 0; d < dsub; d++)
			*centroid_coord(pq, j, d, k) = taken > 0 ? *centroid_coord(pq, j, d, k % taken) : 0.0f;
}

/*
 * Initial centroids of every subspace (init_subspace), each from its own
 * random order of the n samples (Fisher-Yates shuffle drawn from a PRNG
 * seeded with seed, one shuffle per subspace in turn), so that the same
 * samples and seed give the same codebook.  n >= 1.
 */
static void
init_codebook(VaPq *pq, const float *samples, int n, uint64 seed)
{
	pg_prng_state state;
	int		   *perm;

	pg_prng_seed(&state, seed);
	perm = palloc(sizeof(int) * n);
	for (int j = 0; j < pq->m; j++)
	{
		for (int i = 0; i < n; i++)
			perm[i] = i;
		for (int i = n - 1; i > 0; i--)
		{
			int			r = (int) pg_prng_uint64_range(&state, 0, (uint64) i);
			int			tmp = perm[i];

			perm[i] = perm[r];
			perm[r] = tmp;
		}
		init_subspace(pq, j, samples, n, perm);
	}
	pfree(perm);
}

/* Rows encoded per VaPqEncodeL2 call in training (a block of codes). */
#define PQ_ASSIGN_BLOCK 64

/*
 * The k-means assignment step: for every sample i, assign[i * m + j] becomes
 * the nearest (L2) centroid of subspace j, PQ_ASSIGN_BLOCK samples at a
 * time (VaPqEncodeL2, so exactly VaPqEncode's codes; table: m * VA_PQ_KSUB
 * floats of scratch, codes as many bytes as PQ_ASSIGN_BLOCK codes).
 * Returns whether any assignment changed; on the first iteration (first)
 * always true, assign holding nothing yet.
 */
static bool
assign_samples(const VaPq *pq, const float *samples, int n, uint8 *assign,
			   float *table, uint8 *codes, bool first)
{
	int			dims = pq->dims;
	int			m = pq->m;
	bool		changed = first;

	for (int i = 0; i < n; i += PQ_ASSIGN_BLOCK)
	{
		int			rows = Min(n - i, PQ_ASSIGN_BLOCK);
		uint8	   *a = assign + (Size) i * m;
		Size		len = (Size) rows * m;

		VaPqEncodeL2(samples + (Size) i * dims, rows, pq->codebook, m, pq->dsub, codes, table);
		if (!changed && memcmp(a, codes, len) != 0)
			changed = true;
		memcpy(a, codes, len);
	}
	return changed;
}

/*
 * The k-means update step: every centroid becomes the mean of the
 * subvectors assigned to it (assign as assign_samples leaves it); a
 * centroid with none keeps its place.  sums (dims * VA_PQ_KSUB doubles) and
 * counts (m * VA_PQ_KSUB ints) are scratch, cleared here.
 */
static void
update_centroids(VaPq *pq, const float *samples, int n, const uint8 *assign,
				 double *sums, int *counts)
{
	int			dims = pq->dims;
	int			m = pq->m;
	int			dsub = pq->dsub;

	memset(sums, 0, sizeof(double) * (Size) dims * VA_PQ_KSUB);
	memset(counts, 0, sizeof(int) * (Size) m * VA_PQ_KSUB);
	for (int i = 0; i < n; i++)
	{
		const float *x = samples + (Size) i * dims;
		const uint8 *a = assign + (Size) i * m;

		for (int j = 0; j < m; j++)
		{
			int			k = a[j];
			double	   *sum = sums + (Size) k * dims + (Size) j * dsub;
			const float *xs = x + (Size) j * dsub;

			counts[j * VA_PQ_KSUB + k]++;
			for (int d = 0; d < dsub; d++)
				sum[d] += xs[d];
		}
	}
	for (int j = 0; j < m; j++)
		for (int k = 0; k < VA_PQ_KSUB; k++)
		{
			int			c = counts[j * VA_PQ_KSUB + k];

			if (c == 0)
				continue;		/* an empty cluster keeps its centroid */
			for (int d = 0; d < dsub; d++)
				*centroid_coord(pq, j, d, k) =
					(float) (sums[(Size) k * dims + (Size) j * dsub + d] / c);
		}
}

void
VaPqTrain(VaPq *pq, const float *samples, int n, uint64 seed, int iterations)
{
	int			dims = pq->dims;
	int			m = pq->m;
	uint8	   *assign;
	uint8	   *codes;
	float	   *table;
	double	   *sums;
	int		   *counts;

	memset(pq->codebook, 0, VaPqCodebookSize(dims));
	if (n <= 0)
		return;

	init_codebook(pq, samples, n, seed);

	assign = palloc_extended(sizeof(uint8) * (Size) n * m, MCXT_ALLOC_HUGE);
	table = palloc(sizeof(float) * (Size) m * VA_PQ_KSUB);
	codes = palloc((Size) PQ_ASSIGN_BLOCK * m);
	sums = palloc(sizeof(double) * (Size) dims * VA_PQ_KSUB);
	counts = palloc(sizeof(int) * (Size) m * VA_PQ_KSUB);

	for (int it = 0; it < iterations; it++)
	{
		CHECK_FOR_INTERRUPTS();
		if (!assign_samples(pq, samples, n, assign, table, codes, it == 0))
			break;
		update_centroids(pq, samples, n, assign, sums, counts);
	}

	pfree(assign);
	pfree(codes);
	pfree(table);
	pfree(sums);
	pfree(counts);
}

/*
 * sqrt(lambda_max / trace) of the errors' second moments, by power
 * iteration (see pq.h).  The errors overwrite samples.
 */
float
VaPqErrorSpread(const VaPq *pq, float *samples, int n, uint64 seed)
{
	int			dims = pq->dims;
	float	   *scratch = palloc(sizeof(float) * (Size) pq->m * VA_PQ_KSUB);
	float	   *decoded = palloc(sizeof(float) * dims);
	uint8	   *code = palloc(pq->m);
	double	   *v = palloc(sizeof(double) * dims);
	double	   *w = palloc(sizeof(double) * dims);
	double		trace = 0.0;
	double		lambda = 0.0;
	pg_prng_state state;

	/* the errors delta_i = x_i - x^_i, in place */
	for (int i = 0; i < n; i++)
	{
		float	   *x = samples + (Size) i * dims;

		if (i % 256 == 0)
			CHECK_FOR_INTERRUPTS();
		VaPqEncode(pq, x, code, scratch);
		VaPqDecode(pq, code, decoded);
		for (int d = 0; d < dims; d++)
		{
			x[d] -= decoded[d];
			trace += (double) x[d] * x[d];
		}
	}
	if (!(trace > 0.0))
		return 0.0f;

	/* power iteration on M = sum_i delta_i delta_i^T, from a random start */
	pg_prng_seed(&state, seed);
	for (int d = 0; d < dims; d++)
		v[d] = pg_prng_double(&state) - 0.5;
	for (int it = 0; it < VA_PQ_SPREAD_ITERATIONS; it++)
	{
		double		norm = 0.0;

		CHECK_FOR_INTERRUPTS();
		for (int d = 0; d < dims; d++)
			norm += v[d] * v[d];
		norm = sqrt(norm);
		if (!(norm > 0.0))
			break;
		for (int d = 0; d < dims; d++)
			v[d] /= norm;
		memset(w, 0, sizeof(double) * dims);
		for (int i = 0; i < n; i++)
		{
			const float *x = samples + (Size) i * dims;
			double		dot = 0.0;

			for (int d = 0; d < dims; d++)
				dot += x[d] * v[d];
			for (int d = 0; d < dims; d++)
				w[d] += dot * x[d];
		}
		/* the Rayleigh quotient v^T M v of the unit v */
		lambda = 0.0;
		for (int d = 0; d < dims; d++)
			lambda += v[d] * w[d];
		memcpy(v, w, sizeof(double) * dims);
	}
	pfree(scratch);
	pfree(decoded);
	pfree(code);
	pfree(v);
	pfree(w);
	return (float) Min(1.0, sqrt(Max(lambda, 0.0) / trace));
}

void
VaPqEncode(const VaPq *pq, const float *v, uint8 *code, float *scratch)
{
	VaPqEncodeL2(v, 1, pq->codebook, pq->m, pq->dsub, code, scratch);
}

void
VaPqEncodeRows(const VaPq *pq, const float *v, int n, uint8 *codes, float *scratch)
{
	VaPqEncodeL2(v, n, pq->codebook, pq->m, pq->dsub, codes, scratch);
}

void
VaPqDecode(const VaPq *pq, const uint8 *code, float *out)
{
	for (int j = 0; j < pq->m; j++)
		for (int d = 0; d < pq->dsub; d++)
			out[(Size) j * pq->dsub + d] = *centroid_coord(pq, j, d, code[j]);
}

void
VaPqL2Table(const VaPq *pq, const float *x, float *table)
{
	VaPqTableL2(x, pq->codebook, pq->m, pq->dsub, table);
}

void
VaPqIpTable(const VaPq *pq, const float *x, float *table)
{
	VaPqTableIp(x, pq->codebook, pq->m, pq->dsub, table);
}

void
VaPqCodewordNorms(const VaPq *pq, float *zero, float *norms)
{
	memset(zero, 0, sizeof(float) * pq->dims);
	VaPqTableL2(zero, pq->codebook, pq->m, pq->dsub, norms);
}

void
VaPqListTerms(const VaPq *pq, const float *c, const float *norms, float *table)
{
	Size		len = (Size) pq->m * VA_PQ_KSUB;

	/* 2 <c_j, r_jk> + |r_jk|^2 */
	VaPqTableIp(c, pq->codebook, pq->m, pq->dsub, table);
	for (Size i = 0; i < len; i++)
		table[i] = 2.0f * table[i] + norms[i];
}

void
VaPqCombineTables(const VaPq *pq, const float *terms, const float *ip, float *table)
{
	Size		len = (Size) pq->m * VA_PQ_KSUB;

	for (Size i = 0; i < len; i++)
		table[i] = terms[i] - 2.0f * ip[i];
}

void
VaPqDistances(const VaPq *pq, const float *table, const uint8 *codes, int n,
			  float bias, float *out)
{
	VaPqScan(table, pq->m, codes, n, out);
	if (bias != 0.0f)
		for (int i = 0; i < n; i++)
			out[i] += bias;
}

/*
 * pq_check.c
 *	  The SQL face of the product-quantization self check:
 *	  vectorann_pq_check() trains a quantizer on pseudo-random clustered
 *	  vectors, encodes them and fresh ones, and measures the codes and the
 *	  asymmetric distance tables (L2, inner product, and the residual L2
 *	  expansion of IVFADC) against exact float8 arithmetic, so the quantizer
 *	  can be tested by pg_regress without an index.  For tests and
 *	  diagnostics.
 */
#include "vectorann.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "quant/pq.h"

#define CHECK_CLUSTERS	16
#define CHECK_TEST		100		/* fresh vectors (also the queries) */
#define CHECK_QUERIES	20		/* of them, used as queries */
#define CHECK_K			10
#define CHECK_POOL		50		/* candidates kept by ADC for recall */

/* A standard normal deviate (Box-Muller; one of the pair). */
static double
gaussian(pg_prng_state *state)
{
	double		u = 1.0 - pg_prng_double(state);	/* (0, 1] */
	double		v = pg_prng_double(state);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/*
 * A vector of the test distribution: one of CHECK_CLUSTERS cluster centres
 * (rows of centres) plus anisotropic noise (coordinate i has scale
 * 0.3 * exp(-2 i / dims)), so subspaces differ in spread.
 */
static void
test_vector(pg_prng_state *state, const float *centres, int dims, float *v)
{
	int			c = (int) pg_prng_uint64_range(state, 0, CHECK_CLUSTERS - 1);

	for (int i = 0; i < dims; i++)
		v[i] = (float) (centres[(Size) c * dims + i] + 0.3 * exp(-2.0 * i / dims) * gaussian(state));
}

static double
l2_double(const float *a, const float *b, int n)
{
	double		s = 0.0;

	for (int i = 0; i < n; i++)
		s += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
	return s;
}

static double
dot_double(const float *a, const float *b, int n)
{
	double		s = 0.0;

	for (int i = 0; i < n; i++)
		s += (double) a[i] * b[i];
	return s;
}

/* Indexes of the k smallest of d[0..n) into out (k <= n), by selection. */
static void
smallest(const double *d, int n, int k, int *out)
{
	bool	   *used = palloc0(sizeof(bool) * n);

	for (int r = 0; r < k; r++)
	{
		int			best = -1;

		for (int i = 0; i < n; i++)
			if (!used[i] && (best < 0 || d[i] < d[best]))
				best = i;
		used[best] = true;
		out[r] = best;
	}
	pfree(used);
}

/*
 * vectorann_pq_check(dims int, m int, n int, distinct int, seed bigint,
 *	 OUT train_error float8, OUT test_error float8, OUT adc_l2_error float8,
 *	 OUT adc_ip_error float8, OUT residual_l2_error float8,
 *	 OUT recall float8, OUT codewords int)
 * RETURNS record
 *
 * Trains a product quantizer of m subspaces (VaPqTrain, default
 * iterations, seed) on n training vectors drawn from a mixture of 16
 * anisotropic clusters (from seed), of which only the first distinct are
 * drawn and the rest repeat them (duplicates; distinct >= n means all
 * distinct), then:
 *   train_error, test_error: mean |x - decode(encode(x))|^2 over the
 *     training vectors, and over 100 fresh ones, divided by the mean
 *     |x - mean|^2 of the training vectors (1 = no better than the mean;
 *     0 when every training vector is encoded exactly)
 *   adc_l2_error: max over 20 queries and the training codes of
 *     |ADC L2 distance - |q - r|^2| / (|q|^2 + |r|^2), r the code's
 *     reconstruction in float8 (the table and scan kernels are exact up to
 *     float4 rounding)
 *   adc_ip_error: max |ADC inner product - <q, r>| / (|q| |r|)
 *   residual_l2_error: the same as adc_l2_error for the IVFADC residual
 *     expansion (pq.h): codes of x - c for a list centroid c (the first
 *     training vector), distance |q - c|^2 + ADC of VaPqCombineTables(
 *     VaPqListTerms(c, VaPqCodewordNorms), VaPqIpTable(q)) against
 *     |q - c - r|^2, divided by
 *     |q - c|^2 + |r|^2 + 2 |c| |r| + 2 |q| |r|
 *   recall: over the 20 queries, the share of the exact 10 nearest
 *     training vectors (L2) found among the 50 nearest by ADC (what exact
 *     re-ranking of 50 candidates would return; 1 when n <= 50)
 *   codewords: the fewest distinct centroids in any subspace
 *     (min(256, distinct subvectors) for a sound training)
 * Deterministic for given arguments on a given kernel set.
 * Errors: INVALID_PARAMETER_VALUE for dims outside 1..16000, m not
 * dividing dims, n outside 0..20000 or n * dims above 4,000,000, distinct
 * below 1.
 */
PG_FUNCTION_INFO_V1(vectorann_pq_check);
Datum
vectorann_pq_check(PG_FUNCTION_ARGS)
{
	int32		dims = PG_GETARG_INT32(0);
	int32		m = PG_GETARG_INT32(1);
	int32		n = PG_GETARG_INT32(2);
	int32		distinct = PG_GETARG_INT32(3);
	int64		seed = PG_GETARG_INT64(4);
	TupleDesc	tupdesc;
	VaPq		pq;
	pg_prng_state state;
	float	   *centres;
	float	   *train;
	float	   *test;
	float	   *mean;
	uint8	   *codes;
	uint8	   *rcodes;
	float	   *table;
	float	   *table2;
	float	   *terms;
	float	   *recon;
	float	   *x;
	float	   *adc;
	double	   *exact;
	double	   *approx;
	double		spread = 0.0,
				train_err = 0.0,
				test_err = 0.0,
				l2_err = 0.0,
				ip_err = 0.0,
				res_err = 0.0,
				found = 0.0;
	int			nq;
	int			codewords = VA_PQ_KSUB;
	Datum		values[7];
	bool		nulls[7] = {false};

	if (dims < 1 || dims > VA_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dims must be between 1 and %d", VA_MAX_DIM)));
	VaPqCheckM(dims, m, "m");
	if (n < 0 || n > 20000 || (int64) n * dims > 4000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be between 0 and 20000, and n * dims at most 4000000")));
	if (distinct < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("distinct must be at least 1")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	/* the data: cluster centres, training vectors (repeating), fresh ones */
	pg_prng_seed(&state, (uint64) seed ^ UINT64CONST(0x9E3779B97F4A7C15));
	centres = palloc(sizeof(float) * CHECK_CLUSTERS * dims);
	for (int i = 0; i < CHECK_CLUSTERS * dims; i++)
		centres[i] = (float) gaussian(&state);
	train = palloc(sizeof(float) * ((Size) n * dims + 1));
	for (int i = 0; i < n; i++)
	{
		if (i < distinct)
			test_vector(&state, centres, dims, train + (Size) i * dims);
		else
			memcpy(train + (Size) i * dims, train + (Size) (i % distinct) * dims,
				   sizeof(float) * dims);
	}
	test = palloc(sizeof(float) * CHECK_TEST * dims);
	for (int i = 0; i < CHECK_TEST; i++)
		test_vector(&state, centres, dims, test + (Size) i * dims);

	VaPqInit(&pq, dims, m);
	VaPqTrain(&pq, train, n, (uint64) seed, VA_PQ_DEFAULT_ITERATIONS);

	table = palloc(sizeof(float) * m * VA_PQ_KSUB);
	table2 = palloc(sizeof(float) * m * VA_PQ_KSUB);
	terms = palloc(sizeof(float) * m * VA_PQ_KSUB);
	recon = palloc(sizeof(float) * dims);
	x = palloc(sizeof(float) * dims);
	codes = palloc((Size) n * m + 1);
	rcodes = palloc((Size) n * m + 1);
	adc = palloc(sizeof(float) * (n + 1));
	exact = palloc(sizeof(double) * (n + 1));
	approx = palloc(sizeof(double) * (n + 1));

	/* errors of the codes, relative to the spread about the mean */
	mean = palloc0(sizeof(float) * dims);
	for (int i = 0; i < n; i++)
		for (int d = 0; d < dims; d++)
			mean[d] += train[(Size) i * dims + d] / n;
	for (int i = 0; i < n; i++)
	{
		const float *v = train + (Size) i * dims;

		spread += l2_double(v, mean, dims) / n;
		VaPqEncode(&pq, v, codes + (Size) i * m, table);
		VaPqDecode(&pq, codes + (Size) i * m, recon);
		train_err += l2_double(v, recon, dims) / n;
	}
	for (int i = 0; i < CHECK_TEST; i++)
	{
		const float *v = test + (Size) i * dims;

		VaPqEncode(&pq, v, rcodes, table);
		VaPqDecode(&pq, rcodes, recon);
		test_err += l2_double(v, recon, dims) / CHECK_TEST;
	}
	if (spread > 0.0)
	{
		train_err /= spread;
		test_err /= spread;
	}

	/* residual codes for the list whose centroid is the first vector */
	if (n > 0)
		for (int i = 0; i < n; i++)
		{
			for (int d = 0; d < dims; d++)
				x[d] = train[(Size) i * dims + d] - train[d];
			VaPqEncode(&pq, x, rcodes + (Size) i * m, table);
		}

	/* the distance tables against exact arithmetic, and recall */
	nq = CHECK_QUERIES;
	for (int qi = 0; qi < nq && n > 0; qi++)
	{
		const float *q = test + (Size) qi * dims;
		double		qn2 = dot_double(q, q, dims);
		int			truth[CHECK_K];
		int			pool[CHECK_POOL];
		int			k = Min(CHECK_K, n);
		int			p = Min(CHECK_POOL, n);
		double		qc2 = l2_double(q, train, dims);
		double		cn = sqrt(dot_double(train, train, dims));

		/* L2 */
		VaPqL2Table(&pq, q, table);
		VaPqDistances(&pq, table, codes, n, 0.0f, adc);
		for (int i = 0; i < n; i++)
		{
			double		rn2;

			VaPqDecode(&pq, codes + (Size) i * m, recon);
			rn2 = dot_double(recon, recon, dims);
			l2_err = Max(l2_err, fabs(adc[i] - l2_double(q, recon, dims)) / (qn2 + rn2 + 1e-30));
			exact[i] = l2_double(q, train + (Size) i * dims, dims);
			approx[i] = adc[i];
		}
		smallest(exact, n, k, truth);
		smallest(approx, n, p, pool);
		for (int a = 0; a < k; a++)
			for (int b = 0; b < p; b++)
				if (pool[b] == truth[a])
				{
					found += 1.0 / ((double) k * nq);
					break;
				}

		/* inner product */
		VaPqIpTable(&pq, q, table);
		VaPqDistances(&pq, table, codes, n, 0.0f, adc);
		for (int i = 0; i < n; i++)
		{
			double		rn;

			VaPqDecode(&pq, codes + (Size) i * m, recon);
			rn = sqrt(dot_double(recon, recon, dims));
			ip_err = Max(ip_err, fabs(adc[i] - dot_double(q, recon, dims)) / (sqrt(qn2) * rn + 1e-30));
		}

		/* residual L2 through the expansion; table still holds <q_j, r_jk> */
		VaPqCodewordNorms(&pq, x, table2);
		VaPqListTerms(&pq, train, table2, terms);
		VaPqCombineTables(&pq, terms, table, table2);
		VaPqDistances(&pq, table2, rcodes, n, (float) qc2, adc);
		for (int i = 0; i < n; i++)
		{
			double		rn2;

			VaPqDecode(&pq, rcodes + (Size) i * m, recon);
			for (int d = 0; d < dims; d++)
				x[d] = q[d] - train[d] - recon[d];
			rn2 = dot_double(recon, recon, dims);
			res_err = Max(res_err, fabs(adc[i] - dot_double(x, x, dims)) /
						  (qc2 + rn2 + 2.0 * cn * sqrt(rn2) + 2.0 * sqrt(qn2 * rn2) + 1e-30));
		}
	}
	if (n == 0)
		found = 1.0;

	/* the fewest distinct centroids of a subspace */
	for (int j = 0; j < m; j++)
	{
		int			nd = 0;

		for (int k = 0; k < VA_PQ_KSUB; k++)
		{
			bool		seen = false;

			for (int k2 = 0; k2 < k && !seen; k2++)
			{
				int			d;

				for (d = 0; d < pq.dsub; d++)
					if (pq.codebook[((Size) j * pq.dsub + d) * VA_PQ_KSUB + k] !=
						pq.codebook[((Size) j * pq.dsub + d) * VA_PQ_KSUB + k2])
						break;
				seen = (d == pq.dsub);
			}
			nd += !seen;
		}
		codewords = Min(codewords, nd);
	}

	values[0] = Float8GetDatum(train_err);
	values[1] = Float8GetDatum(test_err);
	values[2] = Float8GetDatum(l2_err);
	values[3] = Float8GetDatum(ip_err);
	values[4] = Float8GetDatum(res_err);
	values[5] = Float8GetDatum(found);
	values[6] = Int32GetDatum(codewords);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

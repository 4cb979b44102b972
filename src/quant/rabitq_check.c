/*
 * rabitq_check.c
 *	  The SQL face of the RaBitQ self check: vectorann_rabitq_check() builds
 *	  a quantizer, encodes pseudo-random vectors, and measures the rotation
 *	  (orthogonality, mixing) and the estimators (query-code and code-code
 *	  inner products, decoding) against exact float8 arithmetic, so the
 *	  quantizer can be tested by pg_regress without an index.  For tests and
 *	  diagnostics.
 */
#include "vectorann.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"

#include "quant/rabitq.h"

/* A standard normal deviate (Box-Muller; one of the pair). */
static double
gaussian(pg_prng_state *state)
{
	double		u = 1.0 - pg_prng_double(state);	/* (0, 1] */
	double		v = pg_prng_double(state);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/*
 * A test vector: anisotropic (coordinate i has scale exp(-3 i / dims), so a
 * few leading coordinates dominate, as in real embeddings and images),
 * around a shared mean (so inner products between vectors spread), with a
 * norm multiplied by a factor in [0.5, 2) (inner product search sees varied
 * norms).
 */
static void
test_vector(pg_prng_state *state, const float *mean, int dims, float *v)
{
	double		factor = 0.5 + 1.5 * pg_prng_double(state);

	for (int i = 0; i < dims; i++)
		v[i] = (float) (factor * (mean[i] + exp(-3.0 * i / dims) * gaussian(state)));
}

static double
dot_double(const float *a, const float *b, int n)
{
	double		s = 0.0;

	for (int i = 0; i < n; i++)
		s += (double) a[i] * b[i];
	return s;
}

/*
 * vectorann_rabitq_check(dims int, bits int, seed bigint, n int,
 *	 OUT ip_mean_error float8, OUT ip_max_error float8, OUT ip_bias float8,
 *	 OUT ip_correlation float8, OUT code_ip_mean_error float8,
 *	 OUT decode_error float8, OUT rotation_norm_error float8,
 *	 OUT rotation_inverse_error float8, OUT rotation_spread float8)
 * RETURNS record
 *
 * With a quantizer (dims, bits, seed), n pseudo-random vectors o and n
 * queries q (from seed; see test_vector), over the n^2 pairs:
 *   ip_mean_error, ip_max_error: |VaRabitqInnerProduct - <o, q>| / (|o| |q|)
 *   ip_bias: mean of the signed error, same units (the estimator is
 *     unbiased, up to the query's rounding)
 *   ip_correlation: Pearson correlation of the estimates with the exact
 *     inner products
 *   code_ip_mean_error: the same mean error for VaRabitqCodeInnerProduct
 *     between the codes of o and of q (both quantized)
 * and over the n vectors o and n queries q:
 *   decode_error: mean |VaRabitqDecode(code of o) - o| / |o|
 *   rotation_norm_error: max | |R v| - |v| | / |v|
 *   rotation_inverse_error: max |R^T R v - v| / |v|
 * and rotation_spread: sqrt(D) times the largest |coordinate| of R e_j over
 * the basis vectors e_j, j = 0, dims / 2, dims - 1 (1 for a perfect
 * spread, about sqrt(2 ln D) for a random rotation, sqrt(D) for none).
 * Deterministic for given arguments.  Errors: INVALID_PARAMETER_VALUE for
 * dims outside 1..16000, bits outside 1..8, n outside 1..1000.
 */
PG_FUNCTION_INFO_V1(vectorann_rabitq_check);
Datum
vectorann_rabitq_check(PG_FUNCTION_ARGS)
{
	int32		dims = PG_GETARG_INT32(0);
	int32		bits = PG_GETARG_INT32(1);
	int64		seed = PG_GETARG_INT64(2);
	int32		n = PG_GETARG_INT32(3);
	TupleDesc	tupdesc;
	VaRabitq	rq;
	pg_prng_state state;
	int			padded;
	Size		code_size;
	float	   *mean;
	float	   *vecs;
	char	   *codes;
	VaRabitqQuery *query;
	float	   *scratch;
	double		ip_err_sum = 0.0,
				ip_err_max = 0.0,
				ip_bias = 0.0,
				code_err_sum = 0.0,
				decode_err_sum = 0.0,
				norm_err_max = 0.0,
				inverse_err_max = 0.0,
				spread = 0.0;
	double		sx = 0.0,
				sy = 0.0,
				sxx = 0.0,
				syy = 0.0,
				sxy = 0.0;
	double		npairs = (double) n * n;
	Datum		values[9];
	bool		nulls[9] = {false};

	if (dims < 1 || dims > VA_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dims must be between 1 and %d", VA_MAX_DIM)));
	if (bits < VA_RABITQ_MIN_BITS || bits > VA_RABITQ_MAX_BITS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bits must be between %d and %d", VA_RABITQ_MIN_BITS, VA_RABITQ_MAX_BITS)));
	if (n < 1 || n > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be between 1 and 1000")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	VaRabitqInit(&rq, dims, bits, (uint64) seed);
	padded = rq.padded;
	code_size = MAXALIGN(VaRabitqCodeSize(dims, bits, false));

	/* 2n vectors: o_0..o_{n-1}, then q_0..q_{n-1}; and their codes */
	pg_prng_seed(&state, (uint64) seed ^ UINT64CONST(0x5851F42D4C957F2D));
	mean = palloc(sizeof(float) * dims);
	for (int i = 0; i < dims; i++)
		mean[i] = (float) (0.5 * gaussian(&state) * exp(-1.0 * i / dims));
	vecs = palloc(sizeof(float) * dims * 2 * n);
	codes = palloc(code_size * 2 * n);
	scratch = palloc(sizeof(float) * padded);
	query = palloc(VaRabitqQuerySize(dims));
	for (int j = 0; j < 2 * n; j++)
	{
		float	   *v = vecs + (Size) j * dims;
		double		nv;
		double		nr;
		double		d2 = 0.0;

		CHECK_FOR_INTERRUPTS();
		test_vector(&state, mean, dims, v);
		VaRabitqEncode(&rq, v, (VaRabitqCode *) (codes + code_size * j));

		/* the rotation: norms, inverse */
		nv = sqrt(dot_double(v, v, dims));
		VaRabitqRotate(&rq, v, scratch);
		nr = sqrt(dot_double(scratch, scratch, padded));
		norm_err_max = Max(norm_err_max, fabs(nr - nv) / nv);
		VaRabitqRotateInverse(&rq, scratch);
		for (int i = 0; i < padded; i++)
		{
			double		d = scratch[i] - (i < dims ? v[i] : 0.0f);

			d2 += d * d;
		}
		inverse_err_max = Max(inverse_err_max, sqrt(d2) / nv);

		/* decoding */
		VaRabitqDecode(&rq, (VaRabitqCode *) (codes + code_size * j), scratch);
		d2 = 0.0;
		for (int i = 0; i < dims; i++)
		{
			double		d = (double) scratch[i] - v[i];

			d2 += d * d;
		}
		decode_err_sum += sqrt(d2) / nv;
	}

	/* query-code and code-code estimates over all pairs */
	for (int qj = 0; qj < n; qj++)
	{
		const float *q = vecs + (Size) (n + qj) * dims;
		const VaRabitqCode *qcode = (const VaRabitqCode *) (codes + code_size * (n + qj));
		double		nq = sqrt(dot_double(q, q, dims));

		CHECK_FOR_INTERRUPTS();
		VaRabitqPrepareQuery(&rq, q, query);
		for (int oj = 0; oj < n; oj++)
		{
			const float *o = vecs + (Size) oj * dims;
			const VaRabitqCode *ocode = (const VaRabitqCode *) (codes + code_size * oj);
			double		exact = dot_double(o, q, dims);
			double		scale = sqrt(dot_double(o, o, dims)) * nq;
			double		est = VaRabitqInnerProduct(query, ocode);
			double		err = (est - exact) / scale;

			ip_err_sum += fabs(err);
			ip_err_max = Max(ip_err_max, fabs(err));
			ip_bias += err;
			sx += est;
			sy += exact;
			sxx += est * est;
			syy += exact * exact;
			sxy += est * exact;
			code_err_sum += fabs(VaRabitqCodeInnerProduct(ocode, qcode) - exact) / scale;
		}
	}

	/* the spread of three basis vectors */
	for (int k = 0; k < 3; k++)
	{
		int			j = (k == 0) ? 0 : (k == 1) ? dims / 2 : dims - 1;

		memset(mean, 0, sizeof(float) * dims);
		mean[j] = 1.0f;
		VaRabitqRotate(&rq, mean, scratch);
		for (int i = 0; i < padded; i++)
			spread = Max(spread, fabs(scratch[i]) * sqrt((double) padded));
	}

	values[0] = Float8GetDatum(ip_err_sum / npairs);
	values[1] = Float8GetDatum(ip_err_max);
	values[2] = Float8GetDatum(ip_bias / npairs);
	{
		double		cov = sxy / npairs - (sx / npairs) * (sy / npairs);
		double		vx = sxx / npairs - (sx / npairs) * (sx / npairs);
		double		vy = syy / npairs - (sy / npairs) * (sy / npairs);

		if (vx > 0.0 && vy > 0.0)
			values[3] = Float8GetDatum(cov / sqrt(vx * vy));
		else
			nulls[3] = true;
	}
	values[4] = Float8GetDatum(code_err_sum / npairs);
	values[5] = Float8GetDatum(decode_err_sum / (2.0 * n));
	values[6] = Float8GetDatum(norm_err_max);
	values[7] = Float8GetDatum(inverse_err_max);
	values[8] = Float8GetDatum(spread);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

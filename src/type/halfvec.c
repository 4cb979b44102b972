/*
 * halfvec.c
 *	  The halfvec type: a varlena of 1..VA_MAX_DIM finite IEEE binary16
 *	  values.  Text and binary I/O, the halfvec(n) type modifier, casts to
 *	  and from vector and arrays, comparison (for btree), element-wise
 *	  arithmetic, the distance functions behind <->, <#>, <=> and <+>, the
 *	  sum/avg aggregates, and the VaIndexOps through which the hnsw
 *	  halfvec_*_ops operator classes reach the type.
 *
 *	  Every value built here is checked: dimensions in 1..VA_MAX_DIM, every
 *	  element finite and within the half range (|x| <= 65504 after rounding
 *	  to nearest); a value that would round to infinity is an error, never a
 *	  silent infinity.  Values too small for a half round to (signed) zero.
 *	  Distances use the halfvec kernels (elements widened exactly to float4,
 *	  float4 accumulation); the SQL functions return that sum as float8.
 */
#include "vectorann.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/varbit.h"

#include "distance/distance.h"
#include "type/halfvec.h"
#include "type/typeutil.h"
#include "type/vector.h"

/* InitHalfVector(int dim): a zeroed HalfVector of dim dimensions (VA_DEFINE_DENSE_INIT). */
VA_DEFINE_DENSE_INIT(InitHalfVector, HalfVector, HALFVEC_SIZE)

/*
 * The elements of v widened exactly to float4, in a palloc'd array of
 * v->dim values.
 */
float *
HalfVectorToFloats(const HalfVector *v)
{
	float	   *x = (float *) palloc(sizeof(float) * v->dim);

	for (int i = 0; i < v->dim; i++)
		x[i] = VaHalfToFloat(v->x[i]);
	return x;
}

/* ---------------------------------------------------------------------
 * Helpers: the function macros of this file, range checks
 * ---------------------------------------------------------------------
 */

/* fname(halfvec, halfvec) RETURNS double precision: expr of a and b. */
#define HALFVEC_DISTANCE(fname, expr) \
	VA_BINARY_FLOAT8_FUNCTION(fname, HalfVector, PG_GETARG_HALFVEC_P, "halfvec", expr)

/* fname(halfvec, halfvec) RETURNS halfvec: element i is expr of a, b and i. */
#define HALFVEC_ELEMENTWISE(fname, expr) \
	VA_ELEMENTWISE_FUNCTION(fname, HalfVector, PG_GETARG_HALFVEC_P, InitHalfVector, "halfvec", expr)

/* See halfvec.h. */
half
VaFloatToHalfChecked(float x)
{
	half		h;

	VaCheckElement("halfvec", x);
	h = VaFloatToHalf(x);
	if (VaHalfIsInf(h))
	{
		char		buf[FLOAT_SHORTEST_DECIMAL_LEN];

		float_to_shortest_decimal_buf(x, buf);
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("\"%s\" is out of range for type halfvec", buf),
				 errdetail("The largest finite half-precision value is 65504.")));
	}
	return h;
}

/*
 * The result of float arithmetic on two halves as a half: ERROR on overflow
 * (past 65504).
 */
static inline half
checked_result(float r)
{
	half		h = VaFloatToHalf(r);

	if (unlikely(VaHalfIsInf(h)))
		float_overflow_error();
	return h;
}

#define H2F(h) VaHalfToFloat(h)

/*
 * The product of two halves x and y (as floats) as a half: ERROR past 65504
 * (checked_result) and when nonzero factors round to zero.
 */
static inline half
checked_product(float x, float y)
{
	half		r = checked_result(x * y);

	VaCheckUnderflow((r & 0x7fff) == 0, x, y);
	return r;
}

/* ---------------------------------------------------------------------
 * Text and binary I/O
 * ---------------------------------------------------------------------
 */

/* One element of the binary form: a binary16 bit pattern, checked finite. */
static inline half
halfvec_recv_element(StringInfo buf)
{
	half		h = (half) pq_getmsgint(buf, sizeof(int16));

	/* exponent all ones: a NaN or an infinity */
	if ((h & 0x7c00) == 0x7c00)
		VaFloatToHalfChecked(VaHalfToFloat(h));
	return h;
}

/*
 * halfvec_in(cstring, oid, integer) RETURNS halfvec, halfvec_out(halfvec)
 * RETURNS cstring, halfvec_recv(internal, oid, integer) RETURNS halfvec and
 * halfvec_send(halfvec) RETURNS bytea (VA_DENSE_IO_FUNCTIONS).  The text
 * form is read exactly like vector's, then each number is rounded to the
 * nearest half (NUMERIC_VALUE_OUT_OF_RANGE outside the half range); output
 * is exact, every half being a float4.  The binary form is int16 dim,
 * int16 unused (0), then dim binary16 bit patterns as uint16, network
 * order; NaN and infinity are refused.
 */
VA_DENSE_IO_FUNCTIONS(halfvec, HalfVector, PG_GETARG_HALFVEC_P, InitHalfVector,
					  VaFloatToHalfChecked, H2F, sizeof(half), halfvec_recv_element,
					  pq_sendint16)

/*
 * halfvec_typmod_in(cstring[]) RETURNS integer, the n of halfvec(n) in
 * 1..VA_MAX_DIM, and halfvec(halfvec, integer, boolean) RETURNS halfvec,
 * the length-coercion cast to halfvec(n) (VA_DEFINE_TYPMOD).  The output
 * function is vector_typmod_out.
 */
VA_DEFINE_TYPMOD(halfvec, HalfVector, PG_GETARG_HALFVEC_P, VA_MAX_DIM)

/* ---------------------------------------------------------------------
 * Casts to and from vector and arrays
 * ---------------------------------------------------------------------
 */

/*
 * vector_to_halfvec(vector, integer, boolean) RETURNS halfvec
 *
 * Each element rounded to the nearest half.  Errors: NUMERIC_VALUE_OUT_OF_RANGE
 * for an element beyond the half range, DATA_EXCEPTION on a typmod mismatch.
 */
VA_DENSE_CAST_FUNCTION(vector_to_halfvec, Vector, PG_GETARG_VECTOR_P,
					   HalfVector, InitHalfVector, VaFloatToHalfChecked(vec->x[i]))

/*
 * halfvec_to_vector(halfvec, integer, boolean) RETURNS vector
 *
 * Each element widened exactly to float4.  Errors: DATA_EXCEPTION on a
 * typmod mismatch.
 */
VA_DENSE_CAST_FUNCTION(halfvec_to_vector, HalfVector, PG_GETARG_HALFVEC_P,
					   Vector, InitVector, H2F(vec->x[i]))

/*
 * array_to_halfvec(integer[] | real[] | double precision[] | numeric[],
 *					integer, boolean) RETURNS halfvec: each element to float4,
 * then rounded to the nearest half (VaFloatToHalfChecked; a value too
 * small for a half becomes a zero of its sign) (VA_DENSE_ARRAY_CAST_FUNCTION).
 */
VA_DENSE_ARRAY_CAST_FUNCTION(array_to_halfvec, HalfVector, InitHalfVector, "halfvec",
							 VaFloatToHalfChecked)

/*
 * halfvec_to_float4(halfvec, integer, boolean) RETURNS real[]
 *
 * The elements widened exactly to a one-dimensional real[].  Never fails.
 */
PG_FUNCTION_INFO_V1(halfvec_to_float4);
Datum
halfvec_to_float4(PG_FUNCTION_ARGS)
{
	HalfVector *vec = PG_GETARG_HALFVEC_P(0);

	PG_RETURN_ARRAYTYPE_P(VaFloatArray(HalfVectorToFloats(vec), vec->dim, false));
}

/* ---------------------------------------------------------------------
 * Comparison (btree halfvec_ops): element by element, then by dimension
 * ---------------------------------------------------------------------
 */

/*
 * halfvec_cmp(halfvec, halfvec) RETURNS integer: -1, 0 or 1 (btree support
 * 1), and halfvec_eq .. halfvec_ge RETURNS boolean: operators = <> < <= >
 * >=.  By value, element by element (-0 equals 0); a prefix sorts first.
 */
VA_DEFINE_DENSE_COMPARISONS(halfvec, HalfVector, PG_GETARG_HALFVEC_P, H2F)

/* ---------------------------------------------------------------------
 * Distances and norms.  Two-halfvec functions raise DATA_EXCEPTION when the
 * dimensions differ.  Sums are accumulated in float4 by the halfvec kernels.
 * ---------------------------------------------------------------------
 */

/* Sum of squares of a's elements, in float8 (for norms). */
static double
halfvec_norm_squared(const HalfVector *a)
{
	double		sum = 0.0;

	for (int i = 0; i < a->dim; i++)
	{
		double		x = H2F(a->x[i]);

		sum += x * x;
	}
	return sum;
}

/* l2_distance(halfvec, halfvec) RETURNS double precision: <->, sqrt(sum (a-b)^2) */
HALFVEC_DISTANCE(halfvec_l2_distance,
				 sqrt((double) VaHalfL2SquaredFloat(a->x, b->x, a->dim)))

/* halfvec_l2_squared_distance(halfvec, halfvec) RETURNS double precision: sum (a-b)^2 */
HALFVEC_DISTANCE(halfvec_l2_squared_distance,
				 (double) VaHalfL2SquaredFloat(a->x, b->x, a->dim))

/* inner_product(halfvec, halfvec) RETURNS double precision: sum a*b */
HALFVEC_DISTANCE(halfvec_inner_product,
				 (double) VaHalfInnerProductFloat(a->x, b->x, a->dim))

/* halfvec_negative_inner_product(halfvec, halfvec) RETURNS double precision: <#>, -sum a*b */
HALFVEC_DISTANCE(halfvec_negative_inner_product,
				 -(double) VaHalfInnerProductFloat(a->x, b->x, a->dim))

/*
 * cosine_distance(halfvec, halfvec) RETURNS double precision: <=>
 *
 * 1 - a.b / (|a| |b|), clamped to [0, 2]; NaN when either norm is zero.
 */
HALFVEC_DISTANCE(halfvec_cosine_distance,
				 VaCosineDistance(VaHalfInnerProductFloat(a->x, b->x, a->dim),
								  VaHalfInnerProductFloat(a->x, a->x, a->dim),
								  VaHalfInnerProductFloat(b->x, b->x, b->dim)))

/* l1_distance(halfvec, halfvec) RETURNS double precision: <+>, sum |a-b| */
HALFVEC_DISTANCE(halfvec_l1_distance,
				 (double) VaHalfL1Float(a->x, b->x, a->dim))

/* A half from a double: rounded (via float4) to the nearest half. */
#define HALFVEC_FROM_DOUBLE(d) VaFloatToHalf((float) (d))

/*
 * l2_norm(halfvec) RETURNS double precision: sqrt(sum a^2), in float8;
 * l2_normalize(halfvec) RETURNS halfvec: a / |a| (norm in float8, each
 * element rounded to the nearest half), the zero vector unchanged
 * (VA_DENSE_NORM_FUNCTIONS).  Never fail.
 */
VA_DENSE_NORM_FUNCTIONS(halfvec_l2_norm, halfvec_l2_normalize, HalfVector, PG_GETARG_HALFVEC_P,
						InitHalfVector, H2F, HALFVEC_FROM_DOUBLE, halfvec_norm_squared)

/* ---------------------------------------------------------------------
 * Element-wise arithmetic, concatenation, slicing, quantization
 * ---------------------------------------------------------------------
 */

/*
 * halfvec_add(halfvec, halfvec) RETURNS halfvec: operator +, a[i] + b[i]
 * rounded to half.  Errors: DATA_EXCEPTION on different dimensions,
 * NUMERIC_VALUE_OUT_OF_RANGE past 65504 (likewise - and *).
 */
HALFVEC_ELEMENTWISE(halfvec_add, checked_result(H2F(a->x[i]) + H2F(b->x[i])))

/* halfvec_sub(halfvec, halfvec) RETURNS halfvec: operator -, a[i] - b[i] */
HALFVEC_ELEMENTWISE(halfvec_sub, checked_result(H2F(a->x[i]) - H2F(b->x[i])))

/*
 * halfvec_mul(halfvec, halfvec) RETURNS halfvec: operator *, a[i] * b[i].
 * A product of nonzero elements that rounds to zero is an ERROR
 * (NUMERIC_VALUE_OUT_OF_RANGE, underflow), as for vector.
 */
HALFVEC_ELEMENTWISE(halfvec_mul, checked_product(H2F(a->x[i]), H2F(b->x[i])))

/*
 * vector_dims(halfvec) RETURNS integer, halfvec_concat(halfvec, halfvec)
 * RETURNS halfvec (operator ||), subvector(halfvec, integer, integer)
 * RETURNS halfvec and binary_quantize(halfvec) RETURNS bit
 * (VA_DENSE_SHAPE_FUNCTIONS).
 */
VA_DENSE_SHAPE_FUNCTIONS(halfvec_vector_dims, halfvec_concat, halfvec_subvector,
						 halfvec_binary_quantize, HalfVector, PG_GETARG_HALFVEC_P,
						 InitHalfVector, "halfvec", H2F)

/* ---------------------------------------------------------------------
 * Aggregates: sum(halfvec) uses halfvec_add; avg(halfvec) keeps the same
 * float8[] state as avg(vector), {count, sum_1, ..., sum_dim} ({0} before
 * the first value), and shares its combine function vector_combine.
 * ---------------------------------------------------------------------
 */

/*
 * halfvec_accum(double precision[], halfvec) RETURNS double precision[] and
 * halfvec_avg(double precision[]) RETURNS halfvec: the avg transition and
 * final functions (VA_DENSE_AVG_FUNCTIONS); each mean is rounded to half,
 * a mean beyond the half range is an ERROR.
 */
VA_DENSE_AVG_FUNCTIONS(halfvec, HalfVector, PG_GETARG_HALFVEC_P, InitHalfVector, H2F, checked_result)

/* ---------------------------------------------------------------------
 * Index ops for the hnsw and ivfflat halfvec_*_ops operator classes
 * (VaIndexOps; the k-means members serve ivfflat's l2, ip and cosine)
 *
 * The stored form is the HalfVector itself, HALFVEC_SIZE(dim) bytes; under
 * cosine it is scaled to unit length (elements rounded to half), so the
 * distance is 1 - a.b.
 * ---------------------------------------------------------------------
 */

/*
 * halfvec_l2_index_ops(internal) RETURNS internal, and the ip, cosine and
 * l1 siblings: support function 1 of the hnsw and ivfflat halfvec_*_ops
 * operator classes (distances by the halfvec kernels; a centroid is a mean
 * of halves, so in range).
 */
VA_DENSE_INDEX_OPS(halfvec, HalfVector, HALFVEC_SIZE, H2F, HALFVEC_FROM_DOUBLE,
				   halfvec_norm_squared, VaHalfL2SquaredFloat, VaHalfInnerProductFloat,
				   VaHalfL1Float)

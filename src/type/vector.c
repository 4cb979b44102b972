/*
 * vector.c
 *	  The vector type: a varlena of 1..VA_MAX_DIM finite float4 values.
 *	  Text and binary I/O, the vector(n) type modifier, casts to and from
 *	  arrays, comparison (for btree), element-wise arithmetic, the distance
 *	  functions behind <->, <#>, <=> and <+>, the sum/avg aggregates, and the
 *	  VaIndexOps through which the hnsw and ivfflat operator classes reach
 *	  the type (with the k-means members for l2, ip and cosine).
 *
 *	  Every value built here is checked: dimensions in 1..VA_MAX_DIM, every
 *	  element finite.  SQL distance functions accumulate in float8 (the
 *	  *Double kernels); index distances accumulate in float4 (the *Float
 *	  kernels).
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
#include "type/typeutil.h"
#include "type/vector.h"

/* InitVector(int dim): a zeroed Vector of dim dimensions (VA_DEFINE_DENSE_INIT). */
VA_DEFINE_DENSE_INIT(InitVector, Vector, VECTOR_SIZE)

/* ---------------------------------------------------------------------
 * Helpers: the function macros of this file, overflow checks
 * ---------------------------------------------------------------------
 */

/* fname(vector, vector) RETURNS double precision: expr of a and b. */
#define VECTOR_DISTANCE(fname, expr) \
	VA_BINARY_FLOAT8_FUNCTION(fname, Vector, PG_GETARG_VECTOR_P, "vector", expr)

/* fname(vector, vector) RETURNS vector: element i is expr of a, b and i. */
#define VECTOR_ELEMENTWISE(fname, expr) \
	VA_ELEMENTWISE_FUNCTION(fname, Vector, PG_GETARG_VECTOR_P, InitVector, "vector", expr)

/* x, an element of a value being built: ERROR unless finite. */
static inline float
checked_element(float x)
{
	VaCheckElement("vector", x);
	return x;
}

/* The result of float arithmetic on finite inputs: ERROR on overflow. */
static inline float
checked_result(float r)
{
	if (unlikely(isinf(r)))
		float_overflow_error();
	return r;
}

/*
 * The product x * y of finite floats: ERROR on overflow (checked_result)
 * and when nonzero factors underflow to zero, as for type real.
 */
static inline float
checked_product(float x, float y)
{
	float		r = checked_result(x * y);

	VaCheckUnderflow(r == 0.0f, x, y);
	return r;
}

/* ---------------------------------------------------------------------
 * Text and binary I/O
 * ---------------------------------------------------------------------
 */

/*
 * Parse "[x1,x2,...,xn]", the text form of vector and halfvec, into a
 * palloc'd array of n floats (*dim = n).  Whitespace may surround the
 * brackets, commas and numbers; each number is anything strtof() accepts
 * whole.  1 <= n <= VA_MAX_DIM; every value must be finite and at most
 * FLT_MAX in magnitude after rounding (subnormals are kept; a number too
 * small even for a subnormal becomes a zero of its sign, as in pgvector,
 * where type real would reject it).  Errors name typname:
 * INVALID_TEXT_REPRESENTATION for
 * malformed text, NUMERIC_VALUE_OUT_OF_RANGE, DATA_EXCEPTION (NaN,
 * infinity, empty), PROGRAM_LIMIT_EXCEEDED (too many dimensions).
 */
float *
VaParseVectorText(const char *str, const char *typname, int *dim)
{
	const char *p = str;
	int			n = 0;
	int			capacity = 16;
	float	   *values;

	while (VaIsSpace(*p))
		p++;
	if (*p != '[')
		VaInvalidText(typname, str, "Vector contents must start with \"[\".");
	p++;
	while (VaIsSpace(*p))
		p++;
	if (*p == ']')
		VaCheckDim(typname, 0, VA_MAX_DIM);

	values = (float *) palloc(sizeof(float) * capacity);
	for (;;)
	{
		float		val = VaReadFloatToken(str, typname, &p, ']');

		if (n == VA_MAX_DIM)
			VaCheckDim(typname, n + 1, VA_MAX_DIM);
		if (n == capacity)
		{
			capacity = Min(capacity * 2, VA_MAX_DIM);
			values = (float *) repalloc(values, sizeof(float) * capacity);
		}
		values[n++] = val;

		if (!VaListContinues(str, typname, &p, ']',
							 "Expected \",\" or \"]\" after a number."))
			break;
	}

	while (VaIsSpace(*p))
		p++;
	if (*p != '\0')
		VaInvalidText(typname, str, "Junk after closing right bracket.");

	*dim = n;
	return values;
}

/* One element of the binary form: a float4, checked finite. */
#define VECTOR_RECV_ELEMENT(buf) checked_element(pq_getmsgfloat4(buf))

/*
 * vector_in(cstring, oid, integer) RETURNS vector, vector_out(vector)
 * RETURNS cstring, vector_recv(internal, oid, integer) RETURNS vector and
 * vector_send(vector) RETURNS bytea (VA_DENSE_IO_FUNCTIONS): the text form
 * as VaParseVectorText reads it, and the binary form int16 dim, int16
 * unused (0), then dim float4, network order; every element finite.
 */
VA_DENSE_IO_FUNCTIONS(vector, Vector, PG_GETARG_VECTOR_P, InitVector, (float), (float),
					  sizeof(float), VECTOR_RECV_ELEMENT, pq_sendfloat4)

/* ---------------------------------------------------------------------
 * Type modifier vector(n)
 * ---------------------------------------------------------------------
 */

/*
 * vector_typmod_in(cstring[]) RETURNS integer, the n of vector(n) in
 * 1..VA_MAX_DIM, and vector(vector, integer, boolean) RETURNS vector, the
 * length-coercion cast to vector(n) (VA_DEFINE_TYPMOD).
 */
VA_DEFINE_TYPMOD(vector, Vector, PG_GETARG_VECTOR_P, VA_MAX_DIM)

/*
 * vector_typmod_out(integer) RETURNS cstring
 *
 * "(n)" for a typmod n >= 0, "" for no typmod.
 */
PG_FUNCTION_INFO_V1(vector_typmod_out);
Datum
vector_typmod_out(PG_FUNCTION_ARGS)
{
	int32		typmod = PG_GETARG_INT32(0);

	if (typmod < 0)
		PG_RETURN_CSTRING(pstrdup(""));
	PG_RETURN_CSTRING(psprintf("(%d)", typmod));
}

/* ---------------------------------------------------------------------
 * Casts to and from arrays
 * ---------------------------------------------------------------------
 */

/*
 * One array element d of type elemtype as a float4 (see vector.h): int4
 * rounds to nearest; float8 rounds to nearest, an overflow is an ERROR
 * (NUMERIC_VALUE_OUT_OF_RANGE, worded as for text input) and an underflow
 * a zero of its sign; numeric is read from its decimal text in one rounding
 * step, like type real's input, but keeps subnormals and underflows to zero
 * instead of failing.  NaN and infinities pass through.  Any other
 * elemtype: DATATYPE_MISMATCH naming typname.
 */
float
VaArrayElementToFloat(Datum d, Oid elemtype, const char *typname)
{
	switch (elemtype)
	{
		case INT4OID:
			return (float) DatumGetInt32(d);
		case FLOAT4OID:
			return DatumGetFloat4(d);
		case FLOAT8OID:
			{
				double		v = DatumGetFloat8(d);
				float		f = (float) v;

				if (unlikely(isinf(f)) && !isinf(v))
				{
					char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

					double_to_shortest_decimal_buf(v, buf);
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("\"%s\" is out of range for type %s", buf, typname)));
				}
				return f;
			}
		case NUMERICOID:
			{
				char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, d));
				float		f;

				/* "NaN", "Infinity" and "-Infinity" read as themselves */
				errno = 0;
				f = strtof(text, NULL);
				if (errno == ERANGE && isinf(f))
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("\"%s\" is out of range for type %s", text, typname)));
				pfree(text);
				return f;
			}
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cannot cast an array of %s to %s",
							format_type_be(elemtype), typname)));
	}
	return 0.0f;				/* keep the compiler quiet */
}

/*
 * array_to_vector(integer[] | real[] | double precision[] | numeric[],
 *				   integer, boolean) RETURNS vector: each element to float4,
 * checked finite (VA_DENSE_ARRAY_CAST_FUNCTION).
 */
VA_DENSE_ARRAY_CAST_FUNCTION(array_to_vector, Vector, InitVector, "vector", checked_element)

/*
 * vector_to_float4(vector, integer, boolean) RETURNS real[]
 *
 * The elements as a one-dimensional real[] (lower bound 1).  Never fails.
 */
PG_FUNCTION_INFO_V1(vector_to_float4);
Datum
vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);

	PG_RETURN_ARRAYTYPE_P(VaFloatArray(vec->x, vec->dim, false));
}

/*
 * vector_to_float8(vector, integer, boolean) RETURNS double precision[]
 *
 * The elements widened (exactly) to a one-dimensional double precision[].
 * Never fails.
 */
PG_FUNCTION_INFO_V1(vector_to_float8);
Datum
vector_to_float8(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);

	PG_RETURN_ARRAYTYPE_P(VaFloatArray(vec->x, vec->dim, true));
}

/* ---------------------------------------------------------------------
 * Comparison (btree vector_ops): element by element, then by dimension
 * ---------------------------------------------------------------------
 */

/*
 * vector_cmp(vector, vector) RETURNS integer: -1, 0 or 1 (btree support 1),
 * and vector_eq .. vector_ge RETURNS boolean: operators = <> < <= > >=.
 * The first differing element decides; if one vector is a prefix of the
 * other, the shorter sorts first; -0 equals 0.
 */
VA_DEFINE_DENSE_COMPARISONS(vector, Vector, PG_GETARG_VECTOR_P, (float))

/* ---------------------------------------------------------------------
 * Distances and norms (float8 accumulation)
 * ---------------------------------------------------------------------
 */

/*
 * l2_distance(vector, vector) RETURNS double precision: operator <->
 *
 * Euclidean distance sqrt(sum (a[i]-b[i])^2).  Errors: DATA_EXCEPTION on
 * different dimensions (so do all two-vector functions below).
 */
VECTOR_DISTANCE(l2_distance, sqrt(VaL2SquaredDouble(a->x, b->x, a->dim)))

/*
 * vector_l2_squared_distance(vector, vector) RETURNS double precision
 *
 * Squared Euclidean distance, sum (a[i]-b[i])^2 (what the index orders by).
 */
VECTOR_DISTANCE(vector_l2_squared_distance,
				VaL2SquaredDouble(a->x, b->x, a->dim))

/* inner_product(vector, vector) RETURNS double precision: sum a[i]*b[i] */
VECTOR_DISTANCE(inner_product, VaInnerProductDouble(a->x, b->x, a->dim))

/*
 * vector_negative_inner_product(vector, vector) RETURNS double precision:
 * operator <#>, -sum a[i]*b[i] (smaller is more similar).
 */
VECTOR_DISTANCE(vector_negative_inner_product,
				-VaInnerProductDouble(a->x, b->x, a->dim))

/*
 * cosine_distance(vector, vector) RETURNS double precision: operator <=>
 *
 * 1 - a.b / (|a| |b|), in [0, 2] (the cosine is clamped to [-1, 1] against
 * rounding).  NaN when either vector has norm zero.
 */
VECTOR_DISTANCE(cosine_distance,
				VaCosineDistance(VaInnerProductDouble(a->x, b->x, a->dim),
								 VaInnerProductDouble(a->x, a->x, a->dim),
								 VaInnerProductDouble(b->x, b->x, b->dim)))

/* l1_distance(vector, vector) RETURNS double precision: operator <+>, sum |a[i]-b[i]| */
VECTOR_DISTANCE(l1_distance, VaL1Double(a->x, b->x, a->dim))

/* The squared Euclidean norm of a vector v, in float8. */
#define VECTOR_NORM_SQUARED(v) VaInnerProductDouble((v)->x, (v)->x, (v)->dim)

/* A float4 element from a double: rounded to nearest. */
#define VECTOR_FROM_DOUBLE(d) ((float) (d))

/*
 * vector_norm(vector) RETURNS double precision: Euclidean norm
 * sqrt(sum a[i]^2); l2_normalize(vector) RETURNS vector: a / |a| (norm
 * computed in float8, each element rounded to float4), the zero vector
 * unchanged (VA_DENSE_NORM_FUNCTIONS).
 */
VA_DENSE_NORM_FUNCTIONS(vector_norm, l2_normalize, Vector, PG_GETARG_VECTOR_P, InitVector,
						(float), VECTOR_FROM_DOUBLE, VECTOR_NORM_SQUARED)

/* ---------------------------------------------------------------------
 * Element-wise arithmetic, concatenation, slicing, quantization
 * ---------------------------------------------------------------------
 */

/*
 * vector_add(vector, vector) RETURNS vector: operator +, a[i] + b[i].
 * Errors: DATA_EXCEPTION on different dimensions, NUMERIC_VALUE_OUT_OF_RANGE
 * on overflow (likewise for - and *).
 */
VECTOR_ELEMENTWISE(vector_add, checked_result(a->x[i] + b->x[i]))

/* vector_sub(vector, vector) RETURNS vector: operator -, a[i] - b[i] */
VECTOR_ELEMENTWISE(vector_sub, checked_result(a->x[i] - b->x[i]))

/*
 * vector_mul(vector, vector) RETURNS vector: operator *, a[i] * b[i].
 * A product of nonzero elements that underflows to zero is an ERROR, as for
 * type real.
 */
VECTOR_ELEMENTWISE(vector_mul, checked_product(a->x[i], b->x[i]))

/*
 * vector_dims(vector) RETURNS integer, vector_concat(vector, vector)
 * RETURNS vector (operator ||), subvector(vector, integer, integer)
 * RETURNS vector and binary_quantize(vector) RETURNS bit
 * (VA_DENSE_SHAPE_FUNCTIONS).
 */
VA_DENSE_SHAPE_FUNCTIONS(vector_dims, vector_concat, subvector, binary_quantize,
						 Vector, PG_GETARG_VECTOR_P, InitVector, "vector", (float))

/* ---------------------------------------------------------------------
 * Aggregates: sum(vector) uses vector_add; avg(vector) keeps a float8[]
 * state {count, sum_1, ..., sum_dim} ({0} before the first value)
 * ---------------------------------------------------------------------
 */

/*
 * vector_accum(double precision[], vector) RETURNS double precision[] and
 * vector_avg(double precision[]) RETURNS vector: the avg transition and
 * final functions (VA_DENSE_AVG_FUNCTIONS); a mean beyond float4 is an
 * ERROR.
 */
VA_DENSE_AVG_FUNCTIONS(vector, Vector, PG_GETARG_VECTOR_P, InitVector, (float), checked_result)

/*
 * vector_combine(double precision[], double precision[]) RETURNS
 * double precision[]
 *
 * avg combine for parallel aggregation (also of avg(halfvec)): VaAvgCombine.
 */
PG_FUNCTION_INFO_V1(vector_combine);
Datum
vector_combine(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(VaAvgCombine(PG_GETARG_ARRAYTYPE_P(0),
									   PG_GETARG_ARRAYTYPE_P(1), "vector"));
}

/* ---------------------------------------------------------------------
 * Index ops for the hnsw and ivfflat operator classes (see VaIndexOps in
 * vectorann.h; the k-means members serve ivfflat's l2, ip and cosine)
 *
 * The stored form is the Vector itself (4-byte varlena header, dim, unused,
 * floats): VECTOR_SIZE(dim) bytes.  Under cosine it is scaled to unit
 * length, so the distance is 1 - a.b.
 * ---------------------------------------------------------------------
 */

/*
 * vector_l2_index_ops(internal) RETURNS internal, and the ip, cosine and l1
 * siblings: support function 1 of the hnsw and ivfflat vector_*_ops
 * operator classes (distances by the float4 kernels; under cosine the
 * norm is computed in float8 and each element rounded to float4).
 */
VA_DENSE_INDEX_OPS(vector, Vector, VECTOR_SIZE, (float), VECTOR_FROM_DOUBLE, VECTOR_NORM_SQUARED,
				   VaL2SquaredFloat, VaInnerProductFloat, VaL1Float)

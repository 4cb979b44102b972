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

/*
 * Allocate a zeroed vector of dim dimensions in the current memory context,
 * with its varlena header and dim set.  The caller guarantees
 * 1 <= dim <= VA_MAX_DIM.
 */
Vector *
InitVector(int dim)
{
	Size		size = VECTOR_SIZE(dim);
	Vector	   *result;

	Assert(dim >= 1 && dim <= VA_MAX_DIM);
	result = (Vector *) palloc0(size);
	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

/* ---------------------------------------------------------------------
 * Checks shared by every way a vector is built
 * ---------------------------------------------------------------------
 */

/* ERROR unless 1 <= dim <= VA_MAX_DIM (VaCheckDim). */
#define check_dim(dim) VaCheckDim("vector", (dim), VA_MAX_DIM)

/* fname(vector, vector) RETURNS double precision: expr of a and b. */
#define VECTOR_DISTANCE(fname, expr) \
	VA_BINARY_FLOAT8_FUNCTION(fname, Vector, PG_GETARG_VECTOR_P, "vector", expr)

/* fname(vector, vector) RETURNS vector: element i is expr of a, b and i. */
#define VECTOR_ELEMENTWISE(fname, expr) \
	VA_ELEMENTWISE_FUNCTION(fname, Vector, PG_GETARG_VECTOR_P, InitVector, "vector", expr)

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
 * Text I/O
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

		while (VaIsSpace(*p))
			p++;
		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p == ']')
		{
			p++;
			break;
		}
		if (*p == '\0')
			VaInvalidText(typname, str, "Unexpected end of input.");
		VaInvalidText(typname, str, "Expected \",\" or \"]\" after a number.");
	}

	while (VaIsSpace(*p))
		p++;
	if (*p != '\0')
		VaInvalidText(typname, str, "Junk after closing right bracket.");

	*dim = n;
	return values;
}

/*
 * vector_in(cstring, oid, integer) RETURNS vector
 *
 * The text form as VaParseVectorText reads it; with a typmod, the number of
 * dimensions must equal it (DATA_EXCEPTION).
 */
PG_FUNCTION_INFO_V1(vector_in);
Datum
vector_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	float	   *values = VaParseVectorText(str, "vector", &dim);
	Vector	   *result;

	VaCheckExpectedDim(typmod, dim);
	result = InitVector(dim);
	memcpy(result->x, values, sizeof(float) * dim);
	pfree(values);
	PG_RETURN_VECTOR_P(result);
}

/*
 * vector_out(vector) RETURNS cstring
 *
 * "[x1,x2,...]" with each element in the shortest text that reads back as
 * the same float4 (so text I/O round-trips exactly), e.g. 0.1, 1e-45.
 */
PG_FUNCTION_INFO_V1(vector_out);
Datum
vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	int			dim = vec->dim;
	char	   *buf;
	char	   *p;

	/* each element: at most FLOAT_SHORTEST_DECIMAL_LEN - 1 chars, then , or ] */
	buf = (char *) palloc((Size) dim * FLOAT_SHORTEST_DECIMAL_LEN + 2);
	p = buf;
	*p++ = '[';
	for (int i = 0; i < dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(vec->x[i], p);
	}
	*p++ = ']';
	*p = '\0';

	PG_FREE_IF_COPY(vec, 0);
	PG_RETURN_CSTRING(buf);
}

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
 * Binary I/O: int16 dim, int16 unused (0), then dim float4, network order
 * ---------------------------------------------------------------------
 */

/*
 * vector_recv(internal, oid, integer) RETURNS vector
 *
 * Reads the binary form; checks dim (1..VA_MAX_DIM), unused == 0, that the
 * message holds the dim floats, finiteness and the typmod.
 * Errors: INVALID_BINARY_REPRESENTATION, DATA_EXCEPTION,
 * PROGRAM_LIMIT_EXCEEDED.
 */
PG_FUNCTION_INFO_V1(vector_recv);
Datum
vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			dim = VaRecvDenseHeader(buf, PG_GETARG_INT32(2), "vector", sizeof(float));
	Vector	   *result;

	result = InitVector(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = pq_getmsgfloat4(buf);
		VaCheckElement("vector", result->x[i]);
	}
	PG_RETURN_VECTOR_P(result);
}

/*
 * vector_send(vector) RETURNS bytea
 *
 * The binary form read by vector_recv.
 */
PG_FUNCTION_INFO_V1(vector_send);
Datum
vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, vec->dim);
	pq_sendint16(&buf, 0);
	for (int i = 0; i < vec->dim; i++)
		pq_sendfloat4(&buf, vec->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
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
 *				   integer, boolean) RETURNS vector
 *
 * Cast of a one-dimensional array without nulls to vector(typmod), element
 * by element to float4 (VaArrayElementToFloat: a value too small for a
 * float4 becomes a zero of its sign).
 * Errors: DATA_EXCEPTION (not 1-D, empty, NaN/infinite element, typmod),
 * NULL_VALUE_NOT_ALLOWED, NUMERIC_VALUE_OUT_OF_RANGE, PROGRAM_LIMIT_EXCEEDED.
 */
PG_FUNCTION_INFO_V1(array_to_vector);
Datum
array_to_vector(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int			nelems;
	Datum	   *elems = VaArrayElements(array, PG_GETARG_INT32(1), "vector", &nelems);
	Vector	   *result = InitVector(nelems);

	for (int i = 0; i < nelems; i++)
	{
		result->x[i] = VaArrayElementToFloat(elems[i], elemtype, "vector");
		VaCheckElement("vector", result->x[i]);
	}
	pfree(elems);
	PG_RETURN_VECTOR_P(result);
}

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

/* vector_dims(vector) RETURNS integer: the number of dimensions */
PG_FUNCTION_INFO_V1(vector_dims);
Datum
vector_dims(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(a->dim);
}

/* vector_norm(vector) RETURNS double precision: Euclidean norm sqrt(sum a[i]^2) */
PG_FUNCTION_INFO_V1(vector_norm);
Datum
vector_norm(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_FLOAT8(sqrt(VaInnerProductDouble(a->x, a->x, a->dim)));
}

/*
 * l2_normalize(vector) RETURNS vector
 *
 * a / |a| (norm computed in float8, each element rounded to float4); the
 * zero vector is returned unchanged.
 */
PG_FUNCTION_INFO_V1(l2_normalize);
Datum
l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	double		norm = sqrt(VaInnerProductDouble(a->x, a->x, a->dim));
	Vector	   *result = InitVector(a->dim);

	if (norm > 0.0)
	{
		for (int i = 0; i < a->dim; i++)
			result->x[i] = (float) ((double) a->x[i] / norm);
	}
	PG_RETURN_VECTOR_P(result);
}

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
 * vector_concat(vector, vector) RETURNS vector: operator ||, a's elements
 * then b's.  Errors: PROGRAM_LIMIT_EXCEEDED past VA_MAX_DIM dimensions.
 */
PG_FUNCTION_INFO_V1(vector_concat);
Datum
vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	check_dim(a->dim + b->dim);
	result = InitVector(a->dim + b->dim);
	memcpy(result->x, a->x, sizeof(float) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(result);
}

/*
 * subvector(vector, start integer, count integer) RETURNS vector
 *
 * Elements start .. start+count-1 (1-based), clipped to the vector like
 * substring(); the result must keep at least one element.
 * Errors: DATA_EXCEPTION when nothing is left.
 */
PG_FUNCTION_INFO_V1(subvector);
Datum
subvector(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	int64		start = PG_GETARG_INT32(1);
	int64		count = PG_GETARG_INT32(2);
	int64		end = start + count;	/* exclusive; int64 cannot overflow */
	int64		first = Max(start, 1);
	int64		last = Min(end, (int64) a->dim + 1);	/* exclusive */
	Vector	   *result;

	if (count < 1 || last <= first)
		check_dim(0);
	result = InitVector((int) (last - first));
	memcpy(result->x, a->x + (first - 1), sizeof(float) * (last - first));
	PG_RETURN_VECTOR_P(result);
}

/*
 * binary_quantize(vector) RETURNS bit
 *
 * One bit per element, set when the element is > 0; bit i (0-based from the
 * left) is element i+1.
 */
PG_FUNCTION_INFO_V1(binary_quantize);
Datum
binary_quantize(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	int			len = VARBITTOTALLEN(a->dim);
	VarBit	   *result = (VarBit *) palloc0(len);
	bits8	   *bits = VARBITS(result);

	SET_VARSIZE(result, len);
	VARBITLEN(result) = a->dim;
	for (int i = 0; i < a->dim; i++)
	{
		if (a->x[i] > 0.0f)
			bits[i / BITS_PER_BYTE] |= (bits8) (0x80 >> (i % BITS_PER_BYTE));
	}
	PG_RETURN_VARBIT_P(result);
}

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
 * Stored form for cosine: the vector scaled to unit length (norm computed
 * in float8, elements rounded to float4).  False for a zero (or, which
 * cannot happen for valid values, non-finite) norm.
 */
static bool
vector_to_stored_normalized(Datum value, void *dst)
{
	Vector	   *v = DatumGetVector(value);
	Vector	   *out = (Vector *) dst;
	double		norm = sqrt(VaInnerProductDouble(v->x, v->x, v->dim));

	if (!(norm > 0.0) || isinf(norm))
		return false;
	SET_VARSIZE(out, VECTOR_SIZE(v->dim));
	out->dim = v->dim;
	out->unused = 0;
	for (int i = 0; i < v->dim; i++)
		out->x[i] = (float) ((double) v->x[i] / norm);
	return true;
}

/* k-means (ivfflat): add the elements of a stored form to sum[0..dim). */
static void
vector_index_accum(const void *stored, double *sum)
{
	const Vector *v = (const Vector *) stored;

	for (int i = 0; i < v->dim; i++)
		sum[i] += v->x[i];
}

/* Write the Vector of the point mean[0..dim) / scale into dst, as float4. */
static void
vector_from_doubles(const double *mean, int dim, double scale, void *dst)
{
	Vector	   *out = (Vector *) dst;

	SET_VARSIZE(out, VECTOR_SIZE(dim));
	out->dim = dim;
	out->unused = 0;
	for (int i = 0; i < dim; i++)
		out->x[i] = (float) (mean[i] / scale);
}

/*
 * vector_l2_index_ops(internal) RETURNS internal, and the ip, cosine and l1
 * siblings: support function 1 of the hnsw and ivfflat vector_*_ops
 * operator classes (distances by the float4 kernels).
 */
VA_DENSE_INDEX_OPS(vector, Vector, VECTOR_SIZE,
				   VaL2SquaredFloat, VaInnerProductFloat, VaL1Float)

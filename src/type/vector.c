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
#include "utils/lsyscache.h"
#include "utils/varbit.h"

#include "distance/distance.h"
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

/* ERROR unless 1 <= dim <= VA_MAX_DIM; typname names the type. */
static void
check_dim_of(const char *typname, int dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	if (dim > VA_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions", typname, VA_MAX_DIM)));
}

static void
check_dim(int dim)
{
	check_dim_of("vector", dim);
}

/* ERROR when a typmod is given (>= 0) and dim differs from it. */
static void
check_expected_dim(int32 typmod, int dim)
{
	if (typmod >= 0 && dim != typmod)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

/* ERROR when x is NaN or infinite; typname names the type. */
static void
check_element_of(const char *typname, float x)
{
	if (isnan(x))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in %s", typname)));
	if (isinf(x))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in %s", typname)));
}

static void
check_element(float x)
{
	check_element_of("vector", x);
}

/* ERROR when two operands of a binary function differ in dimensions. */
static void
check_same_dims(const Vector *a, const Vector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", a->dim, b->dim)));
}

/* The result of float arithmetic on finite inputs: ERROR on overflow. */
static inline float
checked_result(float r)
{
	if (unlikely(isinf(r)))
		float_overflow_error();
	return r;
}

/* ---------------------------------------------------------------------
 * Text I/O
 * ---------------------------------------------------------------------
 */

/* The whitespace vector_in skips: the C locale's isspace(). */
static inline bool
is_vector_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* ERROR for malformed text of type typname, quoting the whole input. */
static void
invalid_vector_text(const char *typname, const char *str, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", typname, str),
			 errdetail_internal("%s", detail)));
}

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

	while (is_vector_space(*p))
		p++;
	if (*p != '[')
		invalid_vector_text(typname, str, "Vector contents must start with \"[\".");
	p++;
	while (is_vector_space(*p))
		p++;
	if (*p == ']')
		check_dim_of(typname, 0);

	values = (float *) palloc(sizeof(float) * capacity);
	for (;;)
	{
		char	   *end;
		float		val;

		while (is_vector_space(*p))
			p++;
		/* an empty token is a syntax error (strtof would report it less clearly) */
		if (*p == '\0' || *p == ',' || *p == ']')
			invalid_vector_text(typname, str, "Expected a number.");

		errno = 0;
		val = strtof(p, &end);
		if (end == p)
			invalid_vector_text(typname, str, "Expected a number.");
		/* ERANGE with a zero or subnormal result is underflow: keep it */
		if (errno == ERANGE && isinf(val))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%s\" is out of range for type %s",
							pnstrdup(p, end - p), typname)));
		check_element_of(typname, val);

		if (n == VA_MAX_DIM)
			check_dim_of(typname, n + 1);
		if (n == capacity)
		{
			capacity = Min(capacity * 2, VA_MAX_DIM);
			values = (float *) repalloc(values, sizeof(float) * capacity);
		}
		values[n++] = val;

		p = end;
		while (is_vector_space(*p))
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
			invalid_vector_text(typname, str, "Unexpected end of input.");
		invalid_vector_text(typname, str, "Expected \",\" or \"]\" after a number.");
	}

	while (is_vector_space(*p))
		p++;
	if (*p != '\0')
		invalid_vector_text(typname, str, "Junk after closing right bracket.");

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

	check_expected_dim(typmod, dim);
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
 * vector_typmod_in(cstring[]) RETURNS integer
 *
 * The n of vector(n): exactly one integer, 1..VA_MAX_DIM.
 * Errors: INVALID_PARAMETER_VALUE.
 */
PG_FUNCTION_INFO_V1(vector_typmod_in);
Datum
vector_typmod_in(PG_FUNCTION_ARGS)
{
	ArrayType  *ta = PG_GETARG_ARRAYTYPE_P(0);
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("Type vector takes exactly one modifier, its number of dimensions.")));
	if (tl[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector must be at least 1")));
	if (tl[0] > VA_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector cannot exceed %d", VA_MAX_DIM)));
	PG_RETURN_INT32(tl[0]);
}

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

/*
 * vector(vector, integer, boolean) RETURNS vector
 *
 * Length-coercion cast to vector(n): the value unchanged when its dimension
 * equals the typmod (or there is none), else DATA_EXCEPTION.
 */
PG_FUNCTION_INFO_V1(vector);
Datum
vector(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	int32		typmod = PG_GETARG_INT32(1);

	check_expected_dim(typmod, vec->dim);
	PG_RETURN_VECTOR_P(vec);
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
	int32		typmod = PG_GETARG_INT32(2);
	int16		dim;
	int16		unused;
	Vector	   *result;

	dim = (int16) pq_getmsgint(buf, sizeof(int16));
	unused = (int16) pq_getmsgint(buf, sizeof(int16));

	check_dim(dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type vector"),
				 errdetail("The reserved field is %d, expected 0.", unused)));
	if ((Size) (buf->len - buf->cursor) < sizeof(float) * (Size) dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type vector"),
				 errdetail("The header says %d dimensions but only %d bytes follow.",
						   dim, buf->len - buf->cursor)));
	check_expected_dim(typmod, dim);

	result = InitVector(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = pq_getmsgfloat4(buf);
		check_element(result->x[i]);
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
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	Vector	   *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	/* check the size before deconstructing a possibly huge array */
	check_dim(ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)));
	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, &nulls, &nelems);
	check_expected_dim(typmod, nelems);

	result = InitVector(nelems);
	for (int i = 0; i < nelems; i++)
	{
		result->x[i] = VaArrayElementToFloat(elems[i], elemtype, "vector");
		check_element(result->x[i]);
	}

	pfree(elems);
	pfree(nulls);
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
	Datum	   *datums = (Datum *) palloc(sizeof(Datum) * vec->dim);
	ArrayType  *result;

	for (int i = 0; i < vec->dim; i++)
		datums[i] = Float4GetDatum(vec->x[i]);
	result = construct_array(datums, vec->dim, FLOAT4OID,
							 sizeof(float4), true, TYPALIGN_INT);
	pfree(datums);
	PG_RETURN_ARRAYTYPE_P(result);
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
	Datum	   *datums = (Datum *) palloc(sizeof(Datum) * vec->dim);
	ArrayType  *result;

	for (int i = 0; i < vec->dim; i++)
		datums[i] = Float8GetDatum((double) vec->x[i]);
	result = construct_array(datums, vec->dim, FLOAT8OID,
							 sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	pfree(datums);
	PG_RETURN_ARRAYTYPE_P(result);
}

/* ---------------------------------------------------------------------
 * Comparison (btree vector_ops): element by element, then by dimension
 * ---------------------------------------------------------------------
 */

/*
 * Three-way comparison: the first differing element decides; if one vector
 * is a prefix of the other, the shorter sorts first.  -0 equals 0 (elements
 * are never NaN).
 */
static int
vector_cmp_internal(const Vector *a, const Vector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	if (a->dim < b->dim)
		return -1;
	if (a->dim > b->dim)
		return 1;
	return 0;
}

/* Detoast both arguments, compare them, free any copies. */
static int
vector_cmp_args(FunctionCallInfo fcinfo)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	int			c = vector_cmp_internal(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return c;
}

/*
 * vector_cmp(vector, vector) RETURNS integer: -1, 0 or 1 (btree support 1), and
 * vector_eq .. vector_ge RETURNS boolean: operators = <> < <= > >=.
 */
VA_DEFINE_COMPARISONS(vector)

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
PG_FUNCTION_INFO_V1(l2_distance);
Datum
l2_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	check_same_dims(a, b);
	PG_RETURN_FLOAT8(sqrt(VaL2SquaredDouble(a->x, b->x, a->dim)));
}

/*
 * vector_l2_squared_distance(vector, vector) RETURNS double precision
 *
 * Squared Euclidean distance, sum (a[i]-b[i])^2 (what the index orders by).
 */
PG_FUNCTION_INFO_V1(vector_l2_squared_distance);
Datum
vector_l2_squared_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	check_same_dims(a, b);
	PG_RETURN_FLOAT8(VaL2SquaredDouble(a->x, b->x, a->dim));
}

/* inner_product(vector, vector) RETURNS double precision: sum a[i]*b[i] */
PG_FUNCTION_INFO_V1(inner_product);
Datum
inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	check_same_dims(a, b);
	PG_RETURN_FLOAT8(VaInnerProductDouble(a->x, b->x, a->dim));
}

/*
 * vector_negative_inner_product(vector, vector) RETURNS double precision:
 * operator <#>, -sum a[i]*b[i] (smaller is more similar).
 */
PG_FUNCTION_INFO_V1(vector_negative_inner_product);
Datum
vector_negative_inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	check_same_dims(a, b);
	PG_RETURN_FLOAT8(-VaInnerProductDouble(a->x, b->x, a->dim));
}

/*
 * cosine_distance(vector, vector) RETURNS double precision: operator <=>
 *
 * 1 - a.b / (|a| |b|), in [0, 2] (the cosine is clamped to [-1, 1] against
 * rounding).  NaN when either vector has norm zero.
 */
PG_FUNCTION_INFO_V1(cosine_distance);
Datum
cosine_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	double		dot;
	double		na;
	double		nb;
	double		cosine;

	check_same_dims(a, b);
	dot = VaInnerProductDouble(a->x, b->x, a->dim);
	na = VaInnerProductDouble(a->x, a->x, a->dim);
	nb = VaInnerProductDouble(b->x, b->x, b->dim);
	if (na == 0.0 || nb == 0.0)
		PG_RETURN_FLOAT8(get_float8_nan());

	cosine = dot / sqrt(na * nb);
	if (cosine > 1.0)
		cosine = 1.0;
	else if (cosine < -1.0)
		cosine = -1.0;
	PG_RETURN_FLOAT8(1.0 - cosine);
}

/* l1_distance(vector, vector) RETURNS double precision: operator <+>, sum |a[i]-b[i]| */
PG_FUNCTION_INFO_V1(l1_distance);
Datum
l1_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	check_same_dims(a, b);
	PG_RETURN_FLOAT8(VaL1Double(a->x, b->x, a->dim));
}

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
PG_FUNCTION_INFO_V1(vector_add);
Datum
vector_add(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	check_same_dims(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = checked_result(a->x[i] + b->x[i]);
	PG_RETURN_VECTOR_P(result);
}

/* vector_sub(vector, vector) RETURNS vector: operator -, a[i] - b[i] */
PG_FUNCTION_INFO_V1(vector_sub);
Datum
vector_sub(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	check_same_dims(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = checked_result(a->x[i] - b->x[i]);
	PG_RETURN_VECTOR_P(result);
}

/*
 * vector_mul(vector, vector) RETURNS vector: operator *, a[i] * b[i].
 * A product of nonzero elements that underflows to zero is an ERROR, as for
 * type real.
 */
PG_FUNCTION_INFO_V1(vector_mul);
Datum
vector_mul(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	check_same_dims(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
	{
		float		r = checked_result(a->x[i] * b->x[i]);

		if (unlikely(r == 0.0f) && a->x[i] != 0.0f && b->x[i] != 0.0f)
			float_underflow_error();
		result->x[i] = r;
	}
	PG_RETURN_VECTOR_P(result);
}

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

/* ERROR for a malformed avg state of type typname, saying why. */
static void
invalid_avg_state(const char *typname, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("invalid state for %s average", typname),
			 errdetail_internal("%s", detail)));
}

/*
 * The avg state's elements, *dims = its number of sums (see vector.h).
 * Well-formed: a one-dimensional double precision array without nulls of 1
 * to VA_MAX_DIM + 1 finite elements, the first (the count) >= 0; a count
 * above 0 needs at least one sum.  A state with sums but count 0 is a state
 * of that many dimensions that has seen no value yet.
 */
float8 *
VaAvgState(ArrayType *state, const char *typname, int *dims)
{
	int			n;
	float8	   *s;

	if (ARR_ELEMTYPE(state) != FLOAT8OID)
		invalid_avg_state(typname, "The state must be a double precision array.");
	if (ARR_NDIM(state) == 0)
		invalid_avg_state(typname, "The state must not be empty.");
	if (ARR_NDIM(state) != 1)
		invalid_avg_state(typname, "The state must be a one-dimensional array.");
	if (ARR_HASNULL(state) && array_contains_nulls(state))
		invalid_avg_state(typname, "The state must not contain nulls.");
	n = ARR_DIMS(state)[0];
	if (n > VA_MAX_DIM + 1)
		invalid_avg_state(typname, "The state has more sums than the largest number of dimensions.");
	/* no nulls: the elements are contiguous after the header (and bitmap) */
	s = (float8 *) ((char *) state + (ARR_HASNULL(state) ? (Size) state->dataoffset
									  : ARR_OVERHEAD_NONULLS(1)));
	for (int i = 0; i < n; i++)
	{
		if (isnan(s[i]) || isinf(s[i]))
			invalid_avg_state(typname, "The state must hold finite numbers.");
	}
	if (s[0] < 0.0)
		invalid_avg_state(typname, "The count, the state's first element, must not be negative.");
	if (s[0] > 0.0 && n == 1)
		invalid_avg_state(typname, "A state with a count above 0 must hold one sum per dimension.");
	*dims = n - 1;
	return s;
}

/* A fresh float8[] state holding the given n values. */
static ArrayType *
make_avg_state(const float8 *values, int n)
{
	Datum	   *datums = (Datum *) palloc(sizeof(Datum) * n);
	ArrayType  *result;

	for (int i = 0; i < n; i++)
		datums[i] = Float8GetDatum(values[i]);
	result = construct_array(datums, n, FLOAT8OID, sizeof(float8),
							 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	pfree(datums);
	return result;
}

/*
 * vector_accum(double precision[], vector) RETURNS double precision[]
 *
 * avg transition: count + 1, sums + value.  The initial state {0} takes a
 * value of any dimensions; any other state only values of as many
 * dimensions as it has sums.  Errors: DATA_EXCEPTION for different
 * dimensions or a malformed state (VaAvgState).
 */
PG_FUNCTION_INFO_V1(vector_accum);
Datum
vector_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *v = PG_GETARG_VECTOR_P(1);
	int			dims;
	float8	   *s = VaAvgState(state, "vector", &dims);
	float8	   *next;
	ArrayType  *result;

	if (dims != 0 && dims != v->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", dims, v->dim)));

	next = (float8 *) palloc(sizeof(float8) * (v->dim + 1));
	next[0] = s[0] + 1.0;
	for (int i = 0; i < v->dim; i++)
		next[i + 1] = (dims == 0 ? 0.0 : s[i + 1]) + (double) v->x[i];
	result = make_avg_state(next, v->dim + 1);
	pfree(next);
	PG_RETURN_ARRAYTYPE_P(result);
}

/*
 * vector_combine(double precision[], double precision[]) RETURNS
 * double precision[]
 *
 * avg combine for parallel aggregation (also of avg(halfvec)): counts and
 * sums added; the initial state {0} combines with any state.  Errors:
 * DATA_EXCEPTION for states of different dimensions or a malformed state.
 */
PG_FUNCTION_INFO_V1(vector_combine);
Datum
vector_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *sa = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *sb = PG_GETARG_ARRAYTYPE_P(1);
	int			da;
	int			db;
	float8	   *a = VaAvgState(sa, "vector", &da);
	float8	   *b = VaAvgState(sb, "vector", &db);
	float8	   *next;
	ArrayType  *result;

	if (db == 0)
		PG_RETURN_ARRAYTYPE_P(make_avg_state(a, da + 1));
	if (da == 0)
		PG_RETURN_ARRAYTYPE_P(make_avg_state(b, db + 1));
	if (da != db)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", da, db)));

	next = (float8 *) palloc(sizeof(float8) * (da + 1));
	for (int i = 0; i <= da; i++)
		next[i] = a[i] + b[i];
	result = make_avg_state(next, da + 1);
	pfree(next);
	PG_RETURN_ARRAYTYPE_P(result);
}

/*
 * vector_avg(double precision[]) RETURNS vector
 *
 * avg final: sums / count rounded to float4; NULL when no value was seen.
 * Errors: DATA_EXCEPTION for a malformed state, NUMERIC_VALUE_OUT_OF_RANGE
 * when a mean overflows float4 (only a hand-made state can).
 */
PG_FUNCTION_INFO_V1(vector_avg);
Datum
vector_avg(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			dims;
	float8	   *s = VaAvgState(state, "vector", &dims);
	Vector	   *result;

	if (s[0] == 0.0)
		PG_RETURN_NULL();
	/* VaAvgState: a count above 0 comes with 1..VA_MAX_DIM sums */
	result = InitVector(dims);
	for (int i = 0; i < dims; i++)
		result->x[i] = checked_result((float) (s[i + 1] / s[0]));
	PG_RETURN_VECTOR_P(result);
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

/* Bytes of the stored form: the whole Vector. */
static Size
vector_stored_size(Datum value)
{
	Vector	   *v = DatumGetVector(value);

	return VECTOR_SIZE(v->dim);
}

/* Stored form for l2, ip and l1: a plain copy; always indexable. */
static bool
vector_to_stored_copy(Datum value, void *dst)
{
	Vector	   *v = DatumGetVector(value);

	memcpy(dst, v, VECTOR_SIZE(v->dim));
	return true;
}

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

/* l2: squared Euclidean distance in float (no sqrt in the hot loop) */
static float
vector_index_l2_distance(const void *a, const void *b)
{
	const Vector *va = (const Vector *) a;
	const Vector *vb = (const Vector *) b;

	return VaL2SquaredFloat(va->x, vb->x, va->dim);
}

/* ip: negative inner product */
static float
vector_index_ip_distance(const void *a, const void *b)
{
	const Vector *va = (const Vector *) a;
	const Vector *vb = (const Vector *) b;

	return -VaInnerProductFloat(va->x, vb->x, va->dim);
}

/* cosine: 1 - inner product of unit vectors */
static float
vector_index_cosine_distance(const void *a, const void *b)
{
	const Vector *va = (const Vector *) a;
	const Vector *vb = (const Vector *) b;

	return 1.0f - VaInnerProductFloat(va->x, vb->x, va->dim);
}

/* l1: taxicab distance */
static float
vector_index_l1_distance(const void *a, const void *b)
{
	const Vector *va = (const Vector *) a;
	const Vector *vb = (const Vector *) b;

	return VaL1Float(va->x, vb->x, va->dim);
}

/* Dimensions of a stored form. */
static int
vector_stored_dims(const void *stored)
{
	return ((const Vector *) stored)->dim;
}

/* k-means (ivfflat): add the elements of a stored form to sum[0..dim). */
static void
vector_index_accum(const void *stored, double *sum)
{
	const Vector *v = (const Vector *) stored;

	for (int i = 0; i < v->dim; i++)
		sum[i] += v->x[i];
}

/* Write the Vector of the point mean[0..dim) / scale into out, as float4. */
static void
vector_from_doubles(const double *mean, int dim, double scale, Vector *out)
{
	SET_VARSIZE(out, VECTOR_SIZE(dim));
	out->dim = dim;
	out->unused = 0;
	for (int i = 0; i < dim; i++)
		out->x[i] = (float) (mean[i] / scale);
}

/* k-means centroid for l2 and ip: the mean itself; always storable. */
static bool
vector_index_from_mean(const double *mean, int dim, void *dst)
{
	vector_from_doubles(mean, dim, 1.0, (Vector *) dst);
	return true;
}

/*
 * k-means centroid for cosine: the mean scaled to unit length (spherical
 * k-means); false for a zero mean.
 */
static bool
vector_index_from_mean_normalized(const double *mean, int dim, void *dst)
{
	double		norm = 0.0;

	for (int i = 0; i < dim; i++)
		norm += mean[i] * mean[i];
	norm = sqrt(norm);
	if (!(norm > 0.0) || isinf(norm))
		return false;
	vector_from_doubles(mean, dim, norm, (Vector *) dst);
	return true;
}

static const VaIndexOps vector_l2_ops = {
	.stored_size = vector_stored_size,
	.to_stored = vector_to_stored_copy,
	.distance = vector_index_l2_distance,
	.to_sql = VaToSqlSqrt,
	.dims = vector_stored_dims,
	.accum = vector_index_accum,
	.from_mean = vector_index_from_mean,
	.kmeans_distance = vector_index_l2_distance,
};

static const VaIndexOps vector_ip_ops = {
	.stored_size = vector_stored_size,
	.to_stored = vector_to_stored_copy,
	.distance = vector_index_ip_distance,
	.to_sql = VaToSqlIdentity,
	.dims = vector_stored_dims,
	.accum = vector_index_accum,
	.from_mean = vector_index_from_mean,
	.kmeans_distance = vector_index_l2_distance,
};

static const VaIndexOps vector_cosine_ops = {
	.stored_size = vector_stored_size,
	.to_stored = vector_to_stored_normalized,
	.distance = vector_index_cosine_distance,
	.to_sql = VaToSqlCosine,
	.dims = vector_stored_dims,
	.accum = vector_index_accum,
	.from_mean = vector_index_from_mean_normalized,
	.kmeans_distance = vector_index_cosine_distance,
};

static const VaIndexOps vector_l1_ops = {
	.stored_size = vector_stored_size,
	.to_stored = vector_to_stored_copy,
	.distance = vector_index_l1_distance,
	.to_sql = VaToSqlIdentity,
	.dims = vector_stored_dims,
};

/*
 * vector_l2_index_ops(internal) RETURNS internal, and the ip, cosine and l1
 * siblings: support function 1 of the hnsw vector_*_ops operator classes.
 * The argument is ignored (the AM passes (Datum) 0); each returns a pointer
 * to a static VaIndexOps.
 */
PG_FUNCTION_INFO_V1(vector_l2_index_ops);
Datum
vector_l2_index_ops(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(&vector_l2_ops);
}

PG_FUNCTION_INFO_V1(vector_ip_index_ops);
Datum
vector_ip_index_ops(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(&vector_ip_ops);
}

PG_FUNCTION_INFO_V1(vector_cosine_index_ops);
Datum
vector_cosine_index_ops(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(&vector_cosine_ops);
}

PG_FUNCTION_INFO_V1(vector_l1_index_ops);
Datum
vector_l1_index_ops(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(&vector_l1_ops);
}

/*
 * sparsevec.c
 *	  The sparsevec type: up to SPARSEVEC_MAX_NNZ non-zero float4 values in a
 *	  vector of up to SPARSEVEC_MAX_DIM dimensions, text form
 *	  '{index:value,...}/dim' with 1-based indices.  Text and binary I/O
 *	  (a value holds its indices strictly increasing and in range; text
 *	  input takes them in any order and drops zeros, binary input must be
 *	  canonical already), the sparsevec(n) type modifier,
 *	  casts to and from vector, halfvec and arrays, comparison (for btree),
 *	  and the distance functions behind <->, <#>, <=> and <+>, computed on
 *	  the non-zeros only.
 */
#include "vectorann.h"

#include <limits.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "distance/distance.h"
#include "type/halfvec.h"
#include "type/sparsevec.h"
#include "type/typeutil.h"
#include "type/vector.h"

/*
 * Allocate a zeroed sparsevec of dim dimensions with nnz non-zeros (palloc,
 * current context).  The caller guarantees the limits and fills indices and
 * values.
 */
SparseVector *
InitSparseVector(int dim, int nnz)
{
	Size		size = SPARSEVEC_SIZE(nnz);
	SparseVector *result = (SparseVector *) palloc0(size);

	Assert(dim >= 1 && dim <= SPARSEVEC_MAX_DIM);
	Assert(nnz >= 0 && nnz <= SPARSEVEC_MAX_NNZ && nnz <= dim);
	SET_VARSIZE(result, size);
	result->dim = dim;
	result->nnz = nnz;
	return result;
}

/* ---------------------------------------------------------------------
 * Checks
 * ---------------------------------------------------------------------
 */

/* ERROR unless 1 <= dim <= SPARSEVEC_MAX_DIM (VaCheckDim). */
#define check_dim(dim) VaCheckDim("sparsevec", (dim), SPARSEVEC_MAX_DIM)

/* ERROR when x is NaN or infinite (VaCheckElement). */
#define check_element(x) VaCheckElement("sparsevec", (x))

/* fname(sparsevec, sparsevec) RETURNS double precision: expr of a and b. */
#define SPARSEVEC_DISTANCE(fname, expr) \
	VA_BINARY_FLOAT8_FUNCTION(fname, SparseVector, PG_GETARG_SPARSEVEC_P, "sparsevec", expr)

/* ERROR unless nnz <= SPARSEVEC_MAX_NNZ. */
static void
check_nnz(int64 nnz)
{
	if (nnz > SPARSEVEC_MAX_NNZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparsevec cannot have more than %d non-zero elements",
						SPARSEVEC_MAX_NNZ)));
}

/*
 * Build a sparsevec of dim dimensions from dense float values x[0..n) (n ==
 * dim), keeping the non-zeros.  Errors as check_nnz.
 */
static SparseVector *
sparsevec_from_dense(const float *x, int n)
{
	int			nnz = 0;
	SparseVector *result;
	float	   *values;
	int			k = 0;

	for (int i = 0; i < n; i++)
		nnz += (x[i] != 0.0f);
	check_nnz(nnz);
	result = InitSparseVector(n, nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0; i < n; i++)
	{
		if (x[i] != 0.0f)
		{
			result->indices[k] = i;
			values[k] = x[i];
			k++;
		}
	}
	return result;
}

/* ---------------------------------------------------------------------
 * Text I/O
 * ---------------------------------------------------------------------
 */

/* ERROR for malformed sparsevec text, quoting the whole input. */
#define invalid_text(str, detail) VaInvalidText("sparsevec", (str), (detail))

/*
 * An unsigned decimal integer at *pp (digits only), advancing *pp past it.
 * Values above INT_MAX come back as INT64 values > INT_MAX (never
 * overflowing: digits past that are still consumed).  ERROR when there is
 * no digit.
 */
static int64
parse_uint(const char *str, const char **pp, const char *what)
{
	const char *p = *pp;
	int64		v = 0;

	if (!(*p >= '0' && *p <= '9'))
		invalid_text(str, what);
	while (*p >= '0' && *p <= '9')
	{
		if (v <= INT_MAX)
			v = v * 10 + (*p - '0');
		p++;
	}
	*pp = p;
	return v;
}

/* One "index:value" of sparsevec text: the 0-based index and the value. */
typedef struct SparseInputEntry
{
	int32		index;
	float		value;
} SparseInputEntry;

/* qsort comparator: by index. */
static int
compare_entries(const void *a, const void *b)
{
	int32		ia = ((const SparseInputEntry *) a)->index;
	int32		ib = ((const SparseInputEntry *) b)->index;

	return (ia > ib) - (ia < ib);
}

/*
 * Past white space, the character c, and white space after it, at *pp in
 * the text str; ERROR (invalid_text, with detail msg) if c is not there.
 */
static void
expect_char(const char *str, const char **pp, char c, const char *msg)
{
	const char *p = *pp;

	while (VaIsSpace(*p))
		p++;
	if (*p != c)
		invalid_text(str, msg);
	p++;
	while (VaIsSpace(*p))
		p++;
	*pp = p;
}

/*
 * The entries of sparsevec text read so far, in input order: entries[0..n)
 * in a palloc'd array of capacity elements, zeros included; nnz of them are
 * non-zero; sorted stays true while the indices increase, largest is the
 * largest 1-based index.
 */
typedef struct SparseInput
{
	SparseInputEntry *entries;
	int			n;
	int			capacity;
	int			nnz;
	bool		sorted;
	int64		largest;
} SparseInput;

/*
 * Read one "index:value" of the text str at *pp (white space allowed before
 * and around the ":") into in, advancing *pp past the value.  Errors:
 * invalid_text for syntax, NUMERIC_VALUE_OUT_OF_RANGE for an index outside
 * 1..SPARSEVEC_MAX_DIM (quoting it as written) or a value out of float4
 * range, DATA_EXCEPTION for NaN or infinity, and check_nnz's error for one
 * non-zero too many.
 */
static void
read_entry(const char *str, const char **pp, SparseInput *in)
{
	const char *p = *pp;
	int64		index;
	float		val;
	const char *start;

	while (VaIsSpace(*p))
		p++;
	start = p;
	index = parse_uint(str, &p, "Expected an index.");
	if (index < 1 || index > SPARSEVEC_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("sparsevec index %s is out of range",
						pnstrdup(start, p - start)),
				 errdetail("Indices run from 1 to the number of dimensions.")));

	expect_char(str, &p, ':', "Expected \":\" after an index.");
	val = VaReadFloatToken(str, "sparsevec", &p, '}');

	if (val != 0.0f)
		check_nnz(++in->nnz);
	/* at most one entry per 4 bytes of text ("1:0,"): may pass 1 GB */
	if (in->n == in->capacity)
	{
		in->capacity *= 2;
		in->entries = (SparseInputEntry *)
			repalloc_huge(in->entries, sizeof(SparseInputEntry) * (Size) in->capacity);
	}
	if (index <= in->largest)
		in->sorted = false;
	else
		in->largest = index;
	in->entries[in->n].index = (int32) (index - 1);
	in->entries[in->n].value = val;
	in->n++;
	*pp = p;
}

/*
 * Read the entries of the text str from *pp, just past the "{", through the
 * closing "}" into in (initialised empty here), advancing *pp past the "}".
 * Errors as read_entry, and invalid_text when neither "," nor "}" follows a
 * value.
 */
static void
read_entries(const char *str, const char **pp, SparseInput *in)
{
	in->n = 0;
	in->nnz = 0;
	in->capacity = 16;
	in->sorted = true;
	in->largest = 0;
	in->entries = (SparseInputEntry *) palloc(sizeof(SparseInputEntry) * in->capacity);
	if (**pp == '}')
	{
		(*pp)++;
		return;
	}
	for (;;)
	{
		read_entry(str, pp, in);
		if (!VaListContinues(str, "sparsevec", pp, '}',
							 "Expected \",\" or \"}\" after a value."))
			break;
	}
}

/*
 * The number of dimensions that ends the text str: "/dim" at *pp (white
 * space allowed around the "/" and after the number), then the end of the
 * string.  Errors: invalid_text for syntax or junk after the number, and
 * check_dim's error for a negative dim or one outside
 * 1..SPARSEVEC_MAX_DIM.
 */
static int64
read_dim(const char *str, const char *p)
{
	int64		dim;

	expect_char(str, &p, '/', "Expected \"/\" and the number of dimensions after \"}\".");
	if (*p == '-')
		check_dim(0);
	dim = parse_uint(str, &p, "Expected the number of dimensions.");
	while (VaIsSpace(*p))
		p++;
	if (*p != '\0')
		invalid_text(str, "Junk after the number of dimensions.");
	check_dim(dim);
	return dim;
}

/*
 * Sort in's entries by index unless they came in increasing order already
 * (the common case), each value staying with its index.  ERROR
 * (DATA_EXCEPTION) when an index appears more than once.
 */
static void
sort_entries(SparseInput *in)
{
	if (!in->sorted)
		qsort(in->entries, in->n, sizeof(SparseInputEntry), compare_entries);
	for (int i = 1; i < in->n; i++)
	{
		if (in->entries[i].index == in->entries[i - 1].index)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevec index %d appears more than once",
							in->entries[i].index + 1)));
	}
}

/*
 * sparsevec_in(cstring, oid, integer) RETURNS sparsevec
 *
 * Parses "{i1:x1,i2:x2,...}/dim" (whitespace allowed around every token,
 * "{}/dim" for no non-zeros).  Indices are 1-based decimal integers in any
 * order (sorted here, each value staying with its index), each at most dim
 * and given once; values are float4 numbers as strtof() reads them, finite
 * (a number too small for a float4 becomes zero); zero values are dropped,
 * but their indices are checked like any other.  1 <= dim <= 1e9, at most
 * SPARSEVEC_MAX_NNZ non-zeros, dim equal to the typmod if there is one.
 * Errors: INVALID_TEXT_REPRESENTATION (syntax), NUMERIC_VALUE_OUT_OF_RANGE
 * (values, indices out of range), DATA_EXCEPTION (NaN, infinity, duplicate
 * index, dim < 1, typmod), PROGRAM_LIMIT_EXCEEDED.
 */
PG_FUNCTION_INFO_V1(sparsevec_in);
Datum
sparsevec_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	const char *p = str;
	SparseInput in;
	int64		dim;
	SparseVector *result;
	float	   *values;
	int			k = 0;

	expect_char(str, &p, '{', "Sparse vector contents must start with \"{\".");
	read_entries(str, &p, &in);
	dim = read_dim(str, p);
	if (in.largest > dim)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("sparsevec index %lld is out of range", (long long) in.largest),
				 errdetail("Indices run from 1 to the number of dimensions.")));
	VaCheckExpectedDim(typmod, (int) dim);
	sort_entries(&in);

	/* the non-zeros, in index order */
	result = InitSparseVector((int) dim, in.nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0; i < in.n; i++)
	{
		if (in.entries[i].value != 0.0f)
		{
			result->indices[k] = in.entries[i].index;
			values[k] = in.entries[i].value;
			k++;
		}
	}
	Assert(k == in.nnz);
	pfree(in.entries);
	PG_RETURN_SPARSEVEC_P(result);
}

/*
 * sparsevec_out(sparsevec) RETURNS cstring
 *
 * "{i1:x1,...}/dim", 1-based indices in increasing order, each value in the
 * shortest decimal that reads back as the same float4.
 */
PG_FUNCTION_INFO_V1(sparsevec_out);
Datum
sparsevec_out(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(v);
	char	   *buf;
	char	   *p;

	/* per element: index (<= 10 digits), ':', value, ','; then "}/", dim */
	buf = (char *) palloc((Size) v->nnz * (12 + FLOAT_SHORTEST_DECIMAL_LEN) + 16);
	p = buf;
	*p++ = '{';
	for (int i = 0; i < v->nnz; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += sprintf(p, "%d:", v->indices[i] + 1);
		p += float_to_shortest_decimal_bufn(values[i], p);
	}
	p += sprintf(p, "}/%d", v->dim);
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf);
}

/*
 * sparsevec_typmod_in(cstring[]) RETURNS integer, the n of sparsevec(n) in
 * 1..1e9, and sparsevec(sparsevec, integer, boolean) RETURNS sparsevec,
 * the length-coercion cast to sparsevec(n) (VA_DEFINE_TYPMOD).  The output
 * function is vector_typmod_out.
 */
VA_DEFINE_TYPMOD(sparsevec, SparseVector, PG_GETARG_SPARSEVEC_P, SPARSEVEC_MAX_DIM)

/* ---------------------------------------------------------------------
 * Binary I/O: int32 dim, int32 nnz, int32 unused (0), nnz int32 0-based
 * indices, nnz float4 values, network order
 * ---------------------------------------------------------------------
 */

/* ERROR for a malformed binary sparsevec. */
static void
invalid_binary(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid binary data for type sparsevec"),
			 errdetail_internal("%s", detail)));
}

/*
 * sparsevec_recv(internal, oid, integer) RETURNS sparsevec
 *
 * Reads the binary form, which must be canonical: dim in 1..1e9, nnz in
 * 0..min(dim, SPARSEVEC_MAX_NNZ), unused 0, indices strictly increasing in
 * 0..dim-1, values finite and non-zero; the typmod is checked.
 * Errors: INVALID_BINARY_REPRESENTATION, DATA_EXCEPTION,
 * PROGRAM_LIMIT_EXCEEDED.
 */
PG_FUNCTION_INFO_V1(sparsevec_recv);
Datum
sparsevec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int32		dim = (int32) pq_getmsgint(buf, sizeof(int32));
	int32		nnz = (int32) pq_getmsgint(buf, sizeof(int32));
	int32		unused = (int32) pq_getmsgint(buf, sizeof(int32));
	SparseVector *result;
	float	   *values;

	check_dim(dim);
	if (nnz < 0 || nnz > dim)
		invalid_binary("The number of non-zero elements is negative or exceeds the dimensions.");
	check_nnz(nnz);
	if (unused != 0)
		invalid_binary("The reserved field is not 0.");
	if ((Size) (buf->len - buf->cursor) < (sizeof(int32) + sizeof(float)) * (Size) nnz)
		invalid_binary("The message is shorter than its header says.");
	VaCheckExpectedDim(typmod, dim);

	result = InitSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0; i < nnz; i++)
	{
		result->indices[i] = (int32) pq_getmsgint(buf, sizeof(int32));
		if (result->indices[i] < 0 || result->indices[i] >= dim)
			invalid_binary("An index is out of range.");
		if (i > 0 && result->indices[i] <= result->indices[i - 1])
			invalid_binary("Indices must be strictly increasing.");
	}
	for (int i = 0; i < nnz; i++)
	{
		values[i] = pq_getmsgfloat4(buf);
		check_element(values[i]);
		if (values[i] == 0.0f)
			invalid_binary("A stored value is zero.");
	}
	PG_RETURN_SPARSEVEC_P(result);
}

/* sparsevec_send(sparsevec) RETURNS bytea: the form sparsevec_recv reads */
PG_FUNCTION_INFO_V1(sparsevec_send);
Datum
sparsevec_send(PG_FUNCTION_ARGS)
{
	SparseVector *v = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(v);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, v->dim);
	pq_sendint32(&buf, v->nnz);
	pq_sendint32(&buf, 0);
	for (int i = 0; i < v->nnz; i++)
		pq_sendint32(&buf, v->indices[i]);
	for (int i = 0; i < v->nnz; i++)
		pq_sendfloat4(&buf, values[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------------------------------------------------------------------
 * Casts
 * ---------------------------------------------------------------------
 */

/*
 * vector_to_sparsevec(vector, integer, boolean) RETURNS sparsevec: the
 * non-zero elements.  Errors: DATA_EXCEPTION on a typmod mismatch.
 */
PG_FUNCTION_INFO_V1(vector_to_sparsevec);
Datum
vector_to_sparsevec(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	VaCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_SPARSEVEC_P(sparsevec_from_dense(v->x, v->dim));
}

/*
 * halfvec_to_sparsevec(halfvec, integer, boolean) RETURNS sparsevec: the
 * non-zero elements, widened exactly.  Errors: DATA_EXCEPTION on a typmod
 * mismatch.
 */
PG_FUNCTION_INFO_V1(halfvec_to_sparsevec);
Datum
halfvec_to_sparsevec(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	float	   *x;
	SparseVector *result;

	VaCheckExpectedDim(PG_GETARG_INT32(1), h->dim);
	x = HalfVectorToFloats(h);
	result = sparsevec_from_dense(x, h->dim);
	pfree(x);
	PG_RETURN_SPARSEVEC_P(result);
}

/*
 * fname(sparsevec, integer, boolean) RETURNS the dense type typname (struct
 * Type made by init, returned by ret): the dense form, each stored value
 * converted from float4 by convert.  Errors: PROGRAM_LIMIT_EXCEEDED beyond
 * 16000 dimensions, DATA_EXCEPTION on a typmod mismatch, and convert's
 * (for the first value in index order that fails).
 */
#define SPARSEVEC_TO_DENSE_CAST(fname, Type, init, typname, convert, ret) \
	PG_FUNCTION_INFO_V1(fname); \
	Datum \
	fname(PG_FUNCTION_ARGS) \
	{ \
		SparseVector *v = PG_GETARG_SPARSEVEC_P(0); \
		float	   *values = SPARSEVEC_VALUES(v); \
		Type	   *result; \
		VaCheckExpectedDim(PG_GETARG_INT32(1), v->dim); \
		VaCheckDim(typname, v->dim, VA_MAX_DIM); \
		result = init(v->dim); \
		for (int i = 0; i < v->nnz; i++) \
			result->x[v->indices[i]] = convert(values[i]); \
		ret(result); \
	}

/* sparsevec_to_vector(sparsevec, integer, boolean) RETURNS vector */
SPARSEVEC_TO_DENSE_CAST(sparsevec_to_vector, Vector, InitVector, "vector", (float),
						PG_RETURN_VECTOR_P)

/*
 * sparsevec_to_halfvec(sparsevec, integer, boolean) RETURNS halfvec: values
 * rounded to half (NUMERIC_VALUE_OUT_OF_RANGE beyond the half range).
 */
SPARSEVEC_TO_DENSE_CAST(sparsevec_to_halfvec, HalfVector, InitHalfVector, "halfvec",
						VaFloatToHalfChecked, PG_RETURN_HALFVEC_P)

/*
 * array_to_sparsevec(integer[] | real[] | double precision[] | numeric[],
 *					  integer, boolean) RETURNS sparsevec
 *
 * A one-dimensional array without nulls as a sparsevec of as many
 * dimensions (at most 16000, the longest dense vector), zeros dropped
 * (also values too small for a float4, VaArrayElementToFloat).
 * Errors: DATA_EXCEPTION (not 1-D, empty, NaN/infinite, typmod),
 * NULL_VALUE_NOT_ALLOWED, NUMERIC_VALUE_OUT_OF_RANGE, PROGRAM_LIMIT_EXCEEDED.
 */
PG_FUNCTION_INFO_V1(array_to_sparsevec);
Datum
array_to_sparsevec(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	Oid			elemtype = ARR_ELEMTYPE(array);
	Datum	   *elems;
	int			nelems;
	float	   *x;
	SparseVector *result;

	/* the one limit that differs from a dense cast's, checked before it */
	if (ARR_NDIM(array) <= 1 &&
		ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)) > VA_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("an array cast to sparsevec cannot have more than %d elements",
						VA_MAX_DIM)));
	elems = VaArrayElements(array, PG_GETARG_INT32(1), "sparsevec", &nelems);

	x = (float *) palloc(sizeof(float) * nelems);
	for (int i = 0; i < nelems; i++)
	{
		x[i] = VaArrayElementToFloat(elems[i], elemtype, "sparsevec");
		check_element(x[i]);
	}
	result = sparsevec_from_dense(x, nelems);
	pfree(x);
	pfree(elems);
	PG_RETURN_SPARSEVEC_P(result);
}

/* ---------------------------------------------------------------------
 * Comparison (btree sparsevec_ops): as dense vectors, element by element,
 * then by dimension (shorter first)
 * ---------------------------------------------------------------------
 */

static int
sparsevec_cmp_internal(const SparseVector *a, const SparseVector *b)
{
	const float *va = SPARSEVEC_VALUES(a);
	const float *vb = SPARSEVEC_VALUES(b);
	int			n = Min(a->dim, b->dim);
	int			i = 0;
	int			j = 0;

	for (;;)
	{
		int			ia = i < a->nnz ? a->indices[i] : INT_MAX;
		int			ib = j < b->nnz ? b->indices[j] : INT_MAX;
		int			pos = Min(ia, ib);
		float		xa;
		float		xb;

		if (pos >= n)
			break;
		xa = (ia == pos) ? va[i++] : 0.0f;
		xb = (ib == pos) ? vb[j++] : 0.0f;
		if (xa != xb)
			return VaCompare(xa, xb);
	}
	return VaCompare(a->dim, b->dim);
}

/*
 * sparsevec_cmp(sparsevec, sparsevec) RETURNS integer: -1, 0 or 1 (btree support 1), and
 * sparsevec_eq .. sparsevec_ge RETURNS boolean: operators = <> < <= > >=.
 */
VA_DEFINE_TYPE_COMPARISONS(sparsevec, SparseVector, PG_GETARG_SPARSEVEC_P)

/* ---------------------------------------------------------------------
 * Distances and norms, on the non-zeros only, in float8.  Two-argument
 * functions raise DATA_EXCEPTION when the dimensions differ.
 * ---------------------------------------------------------------------
 */

#define SPARSE_ARGS(a, b) \
	(a)->indices, SPARSEVEC_VALUES(a), (a)->nnz, (b)->indices, SPARSEVEC_VALUES(b), (b)->nnz

/* l2_distance(sparsevec, sparsevec) RETURNS double precision: <-> */
SPARSEVEC_DISTANCE(sparsevec_l2_distance,
				   sqrt(VaSparseL2SquaredDouble(SPARSE_ARGS(a, b))))

/* sparsevec_l2_squared_distance(sparsevec, sparsevec) RETURNS double precision */
SPARSEVEC_DISTANCE(sparsevec_l2_squared_distance,
				   VaSparseL2SquaredDouble(SPARSE_ARGS(a, b)))

/* inner_product(sparsevec, sparsevec) RETURNS double precision */
SPARSEVEC_DISTANCE(sparsevec_inner_product,
				   VaSparseInnerProductDouble(SPARSE_ARGS(a, b)))

/* sparsevec_negative_inner_product(sparsevec, sparsevec): <#> */
SPARSEVEC_DISTANCE(sparsevec_negative_inner_product,
				   -VaSparseInnerProductDouble(SPARSE_ARGS(a, b)))

/*
 * cosine_distance(sparsevec, sparsevec) RETURNS double precision: <=>,
 * 1 - a.b / (|a| |b|) clamped to [0, 2]; NaN when a norm is zero.
 */
SPARSEVEC_DISTANCE(sparsevec_cosine_distance,
				   VaCosineDistance(VaSparseInnerProductDouble(SPARSE_ARGS(a, b)),
									VaSparseInnerProductDouble(SPARSE_ARGS(a, a)),
									VaSparseInnerProductDouble(SPARSE_ARGS(b, b))))

/* l1_distance(sparsevec, sparsevec) RETURNS double precision: <+> */
SPARSEVEC_DISTANCE(sparsevec_l1_distance,
				   VaSparseL1Double(SPARSE_ARGS(a, b)))

/* l2_norm(sparsevec) RETURNS double precision: Euclidean norm */
PG_FUNCTION_INFO_V1(sparsevec_l2_norm);
Datum
sparsevec_l2_norm(PG_FUNCTION_ARGS)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);

	PG_RETURN_FLOAT8(sqrt(VaSparseInnerProductDouble(SPARSE_ARGS(a, a))));
}

/*
 * l2_normalize(sparsevec) RETURNS sparsevec: scaled to norm 1 (norm in
 * float8, values rounded to float4; a value that underflows to zero is
 * dropped); no non-zeros stays as it is.  Never fails.
 */
PG_FUNCTION_INFO_V1(sparsevec_l2_normalize);
Datum
sparsevec_l2_normalize(PG_FUNCTION_ARGS)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	const float *va = SPARSEVEC_VALUES(a);
	double		norm = sqrt(VaSparseInnerProductDouble(SPARSE_ARGS(a, a)));
	SparseVector *result;
	float	   *vr;
	int			nnz = 0;

	if (!(norm > 0.0))
		PG_RETURN_SPARSEVEC_P(a);
	for (int i = 0; i < a->nnz; i++)
		nnz += ((float) (va[i] / norm) != 0.0f);
	result = InitSparseVector(a->dim, nnz);
	vr = SPARSEVEC_VALUES(result);
	nnz = 0;
	for (int i = 0; i < a->nnz; i++)
	{
		float		x = (float) (va[i] / norm);

		if (x != 0.0f)
		{
			result->indices[nnz] = a->indices[i];
			vr[nnz] = x;
			nnz++;
		}
	}
	PG_RETURN_SPARSEVEC_P(result);
}

/*
 * Index ops for the hnsw sparsevec_*_ops operator classes (VaIndexOps).
 * The stored form is the SparseVector itself (values scaled to unit norm
 * for cosine; an all-zero vector is then not indexed), so stored forms
 * differ in size with the number of non-zeros.  Distances visit the
 * non-zeros only: squared L2 for l2, negative inner product for ip,
 * 1 - inner product of unit vectors for cosine, L1 for l1.
 */
static Size
sparsevec_stored_size(Datum value)
{
	return VARSIZE(DatumGetPointer(value));
}

/* sparsevec(n): at most min(n, SPARSEVEC_MAX_NNZ) non-zeros */
static Size
sparsevec_max_stored_size(int32 typmod)
{
	return SPARSEVEC_SIZE(Min(typmod, SPARSEVEC_MAX_NNZ));
}

static bool
sparsevec_to_stored_copy(Datum value, void *dst)
{
	const SparseVector *v = (const SparseVector *) DatumGetPointer(value);

	memcpy(dst, v, VARSIZE(v));
	return true;
}

static bool
sparsevec_to_stored_normalized(Datum value, void *dst)
{
	SparseVector *v = (SparseVector *) dst;
	float	   *values;
	double		norm = 0.0;

	memcpy(dst, DatumGetPointer(value), VARSIZE(DatumGetPointer(value)));
	values = SPARSEVEC_VALUES(v);
	for (int i = 0; i < v->nnz; i++)
		norm += (double) values[i] * values[i];
	norm = sqrt(norm);
	if (!(norm > 0.0) || isinf(norm))
		return false;
	for (int i = 0; i < v->nnz; i++)
		values[i] = (float) (values[i] / norm);
	return true;
}

/* A VaIndexOps distance between two stored forms sa and sb: expr of them. */
#define SPARSEVEC_INDEX_DISTANCE(fname, expr) \
	static float \
	fname(const void *a, const void *b) \
	{ \
		const SparseVector *sa = (const SparseVector *) a; \
		const SparseVector *sb = (const SparseVector *) b; \
		return (float) (expr); \
	}

SPARSEVEC_INDEX_DISTANCE(sparsevec_index_l2_distance, VaSparseL2SquaredDouble(SPARSE_ARGS(sa, sb)))
SPARSEVEC_INDEX_DISTANCE(sparsevec_index_ip_distance, -VaSparseInnerProductDouble(SPARSE_ARGS(sa, sb)))
SPARSEVEC_INDEX_DISTANCE(sparsevec_index_cosine_distance, 1.0 - VaSparseInnerProductDouble(SPARSE_ARGS(sa, sb)))
SPARSEVEC_INDEX_DISTANCE(sparsevec_index_l1_distance, VaSparseL1Double(SPARSE_ARGS(sa, sb)))

static int
sparsevec_stored_dims(const void *stored)
{
	return ((const SparseVector *) stored)->dim;
}

/*
 * sparsevec_l2_index_ops(internal) RETURNS internal, and the ip, cosine and
 * l1 variants: support function 1 of the hnsw sparsevec operator classes
 * (no k-means members: ivfflat does not take sparsevec; no float view:
 * sparse values are not quantized).
 */
VA_DEFINE_INDEX_OPS(sparsevec, NULL, NULL, NULL, NULL, NULL, NULL)

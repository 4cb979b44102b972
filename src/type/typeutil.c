/*
 * typeutil.c
 *	  The out-of-line half of typeutil.h: the checks' errors, the typmod
 *	  input routine, array coercion, the dense binary header and the avg
 *	  aggregate state shared by vector, halfvec and sparsevec.
 */
#include "vectorann.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "libpq/pqformat.h"
#include "utils/lsyscache.h"

#include "type/typeutil.h"
#include "type/vector.h"

/* See typeutil.h. */
void
VaCheckDim(const char *typname, int64 dim, int32 maxdim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	if (dim > maxdim)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions", typname, maxdim)));
}

/* See typeutil.h. */
void
VaCheckExpectedDim(int32 typmod, int dim)
{
	if (typmod >= 0 && dim != typmod)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

/* ERROR for a NaN or infinite x in typname (VaCheckElement). */
void
VaInvalidElement(const char *typname, float x)
{
	if (isnan(x))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in %s", typname)));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("infinite value not allowed in %s", typname)));
	pg_unreachable();
}

/* ERROR for operands of different dimensions (VaCheckSameDims). */
void
VaDifferentDims(const char *typname, int da, int db)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("different %s dimensions %d and %d", typname, da, db)));
	pg_unreachable();
}

/* See typeutil.h. */
int32
VaTypmodIn(ArrayType *typmods, const char *typname, int32 maxdim)
{
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(typmods, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("Type %s takes exactly one modifier, its number of dimensions.",
						   typname)));
	if (tl[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s must be at least 1", typname)));
	if (tl[0] > maxdim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s cannot exceed %d", typname, maxdim)));
	return tl[0];
}

/* See typeutil.h. */
void
VaInvalidText(const char *typname, const char *str, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", typname, str),
			 errdetail_internal("%s", detail)));
	pg_unreachable();
}

/* See typeutil.h. */
void
VaFloatOutOfRange(const char *typname, const char *p, const char *end)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("\"%s\" is out of range for type %s",
					pnstrdup(p, end - p), typname)));
	pg_unreachable();
}

/* See typeutil.h. */
Datum *
VaArrayElements(ArrayType *array, int32 typmod, const char *typname, int *nelems)
{
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	/* check the size before deconstructing a possibly huge array */
	VaCheckDim(typname, ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)), VA_MAX_DIM);
	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, &nulls, nelems);
	pfree(nulls);
	VaCheckExpectedDim(typmod, *nelems);
	return elems;
}

/* See typeutil.h. */
int
VaRecvDenseHeader(StringInfo buf, int32 typmod, const char *typname, Size elemsize)
{
	int16		dim = (int16) pq_getmsgint(buf, sizeof(int16));
	int16		unused = (int16) pq_getmsgint(buf, sizeof(int16));

	VaCheckDim(typname, dim, VA_MAX_DIM);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type %s", typname),
				 errdetail("The reserved field is %d, expected 0.", unused)));
	if ((Size) (buf->len - buf->cursor) < elemsize * (Size) dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type %s", typname),
				 errdetail("The header says %d dimensions but only %d bytes follow.",
						   dim, buf->len - buf->cursor)));
	VaCheckExpectedDim(typmod, dim);
	return dim;
}

/* See typeutil.h. */
ArrayType *
VaFloatArray(const float *x, int n, bool as_float8)
{
	Datum	   *datums = (Datum *) palloc(sizeof(Datum) * n);
	ArrayType  *result;

	for (int i = 0; i < n; i++)
		datums[i] = as_float8 ? Float8GetDatum((double) x[i]) : Float4GetDatum(x[i]);
	if (as_float8)
		result = construct_array(datums, n, FLOAT8OID, sizeof(float8),
								 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	else
		result = construct_array(datums, n, FLOAT4OID, sizeof(float4),
								 true, TYPALIGN_INT);
	pfree(datums);
	return result;
}

/* ---------------------------------------------------------------------
 * The avg aggregate state
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

/* See typeutil.h. */
ArrayType *
VaAvgStateMake(const float8 *values, int n)
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

/* See typeutil.h. */
float8 *
VaAvgAccumStart(ArrayType *state, const char *typname, int dim)
{
	int			dims;
	float8	   *s = VaAvgState(state, typname, &dims);
	float8	   *next;

	if (dims != 0)
		VaCheckSameDims(typname, dims, dim);
	next = (float8 *) palloc(sizeof(float8) * (dim + 1));
	next[0] = s[0] + 1.0;
	for (int i = 0; i < dim; i++)
		next[i + 1] = dims == 0 ? 0.0 : s[i + 1];
	return next;
}

/* See typeutil.h. */
ArrayType *
VaAvgCombine(ArrayType *sa, ArrayType *sb, const char *typname)
{
	int			da;
	int			db;
	float8	   *a = VaAvgState(sa, typname, &da);
	float8	   *b = VaAvgState(sb, typname, &db);
	float8	   *next;
	ArrayType  *result;

	if (db == 0)
		return VaAvgStateMake(a, da + 1);
	if (da == 0)
		return VaAvgStateMake(b, db + 1);
	VaCheckSameDims(typname, da, db);
	next = (float8 *) palloc(sizeof(float8) * (da + 1));
	for (int i = 0; i <= da; i++)
		next[i] = a[i] + b[i];
	result = VaAvgStateMake(next, da + 1);
	pfree(next);
	return result;
}

/* See typeutil.h. */
float *
VaAvgMeans(ArrayType *state, const char *typname, int *dims)
{
	float8	   *s = VaAvgState(state, typname, dims);
	float	   *means;

	if (s[0] == 0.0)
		return NULL;
	/* VaAvgState: a count above 0 comes with 1..VA_MAX_DIM sums */
	means = (float *) palloc(sizeof(float) * *dims);
	for (int i = 0; i < *dims; i++)
		means[i] = (float) (s[i + 1] / s[0]);
	return means;
}

/* See typeutil.h. */
bool
VaMeanNorm(const double *mean, int dim, double *norm)
{
	double		sum = 0.0;

	for (int i = 0; i < dim; i++)
		sum += mean[i] * mean[i];
	*norm = sqrt(sum);
	return *norm > 0.0 && !isinf(*norm);
}

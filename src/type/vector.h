/*
 * vector.h
 *	  The vector type: a varlena of dim float4 values.  The byte layout
 *	  (int16 dim, int16 unused, float4 x[dim] after the varlena header) is the
 *	  one pgvector uses, so binary COPY output is interchangeable.
 */
#ifndef VA_VECTOR_H
#define VA_VECTOR_H

#include "vectorann.h"

#include "utils/array.h"

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of dimensions, 1..VA_MAX_DIM */
	int16		unused;			/* always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

#define VECTOR_SIZE(dim)		(offsetof(Vector, x) + sizeof(float) * (dim))
#define DatumGetVector(x)		((Vector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_VECTOR_P(n)	DatumGetVector(PG_GETARG_DATUM(n))
#define PG_RETURN_VECTOR_P(x)	PG_RETURN_POINTER(x)

/* Allocate a zeroed vector of dim dimensions (palloc, current context). */
extern Vector *InitVector(int dim);

/*
 * Parse the "[x1,...,xn]" text of vector and halfvec into a palloc'd array
 * of n finite float4 values (1 <= n <= VA_MAX_DIM); a number too small for
 * a float4 becomes a zero of its sign; errors name typname.
 */
extern float *VaParseVectorText(const char *str, const char *typname, int *dim);

/*
 * One element d of an integer[], real[], double precision[] or numeric[]
 * array (elemtype) as a float4, rounded to nearest; a value too small for a
 * float4 becomes a zero of its sign, one too large is an ERROR.  NaN and
 * infinities pass through for the caller's element check.  Other element
 * types are an ERROR naming typname, the cast's target.
 */
extern float VaArrayElementToFloat(Datum d, Oid elemtype, const char *typname);

/*
 * The double precision[] state of avg(vector) and avg(halfvec):
 * {count, sum_1, ..., sum_dims}, {0} before the first value.  Returns its
 * elements and sets *dims (0 for that initial state); ERROR
 * (DATA_EXCEPTION) for a malformed state, naming typname.
 */
extern float8 *VaAvgState(ArrayType *state, const char *typname, int *dims);

#endif							/* VA_VECTOR_H */

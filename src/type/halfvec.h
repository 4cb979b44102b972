/*
 * halfvec.h
 *	  The halfvec type: a varlena of dim IEEE binary16 values.  The byte
 *	  layout (int16 dim, int16 unused, uint16 x[dim] after the varlena
 *	  header) is the one pgvector uses, so binary COPY output is
 *	  interchangeable.  Elements are raw binary16 bit patterns; convert with
 *	  VaHalfToFloat / VaFloatToHalf (distance/distance.h).
 */
#ifndef VA_HALFVEC_H
#define VA_HALFVEC_H

#include "vectorann.h"

typedef uint16 half;

typedef struct HalfVector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of dimensions, 1..VA_MAX_DIM */
	int16		unused;			/* always zero */
	half		x[FLEXIBLE_ARRAY_MEMBER];
} HalfVector;

#define HALFVEC_SIZE(dim)		(offsetof(HalfVector, x) + sizeof(half) * (dim))
#define DatumGetHalfVector(x)	((HalfVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_HALFVEC_P(n)	DatumGetHalfVector(PG_GETARG_DATUM(n))
#define PG_RETURN_HALFVEC_P(x)	PG_RETURN_POINTER(x)

/* Allocate a zeroed halfvec of dim dimensions (palloc, current context). */
extern HalfVector *InitHalfVector(int dim);

/*
 * x as a half: ERROR for NaN and infinity (DATA_EXCEPTION) and for finite
 * values that round past 65504 (NUMERIC_VALUE_OUT_OF_RANGE).
 */
extern half VaFloatToHalfChecked(float x);

/* The elements of v widened exactly to float4 (palloc'd, v->dim values). */
extern float *HalfVectorToFloats(const HalfVector *v);

#endif							/* VA_HALFVEC_H */

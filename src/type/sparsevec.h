/*
 * sparsevec.h
 *	  The sparsevec type: a varlena holding the dimension count, the number
 *	  of non-zero elements nnz, their 0-based indices in strictly increasing
 *	  order and then their float4 values.  Layout after the varlena header:
 *	  int32 dim, int32 nnz, int32 unused (0), int32 indices[nnz],
 *	  float4 values[nnz] (pgvector's layout).
 */
#ifndef VA_SPARSEVEC_H
#define VA_SPARSEVEC_H

#include "vectorann.h"

/* Largest dimension count and largest number of non-zeros. */
#define SPARSEVEC_MAX_DIM 1000000000
#define SPARSEVEC_MAX_NNZ 16000

typedef struct SparseVector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int32		dim;			/* 1..SPARSEVEC_MAX_DIM */
	int32		nnz;			/* 0..SPARSEVEC_MAX_NNZ, <= dim */
	int32		unused;			/* always zero */
	int32		indices[FLEXIBLE_ARRAY_MEMBER]; /* then float values[nnz] */
} SparseVector;

#define SPARSEVEC_SIZE(nnz)		(offsetof(SparseVector, indices) + (sizeof(int32) + sizeof(float)) * (Size) (nnz))
#define SPARSEVEC_VALUES(v)		((float *) ((v)->indices + (v)->nnz))
#define DatumGetSparseVector(x)	((SparseVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_SPARSEVEC_P(n) DatumGetSparseVector(PG_GETARG_DATUM(n))
#define PG_RETURN_SPARSEVEC_P(x) PG_RETURN_POINTER(x)

/* Allocate a sparsevec of dim dimensions with room for nnz non-zeros. */
extern SparseVector *InitSparseVector(int dim, int nnz);

#endif							/* VA_SPARSEVEC_H */

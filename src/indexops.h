/*
 * indexops.h
 *	  The interface through which a type plugs into an index: the types
 *	  (type/) define a VaIndexOps for each operator class, the index access
 *	  methods and common/ use it.  It names no type and no access method.
 */
#ifndef VA_INDEXOPS_H
#define VA_INDEXOPS_H

#include "vectorann.h"

/*
 * What an index that averages values (ivfflat's k-means) needs of a type
 * under one operator class, on stored forms (see VaIndexOps).
 *
 * accum adds the dims elements of a stored form to sum[0..dims).
 * from_mean writes into dst (as many bytes as a stored form of dims
 * dimensions) the stored form of the point mean[0..dims); under cosine it
 * is scaled to unit length (spherical k-means).  Returns false when the
 * point cannot be stored (zero norm under cosine).  distance is the
 * non-negative distance k-means minimises and seeds with: squared L2 for
 * l2 and ip, 1 - a.b of unit vectors for cosine.
 */
typedef struct VaKmeansOps
{
	void		(*accum) (const void *stored, double *sum);
	bool		(*from_mean) (const double *mean, int dims, void *dst);
	float		(*distance) (const void *a, const void *b);
} VaKmeansOps;

/*
 * The metric behind an operator class's distance, for what must reason
 * about it rather than call it (a quantizer's estimator): squared L2;
 * negative inner product; cosine distance 1 - a.b of stored forms scaled to
 * unit length; or anything else (not quantizable).
 */
typedef enum VaMetric
{
	VA_METRIC_OTHER = 0,
	VA_METRIC_L2,
	VA_METRIC_IP,
	VA_METRIC_COSINE
} VaMetric;

/*
 * What an index access method needs to know of a data type under one
 * operator class.  Each opclass's support function 1 has the SQL signature
 * (internal) RETURNS internal and returns a pointer to a static VaIndexOps;
 * the AM calls it once per scan/build/insert and then only these C functions,
 * so the hot loop has no fmgr call, palloc or detoast.
 *
 * The "stored form" is a self-describing, MAXALIGN-able byte image of a value
 * (for vector: the Vector struct itself, normalised for cosine).
 */
typedef struct VaIndexOps
{
	/* Bytes of the stored form of a detoasted, non-null value. */
	Size		(*stored_size) (Datum value);

	/*
	 * Bytes of the largest stored form of a value of the column's type with
	 * typmod (> 0: the dimensions of vector(n), or the length of bit(n)), for
	 * an index that sizes memory before it has seen the values.
	 */
	Size		(*max_stored_size) (int32 typmod);

	/*
	 * Write the stored form of value into dst (stored_size bytes).  Returns
	 * false when the value must not be indexed (e.g. zero norm for cosine);
	 * dst is then undefined.
	 */
	bool		(*to_stored) (Datum value, void *dst);

	/*
	 * Distance between two stored forms of equal dimensions; smaller is
	 * closer.
	 */
	float		(*distance) (const void *a, const void *b);

	/* Map an index distance to the value the SQL ordering operator returns. */
	double		(*to_sql) (float distance);

	/* Number of dimensions of a stored form. */
	int			(*dims) (const void *stored);

	/*
	 * Averaging support; NULL when the type cannot be averaged under this
	 * class.
	 */
	const VaKmeansOps *kmeans;

	/* The metric of distance (VA_METRIC_OTHER: none a quantizer knows). */
	VaMetric	metric;

	/*
	 * Write the dims(stored) elements of a stored form into out as floats;
	 * NULL when the type has no dense float view (then it cannot be
	 * quantized).
	 */
	void		(*to_floats) (const void *stored, float *out);

	/*
	 * For ops whose distance is an estimate (a quantizer's codes): how far
	 * below distance, the value distance(a, b) returned, the true distance
	 * between the vectors behind a and b may lie, with high probability (>=
	 * 0; infinity when unknown).  NULL when distance is exact.
	 */
	float		(*slack) (const void *a, const void *b, float distance);

	/*
	 * distance(a, the stored form of value) for a stored form a and a
	 * detoasted non-null value of the column's type, without making the
	 * stored form (re-ranking reads values straight from the table); false
	 * when value is not indexable (to_stored's false) or its dimensions are
	 * not a's.  NULL: callers make the stored form.
	 */
	bool		(*value_distance) (const void *a, Datum value, float *distance);
} VaIndexOps;

/* Fetch the VaIndexOps behind an opclass support function (see above). */
static inline const VaIndexOps *
VaGetIndexOps(FmgrInfo *support)
{
	return (const VaIndexOps *) DatumGetPointer(FunctionCall1(support, (Datum) 0));
}

#endif							/* VA_INDEXOPS_H */

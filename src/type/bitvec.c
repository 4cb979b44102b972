/*
 * bitvec.c
 *	  Distances on Postgres' own bit type, used as a binary vector: the
 *	  functions behind <~> (Hamming) and <%> (Jaccard), and the VaIndexOps
 *	  through which the hnsw and ivfflat bit_hamming_ops and bit_jaccard_ops
 *	  operator classes reach the type (with k-means centroids for ivfflat).  (binary_quantize, which makes bit strings from
 *	  vector and halfvec, lives with those types.)
 *
 *	  Both operands must have the same length in bits.  Postgres keeps the
 *	  padding bits past the length zero, so the kernels count whole bytes.
 */
#include "vectorann.h"

#include <math.h>

#include "utils/varbit.h"

#include "distance/distance.h"
#include "type/typeutil.h"

/* ERROR when two bit strings differ in length. */
static void
check_same_length(const VarBit *a, const VarBit *b)
{
	if (VARBITLEN(a) != VARBITLEN(b))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different bit lengths %d and %d", VARBITLEN(a), VARBITLEN(b))));
}

/*
 * Jaccard distance from the counts of bits set in both and in either:
 * 1 - both / either.  Two strings without a common set bit are at distance
 * 1, including two all-zero strings (nothing is shared).
 */
static inline double
jaccard_from_counts(uint64_t both, uint64_t either)
{
	if (both == 0)
		return 1.0;
	return 1.0 - (double) both / (double) either;
}

/*
 * hamming_distance(bit, bit) RETURNS double precision: operator <~>
 *
 * The number of positions at which the bits differ, 0..length.
 * Errors: DATA_EXCEPTION on different lengths.
 */
PG_FUNCTION_INFO_V1(hamming_distance);
Datum
hamming_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);

	check_same_length(a, b);
	PG_RETURN_FLOAT8((double) VaBitHamming(VARBITS(a), VARBITS(b), VARBITBYTES(a)));
}

/*
 * jaccard_distance(bit, bit) RETURNS double precision: operator <%>
 *
 * 1 - |a AND b| / |a OR b| (counts of set bits), in [0, 1]; 1 when no bit is
 * set in both.  Errors: DATA_EXCEPTION on different lengths.
 */
PG_FUNCTION_INFO_V1(jaccard_distance);
Datum
jaccard_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);
	uint64_t	both;
	uint64_t	either;

	check_same_length(a, b);
	VaBitJaccardCounts(VARBITS(a), VARBITS(b), VARBITBYTES(a), &both, &either);
	PG_RETURN_FLOAT8(jaccard_from_counts(both, either));
}

/* ---------------------------------------------------------------------
 * Index ops for the bit_*_ops operator classes (VaIndexOps).  The
 * stored form is the VarBit itself (varlena header, bit length, bytes);
 * dims is the length in bits.
 * ---------------------------------------------------------------------
 */

static Size
bit_stored_size(Datum value)
{
	VarBit	   *v = DatumGetVarBitP(value);

	return VARSIZE(v);
}

/* bit(n): n bits */
static Size
bit_max_stored_size(int32 typmod)
{
	return VARBITTOTALLEN(typmod);
}

/* A plain copy; every bit string is indexable (zero-length ones too). */
static bool
bit_to_stored(Datum value, void *dst)
{
	VarBit	   *v = DatumGetVarBitP(value);

	memcpy(dst, v, VARSIZE(v));
	return true;
}

static float
bit_index_hamming_distance(const void *a, const void *b)
{
	const VarBit *va = (const VarBit *) a;
	const VarBit *vb = (const VarBit *) b;

	return (float) VaBitHamming(VARBITS(va), VARBITS(vb), VARBITBYTES(va));
}

static float
bit_index_jaccard_distance(const void *a, const void *b)
{
	const VarBit *va = (const VarBit *) a;
	const VarBit *vb = (const VarBit *) b;
	uint64_t	both;
	uint64_t	either;

	VaBitJaccardCounts(VARBITS(va), VARBITS(vb), VARBITBYTES(va), &both, &either);
	return (float) jaccard_from_counts(both, either);
}

static int
bit_stored_dims(const void *stored)
{
	return VARBITLEN((const VarBit *) stored);
}

/* ---------------------------------------------------------------------
 * k-means support for the ivfflat bit operator classes.  A bit string is a
 * point of {0,1}^dims; accum adds it to a float8 sum as 0/1 per position,
 * so mean[d] is the share of a cluster's members with bit d set.
 *
 * Under Hamming the centroid is the per-bit majority (mean[d] > 1/2): the
 * bit string that minimises the sum of Hamming distances to the members,
 * so Lloyd's iterations with it are k-medians in the Hamming metric and
 * never increase that sum.  Under Jaccard a majority centroid of sparse
 * fingerprints is often all zeros, which is at distance 1 from everything;
 * the centroid is instead the round(sum of mean) bits of highest share,
 * i.e. the most common bits, as many as a member has on average (ties to
 * the lower position).  kmeans_distance is the square of the distance, so
 * k-means++ seeding weighs by D^2 as in the paper and Elkan's bounds work
 * on the distance itself (both Hamming and Jaccard distance are metrics).
 * ---------------------------------------------------------------------
 */

/* Write the header of a bit string of dims bits, all zero, into dst. */
static VarBit *
bit_zero_stored(int dims, void *dst)
{
	VarBit	   *out = (VarBit *) dst;

	SET_VARSIZE(out, VARBITTOTALLEN(dims));
	VARBITLEN(out) = dims;
	memset(VARBITS(out), 0, VARBITBYTES(out));
	return out;
}

static void
bit_index_accum(const void *stored, double *sum)
{
	const VarBit *v = (const VarBit *) stored;
	const bits8 *p = VARBITS(v);
	int			len = VARBITLEN(v);

	for (int d = 0; d < len; d++)
		if (p[d / BITS_PER_BYTE] & (0x80 >> (d % BITS_PER_BYTE)))
			sum[d] += 1.0;
}

static bool
bit_index_from_mean_majority(const double *mean, int dims, void *dst)
{
	VarBit	   *out = bit_zero_stored(dims, dst);

	for (int d = 0; d < dims; d++)
		if (mean[d] > 0.5)
			VARBITS(out)[d / BITS_PER_BYTE] |= 0x80 >> (d % BITS_PER_BYTE);
	return true;
}

/* qsort_arg comparator: positions by mean share, highest first. */
static int
cmp_share_desc(const void *a, const void *b, void *arg)
{
	const double *mean = (const double *) arg;
	int			da = *(const int *) a;
	int			db = *(const int *) b;

	if (mean[da] != mean[db])
		return mean[da] > mean[db] ? -1 : 1;
	return (da > db) - (da < db);
}

static bool
bit_index_from_mean_common(const double *mean, int dims, void *dst)
{
	VarBit	   *out = bit_zero_stored(dims, dst);
	double		total = 0.0;
	int			want;
	int		   *order;

	for (int d = 0; d < dims; d++)
		total += mean[d];
	want = Min((int) rint(total), dims);
	if (want <= 0)
		return true;
	order = palloc(sizeof(int) * dims);
	for (int d = 0; d < dims; d++)
		order[d] = d;
	qsort_arg(order, dims, sizeof(int), cmp_share_desc, (void *) mean);
	for (int i = 0; i < want && mean[order[i]] > 0.0; i++)
		VARBITS(out)[order[i] / BITS_PER_BYTE] |= 0x80 >> (order[i] % BITS_PER_BYTE);
	pfree(order);
	return true;
}

static float
bit_kmeans_hamming(const void *a, const void *b)
{
	float		d = bit_index_hamming_distance(a, b);

	return d * d;
}

static float
bit_kmeans_jaccard(const void *a, const void *b)
{
	float		d = bit_index_jaccard_distance(a, b);

	return d * d;
}

VA_KMEANS_OPS_STRUCT(bit_kmeans_hamming_ops, bit_index_accum, bit_index_from_mean_majority, bit_kmeans_hamming);
VA_KMEANS_OPS_STRUCT(bit_kmeans_jaccard_ops, bit_index_accum, bit_index_from_mean_common, bit_kmeans_jaccard);
VA_INDEX_OPS_STRUCT(bit_hamming_ops, bit, bit_to_stored, bit_index_hamming_distance, VaToSqlIdentity, &bit_kmeans_hamming_ops, VA_METRIC_OTHER, NULL, NULL);
VA_INDEX_OPS_STRUCT(bit_jaccard_ops, bit, bit_to_stored, bit_index_jaccard_distance, VaToSqlIdentity, &bit_kmeans_jaccard_ops, VA_METRIC_OTHER, NULL, NULL);

/*
 * bit_hamming_index_ops(internal) RETURNS internal and
 * bit_jaccard_index_ops(internal): support function 1 of the hnsw and
 * ivfflat bit_hamming_ops and bit_jaccard_ops operator classes; the argument is
 * ignored, each returns a pointer to a static VaIndexOps.
 */
VA_INDEX_OPS_FUNCTION(bit_hamming_index_ops, bit_hamming_ops)
VA_INDEX_OPS_FUNCTION(bit_jaccard_index_ops, bit_jaccard_ops)

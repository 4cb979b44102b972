/*
 * bitvec.c
 *	  Distances on Postgres' own bit type, used as a binary vector: the
 *	  functions behind <~> (Hamming) and <%> (Jaccard), and the VaIndexOps
 *	  through which the hnsw bit_hamming_ops and bit_jaccard_ops operator
 *	  classes reach the type.  (binary_quantize, which makes bit strings from
 *	  vector and halfvec, lives with those types.)
 *
 *	  Both operands must have the same length in bits.  Postgres keeps the
 *	  padding bits past the length zero, so the kernels count whole bytes.
 */
#include "vectorann.h"

#include "utils/varbit.h"

#include "distance/distance.h"

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
 * Index ops for the hnsw bit_*_ops operator classes (VaIndexOps).  The
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

static const VaIndexOps bit_hamming_ops = {
	.stored_size = bit_stored_size,
	.to_stored = bit_to_stored,
	.distance = bit_index_hamming_distance,
	.to_sql = VaToSqlIdentity,
	.dims = bit_stored_dims,
};

static const VaIndexOps bit_jaccard_ops = {
	.stored_size = bit_stored_size,
	.to_stored = bit_to_stored,
	.distance = bit_index_jaccard_distance,
	.to_sql = VaToSqlIdentity,
	.dims = bit_stored_dims,
};

/*
 * bit_hamming_index_ops(internal) RETURNS internal and
 * bit_jaccard_index_ops(internal): support function 1 of the hnsw
 * bit_hamming_ops and bit_jaccard_ops operator classes; the argument is
 * ignored, each returns a pointer to a static VaIndexOps.
 */
PG_FUNCTION_INFO_V1(bit_hamming_index_ops);
Datum
bit_hamming_index_ops(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(&bit_hamming_ops);
}

PG_FUNCTION_INFO_V1(bit_jaccard_index_ops);
Datum
bit_jaccard_index_ops(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(&bit_jaccard_ops);
}

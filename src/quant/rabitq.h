/*
 * rabitq.h
 *	  RaBitQ quantization of float vectors, knowing no access method: a
 *	  structured random rotation kept as a seed, multi-bit codes with their
 *	  correction factors, and the estimator of inner products between a query
 *	  and a code.  Gao & Long, "RaBitQ: Quantizing High-Dimensional Vectors
 *	  with a Theoretical Error Bound for Approximate Nearest Neighbor Search",
 *	  SIGMOD 2024; extended (multi-bit) codes after Gao, Gou, Xu, Yang, Long &
 *	  Wong, "Practical and Asymptotically Optimal Quantization of
 *	  High-Dimensional Vectors in Euclidean Space for Approximate Nearest
 *	  Neighbor Search", SIGMOD 2025.
 *
 *	  Notation.  dims is the input dimension; D ("padded") is dims rounded up
 *	  to a multiple of 64; a vector is zero-padded to D and rotated by R, an
 *	  orthogonal D x D transform built from the seed (rounds of random sign
 *	  flips and fast Walsh-Hadamard transforms on power-of-two blocks, see
 *	  rabitq.c); R is never stored.  A code of bits B holds, for every
 *	  rotated coordinate, an unsigned integer u[i] in [0, 2^B - 1]; the grid
 *	  vector it stands for is x[i] = u[i] - (2^B - 1) / 2, chosen (extended
 *	  RaBitQ) as the grid vector of largest cosine with the rotated vector.
 *
 *	  The estimator: for a vector o with rotated form o_r and a query q with
 *	  rotated form q_r, <o, q> = <o_r, q_r> is estimated as
 *	  ip_scale * <x, q_r> with ip_scale = |o|^2 / <x, o_r>, the paper's
 *	  unbiased estimator (<o^, q^> ~ <x^, q^> / <x^, o^> in unit vectors).
 *	  Callers turn inner products into their metric's distance with the norms
 *	  the code and the query carry (squared L2 = |o|^2 + |q|^2 - 2 <o, q>).
 *
 *	  Codes and prepared queries are varlenas (4-byte header) so that an index
 *	  can store and size them as it stores values; their kind field tells one
 *	  from the other.
 */
#ifndef VA_RABITQ_H
#define VA_RABITQ_H

#include "vectorann.h"

#define VA_RABITQ_MIN_BITS		1
#define VA_RABITQ_MAX_BITS		8

/* kind field of the two varlenas below */
#define VA_RABITQ_KIND_CODE		1
#define VA_RABITQ_KIND_QUERY	2
#define VA_RABITQ_KIND_CENTRED_CODE 3	/* a code with its offset after data */

/* dims rounded up to a multiple of 64: the rotated, padded dimension D */
static inline int
VaRabitqPadded(int dims)
{
	return (dims + 63) & ~63;
}

/*
 * A quantizer: what encoding and query preparation need, derived from
 * (dims, bits, seed) by VaRabitqInit.  Read-only after init, so one may be
 * shared (cached in rd_amcache, copied into a parallel worker by re-running
 * VaRabitqInit with the same three numbers).
 */
typedef struct VaRabitq
{
	int			dims;			/* input dimensions, 1..VA_MAX_DIM */
	int			padded;			/* D */
	int			bits;			/* B, 1..8 */
	uint64		seed;			/* the rotation */
	void	   *rotation;		/* private: the sign flips R is made of */
	const float *centre;		/* c[0..dims), or NULL: see VaRabitqSetCentre */
	double		centre_half_norm2;	/* |c|^2 / 2 */
} VaRabitq;

/*
 * A code: the quantized form of one vector.  data holds the u[i] in D * B /
 * 8 bytes (plus the header), laid out as the VaRabitqDotPlanes kernel
 * (distance.h) reads them: at B = 4 as packed nibbles (blocks of 128
 * coordinates, the last of 64 when D % 128 = 64; byte k of a block of L
 * coordinates starting at s holds u[s + k] in its low nibble and
 * u[s + L/2 + k] in its high one, so both halves meet contiguous query
 * bytes: one AND or shift per 128 coordinates); at other B as B bit
 * planes of D bits each (plane b: bit b of every u[i], coordinate i in bit
 * i % 8 of byte i / 8).
 *
 * A code of a quantizer with a centre c (VaRabitqSetCentre) is the code of
 * o - c (norm2, ip_scale and so on are those of o - c), has kind
 * VA_RABITQ_KIND_CENTRED_CODE and one float more after data: its offset
 * <o - c, c> + |c|^2 / 2 (VaRabitqCodeOffset).
 */
typedef struct VaRabitqCode
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		kind;			/* VA_RABITQ_KIND_CODE */
	uint8		bits;			/* B */
	uint16		padded_div64;	/* D / 64 */
	float		norm2;			/* |o|^2, exact (float4) */
	float		ip_scale;		/* |o|^2 / <x, o_r>; 0 for o = 0 */
	float		recon_scale;	/* <x, o_r> / |x|^2: o_r ~ recon_scale * x */
	uint32		usum;			/* sum of u[i] */
	uint8		data[FLEXIBLE_ARRAY_MEMBER];
} VaRabitqCode;

/*
 * A prepared query: the rotated query quantized to signed bytes,
 * q_r[i] ~ delta * qq[i] with |qq[i]| <= 127 (round to nearest).  For a
 * quantizer with a centre c, the query is q - c (norm2 is |q - c|^2) and
 * offset is <q - c, c> + |c|^2 / 2; otherwise offset is 0.
 */
typedef struct VaRabitqQuery
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		kind;			/* VA_RABITQ_KIND_QUERY */
	uint8		bits;			/* B of the codes it will meet */
	uint16		padded_div64;	/* D / 64 */
	float		norm2;			/* |q|^2, exact (float4) */
	float		delta;			/* quantization step of qq */
	float		offset;			/* see above */
	int32		qqsum;			/* sum of qq[i] */
	int8		qq[FLEXIBLE_ARRAY_MEMBER];	/* D values */
} VaRabitqQuery;

/*
 * Set up rq for vectors of dims dimensions (1..VA_MAX_DIM), codes of bits
 * bits (1..8), rotation seed.  Allocates the rotation in
 * CurrentMemoryContext (a few bits per padded dimension).  The same three
 * numbers give the same rotation on every platform (pg_prng).  Errors:
 * none (callers validate; out-of-range arguments are an elog ERROR).
 */
extern void VaRabitqInit(VaRabitq *rq, int dims, int bits, uint64 seed);

/*
 * Centre the quantizer on c[0..rq->dims) (finite floats; kept by pointer,
 * so it must live as long as rq): from then on VaRabitqEncode codes o - c
 * and VaRabitqPrepareQuery prepares q - c, so that codes and queries are
 * quantized about c rather than the origin.  The estimator's error grows
 * with the norms it sees (VaRabitqErrorBound), so on data far from the
 * origin compared with its spread (a cluster of vectors in 24 dimensions
 * 2.8 from the origin and 0.4 from each other; embeddings sharing a common
 * direction) centring on the data's mean cuts the error several times.
 * Squared L2 distances are the same about any centre; inner products are
 * recovered exactly from the offsets both sides carry:
 * <o, q> = <o - c, q - c> + offset(o) + offset(q).
 */
extern void VaRabitqSetCentre(VaRabitq *rq, const float *c);

/*
 * Bytes of a code (VARSIZE) for (dims, bits), of a quantizer with a centre
 * (centred: the offset's 4 bytes more) or without.
 */
extern Size VaRabitqCodeSize(int dims, int bits, bool centred);

/* The offset a code carries (0 for a code of an uncentred quantizer). */
static inline float
VaRabitqCodeOffset(const VaRabitqCode *code)
{
	float		offset;

	if (code->kind != VA_RABITQ_KIND_CENTRED_CODE)
		return 0.0f;
	memcpy(&offset, (const char *) code + VARSIZE(code) - sizeof(float), sizeof(float));
	return offset;
}

/* Bytes of a prepared query (VARSIZE) for dims. */
extern Size VaRabitqQuerySize(int dims);

/*
 * Encode v[0..dims) (finite floats; the caller normalises for cosine) into
 * code (VaRabitqCodeSize bytes, sets its varlena header).  Extended RaBitQ:
 * the grid vector of largest cosine with the rotated vector over all
 * rescalings (Gao et al. 2025, the critical-value enumeration), so B = 1 is
 * plain RaBitQ.  o = 0 gives a code whose estimates are all 0.  With a
 * centre, the code of v - c with its offset (VaRabitqSetCentre).
 * No allocation beyond a palloc'd scratch of O(D) floats (freed).  Errors:
 * NUMERIC_VALUE_OUT_OF_RANGE when the rotated vector overflows float
 * (coordinates above about 1e35).
 */
extern void VaRabitqEncode(const VaRabitq *rq, const float *v, VaRabitqCode *code);

/*
 * Prepare q[0..dims) (finite floats) for VaRabitqInnerProduct against codes
 * of rq: rotate, quantize to signed bytes; writes query
 * (VaRabitqQuerySize bytes, sets its varlena header).  With a centre,
 * q - c is prepared, with its offset.
 */
extern void VaRabitqPrepareQuery(const VaRabitq *rq, const float *q, VaRabitqQuery *query);

/*
 * The same for a query already rotated: qr[0..D) = R q (VaRabitqRotate), or
 * any vector of the rotated space, such as R q - R c, the rotated residual
 * of q to a centroid c (R is linear).  norm2 is taken over qr (equal to
 * |q|^2 up to float rounding, R being orthogonal).  VaRabitqPrepareQuery
 * rotates and calls the same quantization.  The offset is 0: the centre,
 * if any, is the caller's business here.  No allocation.
 */
extern void VaRabitqPrepareRotatedQuery(const VaRabitq *rq, const float *qr,
										VaRabitqQuery *query);

/*
 * Estimated <o, q> between the vector behind code and the query behind
 * query (same D and B): ip_scale * delta * (sum u[i] qq[i] - (2^B-1)/2 *
 * qqsum), the integer sum from the VaRabitqDotPlanes kernel.  For a
 * centred quantizer the vectors behind them are o - c and q - c: the
 * estimate is of <o - c, q - c>, without the offsets.  The hot path
 * of every quantized search: no allocation, no branch on the metric.
 */
extern float VaRabitqInnerProduct(const VaRabitqQuery *query, const VaRabitqCode *code);

/*
 * The confidence multiplier eps0 of the error bound below, in standard
 * deviations of the estimator's error (about normal: Gao & Long 2024,
 * Section 3.2).  The paper re-ranks with eps0 = 1.9, which a bound fails
 * for about 6 % of candidates; at 24 dimensions that put 1 to 5 of 20
 * top-10 lists out of exact order (pg_regress hnsw_quantized).  3 fails for
 * about 0.3 % and kept every list exact, at about a quarter more re-ranking on
 * Fashion-MNIST.
 */
#define VA_RABITQ_BOUND_EPS0	3.0f

/*
 * A bound, holding with high probability, on |ip - <o, q>|, where ip is
 * the estimate VaRabitqInnerProduct(query, code) returned: Gao & Long
 * 2024, Theorem 3.2 (kept by the extended codes of Gao et al. 2025).  The
 * estimator's error is |o| tan(theta) <e, q>, theta the angle between the
 * rotated vector and its grid vector x (cos^2 theta = recon_scale /
 * ip_scale) and e a unit vector orthogonal to o, uniformly distributed
 * under the random rotation.  Only q's part orthogonal to o, q_perp,
 * counts, so the error is below |o| |q_perp| eps0 tan(theta) / sqrt(D - 1)
 * whenever <e, q_perp / |q_perp|> lies within eps0 / sqrt(D - 1), the
 * theorem's event.  The theorem's bound uses |q| >= |q_perp|; for a near
 * neighbour q_perp is far shorter (Fashion-MNIST's re-ranked candidates:
 * 0.34 |q| on average), so the bound is taken in two steps on that one
 * event: first with |q|, which places <o, q> within ip -/+ that bound,
 * then with the longest q_perp that interval allows,
 * |q_perp|^2 = |q|^2 - <o, q>^2 / |o|^2.  Added to either: the query's
 * rounding to int8 (independent roundings of at most delta / 2, so eps0
 * times their standard deviation |x| delta / sqrt(12), scaled by
 * ip_scale).  0 for o = 0, whose estimate is exact.  No allocation.
 */
extern float VaRabitqErrorBound(const VaRabitqQuery *query, const VaRabitqCode *code,
								float ip);

/*
 * Estimated <a, b> between the vectors behind two codes of the same D and
 * B (neighbour selection, graph repair): a's estimator applied to b's
 * reconstruction recon_scale * x_b.  Plain C with popcounts over bit-plane
 * pairs (B^2 of them), or nibble products at B = 4; not a hot path.
 * Centred codes give <a - c, b - c>, without the offsets.
 */
extern float VaRabitqCodeInnerProduct(const VaRabitqCode *a, const VaRabitqCode *b);

/*
 * The approximate vector behind code in input space, out[0..dims):
 * R^T (recon_scale * x), truncated to dims, plus the centre if rq has one.
 * For checks and tests.
 */
extern void VaRabitqDecode(const VaRabitq *rq, const VaRabitqCode *code, float *out);

/*
 * The rotation itself, for tests and for callers that keep rotated vectors
 * (e.g. centroids): out[0..D) := R (v[0..dims) zero-padded to D), v and out
 * not overlapping; and x[0..D) := R^T x[0..D) in place.  No allocation.
 */
extern void VaRabitqRotate(const VaRabitq *rq, const float *v, float *out);
extern void VaRabitqRotateInverse(const VaRabitq *rq, float *x);

/*
 * rabitq_ops.c: codes through the VaIndexOps interface (see there).
 * metric is a VaMetric (indexops.h).
 */
struct VaIndexOps;
extern const struct VaIndexOps *VaRabitqIndexOps(int metric);
extern bool VaRabitqSupports(const struct VaIndexOps *ops);

#endif							/* VA_RABITQ_H */

/*
 * codec_rabitq.c
 *	  The RaBitQ list codec (quantization = 'rabitq'): a list item holds the
 *	  RaBitQ code (src/quant/rabitq.h; Gao & Long, SIGMOD 2024, extended
 *	  multi-bit codes of Gao et al., SIGMOD 2025) of the residual r = o - c
 *	  of its row o to its list's centroid c, as FAISS's IndexIVFRaBitQ and
 *	  VectorChord do: residuals are shorter than the vectors, so a code of
 *	  the same bits estimates them more closely.  Every index uses one
 *	  rotation R (its seed is in the metapage).
 *
 *	  Estimates, for a query q (all in the opclass's stored forms, so under
 *	  cosine o, q and the spherical k-means centroids c are unit vectors):
 *
 *	  L2 (squared, the opclass distance):
 *		|o - q|^2 = |r - (q - c)|^2 = |r|^2 + |q - c|^2 - 2 <r, q - c>
 *	  |r|^2 is exact in the code, |q - c|^2 is the list's exact centroid
 *	  distance, and <r, q - c> is RaBitQ's estimate with the query q - c.
 *	  R is linear, so R(q - c) = Rq - Rc: the query is rotated once per scan
 *	  and each centroid once (cached with the centroids by scan.c as the
 *	  list's prepared data), and only the quantization of Rq - Rc to bytes
 *	  is done per list.  Its error is proportional to |r| |q - c|, smaller
 *	  than with q itself for data far from the origin.
 *
 *	  Inner product (opclass distance -<o, q>):
 *		-<o, q> = -<c, q> - <r, q>
 *	  -<c, q> is the list's exact centroid distance; <r, q> is estimated
 *	  with q itself, prepared once per scan (no per-list work).  The error
 *	  is proportional to |r| |q|.
 *
 *	  Cosine (opclass distance 1 - <o, q> of unit vectors o, q and c):
 *	  1 - <o, q> = |o - q|^2 / 2 for unit vectors, so the L2 form applies:
 *		1 - <o, q> = (|r|^2 + |q - c|^2 - 2 <r, q - c>) / 2
 *				   = (1 - <c, q>) + |r|^2 / 2 - <r, q - c>
 *	  using |q - c|^2 = 2 (1 - <c, q>): the list's centroid distance, the
 *	  code's |r|^2 and the estimate with the per-list query q - c.  (The
 *	  inner-product form, (1 - <c, q>) - <r, q>, is as exact but its error
 *	  goes with |r| |q| = |r| instead of |r| |q - c|, which is much smaller
 *	  for a query near the list; on 3-dimensional data it lost a twentieth
 *	  of recall@20.)  halfvec's unit vectors are unit up to its rounding;
 *	  the exact re-ranking makes up for that.
 *
 *	  Estimates order candidates; the scan re-ranks the best with exact
 *	  distances from the heap.
 */
#include "ivfflat/ivfflat.h"

#include "quant/rabitq.h"

typedef struct RabitqCodecState
{
	VaRabitq	rq;
	bool		residual_query; /* L2, cosine: a query per list, q - c */
	bool		cosine;			/* the cosine form of the L2 estimate */
	float	   *v;				/* scratch: dims floats */
	float	   *c;				/* scratch: dims floats */
	float	   *qr;				/* the scan's rotated query, D floats */
	float	   *res;			/* scratch: D floats */
	VaRabitqQuery *query;		/* the prepared query of the current list */
	float		base;			/* the current list's exact centroid distance */
} RabitqCodecState;

static Size
rabitq_code_size(int dims, int bits, int pq_m)
{
	return VaRabitqCodeSize(dims, bits, false);
}

static bool
rabitq_supports(const VaIndexOps *ops)
{
	return VaRabitqSupports(ops);
}

static void
rabitq_setup(IvfflatCodec *codec)
{
	RabitqCodecState *st = palloc0(sizeof(RabitqCodecState));
	int			padded = VaRabitqPadded(codec->dims);

	VaRabitqInit(&st->rq, codec->dims, codec->bits, codec->seed);
	st->cosine = codec->ops->metric == VA_METRIC_COSINE;
	st->residual_query = codec->ops->metric == VA_METRIC_L2 || st->cosine;
	st->v = palloc(sizeof(float) * codec->dims);
	st->c = palloc(sizeof(float) * codec->dims);
	st->qr = palloc(sizeof(float) * padded);
	st->res = palloc(sizeof(float) * padded);
	st->query = palloc(VaRabitqQuerySize(codec->dims));
	codec->state = st;
	codec->list_data_size = st->residual_query ? sizeof(float) * padded : 0;
}

/* The code of r = o - c (see the top of the file). */
static void
rabitq_encode(IvfflatCodec *codec, const void *stored, const void *centroid, void *code)
{
	RabitqCodecState *st = (RabitqCodecState *) codec->state;

	IvfflatCodecFloats(codec, stored, st->v);
	IvfflatCodecFloats(codec, centroid, st->c);
	for (int i = 0; i < codec->dims; i++)
		st->v[i] -= st->c[i];
	VaRabitqEncode(&st->rq, st->v, (VaRabitqCode *) code);
}

/* L2, cosine: the rotated centroid Rc (D floats); nothing otherwise. */
static void
rabitq_prepare_list(IvfflatCodec *codec, const void *centroid, void *data)
{
	RabitqCodecState *st = (RabitqCodecState *) codec->state;

	if (!st->residual_query)
		return;
	IvfflatCodecFloats(codec, centroid, st->c);
	VaRabitqRotate(&st->rq, st->c, (float *) data);
}

/* L2, cosine: rotate the query; inner product: prepare it. */
static void
rabitq_begin_scan(IvfflatCodec *codec, const void *query)
{
	RabitqCodecState *st = (RabitqCodecState *) codec->state;

	IvfflatCodecFloats(codec, query, st->v);
	if (st->residual_query)
		VaRabitqRotate(&st->rq, st->v, st->qr);
	else
		VaRabitqPrepareQuery(&st->rq, st->v, st->query);
}

/* L2, cosine: prepare R q - R c. */
static void
rabitq_begin_list(IvfflatCodec *codec, const void *data, float centroid_distance)
{
	RabitqCodecState *st = (RabitqCodecState *) codec->state;

	st->base = centroid_distance;
	if (st->residual_query)
	{
		const float *rc = (const float *) data;

		for (int i = 0; i < st->rq.padded; i++)
			st->res[i] = st->qr[i] - rc[i];
		VaRabitqPrepareRotatedQuery(&st->rq, st->res, st->query);
	}
}

/* The estimated distance from the estimated inner product ip with rcode. */
static inline float
estimate_from_ip(const RabitqCodecState *st, const VaRabitqCode *rcode, float ip)
{
	if (st->cosine)
		return st->base + 0.5f * rcode->norm2 - ip;
	if (st->residual_query)
		return st->base + rcode->norm2 - 2.0f * ip;
	return st->base - ip;
}

/*
 * The estimate less how far below it the true distance may lie: RaBitQ's
 * error bound on the estimated inner product (VaRabitqErrorBound, eps0
 * standard deviations), scaled as the estimate uses it.  L2: the estimate
 * subtracts 2 <r, q - c>, so twice the bound; cosine: <r, q - c> once (the
 * L2 form halved); inner product: <r, q> once.
 */
static float
rabitq_lower_bound(const void *arg, const void *code)
{
	const IvfflatCodec *codec = (const IvfflatCodec *) arg;
	const RabitqCodecState *st = (const RabitqCodecState *) codec->state;
	const VaRabitqCode *rcode = (const VaRabitqCode *) code;
	float		ip = VaRabitqInnerProduct(st->query, rcode);
	float		bound = VaRabitqErrorBound(st->query, rcode, ip);

	if (st->residual_query && !st->cosine)
		bound *= 2.0f;
	return estimate_from_ip(st, rcode, ip) - bound;
}

const IvfflatCodecMethods IvfflatRabitqCodec = {
	.name = "rabitq",
	.code_size = rabitq_code_size,
	.supports = rabitq_supports,
	.setup = rabitq_setup,
	.encode = rabitq_encode,
	.prepare_list = rabitq_prepare_list,
	.begin_scan = rabitq_begin_scan,
	.begin_list = rabitq_begin_list,
	.lower_bound = rabitq_lower_bound,
	.rerank_per_row = 2.0,		/* Fashion-MNIST: 11 rows for LIMIT 10 */
};

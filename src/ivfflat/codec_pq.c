/*
 * codec_pq.c
 *	  The product-quantization list codec (quantization = 'pq'): IVFADC of
 *	  Jégou, Douze & Schmid, "Product quantization for nearest neighbor
 *	  search", IEEE TPAMI 2011, section IV (FAISS's IndexIVFPQ).  A list
 *	  item holds the PQ code (src/quant/pq.h: pq_m bytes, one 8-bit codeword
 *	  per subspace) of the residual r = o - c of its row o to its list's
 *	  centroid c.  The codebooks (256 centroids per subspace, shared by all
 *	  lists) are trained by k-means on the residuals of the build's sample
 *	  (the rows k-means trained the centroids on), stored in the index on
 *	  codec pages (codec.c), WAL-logged with the rest of the build, and
 *	  read back, through a per-backend cache, whenever a codec is set up.
 *
 *	  Estimates, for a query q (all in the opclass's stored forms, so under
 *	  cosine o, q and the spherical k-means centroids c are unit vectors),
 *	  with r^ the code's reconstruction (o ~ c + r^):
 *
 *	  L2 (squared, the opclass distance), with the expansion derived in
 *	  src/quant/pq.h (FAISS's "precomputed tables"):
 *		|o - q|^2 ~ |(q - c) - r^|^2
 *				  = |q - c|^2 + sum_j (|r^_j|^2 + 2 <c_j, r^_j>) - 2 sum_j <q_j, r^_j>
 *	  |q - c|^2 is the list's exact centroid distance; the middle term
 *	  depends on the list alone (VaPqListTerms, pq_m * 256 floats: the
 *	  list's prepared data, computed once and cached with the centroids by
 *	  scan.c); the last on the query alone (VaPqIpTable, once per scan).  A
 *	  probed list's table is then the middle term minus twice the query's,
 *	  pq_m * 256 additions, instead of a table from q - c (256 * dims
 *	  multiply-adds, 16 times as many at pq_m = 49).  The terms take pq_m KB
 *	  per list; when they would push the centroids out of scan.c's cache
 *	  (IVFFLAT_CENTROID_CACHE_MAX, 16 MB: about 300 lists at pq_m = 49 and
 *	  784 dimensions), the list's data is its centroid instead and its table
 *	  is made directly from q - c (VaPqL2Table), which costs about what
 *	  computing the term per probed list would, and keeps the centroids
 *	  cached.
 *
 *	  Inner product (opclass distance -<o, q>):
 *		-<o, q> ~ -<c, q> - sum_j <q_j, r^_j>
 *	  -<c, q> is the list's exact centroid distance; the table of <q_j,
 *	  r_jk> is made once per scan (no per-list work).
 *
 *	  Cosine (opclass distance 1 - <o, q> of unit vectors):
 *		1 - <o, q> ~ (1 - <c, q>) - sum_j <q_j, r^_j>
 *	  as for the inner product.
 *
 *	  Estimates order candidates; the scan re-ranks the best with exact
 *	  distances from the heap (scan.c).
 */
#include "ivfflat/ivfflat.h"

#include "miscadmin.h"
#include "quant/pq.h"

typedef struct PqCodecState
{
	VaPq		pq;
	bool		residual_query; /* L2: a table per list */
	bool		list_terms;		/* L2: from cached terms (else from q - c) */
	float	   *v;				/* scratch: dims floats */
	float	   *c;				/* scratch: dims floats */
	float	   *q;				/* the scan's query, dims floats */
	float	   *table;			/* the current table, pq_m * 256 floats */
	float	   *ip;				/* L2: the query's <q_j, r_jk>, as many */
	float	   *norms;			/* L2: |r_jk|^2, as many; NULL until needed */
	float		base;			/* the current list's term of the estimate */
} PqCodecState;

/* pq_m bytes; 0 picks the default for dims (VaPqDefaultM). */
static Size
pq_code_size(int dims, int bits, int pq_m)
{
	return pq_m > 0 ? (Size) pq_m : (Size) VaPqDefaultM(dims);
}

/* A dense float view and a metric with a table: L2, inner product, cosine. */
static bool
pq_supports(const VaIndexOps *ops)
{
	return ops->to_floats != NULL &&
		(ops->metric == VA_METRIC_L2 || ops->metric == VA_METRIC_IP ||
		 ops->metric == VA_METRIC_COSINE);
}

/*
 * Resolve pq_m (0: the default for the dimensions) and check it divides
 * them (invalid_parameter_value otherwise).  No codebooks yet: train makes
 * them, load points at the index's (no copy), and a codec with neither (an
 * index built on no rows) gets zeros at first use (pq_codebooks).
 */
static void
pq_setup(IvfflatCodec *codec)
{
	PqCodecState *st = palloc0(sizeof(PqCodecState));
	int			dims = codec->dims;

	if (codec->pq_m == 0)
		codec->pq_m = VaPqDefaultM(dims);
	VaPqCheckM(dims, codec->pq_m, "pq_m");
	st->pq.dims = dims;
	st->pq.m = codec->pq_m;
	st->pq.dsub = dims / codec->pq_m;
	st->pq.codebook = NULL;
	st->residual_query = codec->ops->metric == VA_METRIC_L2;
	st->v = palloc(sizeof(float) * dims);
	st->c = palloc(sizeof(float) * dims);
	st->q = palloc(sizeof(float) * dims);
	st->table = palloc(sizeof(float) * codec->pq_m * VA_PQ_KSUB);
	st->ip = st->residual_query ? palloc(sizeof(float) * codec->pq_m * VA_PQ_KSUB) : NULL;
	/* terms only if they leave the centroids (about dims floats) cached */
	st->list_terms = st->residual_query &&
		(Size) codec->nlists * (sizeof(float) * ((Size) codec->pq_m * VA_PQ_KSUB + dims) + 64) <=
		IVFFLAT_CENTROID_CACHE_MAX;
	codec->state = st;
	codec->list_data_size = !st->residual_query ? 0 :
		st->list_terms ? sizeof(float) * codec->pq_m * VA_PQ_KSUB : sizeof(float) * dims;
}

/* The quantizer, with all-zero codebooks if it has none yet. */
static VaPq *
pq_codebooks(IvfflatCodec *codec)
{
	PqCodecState *st = (PqCodecState *) codec->state;

	if (st->pq.codebook == NULL)
		st->pq.codebook = MemoryContextAllocZero(codec->cxt, VaPqCodebookSize(codec->dims));
	return &st->pq;
}

/*
 * The codebooks, by k-means on the residuals of the sample to their
 * nearest centroid (opclass distance, as rows are assigned; the first of
 * equals).  Memory: the residuals, nsamples * dims floats, besides
 * VaPqTrain's own.
 */
static void
pq_train(IvfflatCodec *codec, const char *samples, int nsamples, Size vector_size,
		 const char *centroids, int nlists)
{
	PqCodecState *st = (PqCodecState *) codec->state;
	int			dims = codec->dims;
	float	   *res = palloc_extended(sizeof(float) * (Size) Max(nsamples, 1) * dims,
									  MCXT_ALLOC_HUGE);

	for (int i = 0; i < nsamples; i++)
	{
		const char *o = samples + (Size) i * vector_size;
		float	   *r = res + (Size) i * dims;
		int			best = 0;
		float		bestd = 0.0f;

		CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < nlists; j++)
		{
			float		d = codec->ops->distance(o, centroids + (Size) j * vector_size);

			if (j == 0 || d < bestd)
			{
				bestd = d;
				best = j;
			}
		}
		IvfflatCodecFloats(codec, o, r);
		IvfflatCodecFloats(codec, centroids + (Size) best * vector_size, st->c);
		for (int d = 0; d < dims; d++)
			r[d] -= st->c[d];
	}
	VaPqTrain(pq_codebooks(codec), res, nsamples, codec->seed, VA_PQ_DEFAULT_ITERATIONS);
	pfree(res);
}

static Size
pq_state_size(const IvfflatCodec *codec)
{
	return VaPqCodebookSize(codec->dims);
}

static void
pq_save(const IvfflatCodec *codec, char *out)
{
	const PqCodecState *st = (const PqCodecState *) codec->state;

	if (st->pq.codebook == NULL)
		memset(out, 0, VaPqCodebookSize(codec->dims));
	else
		memcpy(out, st->pq.codebook, VaPqCodebookSize(codec->dims));
}

static void
pq_load(IvfflatCodec *codec, const char *in)
{
	PqCodecState *st = (PqCodecState *) codec->state;

	/* read only from here on (see IvfflatCodecMethods.load) */
	st->pq.codebook = (float *) unconstify(char *, in);
}

/* The code of r = o - c (see the top of the file). */
static void
pq_encode(IvfflatCodec *codec, const void *stored, const void *centroid, void *code)
{
	PqCodecState *st = (PqCodecState *) codec->state;

	IvfflatCodecFloats(codec, stored, st->v);
	IvfflatCodecFloats(codec, centroid, st->c);
	for (int i = 0; i < codec->dims; i++)
		st->v[i] -= st->c[i];
	VaPqEncode(pq_codebooks(codec), st->v, (uint8 *) code, st->table);
}

/*
 * L2: the list's term |r_jk|^2 + 2 <c_j, r_jk>, or with many lists its
 * centroid as floats; nothing otherwise.
 */
static void
pq_prepare_list(IvfflatCodec *codec, const void *centroid, void *data)
{
	PqCodecState *st = (PqCodecState *) codec->state;

	if (!st->residual_query)
		return;
	if (!st->list_terms)
	{
		IvfflatCodecFloats(codec, centroid, (float *) data);
		return;
	}
	if (st->norms == NULL)
	{
		float	   *norms = MemoryContextAlloc(codec->cxt,
											   sizeof(float) * codec->pq_m * VA_PQ_KSUB);

		VaPqCodewordNorms(pq_codebooks(codec), st->v, norms);
		st->norms = norms;
	}
	IvfflatCodecFloats(codec, centroid, st->c);
	VaPqListTerms(pq_codebooks(codec), st->c, st->norms, (float *) data);
}

/* The query's table of <q_j, r_jk> (L2: kept for every list's table). */
static void
pq_begin_scan(IvfflatCodec *codec, const void *query)
{
	PqCodecState *st = (PqCodecState *) codec->state;

	IvfflatCodecFloats(codec, query, st->q);
	if (!st->residual_query)
		VaPqIpTable(pq_codebooks(codec), st->q, st->table);
	else if (st->list_terms)
		VaPqIpTable(pq_codebooks(codec), st->q, st->ip);
}

/*
 * L2: the list's table, its term minus twice the query's, with |q - c|^2
 * (the centroid distance) as the base; or, with many lists, the table of
 * q - c and base 0.  Inner product, cosine: the centroid distance is the
 * base.
 */
static void
pq_begin_list(IvfflatCodec *codec, const void *data, float centroid_distance)
{
	PqCodecState *st = (PqCodecState *) codec->state;

	st->base = centroid_distance;
	if (st->residual_query && st->list_terms)
		VaPqCombineTables(&st->pq, (const float *) data, st->ip, st->table);
	else if (st->residual_query)
	{
		const float *c = (const float *) data;

		for (int i = 0; i < codec->dims; i++)
			st->v[i] = st->q[i] - c[i];
		VaPqL2Table(pq_codebooks(codec), st->v, st->table);
		st->base = 0.0f;
	}
}

/*
 * The table entries of the code's bytes, summed (four partial sums, so
 * their additions overlap), and the list's term: L2 base + sum, inner
 * product and cosine base - sum.
 */
static float
pq_estimate(const void *arg, const void *code)
{
	const IvfflatCodec *codec = (const IvfflatCodec *) arg;
	const PqCodecState *st = (const PqCodecState *) codec->state;
	const uint8 *c = (const uint8 *) code;
	const float *t = st->table;
	int			m = codec->pq_m;
	float		s0 = 0.0f,
				s1 = 0.0f,
				s2 = 0.0f,
				s3 = 0.0f;
	int			j = 0;

	for (; j + 4 <= m; j += 4)
	{
		s0 += t[(Size) j * VA_PQ_KSUB + c[j]];
		s1 += t[(Size) (j + 1) * VA_PQ_KSUB + c[j + 1]];
		s2 += t[(Size) (j + 2) * VA_PQ_KSUB + c[j + 2]];
		s3 += t[(Size) (j + 3) * VA_PQ_KSUB + c[j + 3]];
	}
	for (; j < m; j++)
		s0 += t[(Size) j * VA_PQ_KSUB + c[j]];
	s0 += s1 + s2 + s3;
	return st->residual_query ? st->base + s0 : st->base - s0;
}

const IvfflatCodecMethods IvfflatPqCodec = {
	.name = "pq",
	.code_size = pq_code_size,
	.supports = pq_supports,
	.setup = pq_setup,
	.train = pq_train,
	.state_size = pq_state_size,
	.save = pq_save,
	.load = pq_load,
	.encode = pq_encode,
	.prepare_list = pq_prepare_list,
	.begin_scan = pq_begin_scan,
	.begin_list = pq_begin_list,
	.estimate = pq_estimate,
};

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
 *	  Cosine (opclass distance 1 - <o, q> of unit vectors): the L2 form,
 *		1 - <o, q> = 1 - (|q|^2 + |o|^2 - |o - q|^2) / 2
 *	  with |o - q|^2 estimated as under L2 and |q - c|^2 = |q|^2 + |c|^2 -
 *	  2 <q, c> from the list's centroid distance 1 - <q, c>.  (The inner
 *	  product's form would be as exact, but its bound could not be
 *	  narrowed; see Bounds.)
 *
 *	  Bounds.  A code also holds e >= |r - r^|, the residual's
 *	  reconstruction error (a float4 after the pq_m bytes, rounded up).
 *	  With delta = r^ - r (|delta| <= e):
 *		IP:      -<o, q> = estimate + <delta, q> >= estimate - e |q|
 *		         (Cauchy-Schwarz: a sure bound);
 *		L2 form: estimate = |(q - c) - r^|^2 = |o - q|^2 + e^2
 *		         - 2 <delta, q - o>, so y = |o - q| satisfies
 *		         y^2 + 2 f e y >= estimate - e^2 whenever
 *		         <delta, q - o> >= -f e |q - o|.  With f = 1 that always
 *		         holds (it is then the triangle inequality); f is
 *		         min(1, 3 s), s the spread of the training sample's errors
 *		         (VaPqErrorSpread: about one standard deviation of the
 *		         error's component along a direction independent of it,
 *		         in units of e), so 3 standard deviations, as RaBitQ's
 *		         bound.  q - o, the query's offset from a row, is such a
 *		         direction; the query itself is not: under the inner
 *		         product the rows that come first are the largest, worst
 *		         encoded ones, whose errors line up with the query (with
 *		         f < 1 one of 30 Fashion-MNIST top-50 lists was in exact
 *		         order), so the inner product keeps the sure bound and
 *		         cosine takes the L2 form (30 of 30 with it, 28 without);
 *		cosine:  from the L2 form's bound, |o|^2 at most 1 + 3 eps
 *		         (a unit vector rounded to the type's precision eps),
 *		         less eps |q| for the stored form's rounding (o is scaled
 *		         to unit length and rounded, while the exact distance is
 *		         taken from the value itself: halfvec's 2^-11 matters).
 *	  Float rounding of the estimate and of the exact distance is allowed
 *	  for: each sum of n terms errs by at most n float epsilons of the sum
 *	  of the terms' magnitudes, and every term here is at most
 *	  (|q| + |c| + rmax + e)^2, with rmax the largest reconstruction norm
 *	  (the root of the sum over subspaces of the largest |r_jk|^2, kept with
 *	  the codebooks).  So the scan re-ranks rows in order of these bounds
 *	  and returns them in exact order (scan.c) as far as they hold, however
 *	  coarse the codes.
 */
#include "ivfflat/ivfflat.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "quant/pq.h"

typedef struct PqCodecState
{
	VaPq		pq;
	bool		residual_query; /* L2, cosine: a table per list */
	bool		cosine;			/* cosine, in the L2 form */
	bool		list_terms;		/* L2 form: from cached terms (else from q -
								 * c) */
	float	   *v;				/* scratch: dims floats */
	float	   *c;				/* scratch: dims floats */
	float	   *q;				/* the scan's query, dims floats */
	float	   *table;			/* the current table, pq_m * 256 floats */
	float	   *ip;				/* L2: the query's <q_j, r_jk>, as many */
	float	   *norms;			/* L2: |r_jk|^2, as many; NULL until needed */
	float		rmax;			/* the largest |r^| of any code (see the top) */
	float		spread;			/* VaPqErrorSpread of the training sample */
	float		factor;			/* min(1, eps0 spread): 1 untrained */
	float		qnorm;			/* |q| */
	float		store_eps;		/* cosine: a stored form's rounding */
	float		round;			/* float epsilons per unit of magnitude^2 */
	float		scale;			/* the current list's |q| + |c| + rmax */
	float		base;			/* the current list's term of the estimate */
	int			block_rows;		/* encode_block's room, in rows: */
	float	   *block_res;		/* residuals, block_rows * dims floats */
	double	   *block_norms;	/* their rounding terms, block_rows */
	uint8	   *block_codes;	/* codeword numbers, block_rows * pq_m */
} PqCodecState;

/* Samples VaPqErrorSpread measures at most (its work: 60 dims per sample). */
#define PQ_SPREAD_SAMPLES	16384

/*
 * Samples the codebooks are trained on at most: 64 per codeword (k-means
 * is poorly determined below about 40 points per centroid).  The build's
 * sample holds 50 rows per list: 50,000 at 1,000 lists, whose 20 training
 * passes cost as much as encoding a million rows.
 */
#define PQ_TRAIN_SAMPLES	(64 * VA_PQ_KSUB)

/* Bytes of a code's codeword numbers; its error e (a float4) follows. */
#define PQ_ERROR_SIZE	sizeof(float)

/*
 * pq_m bytes (0 picks the default for dims, VaPqDefaultM) and the error e.
 */
static Size
pq_code_size(int dims, int bits, int pq_m)
{
	return (pq_m > 0 ? (Size) pq_m : (Size) VaPqDefaultM(dims)) + PQ_ERROR_SIZE;
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
	st->cosine = codec->ops->metric == VA_METRIC_COSINE;
	st->residual_query = codec->ops->metric == VA_METRIC_L2 || st->cosine;
	st->v = palloc(sizeof(float) * dims);
	st->c = palloc(sizeof(float) * dims);
	st->q = palloc(sizeof(float) * dims);
	st->table = palloc(sizeof(float) * codec->pq_m * VA_PQ_KSUB);
	st->ip = st->residual_query ? palloc(sizeof(float) * codec->pq_m * VA_PQ_KSUB) : NULL;
	/* terms only if they leave the centroids (about dims floats) cached */
	st->list_terms = st->residual_query &&
		(Size) codec->nlists * (sizeof(float) * ((Size) codec->pq_m * VA_PQ_KSUB + dims) + 64) <=
		IVFFLAT_CENTROID_CACHE_MAX;
	/* 2-byte stored elements are halfvec's IEEE half, unit roundoff 2^-11 */
	if (codec->ops->metric == VA_METRIC_COSINE)
		st->store_eps = codec->ops->max_stored_size(2) - codec->ops->max_stored_size(1) < 4 ?
			ldexpf(1.0f, -11) : FLT_EPSILON;
	/* the estimate's and the exact distance's sums (see the top) */
	st->round = (2.0f * dims + codec->pq_m + 8) * FLT_EPSILON;
	st->factor = 1.0f;
	codec->state = st;
	/* the list's table data (L2), then |c| */
	codec->list_data_size = sizeof(float) + (!st->residual_query ? 0 :
											 st->list_terms ? sizeof(float) * codec->pq_m * VA_PQ_KSUB :
											 sizeof(float) * dims);
}

/*
 * The largest reconstruction norm of the codebooks (see the top): the
 * root of the sum over subspaces of the largest |r_jk|^2; scratch holds
 * dims floats and norms pq_m * 256.
 */
static float
pq_max_norm(const VaPq *pq, float *scratch, float *norms)
{
	double		sum = 0.0;

	VaPqCodewordNorms(pq, scratch, norms);
	for (int j = 0; j < pq->m; j++)
	{
		float		most = 0.0f;

		for (int k = 0; k < VA_PQ_KSUB; k++)
			most = Max(most, norms[j * VA_PQ_KSUB + k]);
		sum += most;
	}
	return (float) sqrt(sum) * (1.0f + 4 * FLT_EPSILON);
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

/* The bound's factor on e (see the top): 1 without a spread. */
static void
pq_set_factor(PqCodecState *st)
{
	st->factor = st->spread > 0.0f ? Min(1.0f, VA_PQ_BOUND_EPS0 * st->spread) : 1.0f;
}

/*
 * The codebooks, by k-means on the residuals of the sample's first
 * PQ_TRAIN_SAMPLES rows (a uniform sample when the build's reservoir was
 * full, any of its slots is; else the table's first rows) to their nearest
 * centroid (opclass distance, as rows are assigned; the first of equals;
 * nearest.c).  Memory: the residuals, up to PQ_TRAIN_SAMPLES * dims floats,
 * besides VaPqTrain's own.
 */
static void
pq_train(IvfflatCodec *codec, const char *samples, int nsamples, Size vector_size,
		 const char *centroids, int nlists)
{
	PqCodecState *st = (PqCodecState *) codec->state;
	int			dims = codec->dims;
	float	   *res;
	IvfflatNearest nn;
	int			lists[IVFFLAT_NEAREST_BLOCK];

	nsamples = Min(nsamples, PQ_TRAIN_SAMPLES);
	res = palloc_extended(sizeof(float) * (Size) Max(nsamples, 1) * dims, MCXT_ALLOC_HUGE);
	IvfflatNearestInit(&nn, codec->ops, centroids, nlists, vector_size, dims);
	for (int i = 0; i < nsamples; i++)
	{
		const char *o = samples + (Size) i * vector_size;
		float	   *r = res + (Size) i * dims;
		int			best;

		CHECK_FOR_INTERRUPTS();
		if (i % IVFFLAT_NEAREST_BLOCK == 0)
			IvfflatNearestBlock(&nn, o, Min(nsamples - i, IVFFLAT_NEAREST_BLOCK), lists);
		best = lists[i % IVFFLAT_NEAREST_BLOCK];
		IvfflatCodecFloats(codec, o, r);
		IvfflatCodecFloats(codec, centroids + (Size) best * vector_size, st->c);
		for (int d = 0; d < dims; d++)
			r[d] -= st->c[d];
	}
	VaPqTrain(pq_codebooks(codec), res, nsamples, codec->seed, VA_PQ_DEFAULT_ITERATIONS);
	st->rmax = pq_max_norm(&st->pq, st->v, st->table);

	/* the spread of the training samples' errors */
	st->spread = VaPqErrorSpread(&st->pq, res, Min(nsamples, PQ_SPREAD_SAMPLES), codec->seed);
	pq_set_factor(st);
	IvfflatNearestEnd(&nn);
	pfree(res);
}

/* The codebooks, then rmax and spread (float4s). */
static Size
pq_state_size(const IvfflatCodec *codec)
{
	return VaPqCodebookSize(codec->dims) + 2 * sizeof(float);
}

static void
pq_save(const IvfflatCodec *codec, char *out)
{
	const PqCodecState *st = (const PqCodecState *) codec->state;
	Size		size = VaPqCodebookSize(codec->dims);

	if (st->pq.codebook == NULL)
		memset(out, 0, size);
	else
		memcpy(out, st->pq.codebook, size);
	memcpy(out + size, &st->rmax, sizeof(float));
	memcpy(out + size + sizeof(float), &st->spread, sizeof(float));
}

static void
pq_load(IvfflatCodec *codec, const char *in)
{
	PqCodecState *st = (PqCodecState *) codec->state;
	Size		size = VaPqCodebookSize(codec->dims);

	/* read only from here on (see IvfflatCodecMethods.load) */
	st->pq.codebook = (float *) unconstify(char *, in);
	memcpy(&st->rmax, in + size, sizeof(float));
	memcpy(&st->spread, in + size + sizeof(float), sizeof(float));
	pq_set_factor(st);
}

/*
 * r[0..dims) := o - c, the residual of the row with stored form stored to
 * the centroid centroid; returns the rounding term of its error (the sum
 * of |o| + |c| over the coordinates, one float epsilon of which r's own
 * rounding may be).
 */
static double
pq_residual(IvfflatCodec *codec, const void *stored, const void *centroid, float *r)
{
	PqCodecState *st = (PqCodecState *) codec->state;
	double		norms = 0.0;

	IvfflatCodecFloats(codec, stored, r);
	IvfflatCodecFloats(codec, centroid, st->c);
	for (int i = 0; i < codec->dims; i++)
	{
		norms += fabsf(r[i]) + fabsf(st->c[i]);
		r[i] -= st->c[i];
	}
	return norms;
}

/*
 * After the code's codeword numbers: its error e >= |r - r^| (see the top)
 * from the residual r and its rounding term norms, rounded up.
 */
static void
pq_put_error(IvfflatCodec *codec, const float *r, double norms, void *code)
{
	PqCodecState *st = (PqCodecState *) codec->state;
	int			dims = codec->dims;
	double		error = 0.0;
	float		e;

	VaPqDecode(&st->pq, (const uint8 *) code, st->c);
	for (int i = 0; i < dims; i++)
	{
		double		d = (double) r[i] - st->c[i];

		error += d * d;
	}
	error = sqrt(error) + norms * FLT_EPSILON;
	e = (float) error;
	if ((double) e < error)
		e = nextafterf(e, INFINITY);
	memcpy((char *) code + codec->pq_m, &e, sizeof(float));
}

/*
 * The code of r = o - c and its error e >= |r - r^| (see the top), rounded
 * up, with the rounding of r itself (one float epsilon of |o| + |c|).
 */
static void
pq_encode(IvfflatCodec *codec, const void *stored, const void *centroid, void *code)
{
	PqCodecState *st = (PqCodecState *) codec->state;
	double		norms = pq_residual(codec, stored, centroid, st->v);

	VaPqEncode(pq_codebooks(codec), st->v, (uint8 *) code, st->table);
	pq_put_error(codec, st->v, norms, code);
}

/*
 * pq_encode of n rows: their residuals first, then their codeword numbers
 * by one VaPqEncodeRows call (the same numbers as VaPqEncode's, row by
 * row), then each code's error.  Room for the rows is kept in the codec's
 * context and grown as needed.
 */
static void
pq_encode_block(IvfflatCodec *codec, const char *stored, int n, Size vector_size,
				const char *centroids, const int *lists, char *codes)
{
	PqCodecState *st = (PqCodecState *) codec->state;
	int			dims = codec->dims;
	int			m = codec->pq_m;

	if (n > st->block_rows)
	{
		if (st->block_rows > 0)
		{
			pfree(st->block_res);
			pfree(st->block_norms);
			pfree(st->block_codes);
		}
		st->block_res = MemoryContextAllocHuge(codec->cxt, sizeof(float) * (Size) n * dims);
		st->block_norms = MemoryContextAlloc(codec->cxt, sizeof(double) * n);
		st->block_codes = MemoryContextAllocHuge(codec->cxt, (Size) n * m);
		st->block_rows = n;
	}
	for (int r = 0; r < n; r++)
		st->block_norms[r] = pq_residual(codec, stored + (Size) r * vector_size,
										 centroids + (Size) lists[r] * vector_size,
										 st->block_res + (Size) r * dims);
	VaPqEncodeRows(pq_codebooks(codec), st->block_res, n, st->block_codes, st->table);
	for (int r = 0; r < n; r++)
	{
		char	   *code = codes + (Size) r * codec->code_size;

		memcpy(code, st->block_codes + (Size) r * m, m);
		pq_put_error(codec, st->block_res + (Size) r * dims, st->block_norms[r], code);
	}
}

/*
 * L2: the list's term |r_jk|^2 + 2 <c_j, r_jk>, or with many lists its
 * centroid as floats; then, for every metric, |c|.
 */
static void
pq_prepare_list(IvfflatCodec *codec, const void *centroid, void *data)
{
	PqCodecState *st = (PqCodecState *) codec->state;
	double		norm = 0.0;
	float		cnorm;

	IvfflatCodecFloats(codec, centroid, st->c);
	for (int i = 0; i < codec->dims; i++)
		norm += (double) st->c[i] * st->c[i];
	cnorm = (float) sqrt(norm);
	memcpy((char *) data + codec->list_data_size - sizeof(float), &cnorm, sizeof(float));
	if (!st->residual_query)
		return;
	if (!st->list_terms)
	{
		memcpy(data, st->c, sizeof(float) * codec->dims);
		return;
	}
	if (st->norms == NULL)
	{
		float	   *norms = MemoryContextAlloc(codec->cxt,
											   sizeof(float) * codec->pq_m * VA_PQ_KSUB);

		VaPqCodewordNorms(pq_codebooks(codec), st->v, norms);
		st->norms = norms;
	}
	VaPqListTerms(pq_codebooks(codec), st->c, st->norms, (float *) data);
}

/* The query's table of <q_j, r_jk> (L2: kept for every list's table), |q|. */
static void
pq_begin_scan(IvfflatCodec *codec, const void *query)
{
	PqCodecState *st = (PqCodecState *) codec->state;
	double		norm = 0.0;

	IvfflatCodecFloats(codec, query, st->q);
	for (int i = 0; i < codec->dims; i++)
		norm += (double) st->q[i] * st->q[i];
	st->qnorm = (float) sqrt(norm);
	if (!st->residual_query)
		VaPqIpTable(pq_codebooks(codec), st->q, st->table);
	else if (st->list_terms)
		VaPqIpTable(pq_codebooks(codec), st->q, st->ip);
}

/*
 * L2: the list's table, its term minus twice the query's, with |q - c|^2
 * (the centroid distance) as the base; or, with many lists, the table of
 * q - c and base 0.  Inner product, cosine: the centroid distance is the
 * base.  Every metric: the list's scale of magnitudes for the bounds.
 */
static void
pq_begin_list(IvfflatCodec *codec, const void *data, float centroid_distance)
{
	PqCodecState *st = (PqCodecState *) codec->state;
	float		cnorm;

	memcpy(&cnorm, (const char *) data + codec->list_data_size - sizeof(float), sizeof(float));
	st->scale = st->qnorm + cnorm + st->rmax;
	st->base = centroid_distance;
	/* cosine's L2 form: |q - c|^2 = |q|^2 + |c|^2 - 2 <q, c> */
	if (st->cosine)
		st->base = st->qnorm * st->qnorm + cnorm * cnorm - 2.0f + 2.0f * centroid_distance;
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
pq_estimate(const IvfflatCodec *codec, const uint8 *c)
{
	const PqCodecState *st = (const PqCodecState *) codec->state;
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

/*
 * The estimate (the L2 form's under cosine) less what the code's error e
 * and float rounding allow (see the top of the file): under the inner
 * product a sure lower bound on the exact distance, in the L2 form one that
 * holds with high probability (e scaled by the factor f; sure when f = 1).
 */
static float
pq_lower_bound(const void *arg, const void *code)
{
	const IvfflatCodec *codec = (const IvfflatCodec *) arg;
	const PqCodecState *st = (const PqCodecState *) codec->state;
	float		estimate = pq_estimate(codec, (const uint8 *) code);
	float		e;
	float		round;
	float		fe,
				x,
				y;

	memcpy(&e, (const char *) code + codec->pq_m, sizeof(float));
	round = st->round * (st->scale + e) * (st->scale + e);
	if (!st->residual_query)
		return estimate - e * st->qnorm - 2.0f * round;

	/*
	 * y = |o - q| solves y^2 + 2 f e y >= estimate - e^2 (see the top), with
	 * the estimate as low as rounding allows
	 */
	fe = st->factor * e;
	x = estimate - round - e * e + fe * fe;
	y = (x > 0.0f ? sqrtf(x) : 0.0f) - fe;
	y = (y > 0.0f ? y * y : 0.0f) - round;
	if (!st->cosine)
		return y;

	/*
	 * 1 - <o, q> = 1 - (|q|^2 + |o|^2 - |o - q|^2) / 2 with |o|^2 at most 1 +
	 * 3 store_eps (a unit vector rounded), less the distance from the stored
	 * form to the value the exact distance is taken from
	 */
	return 1.0f - 0.5f * (st->qnorm * st->qnorm + 1.0f + 3.0f * st->store_eps - y) -
		st->store_eps * st->qnorm;
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
	.encode_block = pq_encode_block,
	.prepare_list = pq_prepare_list,
	.begin_scan = pq_begin_scan,
	.begin_list = pq_begin_list,
	.lower_bound = pq_lower_bound,
	.rerank_per_row = 30.0,		/* Fashion-MNIST, pq_m 49: 150-500 for LIMIT
								 * 10 */
};

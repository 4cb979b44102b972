/*
 * quantize.c
 *	  What an hnsw index's elements hold in place of the vector: the
 *	  opclass's stored form (quantization = 'none', the default), or a RaBitQ
 *	  code (quantization = 'rabitq', src/quant/rabitq.h), whose graph is
 *	  searched with estimated distances and whose final candidates are
 *	  re-ranked with exact ones from the heap (scan.c).  HnswQuant hides the
 *	  difference from the graph code: graph_ops compares what elements hold,
 *	  HnswQuantElement makes what an element holds from an exact stored form,
 *	  HnswQuantQuery what a search compares elements with.  The exact values
 *	  of heap rows come from common/heapvalue.c.
 *
 *	  Codes may be taken about a centre (VaRabitqSetCentre), which a build
 *	  chooses from a sample of the rows before its first code
 *	  (HnswQuantBuildCentre, choose_centre) and keeps on the metapage
 *	  (HnswCentreData).  The estimator's error grows with the norms it
 *	  sees, so rows far from the origin compared with their spread lose
 *	  recall to codes taken about the origin: TAP 005's 24-dimensional rows,
 *	  2.8 from the origin and 0.4 from their neighbours, gave recall@10 0.85
 *	  at ef_search 40 against 1.00 unquantized, and 0.98 centred on their
 *	  mean (TAP 027).
 */
#include "hnsw/hnsw.h"

#include <math.h>

#include "access/tableam.h"
#include "distance/distance.h"
#include "miscadmin.h"
#include "utils/memutils.h"

/*
 * The sample a build takes its centre from: HNSW_CENTRE_RANGES runs of
 * HNSW_CENTRE_RANGE_BLOCKS heap blocks spread evenly over the table (all
 * of it when it is no larger), at most HNSW_CENTRE_SAMPLE rows in all.
 */
#define HNSW_CENTRE_RANGES			32
#define HNSW_CENTRE_RANGE_BLOCKS	4
#define HNSW_CENTRE_SAMPLE			1024

/* Steps along each candidate direction of choose_centre: t = k / steps. */
#define HNSW_CENTRE_STEPS			4

/* The least fraction of centre_error a centre must save over the origin. */
#define HNSW_CENTRE_MIN_GAIN		0.2

/* HnswQuantInit without the centre (HnswGraphOps needs none). */
static void
init_common(HnswQuant *hq, Relation index, const HnswMetaPageData *meta)
{
	hq->ops = HnswGetIndexOps(index);
	hq->centred = false;
	hq->centre = NULL;
	hq->centre_dims = 0;
	if (meta != NULL)
	{
		hq->quantization = meta->quantization;
		hq->bits = meta->bits;
		hq->seed = meta->seed;
		hq->m = meta->m;
		hq->centred = meta->centred != 0;
	}
	else
	{
		HnswOptions opts = HnswGetOptions(index);

		hq->quantization = opts.quantization;
		hq->bits = opts.bits;
		hq->seed = HNSW_ROTATION_SEED;
		hq->m = opts.m;
	}
	hq->dims = -1;
	hq->cxt = CurrentMemoryContext;
	if (hq->quantization == HNSW_QUANTIZATION_RABITQ)
	{
		if (hq->bits < VA_RABITQ_MIN_BITS || hq->bits > VA_RABITQ_MAX_BITS ||
			!VaRabitqSupports(hq->ops))
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("hnsw index \"%s\" has an invalid quantization",
							RelationGetRelationName(index))));
		hq->graph_ops = VaRabitqIndexOps(hq->ops->metric);
	}
	else if (hq->quantization == HNSW_QUANTIZATION_NONE)
		hq->graph_ops = hq->ops;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("hnsw index \"%s\" has unknown quantization %d",
						RelationGetRelationName(index), hq->quantization)));
}

/*
 * Set hq up for index: from its metapage meta (quantization, bits, seed,
 * and the centre, read from the metapage: the caller holds no buffer
 * lock), or from its options when meta is NULL (a build, before the
 * metapage; HnswQuantBuildCentre or HnswQuantLoadCentre then sets the
 * centre).  The quantizer itself is set up on first use, for the
 * dimensions of the values seen, in the memory context current here.
 */
void
HnswQuantInit(HnswQuant *hq, Relation index, const HnswMetaPageData *meta)
{
	init_common(hq, index, meta);
	if (hq->centred)
		HnswQuantLoadCentre(hq, index);
}

/*
 * The centre of an index converted to floats, kept in its relcache entry
 * (rd_amcache, in rd_indexcxt) with the binary16 coordinates it was made
 * from, so that a scan does not convert it again: every use compares those
 * with the metapage's (a TRUNCATE within the transaction that created the
 * table rebuilds an index in the same file) and rebuilds the copy if they
 * differ.  A relcache invalidation may free rd_amcache at any time, so
 * users copy the floats out while they hold the metapage's lock.
 */
typedef struct HnswCentreCache
{
	int32		dims;
	float	   *centre;			/* dims floats */
	uint16		raw[FLEXIBLE_ARRAY_MEMBER]; /* dims binary16, as on the page */
} HnswCentreCache;

/*
 * hq's centre := the one on index's metapage, or none when it has none.
 * Errors: INDEX_CORRUPTED for a centre of impossible dimensions.
 */
void
HnswQuantLoadCentre(HnswQuant *hq, Relation index)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	Page		page;
	HnswMetaPage meta;
	const HnswCentreData *cd;
	HnswCentreCache *cache;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	VaCheckPage(index, buf, VA_PAGE_ID_HNSW);
	page = BufferGetPage(buf);
	meta = HnswPageGetMeta(page);
	cd = (const HnswCentreData *) ((char *) meta + HNSW_CENTRE_OFFSET);
	hq->centred = meta->centred != 0;
	hq->centre = NULL;
	hq->centre_dims = 0;
	if (hq->centred)
	{
		Size		rawsize = sizeof(uint16) * cd->dims;

		if (cd->dims < 1 || cd->dims > HNSW_CENTRE_MAX_DIMS)
		{
			UnlockReleaseBuffer(buf);
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("hnsw index \"%s\" has a centre of %d dimensions",
							RelationGetRelationName(index), cd->dims)));
		}
		cache = (HnswCentreCache *) index->rd_amcache;
		if (cache == NULL || cache->dims != cd->dims ||
			memcmp(cache->raw, cd->c, rawsize) != 0)
		{
			char	   *mem;

			if (cache != NULL)
			{
				index->rd_amcache = NULL;
				pfree(cache);
			}
			mem = MemoryContextAlloc(index->rd_indexcxt,
									 MAXALIGN(offsetof(HnswCentreCache, raw) + rawsize) +
									 sizeof(float) * cd->dims);
			cache = (HnswCentreCache *) mem;
			cache->dims = cd->dims;
			memcpy(cache->raw, cd->c, rawsize);
			cache->centre = (float *) (mem + MAXALIGN(offsetof(HnswCentreCache, raw) + rawsize));
			for (int i = 0; i < cd->dims; i++)
				cache->centre[i] = VaHalfToFloat(cd->c[i]);
			index->rd_amcache = cache;
		}
		hq->centre_dims = cd->dims;
		hq->centre = MemoryContextAlloc(hq->cxt, sizeof(float) * cd->dims);
		memcpy(hq->centre, cache->centre, sizeof(float) * cd->dims);
	}
	UnlockReleaseBuffer(buf);
}

/* What centre_callback gathers. */
typedef struct CentreSample
{
	const VaIndexOps *ops;
	int			dims;			/* of the first value; -1 before it */
	float	   *rows;			/* nrows rows of dims floats */
	int			nrows;
	int			taken;			/* of the current run */
	int			per_run;		/* most values to take from a run */
	MemoryContext cxt;			/* where rows live */
	MemoryContext tmpctx;		/* reset after every row */
} CentreSample;

/*
 * table_index_build_range_scan's callback: keep the row's value as floats,
 * unless NULL, not indexed by the operator class (a zero vector under
 * cosine), of other dimensions than the first (the build itself reports
 * mixed dimensions) or more than HNSW_CENTRE_MAX_DIMS, or past the run's
 * share.
 */
static void
centre_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool tupleIsAlive, void *state)
{
	CentreSample *cs = (CentreSample *) state;
	MemoryContext old;
	Datum		value;
	void	   *stored;

	if (isnull[0] || cs->taken >= cs->per_run || cs->nrows >= HNSW_CENTRE_SAMPLE)
		return;
	old = MemoryContextSwitchTo(cs->tmpctx);
	value = PointerGetDatum(PG_DETOAST_DATUM(values[0]));
	stored = palloc(cs->ops->stored_size(value));
	if (cs->ops->to_stored(value, stored))
	{
		int			dims = cs->ops->dims(stored);

		if (cs->dims < 0 && dims >= 1 && dims <= HNSW_CENTRE_MAX_DIMS)
		{
			cs->dims = dims;
			cs->rows = MemoryContextAllocHuge(cs->cxt,
											  sizeof(float) * dims * HNSW_CENTRE_SAMPLE);
		}
		if (dims == cs->dims)
		{
			cs->ops->to_floats(stored, cs->rows + (Size) cs->nrows * dims);
			cs->nrows++;
			cs->taken++;
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(cs->tmpctx);
}

/*
 * The sum over the sampled rows of the estimator's error relative to their
 * neighbours' distances, up to a constant, for codes taken about c
 * (dims floats).  RaBitQ's error on <o - c, q - c> is about proportional to
 * |o - c| times the part of q - c orthogonal to o - c (VaRabitqErrorBound):
 * the area of the parallelogram they span.  For q a near neighbour o + delta
 * of o that is |P(o - c)| |delta|, P the projection orthogonal to delta,
 * and the search must tell apart squared distances of the order of
 * |delta|^2; so row i adds |P_i (o_i - c)| / |delta_i|, with delta_i to its
 * nearest sampled row at a nonzero distance (rows without one add
 * nothing).  dot[k] := <c, row k> is scratch; norm2[i] = |o_i|^2,
 * odelta[i] = <o_i, delta_i> and delta2[i] = |delta_i|^2 (0: no neighbour)
 * are the caller's.
 */
static double
centre_error(const float *rows, int n, int dims, const int *nearest,
			 const double *norm2, const double *odelta, const double *delta2,
			 const float *c, double *dot)
{
	double		c2 = VaInnerProductDouble(c, c, dims);
	double		sum = 0.0;

	for (int i = 0; i < n; i++)
		dot[i] = VaInnerProductDouble(rows + (Size) i * dims, c, dims);
	for (int i = 0; i < n; i++)
	{
		double		x2;
		double		xd;
		double		perp2;

		if (delta2[i] <= 0.0)
			continue;
		/* x = o_i - c: |x|^2 and <x, delta_i> */
		x2 = norm2[i] - 2.0 * dot[i] + c2;
		xd = odelta[i] - (dot[nearest[i]] - dot[i]);
		perp2 = x2 - xd * xd / delta2[i];
		sum += sqrt(Max(perp2, 0.0) / delta2[i]);
	}
	return sum;
}

/*
 * centre[0..dims) := the centre of the n sampled rows (rows, n x dims) that
 * makes codes least wrong where it counts (centre_error), among t times
 * the mean and t times the mean weighted by 1 / |delta|^2 (which leans
 * towards the rows whose neighbours are nearest, whose estimates are most
 * fragile), t = 1/4, 1/2, ..., 1.  Returns whether it saves at least
 * HNSW_CENTRE_MIN_GAIN of the origin's error; if not, the codes are best
 * taken about the origin.  Clustered rows far from the origin save about
 * half (24 dimensions, 50 clusters 2.8 from the origin and 0.4 across, L2
 * or cosine), rows of norms from 0.1 to 10 about 5 %.  The margin is there
 * because the sample's neighbours stand for the queries' only as far as
 * queries look like rows: on rows of seven scales from 0.1 to 9.7 in 48
 * dimensions, with queries at scale 1, between the rows' scales, the
 * weighted mean saved 6 % on the sample, and lost recall (0.976 to 0.975
 * after the build, 0.960 to 0.949 after deletes and VACUUM, ef_search 40).
 * O(n^2 dims / 2) for the nearest neighbours, then O(n dims) per
 * candidate: about 0.1 s for 1,024 rows of 784 dimensions.
 */
static bool
choose_centre(const float *rows, int n, int dims, float *centre)
{
	int		   *nearest = palloc(sizeof(int) * n);
	double	   *norm2 = palloc(sizeof(double) * n);
	double	   *odelta = palloc(sizeof(double) * n);
	double	   *delta2 = palloc(sizeof(double) * n);
	double	   *dot = palloc(sizeof(double) * n);
	double	   *mean = palloc0(sizeof(double) * dims);
	double	   *wmean = palloc0(sizeof(double) * dims);
	float	   *c = palloc0(sizeof(float) * dims);
	double		wtotal = 0.0;
	double		origin;
	double		best;

	for (int i = 0; i < n; i++)
	{
		nearest[i] = i;
		delta2[i] = 0.0;
	}
	/* each pair once */
	for (int i = 0; i < n; i++)
	{
		const float *o = rows + (Size) i * dims;

		CHECK_FOR_INTERRUPTS();
		for (int j = i + 1; j < n; j++)
		{
			double		d = VaL2SquaredDouble(o, rows + (Size) j * dims, dims);

			if (d <= 0.0)
				continue;
			if (delta2[i] == 0.0 || d < delta2[i])
			{
				delta2[i] = d;
				nearest[i] = j;
			}
			if (delta2[j] == 0.0 || d < delta2[j])
			{
				delta2[j] = d;
				nearest[j] = i;
			}
		}
	}
	for (int i = 0; i < n; i++)
	{
		const float *o = rows + (Size) i * dims;

		norm2[i] = VaInnerProductDouble(o, o, dims);
		odelta[i] = VaInnerProductDouble(o, rows + (Size) nearest[i] * dims, dims) - norm2[i];
		for (int k = 0; k < dims; k++)
			mean[k] += o[k];
		if (delta2[i] > 0.0)
		{
			for (int k = 0; k < dims; k++)
				wmean[k] += o[k] / delta2[i];
			wtotal += 1.0 / delta2[i];
		}
	}

	origin = centre_error(rows, n, dims, nearest, norm2, odelta, delta2, c, dot);
	best = origin;
	for (int which = 0; which < 2; which++)
	{
		const double *dir = which == 0 ? mean : wmean;
		double		total = which == 0 ? n : wtotal;

		if (total <= 0.0)
			continue;
		for (int step = 1; step <= HNSW_CENTRE_STEPS; step++)
		{
			double		t = (double) step / HNSW_CENTRE_STEPS;
			double		e;

			for (int k = 0; k < dims; k++)
				c[k] = (float) (t * dir[k] / total);
			e = centre_error(rows, n, dims, nearest, norm2, odelta, delta2, c, dot);
			if (e < best)
			{
				best = e;
				memcpy(centre, c, sizeof(float) * dims);
			}
		}
	}
	pfree(nearest);
	pfree(norm2);
	pfree(odelta);
	pfree(delta2);
	pfree(dot);
	pfree(mean);
	pfree(wmean);
	pfree(c);
	return best <= (1.0 - HNSW_CENTRE_MIN_GAIN) * origin;
}

/*
 * A quantized build, before its first code: hq's centre := the one
 * choose_centre picks from a sample of heap's rows as index's expressions
 * and predicate give them (the values the build will code; see
 * HNSW_CENTRE_RANGES), written to the metapage (block 0, already there;
 * not WAL-logged: the build logs every page at its end) and read back as
 * every later reader will see it.  No centre when choose_centre keeps the
 * origin, when no row is indexable, or when the values have more than
 * HNSW_CENTRE_MAX_DIMS dimensions (then the estimator's error, which
 * shrinks as 1/sqrt(dimensions), matters least).  Not for parallel
 * workers: they read the leader's (HnswQuantLoadCentre).
 */
void
HnswQuantBuildCentre(HnswQuant *hq, Relation heap, Relation index, IndexInfo *indexInfo)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(heap);
	CentreSample cs;
	Buffer		buf;
	Page		page;
	HnswMetaPage meta;
	HnswCentreData *cd;
	float	   *centre;
	bool		centred;

	if (hq->quantization == HNSW_QUANTIZATION_NONE || nblocks == 0)
		return;
	memset(&cs, 0, sizeof(cs));
	cs.ops = hq->ops;
	cs.dims = -1;
	cs.cxt = CurrentMemoryContext;
	cs.tmpctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw centre sample",
									  ALLOCSET_DEFAULT_SIZES);

	/*
	 * No synchronized scan (allow_sync = false), which range scans need
	 * anyway; no progress report (the build's scan makes it).
	 */
	if (nblocks <= HNSW_CENTRE_RANGES * HNSW_CENTRE_RANGE_BLOCKS)
	{
		cs.per_run = HNSW_CENTRE_SAMPLE;
		table_index_build_range_scan(heap, index, indexInfo, false, false, false,
									 0, nblocks, centre_callback, &cs, NULL);
	}
	else
	{
		cs.per_run = HNSW_CENTRE_SAMPLE / HNSW_CENTRE_RANGES;
		for (int r = 0; r < HNSW_CENTRE_RANGES; r++)
		{
			BlockNumber start = (BlockNumber) ((uint64) nblocks * r / HNSW_CENTRE_RANGES);

			cs.taken = 0;
			table_index_build_range_scan(heap, index, indexInfo, false, false, false,
										 start, HNSW_CENTRE_RANGE_BLOCKS,
										 centre_callback, &cs, NULL);
		}
	}
	MemoryContextDelete(cs.tmpctx);
	if (cs.nrows == 0)
		return;
	centre = palloc(sizeof(float) * cs.dims);
	centred = choose_centre(cs.rows, cs.nrows, cs.dims, centre);
	pfree(cs.rows);
	if (!centred)
	{
		pfree(centre);
		return;
	}

	buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	meta = HnswPageGetMeta(page);
	cd = (HnswCentreData *) ((char *) meta + HNSW_CENTRE_OFFSET);
	cd->dims = cs.dims;
	for (int i = 0; i < cs.dims; i++)
		cd->c[i] = VaFloatToHalf(Max(Min(centre[i], 65504.0f), -65504.0f));
	meta->centred = 1;
	((PageHeader) page)->pd_lower = (char *) &cd->c[cs.dims] - (char *) page;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
	pfree(centre);

	HnswQuantLoadCentre(hq, index);
}

/*
 * CREATE INDEX: raise FEATURE_NOT_SUPPORTED when the index's operator class
 * (ops) cannot be quantized as asked.
 */
void
HnswQuantCheckSupported(Relation index, const VaIndexOps *ops, int quantization)
{
	if (quantization == HNSW_QUANTIZATION_NONE || VaRabitqSupports(ops))
		return;
	VaQuantizationUnsupported(index, "rabitq",
							  "RaBitQ codes serve the L2, inner product and cosine operator classes of vector and halfvec; use quantization = 'none'.");
}

/* Does an element of layer 0 with a code of (dims, bits) fit a page at m? */
static bool
code_fits(int dims, int bits, int m, bool centred)
{
	return MAXALIGN(HnswElementSize(SHORTALIGN(VaRabitqCodeSize(dims, bits, centred)), 0, m)) <=
		VA_MAX_ITEM_SIZE;
}

/*
 * ERROR (PROGRAM_LIMIT_EXCEEDED) unless an element with a code of dims
 * dimensions fits a page at the index's bits and m, naming the most bits
 * that would fit.
 */
static void
check_fits(HnswQuant *hq, int dims)
{
	int			most = 0;

	if (code_fits(dims, hq->bits, hq->m, hq->centred))
		return;
	for (int b = VA_RABITQ_MIN_BITS; b < hq->bits; b++)
		if (code_fits(dims, b, hq->m, hq->centred))
			most = b;
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("RaBitQ codes of %d dimensions at %d bits are too large for an hnsw index with m = %d",
					dims, hq->bits, hq->m),
			 errdetail("An element's code of %zu bytes with its neighbour lists must fit in one %d-byte page.",
					   VaRabitqCodeSize(dims, hq->bits, hq->centred), BLCKSZ),
			 most > 0 ?
			 errhint("Use bits = %d or fewer, or a smaller m.", most) :
			 errhint("Use a smaller m.")));
}

/* Set the quantizer up for dims dimensions (once; dimensions never change). */
static void
setup(HnswQuant *hq, int dims)
{
	MemoryContext old;

	if (hq->dims == dims)
		return;
	check_fits(hq, dims);
	if (hq->centred && hq->centre_dims != dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", hq->centre_dims, dims)));
	old = MemoryContextSwitchTo(hq->cxt);
	VaRabitqInit(&hq->rq, dims, hq->bits, hq->seed);
	MemoryContextSwitchTo(old);
	if (hq->centred)
		VaRabitqSetCentre(&hq->rq, hq->centre);
	hq->dims = dims;
}

/*
 * The RaBitQ form of the value with exact stored form stored (dims
 * dimensions), palloc'd: its code, or with query its prepared query.
 */
static void *
rabitq_form(HnswQuant *hq, const void *stored, int dims, bool query)
{
	float	   *v;
	void	   *form;

	setup(hq, dims);
	v = palloc(sizeof(float) * dims);
	hq->ops->to_floats(stored, v);
	if (query)
	{
		form = palloc(VaRabitqQuerySize(dims));
		VaRabitqPrepareQuery(&hq->rq, v, form);
	}
	else
	{
		form = palloc(VaRabitqCodeSize(dims, hq->bits, hq->centred));
		VaRabitqEncode(&hq->rq, v, form);
	}
	pfree(v);
	return form;
}

/*
 * What an element of a value with exact stored form stored (dims
 * dimensions) holds: stored itself, or its code (palloc'd).
 */
const void *
HnswQuantElement(HnswQuant *hq, const void *stored, int dims)
{
	if (hq->quantization == HNSW_QUANTIZATION_NONE)
		return stored;
	return rabitq_form(hq, stored, dims, false);
}

/*
 * What a search for the value with exact stored form stored (dims
 * dimensions) compares elements with: stored itself, or a prepared query
 * (palloc'd).
 */
const void *
HnswQuantQuery(HnswQuant *hq, const void *stored, int dims)
{
	if (hq->quantization == HNSW_QUANTIZATION_NONE)
		return stored;
	return rabitq_form(hq, stored, dims, true);
}

/*
 * Bytes (HnswStoredSize) of what an element holds for a value of dims
 * dimensions whose stored form takes stored_size bytes.
 */
Size
HnswQuantElementSize(HnswQuant *hq, int dims, Size stored_size)
{
	if (hq->quantization == HNSW_QUANTIZATION_NONE)
		return SHORTALIGN(stored_size);
	check_fits(hq, dims);
	return SHORTALIGN(VaRabitqCodeSize(dims, hq->bits, hq->centred));
}

/*
 * The VaIndexOps that compares what the elements of index (metapage meta)
 * hold: the opclass's, or the codes' (VaRabitqIndexOps).
 */
const VaIndexOps *
HnswGraphOps(Relation index, const HnswMetaPageData *meta)
{
	HnswQuant	hq;

	init_common(&hq, index, meta);
	return hq.graph_ops;
}

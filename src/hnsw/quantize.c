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
 */
#include "hnsw/hnsw.h"


/*
 * Set hq up for index: from its metapage meta (quantization, bits, seed),
 * or from its options when meta is NULL (a build, before the metapage).
 * The quantizer itself is set up on first use, for the dimensions of the
 * values seen, in the memory context current here.
 */
void
HnswQuantInit(HnswQuant *hq, Relation index, const HnswMetaPageData *meta)
{
	hq->ops = HnswGetIndexOps(index);
	if (meta != NULL)
	{
		hq->quantization = meta->quantization;
		hq->bits = meta->bits;
		hq->seed = meta->seed;
		hq->m = meta->m;
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
code_fits(int dims, int bits, int m)
{
	return MAXALIGN(HnswElementSize(SHORTALIGN(VaRabitqCodeSize(dims, bits)), 0, m)) <=
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

	if (code_fits(dims, hq->bits, hq->m))
		return;
	for (int b = VA_RABITQ_MIN_BITS; b < hq->bits; b++)
		if (code_fits(dims, b, hq->m))
			most = b;
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("RaBitQ codes of %d dimensions at %d bits are too large for an hnsw index with m = %d",
					dims, hq->bits, hq->m),
			 errdetail("An element's code of %zu bytes with its neighbour lists must fit in one %d-byte page.",
					   VaRabitqCodeSize(dims, hq->bits), BLCKSZ),
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
	old = MemoryContextSwitchTo(hq->cxt);
	VaRabitqInit(&hq->rq, dims, hq->bits, hq->seed);
	MemoryContextSwitchTo(old);
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
		form = palloc(VaRabitqCodeSize(dims, hq->bits));
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
	return SHORTALIGN(VaRabitqCodeSize(dims, hq->bits));
}

/*
 * The VaIndexOps that compares what the elements of index (metapage meta)
 * hold: the opclass's, or the codes' (VaRabitqIndexOps).
 */
const VaIndexOps *
HnswGraphOps(Relation index, const HnswMetaPageData *meta)
{
	HnswQuant	hq;

	HnswQuantInit(&hq, index, meta);
	return hq.graph_ops;
}

/*
 * codec.c
 *	  What an ivfflat index's list items hold: the opclass's stored form
 *	  (quantization = 'none', the default and pgvector's format) or a code
 *	  made by a list codec (IvfflatCodec, ivfflat.h).  This file maps the
 *	  quantization option and metapage fields to the codec that serves them
 *	  (the table below: RaBitQ in codec_rabitq.c; a new quantizer adds its
 *	  methods there), checks at CREATE INDEX that the operator class can be
 *	  quantized, and sizes items.  The quantizers themselves live in
 *	  src/quant/ and know no access method.
 */
#include "ivfflat/ivfflat.h"

#include "catalog/pg_opfamily.h"
#include "utils/syscache.h"

/* The codec of each quantization number; NULL for none. */
static const IvfflatCodecMethods *
codec_methods(int quantization)
{
	switch (quantization)
	{
		case IVFFLAT_QUANTIZATION_RABITQ:
			return &IvfflatRabitqCodec;
	}
	return NULL;
}

/*
 * Whether the quantization, bits and seed of metapage meta name a codec
 * this build knows, with valid parameters, for the operator class ops (or
 * none).
 */
bool
IvfflatCodecValid(const IvfflatMetaPageData *meta, const VaIndexOps *ops)
{
	const IvfflatCodecMethods *methods = codec_methods(meta->quantization);

	if (meta->quantization == IVFFLAT_QUANTIZATION_NONE)
		return true;
	return methods != NULL && meta->bits >= 1 && meta->bits <= 8 && methods->supports(ops);
}

/*
 * Set codec up for index with operator class ops: from its metapage meta
 * (quantization, bits, seed), or from its options when meta is NULL (a
 * build, before the metapage is written).  Returns false, with codec unset,
 * for quantization none.  Errors: index_corrupted when the metapage names
 * a quantization this build does not know or bits out of range.  The
 * quantizer itself is set up by IvfflatCodecSetup once the dimensions are
 * known, in the memory context current here.
 */
bool
IvfflatCodecInit(IvfflatCodec *codec, Relation index, const VaIndexOps *ops,
				 const IvfflatMetaPageData *meta)
{
	memset(codec, 0, sizeof(*codec));
	codec->ops = ops;
	codec->dims = -1;
	codec->cxt = CurrentMemoryContext;
	if (meta != NULL)
	{
		codec->quantization = meta->quantization;
		codec->bits = meta->bits;
		codec->seed = meta->seed;
	}
	else
	{
		codec->quantization = IvfflatGetQuantization(index);
		codec->bits = IvfflatGetBits(index);
		codec->seed = IVFFLAT_ROTATION_SEED;
	}
	if (codec->quantization == IVFFLAT_QUANTIZATION_NONE)
		return false;
	codec->methods = codec_methods(codec->quantization);
	if (meta != NULL ? !IvfflatCodecValid(meta, ops) :
		(codec->methods == NULL || !codec->methods->supports(ops)))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("ivfflat index \"%s\" has an invalid quantization (%d, %d bits)",
						RelationGetRelationName(index), codec->quantization, codec->bits),
				 errhint("Please REINDEX it.")));
	return true;
}

/*
 * ERROR (program_limit_exceeded) unless a list item with a code of dims
 * dimensions at the codec's bits fits a page, naming the most bits that
 * would fit.
 */
static void
check_fits(IvfflatCodec *codec, int dims)
{
	int			most = 0;
	Size		size = codec->methods->code_size(dims, codec->bits);

	if (MAXALIGN(IVFFLAT_LIST_TUPLE_SIZE(size)) <= VA_MAX_ITEM_SIZE)
		return;
	for (int b = 1; b < codec->bits; b++)
		if (MAXALIGN(IVFFLAT_LIST_TUPLE_SIZE(codec->methods->code_size(dims, b))) <=
			VA_MAX_ITEM_SIZE)
			most = b;
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("%s codes of %d dimensions at %d bits are too large for an ivfflat index",
					codec->methods->name, dims, codec->bits),
			 errdetail("A list item's code of %zu bytes must fit in one %d-byte page.",
					   size, BLCKSZ),
			 most > 0 ? errhint("Use bits = %d or fewer.", most) : 0));
}

/*
 * Set the quantizer of codec up for dims dimensions (once: an index's
 * dimensions never change; a second call with other dims is a caller's
 * bug, elog ERROR).  Errors: program_limit_exceeded when an item with a
 * code of dims dimensions cannot fit a page.
 */
void
IvfflatCodecSetup(IvfflatCodec *codec, int dims)
{
	MemoryContext old;

	if (codec->dims == dims)
		return;
	if (codec->dims >= 0)
		elog(ERROR, "ivfflat codec set up for %d dimensions, not %d", codec->dims, dims);
	check_fits(codec, dims);
	codec->dims = dims;
	codec->code_size = codec->methods->code_size(dims, codec->bits);
	old = MemoryContextSwitchTo(codec->cxt);
	codec->methods->setup(codec);
	MemoryContextSwitchTo(old);
}

/*
 * The dims elements of stored (an exact stored form) as floats into
 * out[0..codec->dims): what quantizers work on.
 */
void
IvfflatCodecFloats(IvfflatCodec *codec, const void *stored, float *out)
{
	codec->ops->to_floats(stored, out);
}

/*
 * CREATE INDEX: raise feature_not_supported when the index's operator
 * class (ops) cannot be quantized as asked: a quantizer needs a dense float
 * view of the values (vector, halfvec) and a metric it has an estimator
 * for (RaBitQ: L2, inner product, cosine).
 */
void
IvfflatCodecCheckSupported(Relation index, const VaIndexOps *ops, int quantization)
{
	HeapTuple	tup;
	char	   *opcname = "?";
	const IvfflatCodecMethods *methods = codec_methods(quantization);

	if (methods == NULL || methods->supports(ops))
		return;
	/* our operator classes each have a family of the same name */
	tup = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(index->rd_opfamily[0]));
	if (HeapTupleIsValid(tup))
	{
		opcname = pstrdup(NameStr(((Form_pg_opfamily) GETSTRUCT(tup))->opfname));
		ReleaseSysCache(tup);
	}
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("quantization \"%s\" does not support operator class \"%s\"",
					methods ? methods->name : "?", opcname),
			 errhint("Quantized ivfflat lists serve the L2, inner product and cosine operator classes of vector and halfvec; use quantization = 'none'.")));
}

/*
 * Bytes a list item of the index with metapage meta holds after the heap
 * TID: the stored form (vector_size), or a code of its dimensions and bits;
 * 0 when the metapage names an unknown quantization or no dimensions yet.
 */
Size
IvfflatItemDataSize(const IvfflatMetaPageData *meta)
{
	const IvfflatCodecMethods *methods;

	if (meta->quantization == IVFFLAT_QUANTIZATION_NONE)
		return meta->vector_size;
	methods = codec_methods(meta->quantization);
	if (methods == NULL || meta->dimensions < 1 || meta->dimensions > VA_MAX_DIM ||
		meta->bits < 1 || meta->bits > 8)
		return 0;
	return methods->code_size(meta->dimensions, meta->bits);
}

/*
 * Whether the codec of quantization number quantization bounds the error
 * of its estimates (IvfflatCodecMethods.slack), so that scans re-rank by
 * lower bounds; false for none or a number this build does not know.
 */
bool
IvfflatCodecHasSlack(int quantization)
{
	const IvfflatCodecMethods *methods = codec_methods(quantization);

	return methods != NULL && methods->slack != NULL;
}

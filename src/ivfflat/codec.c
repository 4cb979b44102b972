/*
 * codec.c
 *	  What an ivfflat index's list items hold: the opclass's stored form
 *	  (quantization = 'none', the default and pgvector's format) or a code
 *	  made by a list codec (IvfflatCodec, ivfflat.h).  This file maps the
 *	  quantization option and metapage fields to the codec that serves them
 *	  (the table below: RaBitQ in codec_rabitq.c, PQ in codec_pq.c; a new
 *	  quantizer adds its methods there), checks at CREATE INDEX that the
 *	  operator class can be quantized, and sizes items.  It also keeps a
 *	  trained codec's state (PQ codebooks) in the index: written by the build
 *	  on a chain of IVFFLAT_PAGE_CODEC pages (IvfflatCodecWriteState), read
 *	  back when a codec is set up (IvfflatCodecSetup) through a small
 *	  per-backend cache, so scans and inserts do not read the pages each
 *	  time.  The quantizers themselves live in src/quant/ and know no access
 *	  method.
 */
#include "ivfflat/ivfflat.h"

#include "nodes/pg_list.h"
#include "storage/bufmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/memutils.h"

/* The codec of each quantization number; NULL for none. */
static const IvfflatCodecMethods *
codec_methods(int quantization)
{
	switch (quantization)
	{
		case IVFFLAT_QUANTIZATION_RABITQ:
			return &IvfflatRabitqCodec;
		case IVFFLAT_QUANTIZATION_PQ:
			return &IvfflatPqCodec;
	}
	return NULL;
}

/* Whether some list codec can quantize values under operator class ops. */
bool
IvfflatCodecAnySupports(const VaIndexOps *ops)
{
	return IvfflatRabitqCodec.supports(ops) || IvfflatPqCodec.supports(ops);
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
	return methods != NULL && meta->bits >= 1 && meta->bits <= 8 &&
		meta->pq_m <= IVFFLAT_MAX_PQ_M && methods->supports(ops);
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
	codec->index = index;
	if (meta != NULL)
	{
		codec->quantization = meta->quantization;
		codec->bits = meta->bits;
		codec->seed = meta->seed;
		codec->pq_m = meta->pq_m;
		codec->state_blkno = meta->codec_blkno;
		codec->nlists = meta->nlists;
	}
	else
	{
		IvfflatOptions opts = IvfflatGetOptions(index);

		codec->quantization = opts.quantization;
		codec->bits = opts.bits;
		codec->seed = IVFFLAT_ROTATION_SEED;
		codec->pq_m = opts.pq_m;
		codec->state_blkno = 0;
		if (codec->quantization == IVFFLAT_QUANTIZATION_PQ)
		{
			/* 8-bit codes; the codebooks' k-means seed */
			codec->bits = 8;
			codec->seed = IVFFLAT_PQ_SEED;
		}
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
	Size		size = codec->methods->code_size(dims, codec->bits, codec->pq_m);

	if (MAXALIGN(IVFFLAT_LIST_TUPLE_SIZE(size)) <= VA_MAX_ITEM_SIZE)
		return;
	for (int b = 1; b < codec->bits; b++)
		if (MAXALIGN(IVFFLAT_LIST_TUPLE_SIZE(codec->methods->code_size(dims, b, codec->pq_m))) <=
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
 * Trained codec state (PQ codebooks) in the index: a chain of
 * IVFFLAT_PAGE_CODEC pages linked by nextblkno, each holding one item, a
 * piece of the state's bytes in order.  It is written once by the build
 * (never changed afterwards: inserts and VACUUM do not retrain), and read
 * back through a per-backend cache keyed by the index file, the chain's
 * first block and the state's size, so only a backend's first setup of an
 * index reads the pages; a REINDEX or TRUNCATE gives the index a new file
 * and so a new key.  Codecs point into the cache (no copy per scan: 784 kB
 * of PQ codebooks at 784 dimensions), and a codec lives at most as long as
 * the transaction that set it up, so an entry pushed out (beyond
 * STATE_CACHE_MAX, the least recently used) is not freed at once: its
 * memory context moves under the current transaction's and goes with it.
 * Until then a pushed-out entry stays findable (evicted, below): a
 * transaction that cycles through more indexes than the cache holds (a
 * COPY into many partitions) swaps entries back in instead of reading and
 * keeping a new copy each time, so it holds at most one copy per index.
 */
#define STATE_CACHE_MAX		8
#define STATE_CHUNK			(VA_MAX_ITEM_SIZE - 8)	/* bytes per page */

typedef struct StateCacheEntry
{
	RelFileNode node;
	BlockNumber blkno;
	Size		size;
	uint64		used;			/* last use, for eviction */
	MemoryContext cxt;			/* holds bytes; under TopMemoryContext */
	char	   *bytes;
} StateCacheEntry;

static StateCacheEntry state_cache[STATE_CACHE_MAX];
static uint64 state_cache_clock = 0;

/*
 * Entries pushed out of state_cache during local transaction evicted_lxid
 * (StateCacheEntry *, in TopTransactionContext, as their memory is); a
 * later transaction finds the list stale and starts a new one.
 */
static List *evicted = NIL;
static LocalTransactionId evicted_lxid = InvalidLocalTransactionId;

/* Read the state chain of codec's index into bytes[0..size). */
static void
read_state(IvfflatCodec *codec, char *bytes, Size size)
{
	BlockNumber blkno = codec->state_blkno;
	Size		done = 0;

	BlockNumber nblocks = RelationGetNumberOfBlocks(codec->index);
	BlockNumber pages = 0;

	while (done < size)
	{
		Buffer		buf;
		Page		page;
		ItemId		iid;
		Size		len;

		CHECK_FOR_INTERRUPTS();
		/* a chain visits each page once: a longer one has a cycle */
		if (blkno == InvalidBlockNumber || blkno == 0 || blkno >= nblocks ||
			++pages > nblocks)
			break;
		buf = ReadBuffer(codec->index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		VaCheckPage(codec->index, buf, VA_PAGE_ID_IVFFLAT);
		page = BufferGetPage(buf);
		if (VaPageGetOpaque(page)->flags != IVFFLAT_PAGE_CODEC ||
			PageGetMaxOffsetNumber(page) < FirstOffsetNumber)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("ivfflat index \"%s\" block %u is not a page of its %s codebooks",
							RelationGetRelationName(codec->index), blkno,
							codec->methods->name),
					 errhint("Please REINDEX it.")));
		iid = PageGetItemId(page, FirstOffsetNumber);
		len = Min(ItemIdGetLength(iid), size - done);
		if (len == 0)
		{
			UnlockReleaseBuffer(buf);
			break;				/* reported below */
		}
		memcpy(bytes + done, PageGetItem(page, iid), len);
		done += len;
		blkno = VaPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	if (done < size)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("ivfflat index \"%s\" holds %zu of the %zu bytes of its %s codebooks",
						RelationGetRelationName(codec->index), done, size,
						codec->methods->name),
				 errhint("Please REINDEX it.")));
}

/* Whether cache entry c holds the state of codec's index, of size bytes. */
static bool
entry_matches(const StateCacheEntry *c, const IvfflatCodec *codec, Size size)
{
	return RelFileNodeEquals(c->node, codec->index->rd_node) &&
		c->blkno == codec->state_blkno && c->size == size;
}

/*
 * The entry of state_cache holding codec's state of size bytes, or NULL;
 * *victim is set to the slot a new entry would take: the first empty one,
 * else the least recently used among those looked at (all of them when
 * there is no match).
 */
static StateCacheEntry *
find_cached(const IvfflatCodec *codec, Size size, StateCacheEntry **victim)
{
	*victim = &state_cache[0];
	for (int i = 0; i < STATE_CACHE_MAX; i++)
	{
		StateCacheEntry *c = &state_cache[i];

		if (c->bytes != NULL && entry_matches(c, codec, size))
			return c;
		if (c->bytes == NULL || ((*victim)->bytes != NULL && c->used < (*victim)->used))
			*victim = c;
	}
	return NULL;
}

/*
 * Bring back codec's state of size bytes if it was pushed out of the cache
 * earlier in this transaction: it takes victim's slot (its memory context
 * back under TopMemoryContext), and victim, if it held an entry, takes its
 * place on the evicted list (its context under TopTransactionContext).
 * Returns the slot, or NULL when the state is not on the list.
 */
static StateCacheEntry *
swap_back(const IvfflatCodec *codec, Size size, StateCacheEntry *victim)
{
	ListCell   *lc;

	foreach(lc, evicted)
	{
		StateCacheEntry *c = (StateCacheEntry *) lfirst(lc);

		if (entry_matches(c, codec, size))
		{
			StateCacheEntry back = *c;

			if (victim->bytes != NULL)
			{
				MemoryContextSetParent(victim->cxt, TopTransactionContext);
				*c = *victim;
			}
			else
				evicted = list_delete_ptr(evicted, c);
			MemoryContextSetParent(back.cxt, TopMemoryContext);
			*victim = back;
			return victim;
		}
	}
	return NULL;
}

/*
 * Read codec's state of size bytes from the index's pages (read_state) into
 * a new memory context under TopMemoryContext and put it in victim's slot;
 * an entry victim held goes to the evicted list, its memory under
 * TopTransactionContext, since codecs of this transaction may still point
 * into it.  Returns the slot.  Errors: read_state's (index_corrupted), with
 * the new context freed and the cache unchanged.
 */
static StateCacheEntry *
read_into_cache(IvfflatCodec *codec, Size size, StateCacheEntry *victim)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext,
											  "ivfflat codec state",
											  ALLOCSET_DEFAULT_SIZES);
	char	   *bytes = MemoryContextAllocHuge(cxt, size);

	PG_TRY();
	{
		read_state(codec, bytes, size);
	}
	PG_CATCH();
	{
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (victim->bytes != NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(TopTransactionContext);
		StateCacheEntry *gone = palloc(sizeof(StateCacheEntry));

		*gone = *victim;
		evicted = lappend(evicted, gone);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextSetParent(victim->cxt, TopTransactionContext);
	}
	victim->node = codec->index->rd_node;
	victim->blkno = codec->state_blkno;
	victim->size = size;
	victim->cxt = cxt;
	victim->bytes = bytes;
	return victim;
}

/* Give codec its trained state, from the cache or the index's pages. */
static void
load_state(IvfflatCodec *codec)
{
	Size		size = codec->methods->state_size(codec);
	StateCacheEntry *victim;
	StateCacheEntry *e = find_cached(codec, size, &victim);
	MemoryContext old;

	if (evicted_lxid != MyProc->lxid)
	{
		evicted = NIL;			/* freed with its transaction */
		evicted_lxid = MyProc->lxid;
	}
	if (e == NULL)
		e = swap_back(codec, size, victim);
	if (e == NULL)
		e = read_into_cache(codec, size, victim);
	e->used = ++state_cache_clock;
	old = MemoryContextSwitchTo(codec->cxt);
	codec->methods->load(codec, e->bytes);
	MemoryContextSwitchTo(old);
}

/*
 * Write codec's trained state (set up and trained; a codec without state
 * writes nothing and returns 0) on new pages of fork from block blkno on,
 * which must be the fork's next block; returns blkno (the chain's start,
 * for the metapage).  Not WAL-logged here: the build logs the whole
 * relation at its end.
 */
BlockNumber
IvfflatCodecWriteState(IvfflatCodec *codec, Relation index, ForkNumber fork,
					   BlockNumber blkno)
{
	Size		size;
	char	   *bytes;
	Size		done = 0;
	Buffer		prev = InvalidBuffer;

	if (codec->methods->save == NULL || codec->dims < 1)
		return 0;
	size = codec->methods->state_size(codec);
	bytes = palloc_extended(size, MCXT_ALLOC_HUGE);
	codec->methods->save(codec, bytes);
	while (done < size)
	{
		Buffer		buf = VaNewBuffer(index, fork);
		Page		page = BufferGetPage(buf);
		Size		len = Min(STATE_CHUNK, size - done);

		if (done == 0 && BufferGetBlockNumber(buf) != blkno)
			elog(ERROR, "ivfflat build expected block %u, got %u",
				 blkno, BufferGetBlockNumber(buf));
		VaInitPage(page, VA_PAGE_ID_IVFFLAT);
		VaPageGetOpaque(page)->flags = IVFFLAT_PAGE_CODEC;
		if (PageAddItem(page, (Item) (bytes + done), len, InvalidOffsetNumber,
						false, false) == InvalidOffsetNumber)
			elog(ERROR, "failed to add codebook piece to ivfflat index \"%s\"",
				 RelationGetRelationName(index));
		MarkBufferDirty(buf);
		if (BufferIsValid(prev))
		{
			VaPageGetOpaque(BufferGetPage(prev))->nextblkno = BufferGetBlockNumber(buf);
			MarkBufferDirty(prev);
			UnlockReleaseBuffer(prev);
		}
		prev = buf;
		done += len;
	}
	if (BufferIsValid(prev))
		UnlockReleaseBuffer(prev);
	pfree(bytes);
	return blkno;
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
	codec->code_size = codec->methods->code_size(dims, codec->bits, codec->pq_m);
	old = MemoryContextSwitchTo(codec->cxt);
	codec->methods->setup(codec);
	MemoryContextSwitchTo(old);
	if (codec->methods->load != NULL && codec->state_blkno != 0)
		load_state(codec);
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
 * About how many rows a scan of an index with quantization number
 * quantization re-ranks per row its query wants (rerank_per_row); 2 for a
 * number this build does not know.
 */
double
IvfflatCodecRerankPerRow(int quantization)
{
	const IvfflatCodecMethods *methods = codec_methods(quantization);

	return methods != NULL ? methods->rerank_per_row : 2.0;
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
	const IvfflatCodecMethods *methods = codec_methods(quantization);

	if (methods == NULL || methods->supports(ops))
		return;
	VaQuantizationUnsupported(index, methods->name,
							  "Quantized ivfflat lists serve the L2, inner product and cosine operator classes of vector and halfvec; use quantization = 'none'.");
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
	return methods->code_size(meta->dimensions, meta->bits, meta->pq_m);
}

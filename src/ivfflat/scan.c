/*
 * scan.c
 *	  Ordered ivfflat index scans (ORDER BY column <op> query), the search of
 *	  the inverted file (Jégou, Douze & Schmid 2011, section 4.1, with exact
 *	  distances): on the first amgettuple the query is compared with every
 *	  centroid, the ivfflat.probes nearest lists are read whole, and their
 *	  rows are returned nearest first with xs_orderbyvals set, so the
 *	  executor need not recompute distances.  With ivfflat.iterative_scan =
 *	  relaxed_order, a scan whose rows run out (e.g. a WHERE clause removed
 *	  them) probes the next ivfflat.probes lists, up to ivfflat.max_probes
 *	  lists in all.
 *
 *	  In a quantized index (quantization = 'rabitq' or 'pq') list items
 *	  hold codes: the rows of the probed lists get lower bounds on their
 *	  distances from the index's list codec (codec.c;
 *	  IvfflatCodecMethods.lower_bound: the codec's estimate less its error
 *	  bound) and are re-ranked least bound first, each fetched from the heap
 *	  through the scan's heap relation and snapshot (common/heapvalue.c) and
 *	  its exact distance computed from the indexed value.  The nearest
 *	  re-ranked row is returned, with its exact distance, once it is no
 *	  further than the next row's bound and at least
 *	  ivfflat.rerank_candidates rows of the round of probed lists are
 *	  re-ranked (Seidl & Kriegel, SIGMOD 1998; common/rerank.c, as hnsw's
 *	  quantized scan does).  So rows come in exact order (as far as the
 *	  bound holds: always for PQ under inner product, with high probability
 *	  otherwise) and no more are
 *	  fetched than the order needs.  Rows the snapshot does not see are
 *	  skipped (the executor would skip them too).  In an iterative scan a
 *	  round's remaining re-ranked rows are returned before the next lists
 *	  are probed (relaxed order, as for unquantized lists).
 *
 *	  No buffer pin or lock is held between calls.
 */
#include "ivfflat/ivfflat.h"

#include "access/relscan.h"
#include "common/am.h"
#include "common/blockmap.h"
#include "common/heapvalue.h"
#include "common/rerank.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"

/* One row of a probed list: its distance and heap TID (VaTidToId). */
typedef struct IvfflatRow
{
	float		distance;
	uint64		id;
} IvfflatRow;

typedef struct IvfflatScanOpaqueData
{
	VaScanBase	base;			/* ops; ctx: per-rescan allocations */
	bool		started;
	bool		null_distance;	/* query NULL or not indexable: any order */
	const void *query;			/* stored form; NULL with null_distance */
	BlockNumber *starts;		/* first page of each list, nearest first */
	int			nextlist;		/* next list to probe */
	int			maxlists;		/* lists this scan may probe in all */
	int			batch;			/* lists per probe round */
	IvfflatRow *rows;			/* min-heap on (distance, id) of probed rows;
								 * quantized: (lower bound, id) of the rows
								 * not yet re-ranked */
	int			nrows;
	int			rowcap;

	/* quantized index: bounds from codes, re-ranked from the heap */
	bool		quantized;
	bool		estimating;		/* quantized and the query has a distance */
	IvfflatCodec codec;
	IvfflatMetaPageData meta;
	bool		cached;			/* the centroid cache holds the list data */
	int		   *listids;		/* list number (chain order) of each start */
	float	   *listdists;		/* centroid distance of each start */
	ItemPointerData *centroid_tids; /* centroid item of each start */
	char	   *listdata;		/* scratch: a list's prepared data */
	char	   *centroid;		/* scratch: a centroid, when not cached */
	int			least;			/* rows of a round re-ranked first */
	VaRerank	rr;				/* re-ranked rows not yet returned */
	bool		reading;		/* heap_values begun */
	VaHeapValues heap_values;	/* the rows' values, for exact distances */
} IvfflatScanOpaqueData;

typedef IvfflatScanOpaqueData *IvfflatScanOpaque;

/*
 * The centroids of an index, kept in its relcache entry (rd_amcache, in
 * rd_indexcxt) so that a scan compares the query with one contiguous array
 * instead of reading every centroid page.  Centroids and start pages never
 * change once an index has lists (inserts and VACUUM move only insertpage,
 * which scans do not use; a REINDEX or TRUNCATE makes a new file, whose
 * relcache invalidation frees rd_amcache), so the copy is valid while the
 * metapage agrees with it; it is checked against the metapage (read on
 * every scan anyway) and the file, and rebuilt otherwise.  Indexes whose
 * centroids take more than CENTROID_CACHE_MAX bytes are read from their
 * pages on every scan instead.  rd_amcache may be freed by any relcache
 * invalidation, so it is fetched again (and rebuilt if need be) by each
 * start() and probe(), which take no heavyweight lock while they use it.
 */
/* -DCENTROID_CACHE_MAX=0 tests the uncached path */
#ifndef CENTROID_CACHE_MAX
#define CENTROID_CACHE_MAX	IVFFLAT_CENTROID_CACHE_MAX
#endif

typedef struct IvfflatCentroidCache
{
	RelFileNode node;
	uint32		nlists;
	int32		dimensions;
	uint32		vector_size;
	Size		stride;			/* bytes from one centroid to the next */
	BlockNumber *startpages;	/* [nlists] */
	char	   *centroids;		/* [nlists * stride] */
	uint8		quantization;	/* of the list data */
	Size		list_data_size; /* quantized: codec's prepared data per list */
	char	   *listdata;		/* [nlists * list_data_size] */
} IvfflatCentroidCache;

/* ambeginscan; the scan's release ends the heap access of re-ranking */
VA_DEFINE_AMBEGINSCAN(ivfflatbeginscan, IvfflatScanOpaqueData, IvfflatGetIndexOps,
					  "ivfflat scan")

/* Row a before row b: nearer, or as near with the smaller heap TID. */
static inline bool
row_before(const IvfflatRow *a, const IvfflatRow *b)
{
	return a->distance < b->distance ||
		(a->distance == b->distance && a->id < b->id);
}

/* Restore the min-heap property below position i of rows[0..n). */
static void
rows_sift_down(IvfflatRow *rows, int n, int i)
{
	IvfflatRow	item = rows[i];

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n && row_before(&rows[child + 1], &rows[child]))
			child++;
		if (!row_before(&rows[child], &item))
			break;
		rows[i] = rows[child];
		i = child;
	}
	rows[i] = item;
}

/*
 * Make rows[0..n) a min-heap, bottom up (Floyd 1964: O(n), against
 * O(n log n) for n pushes); only the rows the executor asks for are popped.
 */
static void
rows_heapify(IvfflatRow *rows, int n)
{
	for (int i = n / 2 - 1; i >= 0; i--)
		rows_sift_down(rows, n, i);
}

/* Room for n more rows in so->rows (scan context). */
static inline void
rows_reserve(IvfflatScanOpaque so, int n)
{
	if (so->nrows + n <= so->rowcap)
		return;
	so->rowcap = Max(so->rowcap * 2, Max(so->nrows + n, 1024));
	if (so->rows == NULL)
		so->rows = MemoryContextAllocHuge(so->base.ctx, sizeof(IvfflatRow) * (Size) so->rowcap);
	else
		so->rows = repalloc_huge(so->rows, sizeof(IvfflatRow) * (Size) so->rowcap);
}

/*
 * Pages read ahead of the one being read: the prefetch cursor walks the
 * chain the block map learned from earlier scans (a page's link as last
 * seen; the next block when unknown, right for lists laid out in one run)
 * and, at each list's tail, the next list's first page, PREFETCH_DEPTH
 * pages ahead.  When the page actually read next is not the one predicted,
 * the cursor starts again from it.
 */
#ifndef PREFETCH_DEPTH
#define PREFETCH_DEPTH		16
#endif

typedef struct PrefetchCursor
{
	BlockNumber ring[PREFETCH_DEPTH];	/* predicted next pages, in order */
	int			head;
	int			count;
	BlockNumber blkno;			/* last predicted page */
	int			list;			/* its list (index into starts) */
} PrefetchCursor;

/* Predict the page after the cursor's, prefetch it and queue it. */
static void
cursor_step(PrefetchCursor *cur, VaBlockMap *map, const BlockNumber *starts,
			int end)
{
	VaBlockMapEntry *e;
	BlockNumber next;

	if (cur->blkno == InvalidBlockNumber)
		return;
	e = VaBlockMapPeek(map, cur->blkno);
	if (e == NULL || e->next == VA_BLOCKMAP_NO_LINK)
		next = cur->blkno + 1;
	else
		next = e->next;
	if (next == VA_BLOCKMAP_TAIL)
		next = ++cur->list < end ? starts[cur->list] : InvalidBlockNumber;
	cur->blkno = next;
	if (next == InvalidBlockNumber)
		return;
	cur->ring[(cur->head + cur->count) % PREFETCH_DEPTH] = next;
	cur->count++;
	if ((e = VaBlockMapPeek(map, next)) != NULL)
		VaBlockMapPrefetch(e);
}

/* Start the cursor at blkno (list `list`, about to be read). */
static void
cursor_reset(PrefetchCursor *cur, VaBlockMap *map, const BlockNumber *starts,
			 int end, BlockNumber blkno, int list)
{
	cur->head = cur->count = 0;
	cur->blkno = blkno;
	cur->list = list;
	for (int i = 0; i < PREFETCH_DEPTH; i++)
		cursor_step(cur, map, starts, end);
}

/*
 * The scan reads blkno (of list `list`) next: when the cursor predicted it,
 * take it off the queue and predict one page more; otherwise start the
 * cursor again from it.
 */
static void
cursor_follow(PrefetchCursor *cur, VaBlockMap *map, const BlockNumber *starts,
			  int end, BlockNumber blkno, int list)
{
	if (cur->count > 0 && cur->ring[cur->head] == blkno)
	{
		cur->head = (cur->head + 1) % PREFETCH_DEPTH;
		cur->count--;
		cursor_step(cur, map, starts, end);
	}
	else
		cursor_reset(cur, map, starts, end, blkno, list);
}

static IvfflatCentroidCache *centroid_cache(Relation index, const IvfflatMetaPageData *meta,
											IvfflatCodec *codec);

/*
 * Quantized scan: tell the codec that the rows of the i-th list to probe
 * come next, with that list's prepared data from the centroid cache, or,
 * when the centroids are not cached, prepared here from its centroid item.
 */
static void
begin_list(Relation index, IvfflatScanOpaque so, IvfflatCentroidCache *cache, int i)
{
	const char *data = so->listdata;

	if (cache != NULL)
		data = cache->listdata + (Size) so->listids[i] * cache->list_data_size;
	else if (so->codec.list_data_size > 0)
	{
		if (so->centroid == NULL)
			so->centroid = palloc(so->meta.vector_size);
		IvfflatReadCentroid(index, so->meta.vector_size, &so->centroid_tids[i], so->centroid);
		so->codec.methods->prepare_list(&so->codec, so->centroid, so->listdata);
	}
	so->codec.methods->begin_list(&so->codec, data, so->listdists[i]);
}

/*
 * Read the rows of list page blkno into so->rows (appended, not yet a
 * heap): each row's distance(query, item's vector), or 0 with
 * null_distance, and its heap TID.  The page is pinned through the block
 * map, share-locked while read and checked (page id); its map entry learns
 * the page's successor and bounds.  Returns the next page of the list
 * (InvalidBlockNumber at its tail).
 */
static BlockNumber
read_page(IvfflatScanOpaque so, Relation index, VaBlockMap *map,
		  BlockNumber blkno, float (*distance) (const void *a, const void *b),
		  const void *query)
{
	VaBlockMapEntry *entry = VaBlockMapEntryOf(map, index, blkno);
	Buffer		buf = VaBlockMapRead(map, entry, index, blkno);
	BlockNumber nextblkno;
	Page		page;
	OffsetNumber maxoff;
	IvfflatRow *out;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	VaCheckPage(index, buf, VA_PAGE_ID_IVFFLAT);
	page = BufferGetPage(buf);
	nextblkno = VaPageGetOpaque(page)->nextblkno;
	if (entry != NULL)
		entry->next = nextblkno;	/* InvalidBlockNumber: the tail */
	VaBlockMapNoteBounds(entry, page);

	maxoff = PageGetMaxOffsetNumber(page);
	rows_reserve(so, maxoff);
	out = so->rows + so->nrows;
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		IvfflatListTuple tup =
		(IvfflatListTuple) PageGetItem(page, PageGetItemId(page, off));

		out->distance = so->null_distance ? 0.0f : distance(query, tup->vector);
		out->id = VaTidToId(&tup->heaptid);
		out++;
	}
	so->nrows = out - so->rows;
	UnlockReleaseBuffer(buf);
	return nextblkno;
}

/*
 * Read the next count lists (in centroid order) whole: every row's distance
 * to the query (0 with null_distance) and heap TID go into so->rows, which
 * is a min-heap again at the end.  Pages are pinned through the index's
 * block map (no buffer-mapping lookup when the buffer still holds the page)
 * and the pages predicted next are prefetched (see PrefetchCursor), so
 * their memory loads overlap the distance computations.  Each page is
 * share-locked while its rows are read and checked once (page id).
 */
static void
probe(IndexScanDesc scan, int count)
{
	IvfflatScanOpaque so = (IvfflatScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	const VaIndexOps *ops = so->base.ops;
	int			end = Min(so->nextlist + count, so->maxlists);
	VaBlockMap *map;
	PrefetchCursor cur;
	BlockNumber blkno;
	float		(*distance) (const void *a, const void *b) = ops->distance;
	const void *query = so->query;
	IvfflatCentroidCache *cache = NULL;

	if (so->nextlist >= end)
		return;
	if (so->estimating)
	{
		/* codes: the codec's lower bound, called as the opclass distance is */
		distance = so->codec.methods->lower_bound;
		query = &so->codec;
		if (so->cached)
			cache = centroid_cache(index, &so->meta, &so->codec);
		begin_list(index, so, cache, so->nextlist);
	}
	map = VaBlockMapGet(index);
	blkno = so->starts[so->nextlist];
	cursor_reset(&cur, map, so->starts, end, blkno, so->nextlist);
	while (blkno != InvalidBlockNumber)
	{
		BlockNumber nextblkno;

		CHECK_FOR_INTERRUPTS();
		nextblkno = read_page(so, index, map, blkno, distance, query);
		if (nextblkno == InvalidBlockNumber && ++so->nextlist < end)
		{
			nextblkno = so->starts[so->nextlist];
			if (so->estimating)
				begin_list(index, so, cache, so->nextlist);
		}
		blkno = nextblkno;
		if (blkno == InvalidBlockNumber)
			break;
		cursor_follow(&cur, map, so->starts, end, blkno, so->nextlist);
	}
	so->nextlist = end;
	rows_heapify(so->rows, so->nrows);
}

/* IvfflatCentroidVisitor: copy centroid i into the cache. */
static void
cache_centroid(void *arg, int i, const IvfflatListRef *list, const char *centroid)
{
	IvfflatCentroidCache *cache = (IvfflatCentroidCache *) arg;

	cache->startpages[i] = list->startpage;
	memcpy(cache->centroids + (Size) i * cache->stride, centroid, cache->vector_size);
}

/*
 * The centroid cache of index for meta (see IvfflatCentroidCache), built
 * from the centroid pages if it is missing or stale; NULL when the
 * centroids are too large to cache.  codec: a quantized index's codec (set
 * up), whose prepared data of every list the cache holds too; NULL for
 * none.
 */
static IvfflatCentroidCache *
centroid_cache(Relation index, const IvfflatMetaPageData *meta, IvfflatCodec *codec)
{
	IvfflatCentroidCache *cache = (IvfflatCentroidCache *) index->rd_amcache;
	Size		stride = MAXALIGN(meta->vector_size);
	Size		ldsize = codec ? MAXALIGN(codec->list_data_size) : 0;
	uint32		n;
	char	   *mem;

	if (cache != NULL && RelFileNodeEquals(cache->node, index->rd_node) &&
		cache->nlists == meta->nlists && cache->dimensions == meta->dimensions &&
		cache->vector_size == meta->vector_size &&
		cache->quantization == meta->quantization && cache->list_data_size == ldsize)
		return cache;
	if (cache != NULL)
	{
		index->rd_amcache = NULL;
		pfree(cache);
	}
	if ((Size) meta->nlists * (stride + ldsize) > CENTROID_CACHE_MAX)
		return NULL;

	mem = MemoryContextAllocHuge(index->rd_indexcxt,
								 MAXALIGN(sizeof(IvfflatCentroidCache)) +
								 MAXALIGN(sizeof(BlockNumber) * meta->nlists) +
								 (stride + ldsize) * meta->nlists);
	cache = (IvfflatCentroidCache *) mem;
	cache->startpages = (BlockNumber *) (mem + MAXALIGN(sizeof(IvfflatCentroidCache)));
	cache->centroids = mem + MAXALIGN(sizeof(IvfflatCentroidCache)) +
		MAXALIGN(sizeof(BlockNumber) * meta->nlists);
	cache->listdata = cache->centroids + stride * meta->nlists;
	cache->vector_size = meta->vector_size;
	cache->stride = stride;
	n = IvfflatForEachCentroid(index, meta->vector_size, meta->nlists, cache_centroid, cache);
	if (n != meta->nlists)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has %u centroids where its metapage says %u",
						RelationGetRelationName(index), n, meta->nlists),
				 errhint("Please REINDEX it.")));
	cache->node = index->rd_node;
	cache->nlists = meta->nlists;
	cache->dimensions = meta->dimensions;
	cache->vector_size = meta->vector_size;
	cache->stride = stride;
	cache->quantization = meta->quantization;
	cache->list_data_size = ldsize;
	if (ldsize > 0)
		for (uint32 i = 0; i < n; i++)
			codec->methods->prepare_list(codec, cache->centroids + (Size) i * stride,
										 cache->listdata + (Size) i * ldsize);
	index->rd_amcache = cache;
	return cache;
}

/*
 * Quantized index: set the scan's codec up for the index (metapage meta)
 * and, when the query has a distance, begin the scan's estimates and
 * re-ranking.
 */
static void
start_codec(IvfflatScanOpaque so, const IvfflatMetaPageData *meta)
{
	IvfflatCodecSetup(&so->codec, meta->dimensions);
	so->listdata = palloc(Max(so->codec.list_data_size, 1));
	so->estimating = !so->null_distance;
	if (so->estimating)
	{
		so->codec.methods->begin_scan(&so->codec, so->query);
		so->least = ivfflat_rerank_candidates;
		VaRerankInit(&so->rr);
	}
}

/*
 * Every list's first page (startpages) and the query's distance to its
 * centroid (order: distance and list number; 0 with null_distance), from
 * the backend's centroid cache or else from the centroid pages, where an
 * estimating scan also learns each centroid's item (*ctids, else NULL).
 * Returns the number of lists.
 */
static int
rank_lists(IvfflatScanOpaque so, Relation index, const IvfflatMetaPageData *meta,
		   BlockNumber *startpages, IvfflatRow *order, ItemPointerData **ctids)
{
	IvfflatCentroidCache *cache;
	IvfflatListRef *refs;
	float	   *dists;
	int			n = meta->nlists;

	*ctids = NULL;
	cache = centroid_cache(index, meta, so->quantized ? &so->codec : NULL);
	so->cached = cache != NULL;
	if (cache != NULL)
	{
		for (int i = 0; i < n; i++)
		{
			startpages[i] = cache->startpages[i];
			order[i].distance = so->null_distance ? 0.0f :
				so->base.ops->distance(so->query, cache->centroids + i * cache->stride);
			order[i].id = i;
		}
		return n;
	}

	refs = palloc(sizeof(IvfflatListRef) * n);
	dists = palloc(sizeof(float) * n);
	n = IvfflatReadLists(index, meta->vector_size, so->base.ops, so->query, refs, dists, n);
	if (so->estimating)
		*ctids = palloc(sizeof(ItemPointerData) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		startpages[i] = refs[i].startpage;
		order[i].distance = so->null_distance ? 0.0f : dists[i];
		order[i].id = i;
		if (*ctids != NULL)
			(*ctids)[i] = refs[i].centroid;
	}
	pfree(refs);
	pfree(dists);
	return n;
}

/*
 * The scan's lists, the so->maxlists nearest of the n in order (nearest
 * first; ties: the earlier list): their first pages into so->starts and,
 * for an estimating scan, their numbers, centroid distances and (with
 * ctids) centroid items.  order is consumed.
 */
static void
choose_lists(IvfflatScanOpaque so, IvfflatRow *order, int n,
			 const BlockNumber *startpages, const ItemPointerData *ctids)
{
	int			most = Max(so->maxlists, 1);

	so->starts = palloc(sizeof(BlockNumber) * most);
	if (so->estimating)
	{
		so->listids = palloc(sizeof(int) * most);
		so->listdists = palloc(sizeof(float) * most);
		if (ctids != NULL)
			so->centroid_tids = palloc(sizeof(ItemPointerData) * most);
	}
	rows_heapify(order, n);
	for (int i = 0, left = n; i < so->maxlists; i++)
	{
		so->starts[i] = startpages[order[0].id];
		if (so->estimating)
		{
			so->listids[i] = (int) order[0].id;
			so->listdists[i] = order[0].distance;
			if (ctids != NULL)
				so->centroid_tids[i] = ctids[order[0].id];
		}
		order[0] = order[--left];
		rows_sift_down(order, left, 0);
	}
}

/* First call: rank the lists by centroid distance and probe the first batch. */
static void
start(IndexScanDesc scan)
{
	IvfflatScanOpaque so = (IvfflatScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	IvfflatMetaPageData meta;
	BlockNumber *startpages;
	ItemPointerData *ctids;
	IvfflatRow *order;
	int			n;

	IvfflatReadMeta(index, &meta);
	if (meta.nlists == 0)
		return;

	so->query = VaScanQuery(scan, meta.dimensions);
	so->null_distance = so->query == NULL;
	so->meta = meta;
	so->quantized = IvfflatCodecInit(&so->codec, index, so->base.ops, &meta);
	if (so->quantized)
		start_codec(so, &meta);

	startpages = palloc(sizeof(BlockNumber) * meta.nlists);
	order = palloc(sizeof(IvfflatRow) * meta.nlists);
	n = rank_lists(so, index, &meta, startpages, order, &ctids);

	if (so->null_distance)
	{
		/* every distance is undefined: return every row, list by list */
		so->starts = startpages;
		so->maxlists = so->batch = n;
		probe(scan, n);
		return;
	}

	so->batch = Min(ivfflat_probes, n);
	so->maxlists = so->batch;
	if (ivfflat_iterative_scan != IVFFLAT_ITERATIVE_SCAN_OFF)
		so->maxlists = Max(so->batch, Min(ivfflat_max_probes, n));
	choose_lists(so, order, n, startpages, ctids);
	pfree(order);
	pfree(startpages);
	probe(scan, so->batch);
}

/*
 * Quantized index: re-rank the probed row not yet re-ranked that comes
 * first (least bound): its exact distance from its heap
 * row into so->rr, unless the scan's snapshot does not see the row or its
 * value is NULL, not indexable or of other dimensions.
 */
static void
rerank_next(IndexScanDesc scan, IvfflatScanOpaque so)
{
	IvfflatRow	c = so->rows[0];
	ItemPointerData tid;
	float		distance;
	VaHeapValues *hv = VaScanHeapValues(scan, &so->heap_values, &so->reading, "ivfflat");

	so->rows[0] = so->rows[--so->nrows];
	rows_sift_down(so->rows, so->nrows, 0);
	VaIdToTid(c.id, &tid);
	if (VaHeapDistance(hv, &tid, scan->xs_snapshot,
					   so->query, so->meta.dimensions, &distance))
		VaRerankAdd(&so->rr, c.id, distance);
	VaRerankCounted(&so->rr);
}

/*
 * Whether the nearest re-ranked row may be returned: once the round's rows
 * are all re-ranked; before, when at least ivfflat.rerank_candidates rows
 * of the round are re-ranked and no row left can be nearer
 * (common/rerank.c).
 */
static bool
row_settled(IvfflatScanOpaque so)
{
	if (!VaRerankHasRows(&so->rr))
		return false;
	if (so->nrows == 0)
		return true;
	return VaRerankSettled(&so->rr, so->least, so->rows[0].distance);
}

/* amgettuple of a quantized index with a query (see the top of the file). */
static bool
gettuple_reranked(IndexScanDesc scan, IvfflatScanOpaque so)
{
	for (;;)
	{
		while (!row_settled(so) && so->nrows > 0)
		{
			CHECK_FOR_INTERRUPTS();
			rerank_next(scan, so);
		}
		/* no heap buffer stays pinned between calls */
		if (so->reading)
			VaHeapValuesRelease(&so->heap_values);
		if (VaRerankHasRows(&so->rr))
		{
			VaCandidate row = VaRerankPop(&so->rr);
			ItemPointerData tid;

			VaIdToTid(row.id, &tid);
			VaScanReturn(scan, &tid, row.distance, false);
			return true;
		}
		/* the round is re-ranked and returned: probe on, if the scan may */
		if (so->nextlist >= so->maxlists)
			return false;
		CHECK_FOR_INTERRUPTS();
		probe(scan, so->batch);
		VaRerankRestart(&so->rr);
	}
}

/*
 * amgettuple: the next heap TID in distance order (forward scans only).
 */
bool
ivfflatgettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfflatScanOpaque so = (IvfflatScanOpaque) scan->opaque;
	IvfflatRow	c;
	ItemPointerData tid;

	if (!so->started)
	{
		MemoryContext old = MemoryContextSwitchTo(so->base.ctx);

		VaPrepareIndexOnly(scan);
		start(scan);
		MemoryContextSwitchTo(old);
		so->started = true;
		pgstat_count_index_scan(scan->indexRelation);
	}
	if (so->estimating)
	{
		MemoryContext old = MemoryContextSwitchTo(so->base.ctx);
		bool		found = gettuple_reranked(scan, so);

		MemoryContextSwitchTo(old);
		return found;
	}

	while (so->nrows == 0)
	{
		MemoryContext old;

		if (so->nextlist >= so->maxlists)
			return false;
		old = MemoryContextSwitchTo(so->base.ctx);
		probe(scan, so->batch);
		MemoryContextSwitchTo(old);
	}

	c = so->rows[0];
	so->rows[0] = so->rows[--so->nrows];
	rows_sift_down(so->rows, so->nrows, 0);
	VaIdToTid(c.id, &tid);
	VaScanReturn(scan, &tid, c.distance, so->null_distance);
	return true;
}

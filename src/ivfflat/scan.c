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
 *	  lists in all.  No buffer pin or lock is held between calls.
 */
#include "ivfflat/ivfflat.h"

#include "access/relscan.h"
#include "common/am.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"

typedef struct IvfflatScanOpaqueData
{
	VaScanBase	base;			/* ops; ctx: per-rescan allocations */
	bool		started;
	bool		null_distance;	/* query NULL or not indexable: any order */
	const void *query;			/* stored form; NULL with null_distance */
	IvfflatListRef *lists;		/* nearest centroid first */
	int			nextlist;		/* next list to probe */
	int			maxlists;		/* lists this scan may probe in all */
	int			batch;			/* lists per probe round */
	VaHeap		rows;			/* min-heap: (distance, heap TID) of probed
								 * rows */
} IvfflatScanOpaqueData;

typedef IvfflatScanOpaqueData *IvfflatScanOpaque;

/* VaScanResetFn: a new search starts with the nearest list. */
static void
reset_scan(void *opaque)
{
	IvfflatScanOpaque so = (IvfflatScanOpaque) opaque;

	so->started = false;
	so->null_distance = false;
	so->query = NULL;
	so->lists = NULL;
	so->nextlist = so->maxlists = so->batch = 0;
	memset(&so->rows, 0, sizeof(VaHeap));
}

IndexScanDesc
ivfflatbeginscan(Relation index, int nkeys, int norderbys)
{
	return VaBeginScan(index, nkeys, norderbys, sizeof(IvfflatScanOpaqueData),
					   IvfflatGetIndexOps(index), "ivfflat scan", reset_scan);
}

/* Ask the CPU to load a pinned page while the current one is being read. */
static inline void
prefetch_page(Page page)
{
	for (Size off = 0; off < BLCKSZ; off += 64)
		VaPrefetch((char *) page + off);
}

/*
 * Read the next count lists (in centroid order) whole: every row's distance
 * to the query (0 with null_distance) goes into the rows heap.  The page
 * read next (the same list's next page, or the next list's first) is pinned
 * and prefetched before the current one is read, so its memory loads
 * overlap the distance computations.
 */
static void
probe(IndexScanDesc scan, int count)
{
	IvfflatScanOpaque so = (IvfflatScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	int			end = Min(so->nextlist + count, so->maxlists);
	Buffer		buf;

	if (so->nextlist >= end)
		return;
	buf = ReadBuffer(index, so->lists[so->nextlist].startpage);
	while (BufferIsValid(buf))
	{
		Buffer		next = InvalidBuffer;
		BlockNumber nextblkno;
		Page		page;
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		VaCheckPage(index, buf, VA_PAGE_ID_IVFFLAT);
		page = BufferGetPage(buf);

		nextblkno = VaPageGetOpaque(page)->nextblkno;
		if (nextblkno == InvalidBlockNumber && ++so->nextlist < end)
			nextblkno = so->lists[so->nextlist].startpage;
		if (nextblkno != InvalidBlockNumber)
		{
			next = ReadBuffer(index, nextblkno);
			prefetch_page(BufferGetPage(next));
		}

		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			IvfflatListTuple tup =
			(IvfflatListTuple) PageGetItem(page, PageGetItemId(page, off));
			VaCandidate c;

			c.distance = so->null_distance ? 0.0f :
				so->base.ops->distance(so->query, tup->vector);
			c.flags = 0;
			c.id = VaTidToId(&tup->heaptid);
			c.aux = 0;
			VaHeapPush(&so->rows, &c);
		}
		UnlockReleaseBuffer(buf);
		buf = next;
	}
}

/* First call: rank the lists by centroid distance and probe the first batch. */
static void
start(IndexScanDesc scan)
{
	IvfflatScanOpaque so = (IvfflatScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	IvfflatMetaPageData meta;
	IvfflatListRef *refs;
	float	   *dists;
	VaHeap		order;
	int			n;

	VaHeapInit(&so->rows, 1024, false);
	IvfflatReadMeta(index, &meta);
	if (meta.nlists == 0)
		return;

	if (scan->orderByData == NULL || (scan->orderByData[0].sk_flags & SK_ISNULL))
		so->null_distance = true;
	else
	{
		Datum		value = PointerGetDatum(PG_DETOAST_DATUM(scan->orderByData[0].sk_argument));
		void	   *query = palloc(so->base.ops->stored_size(value));

		if (!so->base.ops->to_stored(value, query))
			so->null_distance = true;	/* e.g. a zero vector under cosine */
		else if (so->base.ops->dims(query) != meta.dimensions)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("different vector dimensions %d and %d",
							meta.dimensions, so->base.ops->dims(query))));
		else
			so->query = query;
	}

	refs = palloc(sizeof(IvfflatListRef) * meta.nlists);
	dists = palloc(sizeof(float) * meta.nlists);
	n = IvfflatReadLists(index, so->base.ops, so->query, refs, dists, meta.nlists);

	if (so->null_distance)
	{
		/* every distance is undefined: return every row, list by list */
		so->lists = refs;
		so->maxlists = so->batch = n;
		probe(scan, n);
		return;
	}

	/* lists nearest first */
	so->lists = palloc(sizeof(IvfflatListRef) * Max(n, 1));
	VaHeapInit(&order, n, false);
	for (int i = 0; i < n; i++)
	{
		VaCandidate c = {.distance = dists[i],.flags = 0,.id = (uint64) i,.aux = 0};

		VaHeapPush(&order, &c);
	}
	for (int i = 0; i < n; i++)
		so->lists[i] = refs[VaHeapPop(&order).id];
	so->batch = Min(ivfflat_probes, n);
	so->maxlists = so->batch;
	if (ivfflat_iterative_scan != IVFFLAT_ITERATIVE_SCAN_OFF)
		so->maxlists = Max(so->batch, Min(ivfflat_max_probes, n));
	probe(scan, so->batch);
}

/*
 * amgettuple: the next heap TID in distance order (forward scans only).
 */
bool
ivfflatgettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfflatScanOpaque so = (IvfflatScanOpaque) scan->opaque;
	VaCandidate c;

	if (!so->started)
	{
		MemoryContext old = MemoryContextSwitchTo(so->base.ctx);

		VaPrepareIndexOnly(scan);
		start(scan);
		MemoryContextSwitchTo(old);
		so->started = true;
		pgstat_count_index_scan(scan->indexRelation);
	}

	while (so->rows.count == 0)
	{
		MemoryContext old;

		if (so->nextlist >= so->maxlists)
			return false;
		old = MemoryContextSwitchTo(so->base.ctx);
		probe(scan, so->batch);
		MemoryContextSwitchTo(old);
	}

	c = VaHeapPop(&so->rows);
	VaIdToTid(c.id, &scan->xs_heaptid);
	scan->xs_recheck = false;
	scan->xs_recheckorderby = false;
	if (scan->numberOfOrderBys > 0)
	{
		scan->xs_orderbynulls[0] = so->null_distance;
		scan->xs_orderbyvals[0] = so->null_distance ? (Datum) 0 :
			Float8GetDatum(so->base.ops->to_sql(c.distance));
	}
	return true;
}

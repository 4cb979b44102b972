/*
 * scan.c
 *	  Ordered HNSW index scans (ORDER BY column <op> query): on the first
 *	  amgettuple the graph is searched (Malkov & Yashunin 2018, Algorithm 5,
 *	  with ef = hnsw.ef_search) and the results are then returned nearest
 *	  first, with xs_orderbyvals set to the operator's value so the executor
 *	  need not recompute it.  Deleted elements guide the search but are never
 *	  returned.  No buffer pin or lock is held between calls.
 */
#include "hnsw/hnsw.h"

#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/float.h"
#include "utils/memutils.h"

typedef struct HnswScanOpaqueData
{
	const VaIndexOps *ops;
	MemoryContext ctx;			/* per-rescan allocations */
	bool		searched;
	bool		null_distance;	/* query NULL or not indexable: any order */
	VaCandidate *results;		/* nearest first */
	int			nresults;
	int			next;
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0(sizeof(HnswScanOpaqueData));

	so->ops = HnswGetIndexOps(index);
	/* the AM owns the order-by value arrays */
	scan->xs_orderbyvals = palloc0(sizeof(Datum) * Max(norderbys, 1));
	scan->xs_orderbynulls = palloc(sizeof(bool) * Max(norderbys, 1));
	memset(scan->xs_orderbynulls, true, sizeof(bool) * Max(norderbys, 1));
	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw scan",
									ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	return scan;
}

void
hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys,
		   ScanKey orderbys, int norderbys)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	MemoryContextReset(so->ctx);
	so->searched = false;
	so->results = NULL;
	so->nresults = so->next = 0;
}

/* Every live element, in index order: for a query with no distance. */
static void
collect_all(Relation index, HnswScanOpaque so)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	int			cap = 1024;

	so->results = palloc(sizeof(VaCandidate) * cap);
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
			VaCandidate *c;

			if (tup->flags & HNSW_ELEMENT_DELETED)
				continue;
			if (so->nresults == cap)
			{
				cap *= 2;
				so->results = repalloc_huge(so->results, sizeof(VaCandidate) * cap);
			}
			c = &so->results[so->nresults++];
			c->distance = 0;
			c->flags = 0;
			c->aux = HnswTidToId(&tup->heaptid);
			c->id = 0;
		}
		UnlockReleaseBuffer(buf);
	}
}

static void
search(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	HnswMetaPageData meta;
	Datum		value;
	void	   *query;
	HnswDiskGraph dg;
	VaHeap		result;
	VaCandidate ep;
	int			ef = hnsw_ef_search;

	HnswReadMeta(index, &meta);
	if (!ItemPointerIsValid(&meta.entry_point))
		return;

	if (scan->orderByData == NULL || (scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		so->null_distance = true;
		collect_all(index, so);
		return;
	}

	value = PointerGetDatum(PG_DETOAST_DATUM(scan->orderByData[0].sk_argument));
	query = palloc(so->ops->stored_size(value));
	if (!so->ops->to_stored(value, query))
	{
		/* e.g. a zero vector under cosine: every distance is undefined */
		so->null_distance = true;
		collect_all(index, so);
		return;
	}
	if (so->ops->dims(query) != meta.dimensions)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d",
						meta.dimensions, so->ops->dims(query))));

	HnswDiskGraphInit(&dg, index, so->ops, meta.m, meta.vector_size, ef);
	dg.query = query;
	VaHeapInit(&result, ef + 1, true);

	ep.id = HnswTidToId(&meta.entry_point);
	dg.graph.evaluate(&dg.graph, &ep);
	HnswGreedyDescend(&dg.graph, &ep, meta.entry_level, 0, &result);
	HnswSearchLayer(&dg.graph, &ep, 1, ef, 0, &result);

	so->results = palloc(sizeof(VaCandidate) * Max(result.count, 1));
	so->nresults = VaHeapDrainSorted(&result, so->results);
}

/*
 * amgettuple: the next heap TID in distance order (forward scans only).
 */
bool
hnswgettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	if (!so->searched)
	{
		MemoryContext old = MemoryContextSwitchTo(so->ctx);

		search(scan);
		MemoryContextSwitchTo(old);
		so->searched = true;
		pgstat_count_index_scan(scan->indexRelation);
	}

	while (so->next < so->nresults)
	{
		VaCandidate *c = &so->results[so->next++];

		if (c->flags & HNSW_CANDIDATE_DELETED)
			continue;
		HnswIdToTid(c->aux, &scan->xs_heaptid);
		if (!ItemPointerIsValid(&scan->xs_heaptid))
			continue;
		scan->xs_recheck = false;
		scan->xs_recheckorderby = false;
		if (scan->numberOfOrderBys > 0)
		{
			scan->xs_orderbynulls[0] = so->null_distance;
			scan->xs_orderbyvals[0] = so->null_distance ? (Datum) 0 :
				Float8GetDatum(so->ops->to_sql(c->distance));
		}
		return true;
	}
	return false;
}

void
hnswendscan(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}

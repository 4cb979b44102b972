/*
 * scan.c
 *	  Ordered HNSW index scans (ORDER BY column <op> query): on the first
 *	  amgettuple the graph is searched (Malkov & Yashunin 2018, Algorithm 5,
 *	  with ef = hnsw.ef_search) and the results are then returned nearest
 *	  first, with xs_orderbyvals set to the operator's value so the executor
 *	  need not recompute it.  With hnsw.iterative_scan on, running out of
 *	  results starts another search with twice the ef, returning only what
 *	  was not returned before, so filtered queries can fill their LIMIT
 *	  (strict_order: the far part of a batch waits for the next batch).
 *	  Deleted elements guide the search but are never returned.  An element's
 *	  duplicate chain (rows with the identical vector) is returned right
 *	  after it, at the same distance.
 *
 *	  In a quantized index (quantization = 'rabitq') the graph holds codes
 *	  and is searched with estimated distances.  Each candidate of a batch
 *	  then gets a lower bound on its true distance (the estimate less
 *	  RaBitQ's error bound, VaIndexOps.slack), and candidates are re-ranked
 *	  in order of their bounds: each row of one (the element's and its
 *	  duplicates') fetched from the heap through the scan's heap relation
 *	  and snapshot, its exact distance computed from the indexed value (the
 *	  index expression evaluated if the index has one).  A row is returned,
 *	  with its exact distance, once it is no further than the bound of every
 *	  candidate not yet re-ranked, and at least hnsw.rerank_candidates
 *	  candidates have been: the multi-step k-nearest-neighbour search of
 *	  Seidl & Kriegel, "Optimal multi-step k-nearest neighbor search",
 *	  SIGMOD 1998, with RaBitQ's estimates as the filter.  So rows come in
 *	  exact order, and no more rows are fetched than the order needs.  Rows
 *	  the snapshot does not see are skipped (the executor would skip them
 *	  too).
 *
 *	  No buffer pin or lock is held between calls.
 */
#include "hnsw/hnsw.h"

#include "access/relscan.h"
#include "common/am.h"
#include "common/heapvalue.h"
#include "common/rerank.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/float.h"
#include "utils/memutils.h"

/* A candidate of the current batch and the least distance it may have. */
typedef struct HnswBound
{
	float		lower;
	int			index;			/* into the batch's results */
} HnswBound;

typedef struct HnswScanOpaqueData
{
	VaScanBase	base;			/* ops; ctx: per-rescan allocations */
	bool		searched;
	bool		null_distance;	/* query NULL or not indexable: any order */
	VaCandidate *results;		/* current batch, nearest first */
	int			nresults;
	int			nready;			/* results[0 .. nready) may go before the
								 * next batch (strict order: see
								 * search_batch) */
	int			result_count;	/* what the batch's search found */
	HnswIdSet  *carried;		/* strict order: ids of a held-back rest */
	float		ready_limit;	/* quantized, strict order: rows further
								 * wait for the next batch */
	int			next;

	/* iterative scan: later batches search again with a doubled ef */
	int			iterative;		/* hnsw.iterative_scan when the scan began */
	int			ef;				/* ef of the current batch */
	bool		exhausted;		/* no further batch can find more */
	bool		batch_new;		/* current batch returned something new */
	HnswIdSet  *returned;		/* elements already returned */
	float		last_distance;	/* of the last row returned (strict order) */

	/* the duplicate chain of the element returned last, still to return */
	ItemPointerData *dups;
	int			ndups;
	int			nextdup;
	int			dupcap;
	float		dup_distance;
	HnswMetaPageData meta;
	HnswDiskGraph dg;
	VaHeap		result;
	int			layer1_ef;		/* hnsw.layer1_ef when the scan began */
	VaHeap		layer1;			/* its results, */
	VaCandidate *entries;		/* and layer 0's entries (layer1_ef + 1) */

	/* quantized index: the graph holds codes, rows are re-ranked */
	HnswQuant	hq;
	bool		quantized;
	const void *exact_query;	/* the query's stored form (opclass ops) */
	HnswBound  *bounds;			/* the batch's candidates to re-rank, */
	int			nbounds;		/* least bound first */
	int			nextbound;
	VaRerank	rr;				/* re-ranked rows not returned; candidates of
								 * the batch re-ranked */
	bool		reading;		/* heap_values begun */
	VaHeapValues heap_values;	/* the rows' values, for exact distances */
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

static void bound_batch(HnswScanOpaque so, bool first);

/* ambeginscan; the scan's release ends the heap access of re-ranking */
VA_DEFINE_AMBEGINSCAN(hnswbeginscan, HnswScanOpaqueData, HnswGetIndexOps, "hnsw scan")

/* HnswDuplicateFn: collect the heap TIDs of the live items of a chain. */
static void
collect_duplicate(void *arg, const ItemPointerData *tid,
				  const HnswDuplicateTupleData *dup)
{
	HnswScanOpaque so = (HnswScanOpaque) arg;

	if ((dup->flags & HNSW_ELEMENT_DELETED) || !ItemPointerIsValid(&dup->heaptid))
		return;
	if (so->ndups == so->dupcap)
	{
		so->dupcap = Max(so->dupcap * 2, 16);
		so->dups = so->dups ? repalloc_huge(so->dups, sizeof(ItemPointerData) * so->dupcap) :
			palloc(sizeof(ItemPointerData) * so->dupcap);
	}
	so->dups[so->ndups++] = dup->heaptid;
}

/*
 * Load the heap TIDs of element id's duplicate chain to be returned after
 * the element, at its distance.
 */
static void
load_duplicates(IndexScanDesc scan, HnswScanOpaque so, const VaCandidate *c)
{
	ItemPointerData owner;

	so->ndups = so->nextdup = 0;
	so->dup_distance = c->distance;
	VaIdToTid(c->id, &owner);
	HnswWalkDuplicates(scan->indexRelation, &owner, collect_duplicate, so);
}

/* Hand heap row tid at distance to the executor. */
static void
return_row(IndexScanDesc scan, HnswScanOpaque so, const ItemPointerData *tid,
		   float distance)
{
	so->last_distance = distance;
	VaScanReturn(scan, tid, distance, so->null_distance);
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
			c->aux = VaTidToId(&tup->heaptid);
			c->id = 0;
		}
		UnlockReleaseBuffer(buf);
	}
	so->nready = so->nresults;
}

/*
 * Whether candidate c may be returned as a row at all: not a deleted element
 * without duplicates (a deleted element may still carry live ones).
 */
static inline bool
candidate_has_rows(const VaCandidate *c)
{
	return !(c->flags & HNSW_CANDIDATE_DELETED) ||
		(c->flags & HNSW_CANDIDATE_DUPLICATES);
}

/*
 * Strict order, before a batch replaces the last one: the last batch's
 * held-back rest (results[nready ..)) not yet returned, into *carry (of
 * *ncarry, palloc'd; NULL if none).
 */
static void
held_back_rest(HnswScanOpaque so, VaCandidate **carry, int *ncarry)
{
	*carry = NULL;
	*ncarry = 0;
	if (so->results == NULL || so->nready >= so->nresults)
		return;
	*carry = palloc(sizeof(VaCandidate) * (so->nresults - so->nready));
	for (int i = Max(so->nready, so->next); i < so->nresults; i++)
	{
		VaCandidate *c = &so->results[i];

		if (candidate_has_rows(c) && !HnswIdSetContains(so->returned, c->id))
			(*carry)[(*ncarry)++] = *c;
	}
}

/*
 * Merge the carried rest (sorted by distance) into the new batch
 * so->results, leaving out the new batch's copies of carried elements.
 */
static void
merge_held_back(HnswScanOpaque so, VaCandidate *carry, int ncarry)
{
	VaCandidate *merged;
	int			i = 0,
				j = 0,
				n = 0;

	if (so->carried == NULL)
		so->carried = HnswIdSetCreate(ncarry * 2);
	else
		HnswIdSetReset(so->carried);
	for (int k = 0; k < ncarry; k++)
		HnswIdSetAdd(so->carried, carry[k].id);
	merged = palloc(sizeof(VaCandidate) * (so->nresults + ncarry));
	while (i < so->nresults || j < ncarry)
	{
		if (i < so->nresults && HnswIdSetContains(so->carried, so->results[i].id))
			i++;
		else if (j >= ncarry ||
				 (i < so->nresults && so->results[i].distance <= carry[j].distance))
			merged[n++] = so->results[i++];
		else
			merged[n++] = carry[j++];
	}
	pfree(so->results);
	so->results = merged;
	so->nresults = n;
}

/*
 * One search of layer 0 with so->ef: greedy descent from the entry point,
 * with hnsw.layer1_ef > 1 a SEARCH-LAYER of layer 1 with that ef, then
 * SEARCH-LAYER of layer 0 from what the step above it ended on (all of
 * layer 1's results); the results replace the current batch.
 *
 * Malkov & Yashunin 2018 descend greedily (ef = 1) to layer 0.  A query
 * between clusters of rows then starts layer 0 in one cluster, and layer 0
 * seldom leads out of it: with half of test/t/026's 50 clusters deleted,
 * queries whose nearest rows lie in the neighbouring clusters got recall@10
 * 0.514 at ef_search 40, 0.720 with layer1_ef 4 and 0.852 with 16 (queries
 * inside a cluster 1.000 throughout; Fashion-MNIST's recall +0.001 at 4).
 */
static void
search_batch(HnswScanOpaque so)
{
	VaCandidate *entries = so->entries;
	VaCandidate entry_point;
	int			nentries = 1;
	bool		first = so->results == NULL;
	VaCandidate *carry;
	int			ncarry;

	/*
	 * Each batch starts from the current entry point: between batches VACUUM
	 * may have moved it and freed the old one.
	 */
	HnswReadMeta(so->dg.index, &so->meta);
	if (!ItemPointerIsValid(&so->meta.entry_point))
	{
		so->nresults = so->nready = so->next = 0;
		so->batch_new = false;	/* an empty index: no later batch either */
		return;
	}
	held_back_rest(so, &carry, &ncarry);
	entries[0].id = VaTidToId(&so->meta.entry_point);
	so->dg.graph.evaluate(&so->dg.graph, &entries[0]);
	entry_point = entries[0];
	if (so->layer1_ef > 1 && so->meta.entry_level >= 1)
	{
		HnswDescend(&so->dg, &so->meta, &entries[0], 1);
		HnswSearchLayer(&so->dg.graph, entries, 1, so->layer1_ef, 1, &so->layer1);
		nentries = VaHeapDrainSorted(&so->layer1, entries);
	}
	else
		HnswDescend(&so->dg, &so->meta, &entries[0], 0);

	/*
	 * A batch after the first also starts from the entry point itself: layer
	 * 0 is a directed graph, and what the entry point reaches on it (which
	 * hnsw_check and VACUUM keep whole) need not all be reachable from where
	 * the descent ended, so a wide search from there alone could miss rows
	 * for good.
	 */
	if (!first)
	{
		bool		among = false;

		for (int i = 0; i < nentries; i++)
			among |= entries[i].id == entry_point.id;
		if (!among)
			entries[nentries++] = entry_point;
	}
	HnswSearchLayer(&so->dg.graph, entries, nentries, so->ef, 0, &so->result);

	if (so->results)
		pfree(so->results);
	so->results = palloc(sizeof(VaCandidate) * Max(so->result.count, 1));
	so->nresults = so->result_count = VaHeapDrainSorted(&so->result, so->results);
	so->next = 0;
	so->batch_new = false;

	/*
	 * Strict order returns only the nearer half of the first batch, and the
	 * nearest quarter of a later one (half of what the batch before it
	 * searched), before the next one is searched: a batch's far results are
	 * the least certain, and a row the next batch finds nearer than one
	 * returned would have to be dropped.  After a VACUUM, the filtered strict
	 * scans of 2026-12-05 22:05's data (one cluster's rows, LIMIT 10) found
	 * 0.79 / 0.83 of the right rows (whole clusters / random rows deleted)
	 * with halves and 0.92 / 0.93 with quarters (0.41 / 0.50 when each batch
	 * went out whole; a fresh graph 0.96 / 1.00 with halves); filters that
	 * keep 20 % of the rows cost one search more, about 35 % of the time.
	 * What is held back and the next batch does not find again is carried
	 * into it.  A search after the first that ends with fewer than ef
	 * results has seen all that the entry point reaches: no later batch can
	 * add to it, so it is all ready.
	 */
	if (ncarry > 0)
		merge_held_back(so, carry, ncarry);
	if (carry != NULL)
		pfree(carry);
	so->nready = so->nresults;
	if (so->iterative == HNSW_ITERATIVE_SCAN_STRICT && !so->exhausted &&
		!so->quantized && (first || so->result_count >= so->ef))
		so->nready = first ? (so->nresults + 1) / 2 : (so->nresults + 3) / 4;
}

/* Set up the scan and run the first batch (ef = hnsw.ef_search). */
static void
search_first(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	void	   *query;

	so->exhausted = true;
	HnswReadMeta(index, &so->meta);
	if (!ItemPointerIsValid(&so->meta.entry_point))
		return;

	query = VaScanQuery(scan, so->meta.dimensions);
	if (query == NULL)
	{
		/* a NULL or not indexable query: every distance is undefined */
		so->null_distance = true;
		collect_all(index, so);
		return;
	}

	so->ef = hnsw_ef_search;
	so->iterative = hnsw_iterative_scan;
	so->exhausted = so->iterative == HNSW_ITERATIVE_SCAN_OFF;
	so->last_distance = -get_float4_infinity();
	if (so->iterative != HNSW_ITERATIVE_SCAN_OFF)
		so->returned = HnswIdSetCreate(so->ef * 2);
	HnswQuantInit(&so->hq, index, &so->meta);
	so->quantized = so->hq.quantization != HNSW_QUANTIZATION_NONE;
	so->exact_query = query;
	HnswDiskGraphInit(&so->dg, index, so->hq.graph_ops, so->meta.m, so->ef);
	so->dg.query = HnswQuantQuery(&so->hq, query, so->meta.dimensions);
	if (so->quantized)
	{
		/* an evaluation reads the element's header and its whole code */
		so->dg.prefetch = Min(BLCKSZ / 2, offsetof(HnswElementTupleData, data) +
							  HnswQuantElementSize(&so->hq, so->meta.dimensions, 0));
	}
	VaHeapInit(&so->result, so->ef + 1, true);
	so->layer1_ef = hnsw_layer1_ef;
	VaHeapInit(&so->layer1, so->layer1_ef + 1, true);
	so->entries = palloc(sizeof(VaCandidate) * (so->layer1_ef + 1));
	search_batch(so);
	if (so->quantized)
	{
		VaRerankInit(&so->rr);
		bound_batch(so, true);
	}
}

/*
 * Iterative scan: search again with twice the ef, unless that would pass
 * hnsw.max_scan_tuples, the scan's memory passes work_mem *
 * hnsw.scan_mem_multiplier, or the last batch found nothing new (its
 * held-back part included).  Returns
 * whether a new batch was loaded.
 */
static bool
search_next(HnswScanOpaque so)
{
	double		mem_limit = (double) work_mem * 1024.0 * hnsw_scan_mem_multiplier;

	if (so->exhausted || !so->batch_new || so->ef >= hnsw_max_scan_tuples ||
		(double) MemoryContextMemAllocated(so->base.ctx, true) > mem_limit)
	{
		so->exhausted = true;
		return false;
	}
	so->ef = (int) Min((int64) so->ef * 2, (int64) hnsw_max_scan_tuples);
	search_batch(so);
	return true;
}

/*
 * The exact distance from the query to heap row tid, into *distance; false
 * when the scan's snapshot does not see the row or its indexed value is
 * NULL or not indexable.
 */
static bool
exact_distance(IndexScanDesc scan, HnswScanOpaque so, const ItemPointerData *tid,
			   float *distance)
{
	return VaHeapDistance(&so->heap_values, tid, scan->xs_snapshot,
						  so->exact_query, so->meta.dimensions, distance);
}

/*
 * Whether candidate c of the current batch is one to return: not a deleted
 * element without duplicates (a deleted element may still carry live
 * ones), and, in an iterative scan, not returned by an earlier batch (it is
 * marked returned here).
 */
static bool
take_candidate(HnswScanOpaque so, const VaCandidate *c)
{
	if (!candidate_has_rows(c))
		return false;
	if (so->returned != NULL)
	{
		if (!HnswIdSetAdd(so->returned, c->id))
			return false;
		so->batch_new = true;
	}
	return true;
}

/* Re-ranking: add heap row tid with its exact distance to so->rr. */
static void
add_row(IndexScanDesc scan, HnswScanOpaque so, const ItemPointerData *tid)
{
	float		distance;

	if (!exact_distance(scan, so, tid, &distance))
		return;
	if (so->iterative == HNSW_ITERATIVE_SCAN_STRICT && distance < so->last_distance)
		return;
	VaRerankAdd(&so->rr, VaTidToId(tid), distance);
}

/* qsort comparator of bounds: least first, then batch order. */
static int
bound_cmp(const void *a, const void *b)
{
	const HnswBound *ba = (const HnswBound *) a;
	const HnswBound *bb = (const HnswBound *) b;

	if (ba->lower != bb->lower)
		return ba->lower < bb->lower ? -1 : 1;
	return ba->index - bb->index;
}

/*
 * Quantized index, after each batch: the lower bounds of the batch's
 * candidates to return (take_candidate), least first, into so->bounds.
 */
static void
bound_batch(HnswScanOpaque so, bool first)
{
	if (so->bounds != NULL)
		pfree(so->bounds);
	so->bounds = palloc(sizeof(HnswBound) * Max(so->nresults, 1));
	so->nbounds = so->nextbound = 0;
	VaRerankRestart(&so->rr);
	for (int i = 0; i < so->nresults; i++)
	{
		VaCandidate *c = &so->results[i];

		CHECK_FOR_INTERRUPTS();
		if (!take_candidate(so, c))
			continue;
		so->bounds[so->nbounds].lower = HnswDiskGraphLowerBound(&so->dg, c);
		so->bounds[so->nbounds].index = i;
		so->nbounds++;
	}
	qsort(so->bounds, so->nbounds, sizeof(HnswBound), bound_cmp);
	so->next = so->nresults;

	/*
	 * Strict order, a later batch that did not see all there is: only rows
	 * no further than its nearest quarter's estimates go before the next
	 * batch, as search_batch does for an unquantized index.
	 */
	so->ready_limit = get_float4_infinity();
	if (so->iterative == HNSW_ITERATIVE_SCAN_STRICT && !first &&
		so->result_count >= so->ef && so->nresults > 0)
		so->ready_limit = so->results[(so->nresults + 3) / 4 - 1].distance;
}

/* Re-rank the batch's candidate c: its rows into so->rr. */
static void
rerank_candidate(IndexScanDesc scan, HnswScanOpaque so, const VaCandidate *c)
{
	ItemPointerData heaptid;

	VaScanHeapValues(scan, &so->heap_values, &so->reading, "hnsw");
	VaIdToTid(c->aux, &heaptid);
	if (!(c->flags & HNSW_CANDIDATE_DELETED) && ItemPointerIsValid(&heaptid))
		add_row(scan, so, &heaptid);
	if (c->flags & HNSW_CANDIDATE_DUPLICATES)
	{
		load_duplicates(scan, so, c);
		for (int i = 0; i < so->ndups; i++)
			add_row(scan, so, &so->dups[i]);
		so->ndups = so->nextdup = 0;
	}
	VaRerankCounted(&so->rr);
}

/*
 * Whether the nearest re-ranked row may be returned: at least
 * hnsw.rerank_candidates candidates of the batch are re-ranked, and no
 * candidate left may be nearer (see the top of the file).  Under
 * hnsw.iterative_scan = strict_order a row also waits, once its batch is
 * re-ranked, for the next batch's candidates: a search on estimates can
 * find a nearer row only in a later batch, and strict order would have to
 * drop it (under a filter keeping 0.5 % of rows, 6 of 20 LIMIT 10 queries
 * lost rows so: sql/hnsw_iterative_filter.sql).  And in a later batch a row
 * goes only if no further than the estimate of the batch's nearest quarter
 * (so->ready_limit; search_batch holds back the same share of an
 * unquantized batch): filtered strict scans of test/t/026's data after a
 * whole-cluster delete found 0.824 of the right rows without that limit and
 * 0.972 with it, at about twice the time under a filter keeping 20 %.
 */
static bool
row_settled(HnswScanOpaque so)
{
	if (!VaRerankHasRows(&so->rr))
		return false;
	if (!so->exhausted && VaHeapTop(&so->rr.rows)->distance > so->ready_limit)
		return false;
	if (so->nextbound >= so->nbounds)
		return so->iterative != HNSW_ITERATIVE_SCAN_STRICT || so->exhausted;
	return VaRerankSettled(&so->rr, hnsw_rerank_candidates,
						   so->bounds[so->nextbound].lower);
}

/* amgettuple of a quantized index (see the top of the file). */
static bool
gettuple_reranked(IndexScanDesc scan, HnswScanOpaque so)
{
	for (;;)
	{
		while (!row_settled(so) && so->nextbound < so->nbounds)
		{
			CHECK_FOR_INTERRUPTS();
			/* start the cache misses of the next candidate's row */
			if (so->nextbound + 1 < so->nbounds && so->reading)
			{
				ItemPointerData next;

				VaIdToTid(so->results[so->bounds[so->nextbound + 1].index].aux, &next);
				VaHeapValuesPrefetch(&so->heap_values, &next);
			}
			rerank_candidate(scan, so,
							 &so->results[so->bounds[so->nextbound++].index]);
		}
		/* no heap buffer stays pinned between calls */
		if (so->reading)
			VaHeapValuesRelease(&so->heap_values);
		if (row_settled(so))
		{
			VaCandidate row = VaRerankPop(&so->rr);
			ItemPointerData tid;

			VaIdToTid(row.id, &tid);
			return_row(scan, so, &tid, row.distance);
			return true;
		}
		/* the batch is re-ranked: search on, if the scan may */
		CHECK_FOR_INTERRUPTS();
		if (search_next(so))
			bound_batch(so, false);
		else if (!VaRerankHasRows(&so->rr))
			return false;
	}
}

/*
 * amgettuple: the next heap TID in distance order (forward scans only).
 * With hnsw.iterative_scan off, at most hnsw.ef_search rows; otherwise
 * batches with growing ef follow, each returning only elements not
 * returned before (strict_order: only those not nearer than the last row
 * returned).
 */
bool
hnswgettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->base.ctx);

	if (!so->searched)
	{
		VaPrepareIndexOnly(scan);
		search_first(scan);
		so->searched = true;
		pgstat_count_index_scan(scan->indexRelation);
	}
	if (so->quantized && !so->null_distance)
	{
		bool		found = gettuple_reranked(scan, so);

		MemoryContextSwitchTo(old);
		return found;
	}

	for (;;)
	{
		/* rows with the same vector as the element returned last */
		if (so->nextdup < so->ndups)
		{
			return_row(scan, so, &so->dups[so->nextdup++], so->dup_distance);
			MemoryContextSwitchTo(old);
			return true;
		}
		while (so->next < so->nready)
		{
			VaCandidate *c = &so->results[so->next++];
			ItemPointerData heaptid;

			/* a batch of millions may all be skipped below */
			CHECK_FOR_INTERRUPTS();
			if (!take_candidate(so, c))
				continue;
			if (so->returned != NULL &&
				so->iterative == HNSW_ITERATIVE_SCAN_STRICT &&
				c->distance < so->last_distance)
				continue;
			if (c->flags & HNSW_CANDIDATE_DUPLICATES)
				load_duplicates(scan, so, c);
			VaIdToTid(c->aux, &heaptid);
			if ((c->flags & HNSW_CANDIDATE_DELETED) || !ItemPointerIsValid(&heaptid))
			{
				if (so->nextdup >= so->ndups)
					continue;
				heaptid = so->dups[so->nextdup++];
			}
			return_row(scan, so, &heaptid, c->distance);
			MemoryContextSwitchTo(old);
			return true;
		}
		CHECK_FOR_INTERRUPTS();
		if (so->nready < so->nresults && !so->batch_new && so->returned != NULL)
		{
			/* the held-back part may hold what is new */
			for (int i = so->nready; i < so->nresults && !so->batch_new; i++)
				so->batch_new = candidate_has_rows(&so->results[i]) &&
					!HnswIdSetContains(so->returned, so->results[i].id);
		}
		if (!search_next(so))
		{
			if (so->nready == so->nresults)
				break;
			so->nready = so->nresults;	/* the last batch: all of it */
		}
	}
	MemoryContextSwitchTo(old);
	return false;
}

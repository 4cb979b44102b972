/*
 * vacuum.c
 *	  VACUUM for HNSW.  ambulkdelete first visits every element page once and
 *	  marks the elements whose heap rows are dead as deleted (flag set, heap
 *	  TID cleared) in one WAL record per page, so scans stop returning them
 *	  and the heap TIDs can be reused.  Then it repairs the graph: duplicate
 *	  chains lose their deleted items (a deleted element with a live
 *	  duplicate takes that row over and stays), then every live
 *	  element whose list on some layer links to a deleted element gets that
 *	  list chosen anew by the neighbour heuristic (Malkov & Yashunin 2018,
 *	  Algorithm 4) from its live neighbours, the live neighbours of the
 *	  deleted ones, and what a search for it on that layer finds, a deleted entry point is
 *	  replaced by a live element of the highest level, and live elements the
 *	  repair left without a way in are linked again.  Inserts go on during
 *	  the repair, which shares their lock (repair_graph; the protocol is in
 *	  README.md, "VACUUM").  Finally the deleted elements are marked free and their pages'
 *	  largest free slots recorded in the free space map for inserts to reuse.
 */
#include "hnsw/hnsw.h"

#include "commands/vacuum.h"
#include "common/wal.h"
#include "miscadmin.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

/*
 * Pin and exclusively lock the page of the item at tid, begin a WAL record
 * with it registered, and return the item in the record's copy of the page.
 * The caller finishes or aborts wal and releases *buf.
 */
static HnswElementTuple
begin_item_write(Relation index, const ItemPointerData *tid, Buffer *buf, VaWal *wal)
{
	Page		page;

	*buf = ReadBuffer(index, ItemPointerGetBlockNumber(tid));
	LockBuffer(*buf, BUFFER_LOCK_EXCLUSIVE);
	VaWalBegin(wal, index, false);
	page = VaWalRegister(wal, *buf, false);
	return (HnswElementTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(tid)));
}

static bool repair_element_once(Relation index, const VaIndexOps *ops,
								const HnswMetaPageData *meta,
								const ItemPointerData *tid, HnswIdSet *dead,
								HnswDiskGraph *dg, VaHeap *result);

/* Does tup (live) link to a deleted element on any layer? */
static bool
links_to_dead(HnswElementTuple tup, int m, HnswIdSet *dead)
{
	ItemPointerData *slots = HnswElementNeighbours(tup);
	int			nslots = HnswSlotCount(tup->level, m);
	uint64		id;

	for (int i = 0; i < nslots; i++)
	{
		if (!ItemPointerIsValid(&slots[i]))
			continue;
		id = VaTidToId(&slots[i]);
		if (HnswIdSetContains(dead, id))
			return true;
	}
	return false;
}

/* Add id to ids[0..*n) unless present or excluded (self, dead). */
static void
add_candidate(uint64 *ids, int *n, uint64 id, uint64 self, HnswIdSet *dead)
{
	if (id == self || HnswIdSetContains(dead, id))
		return;
	for (int i = 0; i < *n; i++)
		if (ids[i] == id)
			return;
	ids[(*n)++] = id;
}

/*
 * Choose new lists for every layer of the live element at tid that links to
 * a deleted element, and write them (one WAL record per changed element).
 * The lists are chosen from a copy, with no page locked; inserts may change
 * them meanwhile (a back-link, a pruning).  So the new lists are written
 * only if the element's lists on those layers are still the ones they were
 * chosen from, and chosen again otherwise.  Caller holds HNSW_INSERT_LOCK
 * in RowExclusiveLock mode, as an insert does.
 */
static void
repair_element(Relation index, const VaIndexOps *ops, const HnswMetaPageData *meta,
			   const ItemPointerData *tid, HnswIdSet *dead, HnswDiskGraph *dg,
			   VaHeap *result)
{
	while (!repair_element_once(index, ops, meta, tid, dead, dg, result))
		CHECK_FOR_INTERRUPTS();
}

/*
 * If copy's list on layer links to a deleted element, choose it anew (in
 * copy) from its live members, the live members of the deleted neighbours'
 * lists on that layer, and what a search for the element on that layer
 * finds, and return true; else leave it and return false.  self is the
 * element's id.
 */
static bool
relink_layer(Relation index, const VaIndexOps *ops, const HnswMetaPageData *meta,
			 HnswElementTuple copy, uint64 self, int layer, HnswIdSet *dead,
			 HnswDiskGraph *dg, VaHeap *result)
{
	int			m = meta->m;
	ItemPointerData *list = HnswElementNeighbours(copy) + HnswLayerStart(layer, m);
	int			cap = HnswLayerCapacity(layer, m);
	int			maxcand = cap + cap * cap + meta->ef_construction;
	uint64	   *ids = palloc(sizeof(uint64) * maxcand);
	int			n = 0;
	bool		has_dead = false;
	VaCandidate *cands;
	const void **vectors;
	int		   *selected;
	int			k;

	/*
	 * every slot, as links_to_dead reads them: a list with a gap (none is
	 * written today) must not keep a dead link past its repair
	 */
	for (int i = 0; i < cap; i++)
	{
		uint64		id;

		if (!ItemPointerIsValid(&list[i]))
			continue;
		id = VaTidToId(&list[i]);
		if (HnswIdSetContains(dead, id))
		{
			/* a deleted neighbour: offer its live neighbours instead */
			HnswElementTuple d = HnswReadElement(index, &list[i]);

			has_dead = true;
			if (layer <= d->level)
			{
				ItemPointerData *dl = HnswElementNeighbours(d) +
				HnswLayerStart(layer, m);

				for (int j = 0; j < cap && n < maxcand; j++)
					if (ItemPointerIsValid(&dl[j]))
						add_candidate(ids, &n, VaTidToId(&dl[j]), self, dead);
			}
			pfree(d);
		}
		else
			add_candidate(ids, &n, id, self, dead);
	}
	if (!has_dead)
		return false;

	/*
	 * Also what a search for the element finds on this layer, as an insert
	 * would (deleted elements still guide it): the local candidates alone
	 * leave holes where many neighbours died.
	 */
	if (ItemPointerIsValid(&meta->entry_point))
	{
		VaCandidate ep;

		dg->query = HnswElementVector(copy);
		ep.id = VaTidToId(&meta->entry_point);
		dg->graph.evaluate(&dg->graph, &ep);
		HnswGreedyDescend(&dg->graph, &ep, meta->entry_level, layer);
		if (layer <= meta->entry_level)
		{
			HnswSearchLayer(&dg->graph, &ep, 1, meta->ef_construction, layer, result);
			for (int i = 0; i < result->count && n < maxcand; i++)
				add_candidate(ids, &n, result->items[i].id, self, dead);
		}
	}

	cands = palloc(sizeof(VaCandidate) * Max(n, 1));
	vectors = palloc(sizeof(void *) * Max(n, 1));
	selected = palloc(sizeof(int) * Max(n, 1));
	for (int i = 0; i < n; i++)
		cands[i].id = ids[i];
	HnswLoadCandidates(index, ops, HnswElementVector(copy), cands, n, vectors);
	k = HnswSelectNeighbours(cands, vectors, n, cap, ops, selected, NULL, NULL);
	for (int i = 0; i < cap; i++)
	{
		if (i < k)
			VaIdToTid(cands[selected[i]].id, &list[i]);
		else
			ItemPointerSetInvalid(&list[i]);
	}
	return true;
}

/*
 * Write copy's lists on the layers marked in relinked into the element at
 * tid (one WAL record), if those lists there are still orig's; else write
 * nothing and return false.  (An element keeps its level while live.)
 */
static bool
write_relinked(Relation index, const ItemPointerData *tid, HnswElementTuple copy,
			   const ItemPointerData *orig, const bool *relinked, int m)
{
	Buffer		buf;
	VaWal		wal;
	HnswElementTuple tup = begin_item_write(index, tid, &buf, &wal);
	ItemPointerData *now = HnswElementNeighbours(tup);
	ItemPointerData *slots = HnswElementNeighbours(copy);

	for (int layer = 0; layer <= copy->level; layer++)
	{
		Size		off = HnswLayerStart(layer, m);
		Size		len = sizeof(ItemPointerData) * HnswLayerCapacity(layer, m);

		if (relinked[layer] && memcmp(now + off, orig + off, len) != 0)
		{
			VaWalAbort(&wal);
			UnlockReleaseBuffer(buf);
			return false;
		}
	}
	for (int layer = 0; layer <= copy->level; layer++)
	{
		Size		off = HnswLayerStart(layer, m);

		if (relinked[layer])
			memcpy(now + off, slots + off,
				   sizeof(ItemPointerData) * HnswLayerCapacity(layer, m));
	}
	if (relinked[0])
		tup->selection = HNSW_SELECTION_UNKNOWN;	/* not kept for repairs */
	VaWalFinish(&wal);
	UnlockReleaseBuffer(buf);
	return true;
}

/*
 * One try of repair_element.  Returns false, having written nothing, when
 * an insert changed one of the lists being replaced since they were read.
 */
static bool
repair_element_once(Relation index, const VaIndexOps *ops, const HnswMetaPageData *meta,
					const ItemPointerData *tid, HnswIdSet *dead, HnswDiskGraph *dg,
					VaHeap *result)
{
	int			m = meta->m;
	HnswElementTuple copy = HnswReadElement(index, tid);
	int			nslots = HnswSlotCount(copy->level, m);
	ItemPointerData *orig = palloc(sizeof(ItemPointerData) * nslots);
	bool		changed = false;
	bool		relinked[HNSW_MAX_LEVEL + 1] = {false};

	if (copy->flags & (HNSW_ELEMENT_DELETED | HNSW_ELEMENT_DUPLICATE))
		return true;			/* nothing to repair */
	memcpy(orig, HnswElementNeighbours(copy), sizeof(ItemPointerData) * nslots);
	for (int layer = 0; layer <= copy->level; layer++)
	{
		relinked[layer] = relink_layer(index, ops, meta, copy, VaTidToId(tid),
									   layer, dead, dg, result);
		changed |= relinked[layer];
	}
	if (!changed)
		return true;
	if (!write_relinked(index, tid, copy, orig, relinked, m))
		return false;			/* an insert changed it meanwhile: choose
								 * again */

	/* and, as an insert does, links back from the new neighbours */
	for (int layer = 0; layer <= copy->level; layer++)
	{
		ItemPointerData *list = HnswElementNeighbours(copy) + HnswLayerStart(layer, m);

		if (!relinked[layer])
			continue;
		for (int i = 0; i < HnswLayerCapacity(layer, m) && ItemPointerIsValid(&list[i]); i++)
			HnswAddBacklink(index, ops, m, &list[i], tid, HnswElementVector(copy),
							layer, false, false);
	}
	return true;
}

/* Note in the metapage (WAL-logged) that a relink pass covered nblocks. */
static void
record_relink(Relation index, BlockNumber nblocks, double heap_tuples)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	Page		page;
	VaWal		wal;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	VaWalBegin(&wal, index, false);
	page = VaWalRegister(&wal, buf, false);
	HnswPageGetMeta(page)->relink_nblocks = nblocks;
	HnswPageGetMeta(page)->relink_heap_tuples = heap_tuples;
	((PageHeader) page)->pd_lower = Max(((PageHeader) page)->pd_lower,
										(LocationIndex) ((char *) HnswPageGetMeta(page) +
														 sizeof(HnswMetaPageData) - (char *) page));
	VaWalFinish(&wal);
	UnlockReleaseBuffer(buf);
}

/* The state of VACUUM's relink pass (HnswRelinkOps over the index). */
typedef struct DiskRelink
{
	Relation	index;
	const HnswMetaPageData *meta;
	HnswReach  *r;
	HnswElementTuple copy;		/* of the element own_list read last */
	bool		searching;		/* dg, result and sorted are set up */
	HnswDiskGraph dg;
	VaHeap		result;
	VaCandidate *sorted;
	Buffer		buf;			/* of the list read_list holds */
	VaWal		wal;
	HnswElementTuple tup;		/* its element, in the record's page copy */
	ItemPointerData *list;		/* that list, in the record's page copy */
} DiskRelink;

/* A layer-0 list of tids as numbers of r's items (see HNSW_RELINK_EMPTY). */
static void
numbered_list(const HnswReach *r, const ItemPointerData *slots, int cap0, int64 *list)
{
	for (int s = 0; s < cap0; s++)
	{
		int64		t = ItemPointerIsValid(&slots[s]) ? HnswItemNumber(&r->map, &slots[s]) : -1;

		if (!ItemPointerIsValid(&slots[s]))
			list[s] = HNSW_RELINK_EMPTY;
		else
			list[s] = t >= 0 ? t : HNSW_RELINK_OTHER;
	}
}

static void
disk_own_list(void *arg, uint32 u, int64 *list)
{
	DiskRelink *dr = (DiskRelink *) arg;
	ItemPointerData tid;

	if (dr->copy != NULL)
		pfree(dr->copy);
	HnswItemTid(&dr->r->map, u, &tid);
	dr->copy = HnswReadElement(dr->index, &tid);
	numbered_list(dr->r, HnswElementNeighbours(dr->copy),
				  HnswLayerCapacity(0, dr->meta->m), list);
}

static int
disk_search(void *arg, uint32 u, bool descend, int64 *found, int max)
{
	DiskRelink *dr = (DiskRelink *) arg;
	const HnswMetaPageData *meta = dr->meta;
	VaCandidate ep;
	int			nresult;
	int			nfound;

	if (!ItemPointerIsValid(&meta->entry_point))
		return 0;
	if (!dr->searching)
	{
		HnswDiskGraphInit(&dr->dg, dr->index, HnswGraphOps(dr->index, meta), meta->m,
						  meta->ef_construction);
		dr->dg.graph.live_results = true;
		VaHeapInit(&dr->result, meta->ef_construction + 1, true);
		dr->sorted = palloc(sizeof(VaCandidate) * (meta->ef_construction + 1));
		dr->searching = true;
	}
	dr->dg.query = HnswElementVector(dr->copy);
	ep.id = VaTidToId(&meta->entry_point);
	dr->dg.graph.evaluate(&dr->dg.graph, &ep);
	if (descend)
		HnswGreedyDescend(&dr->dg.graph, &ep, meta->entry_level, 0);
	HnswSearchLayer(&dr->dg.graph, &ep, 1, meta->ef_construction, 0, &dr->result);
	/* not inside Min(), which would drain the heap a second time */
	nresult = VaHeapDrainSorted(&dr->result, dr->sorted);
	nfound = Min(nresult, max);
	for (int i = 0; i < nfound; i++)
	{
		ItemPointerData tid;

		VaIdToTid(dr->sorted[i].id, &tid);
		found[i] = HnswItemNumber(&dr->r->map, &tid);
	}
	return nfound;
}

/*
 * Each relink is one change made under its page's lock (and WAL record),
 * with HNSW_INSERT_LOCK held in RowExclusiveLock mode, as inserts hold it;
 * an insert pruning that list meanwhile writes its result only if the list
 * is unchanged.
 */
static void
disk_read_list(void *arg, uint32 c, int64 *list)
{
	DiskRelink *dr = (DiskRelink *) arg;
	ItemPointerData tid;
	HnswElementTuple tup;

	HnswItemTid(&dr->r->map, c, &tid);
	LockPage(dr->index, HNSW_INSERT_LOCK, RowExclusiveLock);
	tup = begin_item_write(dr->index, &tid, &dr->buf, &dr->wal);
	dr->tup = tup;
	dr->list = HnswElementNeighbours(tup);
	numbered_list(dr->r, dr->list, HnswLayerCapacity(0, dr->meta->m), list);
}

static void
disk_write_list(void *arg, uint32 c, int slot, uint32 u)
{
	DiskRelink *dr = (DiskRelink *) arg;

	if (slot >= 0)
	{
		HnswItemTid(&dr->r->map, u, &dr->list[slot]);
		/* no longer the output of a selection (see prune_known) */
		dr->tup->selection = HNSW_SELECTION_UNKNOWN;
		VaWalFinish(&dr->wal);
	}
	else
		VaWalAbort(&dr->wal);
	UnlockReleaseBuffer(dr->buf);
	UnlockPage(dr->index, HNSW_INSERT_LOCK, RowExclusiveLock);
}

static const HnswRelinkOps disk_relink_ops = {
	disk_own_list, disk_search, disk_read_list, disk_write_list
};

#define HNSW_RELINK_ROUNDS 4	/* walks and relinkings in one VACUUM */

/* The element id (VaTidToId) of item number u of map. */
static uint64
item_id(const HnswItemMap *map, uint32 u)
{
	ItemPointerData tid;

	HnswItemTid(map, u, &tid);
	return VaTidToId(&tid);
}

/*
 * Give every live element a way in again: the repair can drop an element's
 * last in-link.  HnswComputeReach finds the live elements no chain of
 * layer-0 links from the entry point reaches; HnswRelinkUnreachable links
 * each (the build's rule: from a reachable element of its own layer-0 list
 * or, when none of those can take it, of the nearest reachable elements a
 * search from the entry point finds).  A relink that replaced a link on
 * in-degrees alone may have cut off its old target (rl.risky); then the
 * walk and the relinking run again, up to HNSW_RELINK_ROUNDS times in all,
 * for the elements an earlier round did not fail to link (under inner
 * product thousands may fail every time, each costing two searches).  What
 * it cannot link now, a later VACUUM tries again.  Reports each
 * round's count of unreachable elements, and how many of them it reached,
 * at elevel (IndexVacuumInfo's message_level: DEBUG2 in PostgreSQL 15, with
 * or without VERBOSE), when it found any.
 */
static void
reconnect_unreachable(Relation index, const HnswMetaPageData *meta,
					  BufferAccessStrategy strategy, double heap_tuples, int elevel)
{
	MemoryContext round_cxt = AllocSetContextCreate(CurrentMemoryContext,
													"hnsw relink round",
													ALLOCSET_DEFAULT_SIZES);
	HnswIdSet  *failed = HnswIdSetCreate(1024);	/* ids no round could link */

	for (int round = 0; round < HNSW_RELINK_ROUNDS; round++)
	{
		MemoryContext old = MemoryContextSwitchTo(round_cxt);
		HnswReach	r;
		HnswRelink	rl;
		DiskRelink	dr;
		uint32		missing;
		uint32		reached;

		/*
		 * The walk runs without the insert lock; an element an insert links
		 * meanwhile may look unreachable, and is then found linked already
		 * or gets one more link, which is harmless.  The in-degrees may go
		 * stale as inserts prune; they only steer which slot a relink takes.
		 */
		HnswComputeReach(index, meta, strategy, &r);
		memset(&dr, 0, sizeof(dr));
		dr.index = index;
		dr.meta = meta;
		dr.r = &r;
		rl.ops = &disk_relink_ops;
		rl.arg = &dr;
		rl.cap0 = HnswLayerCapacity(0, meta->m);
		rl.ef = meta->ef_construction + 1;
		rl.nelements = r.map.nelements;
		rl.seen = r.seen;
		rl.live = r.live;
		rl.indegree = r.indegree;
		rl.skip = NULL;
		if (round > 0)
		{
			bool	   *skip = palloc_extended(sizeof(bool) * Max(r.map.nelements, 1),
											   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

			for (uint32 u = 0; u < r.map.nelements; u++)
				skip[u] = r.live[u] && !r.seen[u] && HnswIdSetContains(failed, item_id(&r.map, u));
			rl.skip = skip;
		}
		reached = HnswRelinkUnreachable(&rl, &missing);
		for (uint32 u = 0; u < r.map.nelements; u++)
			if (r.live[u] && !r.seen[u] && (rl.skip == NULL || !rl.skip[u]))
				HnswIdSetAdd(failed, item_id(&r.map, u));
		if (round == 0)
			record_relink(index, r.map.nblocks, heap_tuples);
		if (missing > 0)
			ereport(elevel,
					(errmsg("hnsw index \"%s\": %u live elements were unreachable from the entry point, %u of them are reachable again",
							RelationGetRelationName(index), missing, reached)));
		MemoryContextSwitchTo(old);
		MemoryContextReset(round_cxt);
		if (missing == 0 || reached == 0 || rl.risky == 0)
			break;
	}
	MemoryContextDelete(round_cxt);
}

/*
 * Does VACUUM still have to free tup (deleted, not yet free), or shrink it
 * (a freed element above level 0, as VACUUMs before shrinking left them)?
 */
static inline bool
needs_freeing(HnswElementTuple tup)
{
	if (!(tup->flags & HNSW_ELEMENT_DELETED))
		return false;
	if (!(tup->flags & HNSW_ELEMENT_FREE))
		return true;
	return !(tup->flags & HNSW_ELEMENT_DUPLICATE) && tup->level > 0;
}

/*
 * Shrink the freed element at (blkno, off), page being its GenericXLog
 * image, to a
 * level-0 element: the same header and vector, an empty layer-0 list, level
 * 0.  The bytes of its upper layers go back to the page's unused middle
 * (PageIndexTupleOverwrite moves the items before it), so that any later
 * element, whatever its level, can use them: freed slots of the sizes of the
 * levels that happened to be deleted fitted the levels new rows drew only
 * by chance, and the index grew under delete / re-insert churn.  The item
 * stays a well-formed element, which a scan still holding its TID may read
 * (it finds the vector and no neighbours on any layer).
 */
static void
shrink_to_level0(Relation index, Page page, BlockNumber blkno, OffsetNumber off, int m)
{
	HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
	Size		size = HnswElementSize(HnswStoredSize(tup->data), 0, m);
	HnswElementTuple copy = palloc(size);

	/* layer 0's list comes first, so a level-0 element is a prefix */
	memcpy(copy, tup, size);
	copy->level = 0;
	if (!PageIndexTupleOverwrite(page, off, (Item) copy, size))
		elog(ERROR, "failed to shrink freed hnsw element (%u,%u) of index \"%s\"",
			 blkno, off, RelationGetRelationName(index));
	pfree(copy);
}

/*
 * After the repair no list links to a deleted element any more: mark them
 * free (lists cleared, elements shrunk to level 0, one WAL record per page)
 * and record each page's room (HnswPageRoom: its largest free slot grown
 * into the page's unused middle, or a new item there) in the free space
 * map, where inserts look for room.
 */
static void
free_deleted(Relation index, const HnswMetaPageData *meta, BufferAccessStrategy strategy)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		bool		to_free = false;
		Size		room;

		buf = VaVacuumReadBuffer(index, blkno, strategy, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			ItemId		iid = PageGetItemId(page, off);
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, iid);

			if (needs_freeing(tup))
				to_free = true;
		}
		room = HnswPageRoom(page);
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);

		if (to_free)
		{
			VaWal		wal;

			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			VaWalBegin(&wal, index, false);
			page = VaWalRegister(&wal, buf, false);
			for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
			{
				HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

				if (needs_freeing(tup))
				{
					tup->flags |= HNSW_ELEMENT_FREE;
					/* a duplicate item has no lists, and keeps its next link */
					if (!(tup->flags & HNSW_ELEMENT_DUPLICATE))
					{
						ItemPointerData *slots = HnswElementNeighbours(tup);

						for (int i = 0; i < HnswSlotCount(tup->level, meta->m); i++)
							ItemPointerSetInvalid(&slots[i]);
						tup->selection = HNSW_SELECTION_UNKNOWN;
						if (tup->level > 0)
							shrink_to_level0(index, page, blkno, off, meta->m);
					}
				}
			}
			VaWalFinish(&wal);
			room = HnswPageRoom(BufferGetPage(buf));
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		}
		ReleaseBuffer(buf);
		RecordPageWithFreeSpace(index, blkno, room);
	}
	FreeSpaceMapVacuum(index);
}

static bool repair_chain_once(Relation index, const ItemPointerData *owner);

/* A duplicate chain as read by HnswWalkDuplicates. */
typedef struct DuplicateChain
{
	int			n;
	int			cap;
	ItemPointerData *tids;		/* the items */
	ItemPointerData *next;		/* their next links as read */
	ItemPointerData *heaptids;	/* their heap TIDs */
	bool	   *deleted;
} DuplicateChain;

static void
collect_chain(void *arg, const ItemPointerData *tid, const HnswDuplicateTupleData *dup)
{
	DuplicateChain *chain = (DuplicateChain *) arg;

	if (chain->n == chain->cap)
	{
		chain->cap = Max(chain->cap * 2, 16);
		chain->tids = repalloc_huge(chain->tids, sizeof(ItemPointerData) * chain->cap);
		chain->next = repalloc_huge(chain->next, sizeof(ItemPointerData) * chain->cap);
		chain->heaptids = repalloc_huge(chain->heaptids, sizeof(ItemPointerData) * chain->cap);
		chain->deleted = repalloc_huge(chain->deleted, sizeof(bool) * chain->cap);
	}
	chain->tids[chain->n] = *tid;
	chain->next[chain->n] = dup->next;
	chain->heaptids[chain->n] = dup->heaptid;
	chain->deleted[chain->n] = (dup->flags & HNSW_ELEMENT_DELETED) != 0;
	chain->n++;
}

/*
 * Set the chain link of the item at tid (element or duplicate) to next, if
 * it is still expected.  Returns false, having changed nothing, when it is
 * not: an insert pushed a new item onto the element's chain meanwhile.
 */
static bool
set_chain_link(Relation index, const ItemPointerData *tid,
			   const ItemPointerData *expected, const ItemPointerData *next)
{
	Buffer		buf;
	VaWal		wal;
	HnswElementTuple tup = begin_item_write(index, tid, &buf, &wal);
	bool		done = ItemPointerEquals(&tup->duplicates, (ItemPointer) expected);

	if (done && !ItemPointerEquals(&tup->duplicates, (ItemPointer) next))
	{
		tup->duplicates = *next;
		VaWalFinish(&wal);
	}
	else
		VaWalAbort(&wal);
	UnlockReleaseBuffer(buf);
	return done;
}

/*
 * The element at owner is deleted but its duplicate item at dup is live:
 * move dup's heap row into the element, which lives on, and delete dup (one
 * WAL record for both pages, locked in block order).
 */
static void
promote_duplicate(Relation index, const ItemPointerData *owner, const ItemPointerData *dup)
{
	BlockNumber oblk = ItemPointerGetBlockNumber(owner);
	BlockNumber dblk = ItemPointerGetBlockNumber(dup);
	Buffer		obuf = ReadBuffer(index, oblk);
	Buffer		dbuf = oblk == dblk ? obuf : ReadBuffer(index, dblk);
	Page		opage;
	Page		dpage;
	HnswElementTuple e;
	HnswElementTuple d;
	VaWal		wal;

	LockBuffer(oblk <= dblk ? obuf : dbuf, BUFFER_LOCK_EXCLUSIVE);
	if (dbuf != obuf)
		LockBuffer(oblk <= dblk ? dbuf : obuf, BUFFER_LOCK_EXCLUSIVE);
	VaWalBegin(&wal, index, false);
	opage = VaWalRegister(&wal, obuf, false);
	dpage = dbuf == obuf ? opage : VaWalRegister(&wal, dbuf, false);
	e = (HnswElementTuple) PageGetItem(opage, PageGetItemId(opage, ItemPointerGetOffsetNumber(owner)));
	d = (HnswElementTuple) PageGetItem(dpage, PageGetItemId(dpage, ItemPointerGetOffsetNumber(dup)));
	e->heaptid = d->heaptid;
	e->flags &= ~HNSW_ELEMENT_DELETED;
	d->flags |= HNSW_ELEMENT_DELETED;
	ItemPointerSetInvalid(&d->heaptid);
	VaWalFinish(&wal);
	if (dbuf != obuf)
		UnlockReleaseBuffer(dbuf);
	UnlockReleaseBuffer(obuf);
}

/*
 * Take the deleted items off the element at owner's duplicate chain; if the
 * element itself is deleted and a duplicate lives, that row moves into the
 * element (promote_duplicate).  The links are rewritten front to back, and
 * deleted items keep their own links until they are freed (after this), so
 * a scan walking the chain meanwhile, or a crash halfway, always finds a
 * chain that leads through every live item.  Inserts run meanwhile: they
 * only push new items at the head of a live element's chain (never onto a
 * deleted element's, see owner_matches in insert.c), so only the element's
 * own link can change under us; every link is rewritten only if it still
 * holds what was read, and the chain is read again otherwise.  Caller
 * holds HNSW_INSERT_LOCK in RowExclusiveLock mode.
 */
static void
repair_chain(Relation index, const ItemPointerData *owner)
{
	while (!repair_chain_once(index, owner))
		CHECK_FOR_INTERRUPTS();
}

/* One try of repair_chain; false when an insert changed the chain's head. */
static bool
repair_chain_once(Relation index, const ItemPointerData *owner)
{
	DuplicateChain chain = {0};
	ItemPointerData prev = *owner;
	ItemPointerData prev_next;
	Buffer		buf;
	HnswElementTuple tup;
	int			first_live = -1;
	bool		done = true;
	bool		owner_deleted;

	chain.cap = 16;
	chain.tids = palloc(sizeof(ItemPointerData) * chain.cap);
	chain.next = palloc(sizeof(ItemPointerData) * chain.cap);
	chain.heaptids = palloc(sizeof(ItemPointerData) * chain.cap);
	chain.deleted = palloc(sizeof(bool) * chain.cap);

	/* the head as it is now, then the chain from it */
	buf = ReadBuffer(index, ItemPointerGetBlockNumber(owner));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	tup = (HnswElementTuple) PageGetItem(BufferGetPage(buf),
										 PageGetItemId(BufferGetPage(buf), ItemPointerGetOffsetNumber(owner)));
	prev_next = tup->duplicates;
	owner_deleted = (tup->flags & HNSW_ELEMENT_DELETED) != 0;	/* promoted on a try
																 * before? */
	UnlockReleaseBuffer(buf);
	HnswWalkDuplicates(index, owner, collect_chain, &chain);
	if (chain.n > 0 && !ItemPointerEquals(&prev_next, &chain.tids[0]))
		done = false;			/* a new head came between the two reads */

	for (int i = 0; done && i < chain.n && first_live < 0; i++)
		if (!chain.deleted[i])
			first_live = i;
	if (done && owner_deleted && first_live >= 0)
	{
		promote_duplicate(index, owner, &chain.tids[first_live]);
		chain.deleted[first_live] = true;
	}

	/* relink: each link skips to the next live item */
	for (int i = 0; done && i <= chain.n; i++)
	{
		ItemPointerData want;

		if (i < chain.n && chain.deleted[i])
			continue;
		if (i < chain.n)
			want = chain.tids[i];
		else
			ItemPointerSetInvalid(&want);
		if (!ItemPointerEquals(&prev_next, &want))
			done = set_chain_link(index, &prev, &prev_next, &want);
		if (i < chain.n)
		{
			prev = chain.tids[i];
			prev_next = chain.next[i];
		}
	}
	pfree(chain.tids);
	pfree(chain.next);
	pfree(chain.heaptids);
	pfree(chain.deleted);
	return done;
}

/*
 * Repair the duplicate chain of every element that has one (repair_chain),
 * holding HNSW_INSERT_LOCK in RowExclusiveLock mode one page of elements at
 * a time, as an insert holds it.
 */
static void
repair_duplicate_chains(Relation index, BufferAccessStrategy strategy)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	OffsetNumber owners[MaxOffsetNumber];

	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		int			n = 0;

		/* cost-based delay between pages, never while holding the lock */
		buf = VaVacuumReadBuffer(index, blkno, strategy, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

			if (!(tup->flags & (HNSW_ELEMENT_DUPLICATE | HNSW_ELEMENT_FREE)) &&
				ItemPointerIsValid(&tup->duplicates))
				owners[n++] = off;
		}
		UnlockReleaseBuffer(buf);
		if (n == 0)
			continue;
		LockPage(index, HNSW_INSERT_LOCK, RowExclusiveLock);
		for (int i = 0; i < n; i++)
		{
			ItemPointerData owner;

			ItemPointerSet(&owner, blkno, owners[i]);
			repair_chain(index, &owner);
		}
		UnlockPage(index, HNSW_INSERT_LOCK, RowExclusiveLock);
	}
}

/*
 * One pass over the index: the ids of the deleted elements not yet freed
 * into dead, whether the entry point (entry) is deleted, and the live
 * element of the highest level, the first in block order among equals
 * (*best, *best_level; invalid and -1 if none lives).  With delay,
 * cost-based VACUUM delay between pages (not while holding a lock others
 * wait for).
 *
 * A freed slot (an earlier VACUUM's) is not in dead: no list links to it,
 * and inserts may reuse it at any moment of the repair, after which its id
 * names a new live element that lists soon link to.  Counted dead, that
 * element was taken out of every list its back-links had put it in
 * (links_to_dead, relink_layer) and offered to none, which left it with no
 * link in from its near neighbours (test/t/003).  The deleted elements not
 * yet freed stay deleted, and their slots unused, until this VACUUM frees
 * them after the repair.
 */
static HnswIdSet *
collect_deleted(Relation index, BufferAccessStrategy strategy, bool delay,
				const ItemPointerData *entry, bool *entry_dead,
				ItemPointer best, int *best_level)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	HnswIdSet  *dead = HnswIdSetCreate(1024);

	*entry_dead = false;
	*best_level = -1;
	ItemPointerSetInvalid(best);
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		if (delay)
			vacuum_delay_point();
		else
			CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
			ItemPointerData tid;

			ItemPointerSet(&tid, blkno, off);
			if (tup->flags & HNSW_ELEMENT_DELETED)
			{
				if (!(tup->flags & HNSW_ELEMENT_FREE))
					HnswIdSetAdd(dead, VaTidToId(&tid));
				if (ItemPointerEquals(&tid, (ItemPointer) entry))
					*entry_dead = true;
			}
			else if (!(tup->flags & HNSW_ELEMENT_DUPLICATE) && tup->level > *best_level)
			{
				*best_level = tup->level;
				*best = tid;
			}
		}
		UnlockReleaseBuffer(buf);
	}
	return dead;
}

/*
 * Repair (repair_element) every live element whose lists link to one of
 * dead, holding HNSW_INSERT_LOCK in RowExclusiveLock mode for one page of
 * them at a time.  ctx is reset after each page.
 */
static void
repair_links(IndexVacuumInfo *info, const HnswMetaPageData *meta, HnswIdSet *dead,
			 MemoryContext ctx)
{
	Relation	index = info->index;
	const VaIndexOps *ops = HnswGraphOps(index, meta);
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	HnswDiskGraph dg;
	VaHeap		result;

	HnswDiskGraphInit(&dg, index, ops, meta->m, meta->ef_construction);
	dg.graph.live_results = true;	/* ef live candidates, as a fresh insert */
	VaHeapInit(&result, meta->ef_construction + 1, true);
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber maxoff;
		OffsetNumber *todo;
		int			ntodo = 0;
		MemoryContext old;

		buf = VaVacuumReadBuffer(index, blkno, info->strategy, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		todo = MemoryContextAlloc(ctx, sizeof(OffsetNumber) * Max(maxoff, 1));
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

			if (!(tup->flags & HNSW_ELEMENT_DELETED) &&
				links_to_dead(tup, meta->m, dead))
				todo[ntodo++] = off;
		}
		UnlockReleaseBuffer(buf);

		if (ntodo == 0)
			continue;
		old = MemoryContextSwitchTo(ctx);
		LockPage(index, HNSW_INSERT_LOCK, RowExclusiveLock);
		for (int i = 0; i < ntodo; i++)
		{
			ItemPointerData tid;

			CHECK_FOR_INTERRUPTS();
			ItemPointerSet(&tid, blkno, todo[i]);
			repair_element(index, ops, meta, &tid, dead, &dg, &result);
		}
		UnlockPage(index, HNSW_INSERT_LOCK, RowExclusiveLock);
		MemoryContextSwitchTo(old);
		MemoryContextReset(ctx);
	}
}

/*
 * Replace the deleted entry point old_entry by best (of level best_level),
 * under HNSW_INSERT_LOCK in ExclusiveLock mode.  Only this and inserts that
 * may become the entry point (in that mode too) move it: if one did
 * meanwhile, the new entry point lives and stays.  With best invalid
 * (nothing lived when the deleted elements were collected), the rows
 * inserted since, if any, are all the graph has: their highest is taken.
 */
static void
move_entry_point(Relation index, BufferAccessStrategy strategy,
				 const ItemPointerData *old_entry, ItemPointerData best, int best_level)
{
	Buffer		metabuf;
	HnswMetaPage m;
	VaWal		wal;

	LockPage(index, HNSW_INSERT_LOCK, ExclusiveLock);
	if (!ItemPointerIsValid(&best))
	{
		ItemPointerData none;
		bool		unused;

		ItemPointerSetInvalid(&none);
		(void) collect_deleted(index, strategy, false, &none, &unused, &best, &best_level);
	}
	metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	VaWalBegin(&wal, index, false);
	m = HnswPageGetMeta(VaWalRegister(&wal, metabuf, false));
	if (ItemPointerEquals(&m->entry_point, (ItemPointer) old_entry))
	{
		m->entry_point = best;	/* invalid if nothing lives */
		m->entry_level = (int16) best_level;
		VaWalFinish(&wal);
	}
	else
		VaWalAbort(&wal);
	UnlockReleaseBuffer(metabuf);
	UnlockPage(index, HNSW_INSERT_LOCK, ExclusiveLock);
}

/*
 * Repair every live element that links to a deleted one, and move a deleted
 * entry point to a live element of the highest level.  Runs beside inserts
 * (see "VACUUM" in README.md): one barrier first, then HNSW_INSERT_LOCK in
 * RowExclusiveLock mode, shared with inserts, for one page of elements at a
 * time, and in ExclusiveLock mode only to move the entry point.
 */
static void
repair_graph(IndexVacuumInfo *info)
{
	Relation	index = info->index;
	HnswMetaPageData meta;
	HnswIdSet  *dead;
	MemoryContext ctx;
	MemoryContext old;
	ItemPointerData best;
	int			best_level;
	bool		entry_dead;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum repair",
								ALLOCSET_DEFAULT_SIZES);

	/*
	 * The barrier: an insert that read an element before ambulkdelete marked
	 * it deleted may still link to it or join its duplicate chain.  Waiting
	 * once for the lock in ExclusiveLock mode waits for every such insert;
	 * inserts that start later see the marks, and never link to a deleted
	 * element or put a duplicate on its chain.  So from here on, links to
	 * deleted elements only disappear.
	 */
	LockPage(index, HNSW_INSERT_LOCK, ExclusiveLock);
	UnlockPage(index, HNSW_INSERT_LOCK, ExclusiveLock);

	/* chains first: a deleted element with live duplicates lives on */
	repair_duplicate_chains(index, info->strategy);

	HnswReadMeta(index, &meta);
	dead = collect_deleted(index, info->strategy, true, &meta.entry_point, &entry_dead,
						   &best, &best_level);
	repair_links(info, &meta, dead, ctx);
	if (entry_dead)
		move_entry_point(index, info->strategy, &meta.entry_point, best, best_level);

	/*
	 * From here on no list links to a deleted element and inserts never pick
	 * one (they skip deleted candidates), so freeing needs no insert lock.
	 * Free first, so that relinking counts no link from a deleted element as
	 * an in-link.
	 */
	HnswReadMeta(index, &meta);
	old = MemoryContextSwitchTo(ctx);
	free_deleted(index, &meta, info->strategy);
	reconnect_unreachable(index, &meta, info->strategy, info->num_heap_tuples,
						  info->message_level);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	/* lists and elements of the upper layers changed: caches are stale */
	HnswBumpUpperVersion(index, false);
}

IndexBulkDeleteResult *
hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	double		removed_before;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	removed_before = stats->tuples_removed;

	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber maxoff;
		bool		dead = false;
		VaWal		wal;

		buf = VaVacuumReadBuffer(index, blkno, info->strategy, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff && !dead; off++)
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

			if (!(tup->flags & HNSW_ELEMENT_DELETED) &&
				callback(&tup->heaptid, callback_state))
				dead = true;
		}
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);

		if (dead)
		{
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			VaWalBegin(&wal, index, false);
			page = VaWalRegister(&wal, buf, false);
			maxoff = PageGetMaxOffsetNumber(page);
			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
			{
				HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

				if (!(tup->flags & HNSW_ELEMENT_DELETED) &&
					callback(&tup->heaptid, callback_state))
				{
					tup->flags |= HNSW_ELEMENT_DELETED;
					ItemPointerSetInvalid(&tup->heaptid);
					stats->tuples_removed++;
				}
			}
			VaWalFinish(&wal);
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		}
		ReleaseBuffer(buf);
	}

	if (stats->tuples_removed > removed_before)
		repair_graph(info);
	return stats;
}

/* VaCountPageFn: the live elements of a page, and its room (HnswPageRoom). */
static double
count_live(Relation index, Buffer buf, Size *room)
{
	Page		page = BufferGetPage(buf);
	double		n = 0;

	for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
	{
		HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

		if (!(tup->flags & HNSW_ELEMENT_DELETED))
			n++;
	}
	*room = HnswPageRoom(page);
	return n;
}

/*
 * amvacuumcleanup: count pages and live elements.  When this VACUUM deleted
 * nothing (so bulkdelete's repair did not run), still relink elements that
 * inserts' pruning left unreachable.
 */
IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	BlockNumber nblocks;

	if (info->analyze_only)
		return stats;
	if (stats == NULL || stats->tuples_removed == 0)
	{
		HnswMetaPageData meta;
		MemoryContext ctx;
		MemoryContext old;

		/*
		 * No repair ran, since nothing was deleted from the index (an
		 * insert-only table; dead heap rows that had no elements, such as
		 * inserts a crash aborted; or VACUUM skipped the indexes for a few
		 * dead rows).  Relinking elements that inserts' pruning cut off is
		 * worth a walk of the whole index only once the index or the table
		 * has grown by a tenth since the last walk (inserts that reuse freed
		 * slots grow the table, not the index); otherwise, without a bulk
		 * delete the index is not read at all and the tuple count is the
		 * heap's.
		 */
		HnswReadMeta(index, &meta);
		nblocks = RelationGetNumberOfBlocks(index);
		if (meta.relink_nblocks != 0 &&
			nblocks <= meta.relink_nblocks + meta.relink_nblocks / 10 &&
			info->num_heap_tuples <= meta.relink_heap_tuples * 1.1)
		{
			if (stats != NULL)
				return VaVacuumCount(info, stats, HNSW_METAPAGE_BLKNO + 1, count_live, true);
			stats = palloc0(sizeof(IndexBulkDeleteResult));
			stats->num_pages = nblocks;
			stats->num_index_tuples = info->num_heap_tuples;
			stats->estimated_count = info->estimated_count;
			return stats;
		}
		ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum relink",
									ALLOCSET_DEFAULT_SIZES);
		old = MemoryContextSwitchTo(ctx);
		reconnect_unreachable(index, &meta, info->strategy, info->num_heap_tuples,
							  info->message_level);
		MemoryContextSwitchTo(old);
		MemoryContextDelete(ctx);
		HnswBumpUpperVersion(index, false);
		if (stats == NULL)
			stats = palloc0(sizeof(IndexBulkDeleteResult));
	}
	else
	{
		HnswMetaPageData meta;

		/*
		 * The bulk delete's relink recorded the heap's row count as it was
		 * known then, pg_class's from before this VACUUM (20,000 where
		 * 13,333 rows were left; -1 for a table never vacuumed or analyzed,
		 * which no count passes): inserts then had to pass a tenth of the
		 * old count before the next VACUUM relinked what their pruning cut
		 * off (test/t/027's churn re-inserted up to exactly 1.1 times that,
		 * and an element their pruning cut off stayed so).  Record the count
		 * this VACUUM found, or estimated from the pages it read (what
		 * pg_class gets).
		 */
		HnswReadMeta(index, &meta);
		if (meta.relink_nblocks != 0 && meta.relink_heap_tuples != info->num_heap_tuples)
			record_relink(index, meta.relink_nblocks, info->num_heap_tuples);
	}

	return VaVacuumCount(info, stats, HNSW_METAPAGE_BLKNO + 1, count_live, true);
}

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
 *	  repair left without a way in are linked again.  Inserts wait during the
 *	  repair.  Finally the deleted elements are marked free and their pages'
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
 */
static void
repair_element(Relation index, const VaIndexOps *ops, const HnswMetaPageData *meta,
			   const ItemPointerData *tid, HnswIdSet *dead, HnswDiskGraph *dg,
			   VaHeap *result)
{
	int			m = meta->m;
	HnswElementTuple copy = HnswReadElement(index, tid);
	ItemPointerData *slots = HnswElementNeighbours(copy);
	uint64		self = VaTidToId(tid);
	bool		changed = false;
	bool		relinked[HNSW_MAX_LEVEL + 1] = {false};

	for (int layer = 0; layer <= copy->level; layer++)
	{
		ItemPointerData *list = slots + HnswLayerStart(layer, m);
		int			cap = HnswLayerCapacity(layer, m);
		int			maxcand = cap + cap * cap + meta->ef_construction;
		uint64	   *ids = palloc(sizeof(uint64) * maxcand);
		int			n = 0;
		bool		has_dead = false;
		VaCandidate *cands;
		const void **vectors;
		int		   *selected;
		int			k;

		for (int i = 0; i < cap && ItemPointerIsValid(&list[i]); i++)
		{
			uint64		id = VaTidToId(&list[i]);

			if (HnswIdSetContains(dead, id))
			{
				/* a deleted neighbour: offer its live neighbours instead */
				HnswElementTuple d = HnswReadElement(index, &list[i]);

				has_dead = true;
				if (layer <= d->level)
				{
					ItemPointerData *dl = HnswElementNeighbours(d) +
						HnswLayerStart(layer, m);

					for (int j = 0; j < cap && ItemPointerIsValid(&dl[j]) && n < maxcand; j++)
						add_candidate(ids, &n, VaTidToId(&dl[j]), self, dead);
				}
				pfree(d);
			}
			else
				add_candidate(ids, &n, id, self, dead);
		}
		if (!has_dead)
			continue;

		/*
		 * Also what a search for the element finds on this layer, as an
		 * insert would (deleted elements still guide it): the local
		 * candidates alone leave holes where many neighbours died.
		 */
		if (ItemPointerIsValid(&meta->entry_point))
		{
			VaCandidate ep;
			int			nfound;

			dg->query = HnswElementVector(copy);
			ep.id = VaTidToId(&meta->entry_point);
			dg->graph.evaluate(&dg->graph, &ep);
			HnswGreedyDescend(&dg->graph, &ep, meta->entry_level, layer, result);
			if (layer <= meta->entry_level)
			{
				HnswSearchLayer(&dg->graph, &ep, 1, meta->ef_construction, layer, result);
				nfound = result->count;
				for (int i = 0; i < nfound && n < maxcand; i++)
					add_candidate(ids, &n, result->items[i].id, self, dead);
			}
		}

		cands = palloc(sizeof(VaCandidate) * Max(n, 1));
		vectors = palloc(sizeof(void *) * Max(n, 1));
		selected = palloc(sizeof(int) * Max(n, 1));
		for (int i = 0; i < n; i++)
			cands[i].id = ids[i];
		HnswLoadCandidates(index, ops, HnswElementVector(copy),
						   cands, n, vectors);
		k = HnswSelectNeighbours(cands, vectors, n, cap, ops, selected, NULL);
		for (int i = 0; i < cap; i++)
		{
			if (i < k)
				VaIdToTid(cands[selected[i]].id, &list[i]);
			else
				ItemPointerSetInvalid(&list[i]);
		}
		changed = true;
		relinked[layer] = true;
	}

	if (changed)
	{
		Buffer		buf;
		VaWal		wal;
		HnswElementTuple tup = begin_item_write(index, tid, &buf, &wal);

		memcpy(HnswElementNeighbours(tup), slots,
			   sizeof(ItemPointerData) * HnswSlotCount(copy->level, m));
		VaWalFinish(&wal);
		UnlockReleaseBuffer(buf);

		/* and, as an insert does, links back from the new neighbours */
		for (int layer = 0; layer <= copy->level; layer++)
		{
			ItemPointerData *list = slots + HnswLayerStart(layer, m);

			if (!relinked[layer])
				continue;
			for (int i = 0; i < HnswLayerCapacity(layer, m) && ItemPointerIsValid(&list[i]); i++)
				HnswAddBacklink(index, ops, m, &list[i], tid, layer, false, false);
		}
	}
}

/* Note in the metapage (WAL-logged) that a relink pass covered nblocks. */
static void
record_relink(Relation index, BlockNumber nblocks)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	Page		page;
	VaWal		wal;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	VaWalBegin(&wal, index, false);
	page = VaWalRegister(&wal, buf, false);
	HnswPageGetMeta(page)->relink_nblocks = nblocks;
	((PageHeader) page)->pd_lower = Max(((PageHeader) page)->pd_lower,
										(LocationIndex) ((char *) HnswPageGetMeta(page) +
														 sizeof(HnswMetaPageData) - (char *) page));
	VaWalFinish(&wal);
	UnlockReleaseBuffer(buf);
}

/*
 * Link the element at utid from the element at from on layer 0 (one WAL
 * record), in a free slot or in place of a link among the last slots of the
 * list (HnswRepairFirstSlot) whose target has other in-links from live
 * elements.  r's in-degrees and reach marks follow.  Returns whether it did.
 */
static bool
relink_from(Relation index, HnswReach *r, const ItemPointerData *from,
			const ItemPointerData *utid, int64 u, int cap0)
{
	Buffer		buf;
	VaWal		wal;
	HnswElementTuple tup = begin_item_write(index, from, &buf, &wal);
	ItemPointerData *list = HnswElementNeighbours(tup);
	int			slot;
	bool		done = false;

	for (slot = 0; slot < cap0 && ItemPointerIsValid(&list[slot]); slot++)
		if (ItemPointerEquals(&list[slot], (ItemPointer) utid))
			slot = cap0 + 1;	/* already linked */
	if (slot == cap0)
	{
		for (slot = cap0 - 1; slot >= HnswRepairFirstSlot(cap0); slot--)
		{
			int64		t = HnswReachNumber(r, &list[slot]);

			if (t < 0 || r->indegree[t] > 1)
				break;
		}
		if (slot < HnswRepairFirstSlot(cap0))
			slot = -1;
	}
	if (slot >= 0 && slot < cap0)
	{
		int64		old = ItemPointerIsValid(&list[slot]) ? HnswReachNumber(r, &list[slot]) : -1;

		if (old >= 0)
			r->indegree[old]--;
		list[slot] = *utid;
		r->indegree[u]++;
		r->seen[u] = true;
		VaWalFinish(&wal);
		done = true;
	}
	else
		VaWalAbort(&wal);
	UnlockReleaseBuffer(buf);
	return done;
}

/*
 * Give every live element a way in again: the repair can drop an element's
 * last in-link.  Each live element no chain of layer-0 links from the entry
 * point reaches gets a layer-0 link (relink_from) from a reachable element
 * of its own layer-0 list or, when none of those can take it, from the
 * nearest reachable elements a search from the entry point finds.
 */
static void
reconnect_unreachable(Relation index, const HnswMetaPageData *meta,
					  BufferAccessStrategy strategy)
{
	HnswReach	r;
	int			cap0 = HnswLayerCapacity(0, meta->m);
	HnswDiskGraph dg;
	VaHeap		result;
	VaCandidate *sorted = NULL;
	bool		searching = false;

	/*
	 * The walk runs without the insert lock; an element an insert links
	 * meanwhile may look unreachable and get one more link, which is
	 * harmless.  The writes below hold the lock, so lists change under it
	 * only.
	 */
	HnswComputeReach(index, meta, strategy, &r);
	LockPage(index, HNSW_INSERT_LOCK, ExclusiveLock);
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < r.nblocks; blkno++)
	{
		for (OffsetNumber off = FirstOffsetNumber; off <= r.maxoff[blkno]; off++)
		{
			uint32		u = r.base[blkno] + off - FirstOffsetNumber;
			ItemPointerData utid;
			HnswElementTuple copy;
			ItemPointerData *mine;
			bool		linked = false;

			if (!r.live[u] || r.seen[u])
				continue;
			CHECK_FOR_INTERRUPTS();
			ItemPointerSet(&utid, blkno, off);
			copy = HnswReadElement(index, &utid);
			mine = HnswElementNeighbours(copy);
			for (int i = 0; i < cap0 && ItemPointerIsValid(&mine[i]) && !linked; i++)
			{
				int64		t = HnswReachNumber(&r, &mine[i]);

				if (t >= 0 && r.seen[t] && r.live[t])
					linked = relink_from(index, &r, &mine[i], &utid, u, cap0);
			}
			if (!linked && ItemPointerIsValid(&meta->entry_point))
			{
				VaCandidate ep;
				int			nfound;

				if (!searching)
				{
					HnswDiskGraphInit(&dg, index, HnswGetIndexOps(index), meta->m,
									  meta->ef_construction);
					VaHeapInit(&result, meta->ef_construction + 1, true);
					sorted = palloc(sizeof(VaCandidate) * (meta->ef_construction + 1));
					searching = true;
				}
				dg.query = HnswElementVector(copy);
				ep.id = VaTidToId(&meta->entry_point);
				dg.graph.evaluate(&dg.graph, &ep);
				HnswGreedyDescend(&dg.graph, &ep, meta->entry_level, 0, &result);
				HnswSearchLayer(&dg.graph, &ep, 1, meta->ef_construction, 0, &result);
				nfound = VaHeapDrainSorted(&result, sorted);
				for (int i = 0; i < nfound && !linked; i++)
				{
					ItemPointerData from;
					int64		t;

					VaIdToTid(sorted[i].id, &from);
					t = HnswReachNumber(&r, &from);
					if (t >= 0 && t != u && r.seen[t] && r.live[t])
						linked = relink_from(index, &r, &from, &utid, u, cap0);
				}
			}
			pfree(copy);
		}
	}
	UnlockPage(index, HNSW_INSERT_LOCK, ExclusiveLock);
	record_relink(index, r.nblocks);
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

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
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

/* Set the chain link of the item at tid (element or duplicate) to next. */
static void
set_chain_link(Relation index, const ItemPointerData *tid, const ItemPointerData *next)
{
	Buffer		buf;
	VaWal		wal;
	HnswElementTuple tup = begin_item_write(index, tid, &buf, &wal);

	if (ItemPointerEquals(&tup->duplicates, (ItemPointer) next))
		VaWalAbort(&wal);
	else
	{
		tup->duplicates = *next;
		VaWalFinish(&wal);
	}
	UnlockReleaseBuffer(buf);
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
 * chain that leads through every live item.  Caller holds the insert lock
 * exclusively.
 */
static void
repair_chain(Relation index, const ItemPointerData *owner, bool owner_deleted)
{
	DuplicateChain chain = {0};
	ItemPointerData prev = *owner;
	ItemPointerData prev_next;
	Buffer		buf;
	HnswElementTuple tup;
	int			first_live = -1;

	chain.cap = 16;
	chain.tids = palloc(sizeof(ItemPointerData) * chain.cap);
	chain.next = palloc(sizeof(ItemPointerData) * chain.cap);
	chain.heaptids = palloc(sizeof(ItemPointerData) * chain.cap);
	chain.deleted = palloc(sizeof(bool) * chain.cap);
	HnswWalkDuplicates(index, owner, collect_chain, &chain);

	for (int i = 0; i < chain.n && first_live < 0; i++)
		if (!chain.deleted[i])
			first_live = i;
	if (owner_deleted && first_live >= 0)
	{
		promote_duplicate(index, owner, &chain.tids[first_live]);
		chain.deleted[first_live] = true;
	}

	/* relink: each link skips to the next live item */
	buf = ReadBuffer(index, ItemPointerGetBlockNumber(owner));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	tup = (HnswElementTuple) PageGetItem(BufferGetPage(buf),
										 PageGetItemId(BufferGetPage(buf), ItemPointerGetOffsetNumber(owner)));
	prev_next = tup->duplicates;
	UnlockReleaseBuffer(buf);
	for (int i = 0; i <= chain.n; i++)
	{
		ItemPointerData want;

		if (i < chain.n && chain.deleted[i])
			continue;
		if (i < chain.n)
			want = chain.tids[i];
		else
			ItemPointerSetInvalid(&want);
		if (!ItemPointerEquals(&prev_next, &want))
			set_chain_link(index, &prev, &want);
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
}

/*
 * Repair the duplicate chain of every element that has one (repair_chain).
 * Caller holds the insert lock exclusively.
 */
static void
repair_duplicate_chains(Relation index, BufferAccessStrategy strategy)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	OffsetNumber owners[MaxOffsetNumber];
	bool		deleted[MaxOffsetNumber];

	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		int			n = 0;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

			if (!(tup->flags & (HNSW_ELEMENT_DUPLICATE | HNSW_ELEMENT_FREE)) &&
				ItemPointerIsValid(&tup->duplicates))
			{
				deleted[n] = (tup->flags & HNSW_ELEMENT_DELETED) != 0;
				owners[n++] = off;
			}
		}
		UnlockReleaseBuffer(buf);
		for (int i = 0; i < n; i++)
		{
			ItemPointerData owner;

			ItemPointerSet(&owner, blkno, owners[i]);
			repair_chain(index, &owner, deleted[i]);
		}
	}
}

/*
 * Repair every live element that links to a deleted one, and move a deleted
 * entry point to a live element of the highest level.  Runs with inserts
 * locked out, so lists change only here.
 */
static void
repair_graph(IndexVacuumInfo *info)
{
	Relation	index = info->index;
	const VaIndexOps *ops = HnswGetIndexOps(index);
	HnswMetaPageData meta;
	BlockNumber nblocks;
	HnswIdSet  *dead;
	MemoryContext ctx;
	MemoryContext old;
	ItemPointerData best;
	int			best_level = -1;
	bool		entry_dead = false;
	HnswDiskGraph dg;
	VaHeap		result;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum repair",
								ALLOCSET_DEFAULT_SIZES);
	LockPage(index, HNSW_INSERT_LOCK, ExclusiveLock);
	HnswReadMeta(index, &meta);
	HnswDiskGraphInit(&dg, index, ops, meta.m, meta.ef_construction);
	VaHeapInit(&result, meta.ef_construction + 1, true);
	nblocks = RelationGetNumberOfBlocks(index);
	ItemPointerSetInvalid(&best);

	/* chains first: a deleted element with live duplicates lives on */
	repair_duplicate_chains(index, info->strategy);

	/* the deleted elements (no cost-delay sleeps while inserts wait) */
	dead = HnswIdSetCreate(1024);
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
			ItemPointerData tid;

			ItemPointerSet(&tid, blkno, off);
			if (tup->flags & HNSW_ELEMENT_DELETED)
			{
				HnswIdSetAdd(dead, VaTidToId(&tid));
				if (ItemPointerEquals(&tid, &meta.entry_point))
					entry_dead = true;
			}
			else if (!(tup->flags & HNSW_ELEMENT_DUPLICATE) && tup->level > best_level)
			{
				best_level = tup->level;
				best = tid;
			}
		}
		UnlockReleaseBuffer(buf);
	}

	/* the lists that link to them */
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber maxoff;
		OffsetNumber *todo;
		int			ntodo = 0;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		todo = MemoryContextAlloc(ctx, sizeof(OffsetNumber) * Max(maxoff, 1));
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

			if (!(tup->flags & HNSW_ELEMENT_DELETED) &&
				links_to_dead(tup, meta.m, dead))
				todo[ntodo++] = off;
		}
		UnlockReleaseBuffer(buf);

		old = MemoryContextSwitchTo(ctx);
		for (int i = 0; i < ntodo; i++)
		{
			ItemPointerData tid;

			CHECK_FOR_INTERRUPTS();
			ItemPointerSet(&tid, blkno, todo[i]);
			repair_element(index, ops, &meta, &tid, dead, &dg, &result);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(ctx);
	}

	if (entry_dead)
	{
		Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
		HnswMetaPage m;
		VaWal		wal;

		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		VaWalBegin(&wal, index, false);
		m = HnswPageGetMeta(VaWalRegister(&wal, metabuf, false));
		m->entry_point = best;	/* invalid if nothing lives */
		m->entry_level = (int16) best_level;
		VaWalFinish(&wal);
		UnlockReleaseBuffer(metabuf);
	}

	UnlockPage(index, HNSW_INSERT_LOCK, ExclusiveLock);

	/*
	 * From here on no list links to a deleted element and inserts never
	 * pick one (they skip deleted candidates), so freeing needs no insert
	 * lock.  Free first, so that relinking counts no link from a deleted
	 * element as an in-link.
	 */
	HnswReadMeta(index, &meta);
	old = MemoryContextSwitchTo(ctx);
	free_deleted(index, &meta, info->strategy);
	reconnect_unreachable(index, &meta, info->strategy);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
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

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL,
								 info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
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
	if (stats == NULL)
	{
		HnswMetaPageData meta;
		MemoryContext ctx;
		MemoryContext old;

		/*
		 * Nothing was deleted (e.g. an autovacuum of an insert-only table):
		 * relinking elements that inserts' pruning cut off is worth a walk
		 * of the whole index only once it has grown by a tenth since the
		 * last walk.  Then the index is not read at all; the tuple count is
		 * the heap's.
		 */
		HnswReadMeta(index, &meta);
		nblocks = RelationGetNumberOfBlocks(index);
		if (meta.relink_nblocks != 0 &&
			nblocks <= meta.relink_nblocks + meta.relink_nblocks / 10)
		{
			stats = palloc0(sizeof(IndexBulkDeleteResult));
			stats->num_pages = nblocks;
			stats->num_index_tuples = info->num_heap_tuples;
			stats->estimated_count = info->estimated_count;
			return stats;
		}
		ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum relink",
									ALLOCSET_DEFAULT_SIZES);
		old = MemoryContextSwitchTo(ctx);
		reconnect_unreachable(index, &meta, info->strategy);
		MemoryContextSwitchTo(old);
		MemoryContextDelete(ctx);
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	}

	nblocks = RelationGetNumberOfBlocks(index);
	stats->num_pages = nblocks;
	stats->num_index_tuples = 0;
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber maxoff;
		Size		room;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL,
								 info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

			if (!(tup->flags & HNSW_ELEMENT_DELETED))
				stats->num_index_tuples++;
		}
		room = HnswPageRoom(page);
		UnlockReleaseBuffer(buf);

		/*
		 * The free space map is not WAL-logged: record every page's room on
		 * every VACUUM, so that it is found again after a crash or promotion.
		 */
		RecordPageWithFreeSpace(index, blkno, room);
	}
	FreeSpaceMapVacuum(index);
	return stats;
}

/*
 * insert.c
 *	  Insert one row into an on-disk HNSW graph (Malkov & Yashunin 2018,
 *	  Algorithm 1): pick a random level, descend greedily from the entry
 *	  point, search each layer from min(level, entry level) down to 0 with
 *	  ef_construction, link to the neighbours the heuristic selects, and link
 *	  those back, pruning full lists with the same heuristic.  A row whose
 *	  vector an element already holds becomes a duplicate item on that
 *	  element's chain instead (place_duplicate).
 *
 *	  Inserts run concurrently with each other under a heavyweight lock
 *	  (HNSW_INSERT_LOCK) in RowExclusiveLock mode, which keeps VACUUM's
 *	  repair (ExclusiveLock) and hnsw_check (ShareLock) out; an insert that
 *	  may become the entry point takes it in ExclusiveLock mode instead.
 *	  Scans never wait for it.  At most two index pages are locked at once
 *	  (see place_element), plus a free space map page.  See README.md.
 */
#include "hnsw/hnsw.h"

#include "common/am.h"
#include "common/wal.h"
#include "miscadmin.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

/*
 * Settle a back-link from base (stored vector basevec) to the newcomer
 * newtid (stored vector newvec) on layer 0 without a new selection, when
 * base's full list (cap members) is the output of a selection whose first
 * ndiverse members the heuristic kept itself (the element's selection
 * state; see hnsw.h).  The in-memory build goes further with the
 * distances and passed-over records it keeps (mem_reselect in build.c).
 *
 * Take the heuristic (HnswSelectNeighbours) over the members plus the
 * newcomer.  Each candidate is compared only with the kept ones before it
 * (nearer base), so the kept members before the newcomer are kept again
 * and the filled-in members before it passed over again.  Then:
 *
 * - if one of those kept members is nearer to the newcomer than base is,
 *   the newcomer is passed over, the kept members after it are kept again
 *   and the filled-in ones passed over again: the newcomer only competes
 *   with the filled-in members, by distance to base (they are nearest
 *   first), taking its place among them (the last one drops out) or
 *   dropping out itself.  So too when all cap members are kept ones that
 *   come before it (it is not reached);
 * - else it is kept, at its place among the kept members.  A kept member
 *   after it stays kept if it is not nearer to the newcomer than to base;
 *   if every one is, the filled-in members are passed over again (each by
 *   a kept member before it), and fill what room is left.  If one is not
 *   (or ndiverse = cap), the result is left to a new selection.
 *
 * So the kept members are read in order while they come before the
 * newcomer, up to the first that is nearer to it; then either the kept
 * members after it or the filled-in ones by binary search: a few element
 * reads and 2 or 3 distances each, instead of the cap + 1 reads and
 * O(cap^2) distances of a selection, for the same list in the same order.
 * Returns false (select anew) in the case above, and when a member read is
 * no longer a live element (a new selection drops those).  Else newlist
 * receives the list (cap TIDs), *kept whether the newcomer is in it and
 * *newdiverse how many members the heuristic kept itself.  Members not
 * read may have been deleted since the list was chosen: a new selection
 * would drop them, this keeps them until VACUUM repairs the list, which it
 * does for every list that links to a deleted element.
 */
static bool
prune_known(Relation index, const VaIndexOps *ops, const void *basevec,
			const ItemPointerData *list, int cap, int ndiverse,
			const ItemPointerData *newtid, const void *newvec,
			ItemPointerData *newlist, bool *kept, int *newdiverse)
{
	float		dn = ops->distance(basevec, newvec);
	uint64		nid = VaTidToId(newtid);
	bool		passed = false;
	int			before = 0;
	float		dj = 0;
	float		dnj = 0;
	float		djn = 0;
	int			lo;
	int			hi;

	for (int j = 0; j < ndiverse; j++)
	{
		if (!HnswElementDistances(index, ops, &list[j], basevec, newvec, &dj, &dnj, &djn))
			return false;
		if (!HnswPrecedes(dj, VaTidToId(&list[j]), dn, nid))
			break;				/* nor do the kept ones after it */
		before++;
		if (dnj < dn)
		{
			passed = true;
			break;
		}
	}
	if (!passed && before < cap)
	{
		/* kept: do the kept members after it stay? (j = before was read) */
		if (ndiverse >= cap)
			return false;
		for (int j = before; j < ndiverse; j++)
		{
			if (j > before &&
				!HnswElementDistances(index, ops, &list[j], basevec, newvec, &dj, &dnj, &djn))
				return false;
			if (djn < dj)
				return false;	/* passed over now: select anew */
		}
		memcpy(newlist, list, sizeof(ItemPointerData) * before);
		newlist[before] = *newtid;
		memcpy(&newlist[before + 1], &list[before],
			   sizeof(ItemPointerData) * (cap - 1 - before));
		*kept = true;
		*newdiverse = ndiverse + 1;
		return true;
	}

	/* the first filled-in member that does not come before the newcomer */
	lo = ndiverse;
	hi = cap;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		float		dm;

		if (!HnswElementDistances(index, ops, &list[mid], basevec, NULL, &dm, NULL, NULL))
			return false;
		if (HnswPrecedes(dm, VaTidToId(&list[mid]), dn, nid))
			lo = mid + 1;
		else
			hi = mid;
	}
	memcpy(newlist, list, sizeof(ItemPointerData) * cap);
	*kept = lo < cap;
	*newdiverse = ndiverse;
	if (*kept)
	{
		memmove(&newlist[lo + 1], &newlist[lo], sizeof(ItemPointerData) * (cap - 1 - lo));
		newlist[lo] = *newtid;
	}
	return true;
}

/*
 * Begin a WAL record for the item at off on buf's page (locked exclusively
 * by the caller) and return the item to change in the record's image.
 */
static HnswElementTuple
begin_write(VaWal *wal, Relation index, Buffer buf, OffsetNumber off, bool building)
{
	Page		page;

	VaWalBegin(wal, index, building);
	page = VaWalRegister(wal, buf, false);
	return (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
}

/*
 * What HnswAddBacklink chose for a full layer list without the page lock:
 * the list it was chosen from with its selection state, and the list and
 * state to write instead if the element still has that list.
 */
typedef struct PrunedList
{
	ItemPointerData *oldlist;	/* [cap] */
	uint16		oldsel;
	ItemPointerData *newlist;	/* [cap]; NULL: nothing chosen yet */
	uint16		newsel;
	bool		kept;			/* the newcomer is in newlist */
} PrunedList;

/*
 * Where newtid goes in the layer list slots[0..cap): its own slot if it is
 * there already, else the first free one; cap when the list is full.
 */
static int
backlink_slot(const ItemPointerData *slots, int cap, const ItemPointerData *newtid)
{
	int			slot;

	for (slot = 0; slot < cap && ItemPointerIsValid(&slots[slot]); slot++)
	{
		if (ItemPointerEquals((ItemPointer) &slots[slot], (ItemPointer) newtid))
			break;
	}
	return slot;
}

/*
 * Write newtid into slot (< cap) of the layer list of the element at off on
 * buf's page (locked exclusively), one WAL record; the list is then no
 * longer a known selection.
 */
static void
write_backlink(Relation index, Buffer buf, OffsetNumber off, int layer, int m,
			   int slot, const ItemPointerData *newtid, bool building)
{
	VaWal		wal;
	HnswElementTuple tup = begin_write(&wal, index, buf, off, building);

	HnswElementNeighbours(tup)[HnswLayerStart(layer, m) + slot] = *newtid;
	if (layer == 0)
		tup->selection = HNSW_SELECTION_UNKNOWN;
	VaWalFinish(&wal);
}

/*
 * Write pruned's list over the layer list of tup, the element at off on
 * buf's page (locked exclusively), if that list (and on layer 0 its
 * selection state) is still the one pruned was chosen from; one WAL record,
 * only if anything changes.  Returns false, writing nothing, when another
 * insert changed the list meanwhile.
 */
static bool
write_pruned(Relation index, Buffer buf, OffsetNumber off, HnswElementTuple tup,
			 int layer, int m, const PrunedList *pruned, bool building)
{
	int			cap = HnswLayerCapacity(layer, m);
	ItemPointerData *slots = HnswElementNeighbours(tup) + HnswLayerStart(layer, m);
	VaWal		wal;

	if (memcmp(slots, pruned->oldlist, sizeof(ItemPointerData) * cap) != 0 ||
		(layer == 0 && tup->selection != pruned->oldsel))
		return false;
	if (memcmp(slots, pruned->newlist, sizeof(ItemPointerData) * cap) != 0 ||
		(layer == 0 && tup->selection != pruned->newsel))
	{
		tup = begin_write(&wal, index, buf, off, building);
		memcpy(HnswElementNeighbours(tup) + HnswLayerStart(layer, m), pruned->newlist,
			   sizeof(ItemPointerData) * cap);
		if (layer == 0)
			tup->selection = pruned->newsel;
		VaWalFinish(&wal);
	}
	return true;
}

/*
 * The survivors of the full list slots[0..cap) of base (stored vector
 * basevec) plus newtid by a new selection (HnswSelectNeighbours over all
 * cap + 1), into newlist (cap TIDs, invalid after the survivors), with how
 * many the heuristic kept itself in *ndiverse.  Returns whether newtid
 * survives.
 *
 * A list with a deleted member is not selected anew: its deleted member
 * furthest from base leaves, the other members stay in their order, and
 * newtid goes last, as into a free slot (*ndiverse = -1: no known
 * selection).  A selection would drop every deleted member, leaving a list
 * of the live ones alone that no longer links to a deleted element, so
 * VACUUM's repair, which chooses anew only lists that do and draws on the
 * deleted members' own lists, would pass it by.  Its back-links met such
 * lists all the time: with three rows in four deleted from clustered data,
 * four in five layer-0 lists were left with about 12 of their 32 links,
 * few of them to other clusters, and recall@10 fell to 0.72 (test/t/026).
 */
static bool
select_survivors(Relation index, const VaIndexOps *ops, const void *basevec,
				 const ItemPointerData *slots, int cap,
				 const ItemPointerData *newtid, ItemPointerData *newlist,
				 int *ndiverse)
{
	VaCandidate *cands = palloc(sizeof(VaCandidate) * (cap + 1));
	const void **vectors = palloc(sizeof(void *) * (cap + 1));
	int		   *selected = palloc(sizeof(int) * (cap + 1));
	bool		kept = false;
	int			k;

	for (int i = 0; i < cap; i++)
		cands[i].id = VaTidToId(&slots[i]);
	cands[cap].id = VaTidToId(newtid);
	HnswLoadCandidates(index, ops, basevec, cands, cap + 1, vectors);
	/* nearest first: the first deleted one from the end is furthest */
	for (int i = cap; i >= 0; i--)
	{
		int			n = 0;

		if (!(cands[i].flags & HNSW_CANDIDATE_DELETED) || cands[i].id == VaTidToId(newtid))
			continue;

		/*
		 * as if its slot were free: the others keep their order, and the
		 * newcomer goes last (the first free slot; see HnswRepairFirstSlot
		 * for what the order means)
		 */
		for (int j = 0; j < cap; j++)
			if (n < j || VaTidToId(&slots[j]) != cands[i].id)
				newlist[n++] = slots[j];	/* (n < j once it is left out) */
		if (n == cap)
			break;				/* not in slots: cannot happen */
		newlist[n] = *newtid;
		*ndiverse = -1;
		return true;
	}
	k = HnswSelectNeighbours(cands, vectors, cap + 1, cap, ops, selected, ndiverse, NULL);
	for (int i = 0; i < cap; i++)
	{
		if (i < k)
		{
			VaIdToTid(cands[selected[i]].id, &newlist[i]);
			if (ItemPointerEquals(&newlist[i], (ItemPointer) newtid))
				kept = true;
		}
		else
			ItemPointerSetInvalid(&newlist[i]);
	}
	return kept;
}

/*
 * Choose what the full layer list of base (a copy of the element, taken
 * under its page lock) becomes with newtid (stored vector newvec) in
 * *pruned: on layer 0 through prune_known when the list's selection state
 * allows, else by a new selection.  Allocates in the current context.
 */
static void
choose_pruned(Relation index, const VaIndexOps *ops, HnswElementTuple base,
			  int layer, int m, const ItemPointerData *newtid,
			  const void *newvec, PrunedList *pruned)
{
	int			cap = HnswLayerCapacity(layer, m);
	ItemPointerData *slots = HnswElementNeighbours(base) + HnswLayerStart(layer, m);
	int			ndiverse;

	pruned->oldlist = palloc(sizeof(ItemPointerData) * cap);
	memcpy(pruned->oldlist, slots, sizeof(ItemPointerData) * cap);
	pruned->oldsel = base->selection;
	pruned->newlist = palloc(sizeof(ItemPointerData) * cap);

	if (!(layer == 0 && pruned->oldsel != HNSW_SELECTION_UNKNOWN &&
		  pruned->oldsel <= cap + 1 &&
		  prune_known(index, ops, HnswElementVector(base), pruned->oldlist, cap,
					  pruned->oldsel - 1, newtid, newvec, pruned->newlist,
					  &pruned->kept, &ndiverse)))
		pruned->kept = select_survivors(index, ops, HnswElementVector(base), slots,
										cap, newtid, pruned->newlist, &ndiverse);
	pruned->newsel = (uint16) (ndiverse + 1);
}

/*
 * Add newtid (stored vector newvec) to the layer list of the element at
 * nbtid.  A full list is pruned with the selection heuristic over its
 * members plus newtid (on layer 0 through prune_known when the list's
 * selection state allows), or, with force, loses its last member to newtid.
 * Returns whether newtid is in the list afterwards.  Writes (one WAL
 * record) only if the list or its selection state changes.  Caller holds
 * HNSW_INSERT_LOCK.  Other inserts may change the list meanwhile: a pruned
 * list, chosen without the page lock, is written only if the list is still
 * the one it was chosen from, and chosen again otherwise.  Algorithm 1 of
 * Malkov & Yashunin 2018 (shrinking a neighbour's connections).
 */
bool
HnswAddBacklink(Relation index, const VaIndexOps *ops, int m,
				const ItemPointerData *nbtid, const ItemPointerData *newtid,
				const void *newvec, int layer, bool building, bool force)
{
	bool		kept = false;
	int			cap = HnswLayerCapacity(layer, m);
	OffsetNumber off = ItemPointerGetOffsetNumber(nbtid);
	PrunedList	pruned = {0};
	MemoryContext prunectx = NULL;

	for (;;)
	{
		Buffer		buf = HnswReadIndexBuffer(index, ItemPointerGetBlockNumber(nbtid));
		Page		page;
		HnswElementTuple tup;
		ItemPointerData *slots;
		int			slot;
		Size		tupsize;
		HnswElementTuple base;
		MemoryContext old;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
		if (layer > tup->level)
		{
			UnlockReleaseBuffer(buf);
			kept = false;
			break;
		}

		if (pruned.newlist != NULL)
		{
			/* pruned list chosen below: apply it if the list is unchanged */
			if (write_pruned(index, buf, off, tup, layer, m, &pruned, building))
			{
				UnlockReleaseBuffer(buf);
				kept = pruned.kept;
				break;
			}
			/* another insert changed it meanwhile: start over */
			MemoryContextReset(prunectx);
			pruned.newlist = pruned.oldlist = NULL;
		}

		slots = HnswElementNeighbours(tup) + HnswLayerStart(layer, m);
		slot = backlink_slot(slots, cap, newtid);
		if (slot < cap || force)
		{
			/* a free slot, or force: the last one; else already linked */
			if (slot == cap || !ItemPointerIsValid(&slots[slot]))
				write_backlink(index, buf, off, layer, m, Min(slot, cap - 1),
							   newtid, building);
			UnlockReleaseBuffer(buf);
			kept = true;
			break;
		}

		/*
		 * full: choose the survivors without holding the lock, in a context
		 * of their own, since a retry starts over
		 */
		if (prunectx == NULL)
			prunectx = AllocSetContextCreate(CurrentMemoryContext, "hnsw pruning",
											 ALLOCSET_DEFAULT_SIZES);
		old = MemoryContextSwitchTo(prunectx);
		tupsize = HnswElementSize(HnswStoredSize(tup->data), tup->level, m);
		base = palloc(tupsize);
		memcpy(base, tup, tupsize);
		UnlockReleaseBuffer(buf);
		choose_pruned(index, ops, base, layer, m, newtid, newvec, &pruned);
		MemoryContextSwitchTo(old);
	}
	if (prunectx != NULL)
		MemoryContextDelete(prunectx);
	return kept;
}

Size
HnswPageRoom(Page page)
{
	Size		gap = PageGetExactFreeSpace(page);
	Size		room = PageGetFreeSpace(page);

	for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
	{
		ItemId		iid = PageGetItemId(page, off);
		HnswElementTuple e = (HnswElementTuple) PageGetItem(page, iid);

		if (e->flags & HNSW_ELEMENT_FREE)
			room = Max(room, MAXALIGN(ItemIdGetLength(iid)) + gap);
	}
	return room;
}

/*
 * Where on page (exclusively locked) an item of size bytes goes: the
 * smallest slot VACUUM freed that holds it as it is, else the largest freed
 * slot if, grown into the page's unused middle, it holds it (*off set to
 * the slot), else a new line pointer in that middle (*off =
 * InvalidOffsetNumber).  A freed slot that a smaller item takes gives the
 * rest back to the middle (PageIndexTupleOverwrite moves the items before
 * it), so the bytes of freed slots stay usable by items of any size.
 * Returns false if none of these has room; else *fit says which it is:
 * HNSW_FIT_SLOT, HNSW_FIT_GROWN or HNSW_FIT_NEW, and *nfree how many freed
 * slots the page has.
 */
#define HNSW_FIT_SLOT	0
#define HNSW_FIT_GROWN	1
#define HNSW_FIT_NEW	2

static bool
page_slot_for(Page page, Size size, OffsetNumber *off, int *fit, int *nfree)
{
	Size		need = MAXALIGN(size);
	Size		gap = PageGetExactFreeSpace(page);
	OffsetNumber best = InvalidOffsetNumber;
	Size		best_len = 0;
	OffsetNumber largest = InvalidOffsetNumber;
	Size		largest_len = 0;

	*nfree = 0;
	for (OffsetNumber o = FirstOffsetNumber; o <= PageGetMaxOffsetNumber(page); o++)
	{
		ItemId		iid = PageGetItemId(page, o);
		HnswElementTuple e = (HnswElementTuple) PageGetItem(page, iid);
		Size		len = MAXALIGN(ItemIdGetLength(iid));

		if (!(e->flags & HNSW_ELEMENT_FREE))
			continue;
		(*nfree)++;
		if (len >= need && (best == InvalidOffsetNumber || len < best_len))
		{
			best = o;
			best_len = len;
		}
		if (len > largest_len)
		{
			largest = o;
			largest_len = len;
		}
	}
	*off = InvalidOffsetNumber;
	*fit = HNSW_FIT_NEW;
	if (best != InvalidOffsetNumber)
	{
		*off = best;
		*fit = HNSW_FIT_SLOT;
	}
	else if (largest != InvalidOffsetNumber && largest_len + gap >= need)
	{
		*off = largest;
		*fit = HNSW_FIT_GROWN;
	}
	else if (PageGetFreeSpace(page) < need)
		return false;
	return true;
}

/* How many pages the free space map names find_free_slot compares. */
#define HNSW_FSM_CANDIDATES 4

/*
 * Find a page with room for size bytes through the free space map (which
 * records HnswPageRoom of the pages VACUUM or an insert last looked at).
 * Returns the page's buffer exclusively locked and in *off the freed slot
 * to overwrite, or InvalidOffsetNumber for a new item (see page_slot_for);
 * InvalidBuffer if the map knows no such page.
 *
 * VACUUM leaves freed slots of one size (level-0 elements) and gives the
 * rest to each page's unused middle (the gap), so a slot holds a level-0
 * element as it is and a higher element only with some of the page's gap.
 * Taking the first page the map offers left, after a delete-all and
 * re-insert cycle, pages whose slots level-0 rows had used up next to
 * pages with slots but no gap, and the higher elements went to new pages
 * (about +0.9 % a cycle, growing).  So up to HNSW_FSM_CANDIDATES pages
 * the map names (it offers the next one each time) are compared,
 * share-locked one at a time.  A page's balance is its gap less what its freed slots would
 * take if each held an element one layer higher (m neighbour TIDs more).
 * A slot the item fits as it is comes first, on the page of the lowest
 * balance (slots that gap-hungry items could not use anyway); then a slot
 * grown into the gap, then a new item (which adds a line pointer for
 * good), each on the page of the highest balance.  Choosing the page with
 * the least gap for level-0 rows instead used up the slots of pages with
 * gap for one more upper layer, and stranded that gap.  The chosen page is
 * then locked exclusively and looked at again.
 */
static Buffer
find_free_slot(Relation index, Size size, OffsetNumber *off)
{
	/*
	 * The map keeps space in BLCKSZ / 256 byte steps, rounding what is
	 * recorded down and what is asked for up; ask for size rounded down so a
	 * slot of exactly size bytes is found (the page is checked anyway).
	 */
	Size		ask = MAXALIGN(size) - MAXALIGN(size) % (BLCKSZ / 256);
	int64		unit = (int64) HnswGetOptions(index).m * sizeof(ItemPointerData);

	for (int round = 0; round < 2; round++)
	{
		BlockNumber seen[HNSW_FSM_CANDIDATES];
		BlockNumber best = InvalidBlockNumber;
		int			best_fit = HNSW_FIT_NEW;
		int64		best_balance = 0;
		int			nseen = 0;
		Buffer		buf;
		int			fit;
		int			nfree;

		while (nseen < HNSW_FSM_CANDIDATES)
		{
			BlockNumber blkno = GetPageWithFreeSpace(index, ask);
			Page		page;
			bool		again = false;

			if (blkno == InvalidBlockNumber)
				break;
			for (int i = 0; i < nseen; i++)
				again |= seen[i] == blkno;
			if (again)
				break;			/* the map has no other page to offer */
			seen[nseen++] = blkno;
			buf = ReadBuffer(index, blkno);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			if (PageIsNew(page) || VaPageGetOpaque(page)->page_id != VA_PAGE_ID_HNSW ||
				blkno == HNSW_METAPAGE_BLKNO)
				RecordPageWithFreeSpace(index, blkno, 0);
			else if (!page_slot_for(page, size, off, &fit, &nfree))
			{
				/* stale entry: record what the page really has */
				RecordPageWithFreeSpace(index, blkno, HnswPageRoom(page));
			}
			else
			{
				int64		balance = (int64) PageGetExactFreeSpace(page) - nfree * unit;

				if (best == InvalidBlockNumber || fit < best_fit ||
					(fit == best_fit &&
					 (fit == HNSW_FIT_SLOT ? balance < best_balance : balance > best_balance)))
				{
					best = blkno;
					best_fit = fit;
					best_balance = balance;
				}
			}
			UnlockReleaseBuffer(buf);
		}
		if (best == InvalidBlockNumber)
			return InvalidBuffer;

		buf = ReadBuffer(index, best);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (page_slot_for(BufferGetPage(buf), size, off, &fit, &nfree))
			return buf;
		/* another insert took the room meanwhile */
		RecordPageWithFreeSpace(index, best, HnswPageRoom(BufferGetPage(buf)));
		UnlockReleaseBuffer(buf);
	}
	return InvalidBuffer;
}

/* The metapage's insert page (InvalidBlockNumber before the first element). */
static BlockNumber
current_insert_page(Relation index)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	BlockNumber blkno;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	blkno = HnswPageGetMeta(BufferGetPage(buf))->insert_page;
	UnlockReleaseBuffer(buf);
	return blkno;
}

/*
 * Where a new item goes (choose_target): buf, locked exclusively, and how it
 * was found.
 */
typedef struct Target
{
	Buffer		buf;
	OffsetNumber reuse;			/* a slot VACUUM freed, or InvalidOffsetNumber */
	bool		new_page;		/* a new page: the extension lock is held */
	bool		from_fsm;		/* named by the free space map */
} Target;

/*
 * The page a new item of size bytes goes to, into *t, exclusively locked: a
 * page the free space map names (from_fsm), with a slot VACUUM freed
 * (reuse) or room for a new item (none during a build), else the insert
 * page as it is now, not as this insert first read it (other inserts may
 * have filled that one and started a new one meanwhile), else a new page
 * (new_page), added under the relation extension lock, which the caller
 * releases once the metapage names the page.  A new page is added only if
 * the insert page is still the full one, so that inserts finding it full at
 * the same moment do not each start a page (all but one would stay nearly
 * empty: the free space map records only freed slots).  No buffer lock is
 * held while waiting for the extension lock or extending, so scans reading
 * the metapage do not wait for a new page.
 */
static void
choose_target(Relation index, Size size, bool building, Target *t)
{
	Buffer		buf = InvalidBuffer;

	t->reuse = InvalidOffsetNumber;
	t->new_page = false;
	if (!building)
		buf = find_free_slot(index, size, &t->reuse);
	t->from_fsm = BufferIsValid(buf);
	while (!BufferIsValid(buf))
	{
		BlockNumber insert_page = current_insert_page(index);

		if (insert_page != InvalidBlockNumber)
		{
			buf = ReadBuffer(index, insert_page);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			if (PageGetFreeSpace(BufferGetPage(buf)) >= MAXALIGN(size))
				break;
			UnlockReleaseBuffer(buf);
			buf = InvalidBuffer;
		}
		LockRelationForExtension(index, ExclusiveLock);
		if (current_insert_page(index) != insert_page)
		{
			/* another insert started a page meanwhile: try that one */
			UnlockRelationForExtension(index, ExclusiveLock);
			continue;
		}
		/* takes the extension lock again (it is reentrant) */
		buf = VaNewBuffer(index, MAIN_FORKNUM);
		t->new_page = true;
	}
	t->buf = buf;
}

/*
 * Put item (size bytes) on page, t's page registered in a WAL record: in
 * t's freed slot, which keeps its line pointer (the item shrinks to size),
 * else as a new item.  Returns its offset.  ERROR if it does not fit (what
 * names the item).
 */
static OffsetNumber
put_item(Relation index, const Target *t, Page page, Item item, Size size,
		 const char *what)
{
	OffsetNumber off;

	if (t->reuse != InvalidOffsetNumber)
	{
		if (!PageIndexTupleOverwrite(page, t->reuse, item, size))
			elog(ERROR, "failed to reuse hnsw slot (%u,%u) of index \"%s\"",
				 BufferGetBlockNumber(t->buf), t->reuse, RelationGetRelationName(index));
		off = t->reuse;
	}
	else
		off = PageAddItem(page, item, size, InvalidOffsetNumber, false, false);
	if (off == InvalidOffsetNumber)
		elog(ERROR, "failed to add %s to index \"%s\"",
			 what, RelationGetRelationName(index));
	return off;
}

/*
 * Write tup (size bytes) in a slot VACUUM freed, else on the insert page,
 * else on a new page, and update the metapage as needed (insert page, first
 * element's dimensions, entry point when the new element's level is the
 * highest).  Returns the element's TID in *tid.  Locks: the slot's, the
 * insert page's or a new page's buffer, then the metapage's (a new page is
 * added under the relation extension lock, held until the metapage names
 * it); the free space map's pages last.
 */
static void
place_element(Relation index, HnswElementTuple tup, Size size, int dimensions,
			  Size vector_size, const HnswMetaPageData *metacopy, bool building,
			  ItemPointer tid)
{
	Target		t;
	Buffer		metabuf;
	Page		page;
	HnswMetaPage meta;
	bool		new_entry = !ItemPointerIsValid(&metacopy->entry_point) ||
	tup->level > metacopy->entry_level;
	OffsetNumber off;
	Size		left = 0;
	VaWal		wal;

	choose_target(index, size, building, &t);

	VaWalBegin(&wal, index, building);
	page = VaWalRegister(&wal, t.buf, t.new_page);
	if (t.new_page)
		VaInitPage(page, VA_PAGE_ID_HNSW);
	off = put_item(index, &t, page, (Item) tup, size, "hnsw element");
	if (t.from_fsm)
		left = HnswPageRoom(page);
	ItemPointerSet(tid, BufferGetBlockNumber(t.buf), off);

	if (t.new_page || new_entry)
	{
		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		meta = HnswPageGetMeta(VaWalRegister(&wal, metabuf, false));
		if (t.new_page)
			meta->insert_page = BufferGetBlockNumber(t.buf);
		if (meta->dimensions < 0)
		{
			meta->dimensions = dimensions;
			meta->vector_size = (uint32) vector_size;
		}
		if (new_entry)
		{
			meta->entry_point = *tid;
			meta->entry_level = tup->level;
		}
		VaWalFinish(&wal);
		UnlockReleaseBuffer(metabuf);
	}
	else
		VaWalFinish(&wal);
	if (t.new_page)
		UnlockRelationForExtension(index, ExclusiveLock);
	if (t.from_fsm)
		RecordPageWithFreeSpace(index, BufferGetBlockNumber(t.buf), left);
	UnlockReleaseBuffer(t.buf);
}

/*
 * Is the item at off on page a live element (not deleted, not freed) whose
 * stored vector is stored?  Safe on garbage.  A deleted element's chain
 * takes no new items: VACUUM repairs chains while inserts run and counts on
 * that (repair_chain in vacuum.c).
 */
static bool
owner_matches(Page page, OffsetNumber off, const void *stored)
{
	ItemId		iid;
	HnswElementTuple e;

	if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page))
		return false;
	iid = PageGetItemId(page, off);
	e = (HnswElementTuple) PageGetItem(page, iid);
	return ItemIdIsNormal(iid) &&
		ItemIdGetLength(iid) >= offsetof(HnswElementTupleData, data) + VARSIZE(stored) &&
		!(e->flags & (HNSW_ELEMENT_FREE | HNSW_ELEMENT_DUPLICATE | HNSW_ELEMENT_DELETED)) &&
		HnswSameVector(HnswElementVector(e), stored);
}

/* Does t's page, locked again, still have the room choose_target found? */
static bool
target_has_room(const Target *t, Size size)
{
	Page		page = BufferGetPage(t->buf);

	if (t->new_page)
		return true;			/* no other insert knows the page yet */
	if (t->reuse != InvalidOffsetNumber)
	{
		ItemId		iid;

		if (t->reuse > PageGetMaxOffsetNumber(page))
			return false;
		iid = PageGetItemId(page, t->reuse);
		return (((HnswElementTuple) PageGetItem(page, iid))->flags & HNSW_ELEMENT_FREE) &&
			MAXALIGN(ItemIdGetLength(iid)) + PageGetExactFreeSpace(page) >= MAXALIGN(size);
	}
	return PageGetFreeSpace(page) >= MAXALIGN(size);
}

/*
 * Let go of t's page, of obuf (the owner's page, when it is another) and of
 * the extension lock for a new page, all locked by lock_duplicate_target.
 */
static void
release_duplicate_target(Relation index, const Target *t, Buffer obuf)
{
	UnlockReleaseBuffer(t->buf);
	if (obuf != t->buf)
		UnlockReleaseBuffer(obuf);
	if (t->new_page)
		UnlockRelationForExtension(index, ExclusiveLock);
}

typedef enum DupTargetResult
{
	DUP_TARGET_LOCKED,			/* the owner's page and the target locked */
	DUP_TARGET_RETRY,			/* the target lost its room: choose again */
	DUP_OWNER_GONE				/* the owner no longer holds the vector */
} DupTargetResult;

/*
 * Lock the page of the element at owner (*obuf) and the page a duplicate
 * item of size bytes goes to (*t): the owner's own when it has room, else
 * where choose_target says.  Two buffers are locked lower block first (a
 * lock out of that order is only tried, never waited for).  Returns
 * DUP_TARGET_LOCKED with both locked, or, holding nothing, DUP_OWNER_GONE
 * when the owner no longer holds the vector stored (owner_matches) and
 * DUP_TARGET_RETRY when the target, locked again in block order, lost its
 * room meanwhile.
 */
static DupTargetResult
lock_duplicate_target(Relation index, const ItemPointerData *owner,
					  const void *stored, Size size, bool building,
					  Buffer *obuf, Target *t)
{
	BlockNumber oblk = ItemPointerGetBlockNumber(owner);
	OffsetNumber ooff = ItemPointerGetOffsetNumber(owner);

	*obuf = ReadBuffer(index, oblk);
	LockBuffer(*obuf, BUFFER_LOCK_EXCLUSIVE);
	if (!owner_matches(BufferGetPage(*obuf), ooff, stored))
	{
		UnlockReleaseBuffer(*obuf);
		return DUP_OWNER_GONE;
	}
	if (PageGetFreeSpace(BufferGetPage(*obuf)) >= MAXALIGN(size))
	{
		t->buf = *obuf;
		t->reuse = InvalidOffsetNumber;
		t->new_page = false;
		t->from_fsm = false;
		return DUP_TARGET_LOCKED;
	}

	LockBuffer(*obuf, BUFFER_LOCK_UNLOCK);
	choose_target(index, size, building, t);
	if (BufferGetBlockNumber(t->buf) == oblk)
	{
		/* room was made on the owner's page meanwhile */
		ReleaseBuffer(*obuf);
		*obuf = t->buf;
	}
	else if (BufferGetBlockNumber(t->buf) < oblk)
		LockBuffer(*obuf, BUFFER_LOCK_EXCLUSIVE);
	else if (!ConditionalLockBuffer(*obuf))
	{
		/* lock in block order, then look at the target again */
		LockBuffer(t->buf, BUFFER_LOCK_UNLOCK);
		LockBuffer(*obuf, BUFFER_LOCK_EXCLUSIVE);
		LockBuffer(t->buf, BUFFER_LOCK_EXCLUSIVE);
		if (!target_has_room(t, size))
		{
			release_duplicate_target(index, t, *obuf);
			return DUP_TARGET_RETRY;
		}
	}
	if (!owner_matches(BufferGetPage(*obuf), ooff, stored))
	{
		/* a new page stays empty (hnsw_check accepts that) */
		release_duplicate_target(index, t, *obuf);
		return DUP_OWNER_GONE;
	}
	return DUP_TARGET_LOCKED;
}

/*
 * Write dup on t's page and make it the head of the duplicate chain of the
 * element at ooff on obuf's page (dup.next is set here to the old head):
 * one WAL record, with the metapage's insert page when t is a new page.
 * Then let go of both buffers and of the extension lock.
 */
static void
write_duplicate(Relation index, HnswDuplicateTupleData *dup, Buffer obuf,
				OffsetNumber ooff, const Target *t, bool building)
{
	Page		tpage;
	Page		opage;
	HnswElementTuple e;
	OffsetNumber off;
	Size		left = 0;
	VaWal		wal;

	VaWalBegin(&wal, index, building);
	tpage = VaWalRegister(&wal, t->buf, t->new_page);
	if (t->new_page)
		VaInitPage(tpage, VA_PAGE_ID_HNSW);
	opage = t->buf == obuf ? tpage : VaWalRegister(&wal, obuf, false);
	e = (HnswElementTuple) PageGetItem(opage, PageGetItemId(opage, ooff));
	dup->next = e->duplicates;
	off = put_item(index, t, tpage, (Item) dup, HNSW_DUPLICATE_SIZE,
				   "hnsw duplicate item");
	if (t->from_fsm)
		left = HnswPageRoom(tpage);

	/*
	 * Find the owner again: overwriting a reused slot with an item of another
	 * size moves the other items' bytes on that page, and the owner may be
	 * one of them.
	 */
	e = (HnswElementTuple) PageGetItem(opage, PageGetItemId(opage, ooff));
	ItemPointerSet(&e->duplicates, BufferGetBlockNumber(t->buf), off);
	if (t->new_page)
	{
		Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);

		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		HnswPageGetMeta(VaWalRegister(&wal, metabuf, false))->insert_page =
			BufferGetBlockNumber(t->buf);
		VaWalFinish(&wal);
		UnlockReleaseBuffer(metabuf);
		UnlockRelationForExtension(index, ExclusiveLock);
	}
	else
		VaWalFinish(&wal);
	if (t->from_fsm)
		RecordPageWithFreeSpace(index, BufferGetBlockNumber(t->buf), left);
	if (obuf != t->buf)
		UnlockReleaseBuffer(obuf);
	UnlockReleaseBuffer(t->buf);
}

/*
 * Index heap row heap_tid, whose stored form equals that of the element at
 * owner, as a duplicate item on the element's chain (see hnsw.h) instead of
 * an element of its own.  The item goes on the owner's page when it has
 * room, else where choose_target says; the item and the owner's new chain
 * head are one WAL record.  Two buffers are locked at once, the lower block
 * first (a lock out of that order is only tried, never waited for), then
 * the metapage for a new page.  Returns false, having changed nothing, if
 * the element no longer holds this vector (e.g. VACUUM freed it).  Caller
 * holds HNSW_INSERT_LOCK.
 */
static bool
place_duplicate(Relation index, const ItemPointerData *owner, const void *stored,
				ItemPointer heap_tid, bool building)
{
	HnswDuplicateTupleData dup;
	DupTargetResult result;
	Buffer		obuf;
	Target		t;

	memset(&dup, 0, sizeof(dup));
	dup.heaptid = *heap_tid;
	dup.level = 0;
	dup.flags = HNSW_ELEMENT_DUPLICATE;
	dup.owner = *owner;

	do
		result = lock_duplicate_target(index, owner, stored, HNSW_DUPLICATE_SIZE,
									   building, &obuf, &t);
	while (result == DUP_TARGET_RETRY);
	if (result == DUP_OWNER_GONE)
		return false;
	write_duplicate(index, &dup, obuf, ItemPointerGetOffsetNumber(owner), &t,
					building);
	return true;
}

/* Does any of the elements at nbtids[0..n) link to tid on layer 0? */
static bool
linked_from_any(Relation index, const ItemPointerData *nbtids, int n,
				const ItemPointerData *tid, int m)
{
	for (int j = 0; j < n; j++)
	{
		Buffer		buf = HnswReadIndexBuffer(index, ItemPointerGetBlockNumber(&nbtids[j]));
		HnswElementTuple e;
		ItemPointerData *slots;
		bool		found = false;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		if (ItemPointerGetOffsetNumber(&nbtids[j]) <= PageGetMaxOffsetNumber(BufferGetPage(buf)))
		{
			e = (HnswElementTuple) PageGetItem(BufferGetPage(buf),
											   PageGetItemId(BufferGetPage(buf),
															 ItemPointerGetOffsetNumber(&nbtids[j])));
			slots = HnswElementNeighbours(e);
			for (int i = 0; i < HnswLayerCapacity(0, m) && ItemPointerIsValid(&slots[i]); i++)
				if (ItemPointerEquals(&slots[i], (ItemPointer) tid))
					found = true;
		}
		UnlockReleaseBuffer(buf);
		if (found)
			return true;
	}
	return false;
}

/* Would an element of level become the entry point of the index in meta? */
static inline bool
may_become_entry(const HnswMetaPageData *meta, int level)
{
	return !ItemPointerIsValid(&meta->entry_point) || level > meta->entry_level;
}

/*
 * Take HNSW_INSERT_LOCK for an insert of an element of level level, and
 * read the metapage into *meta under it: shared with other inserts
 * (RowExclusiveLock), unless the element may become the entry point
 * (ExclusiveLock).  Only such inserts and VACUUM's entry point move (both
 * exclusive) change the entry point, so under the shared lock the entry
 * point read stays valid.  Returns the mode taken.
 */
static LOCKMODE
lock_for_insert(Relation index, HnswMetaPageData *meta, int level)
{
	LOCKMODE	lockmode = may_become_entry(meta, level) ? ExclusiveLock : RowExclusiveLock;

	LockPage(index, HNSW_INSERT_LOCK, lockmode);
	HnswReadMeta(index, meta);
	if (lockmode == RowExclusiveLock && may_become_entry(meta, level))
	{
		/* VACUUM moved the entry point down meanwhile */
		UnlockPage(index, HNSW_INSERT_LOCK, lockmode);
		lockmode = ExclusiveLock;
		LockPage(index, HNSW_INSERT_LOCK, lockmode);
		HnswReadMeta(index, meta);
	}
	return lockmode;
}

/*
 * Search every layer from top = min(level, entry level) down to 0 for the
 * new element tup (holding stored, not yet on a page; query: what the
 * search compares elements with, stored itself or its prepared query when
 * quantized) and write its lists into tup with the heuristic,
 * nlinks[layer] links on each layer.
 * Returns false, having written nothing, when layer 0 holds a live element
 * with this very vector and the row joined its duplicate chain instead.
 */
static bool
choose_links(Relation index, const VaIndexOps *ops, const HnswMetaPageData *meta,
			 HnswElementTuple tup, const void *stored, const void *query,
			 ItemPointer heap_tid, bool building, int *nlinks)
{
	int			m = meta->m;
	int			ef = meta->ef_construction;
	HnswDiskGraph dg;
	VaHeap		result;
	VaCandidate ep;
	VaCandidate *entries;
	int			nentries;
	VaCandidate *sorted;
	const void **vectors;
	int		   *selected;
	int			ndiverse;

	HnswDiskGraphInit(&dg, index, ops, m, ef);
	dg.graph.live_results = true;	/* it never links to a deleted one */
	dg.query = query;
	VaHeapInit(&result, ef + 1, true);
	entries = palloc(sizeof(VaCandidate) * (ef + 1));
	sorted = palloc(sizeof(VaCandidate) * (ef + 1));
	vectors = palloc(sizeof(void *) * (ef + 1));
	selected = palloc(sizeof(int) * (ef + 1));

	ep.id = VaTidToId(&meta->entry_point);
	dg.graph.evaluate(&dg.graph, &ep);
	HnswGreedyDescend(&dg.graph, &ep, meta->entry_level, tup->level);
	entries[0] = ep;
	nentries = 1;
	for (int layer = Min(tup->level, meta->entry_level); layer >= 0; layer--)
	{
		ItemPointerData *slots = HnswElementNeighbours(tup) + HnswLayerStart(layer, m);
		int			n;

		CHECK_FOR_INTERRUPTS();
		HnswSearchLayer(&dg.graph, entries, nentries, ef, layer, &result);
		n = VaHeapDrainSorted(&result, sorted);
		if (n > 0)
		{
			/*
			 * else nothing live on this layer was found (all deleted, VACUUM
			 * not done yet): the layer below is searched from these entries
			 * again
			 */
			memcpy(entries, sorted, sizeof(VaCandidate) * n);
			nentries = n;
		}
		HnswLoadCandidates(index, ops, query, sorted, n, vectors);

		/*
		 * A row whose vector an element already holds joins that element's
		 * duplicate chain instead (no links are written before this point).
		 */
		if (layer == 0)
		{
			for (int j = 0; j < n; j++)
			{
				ItemPointerData owner;

				if ((sorted[j].flags & HNSW_CANDIDATE_DELETED) ||
					!HnswSameVector(vectors[j], stored))
					continue;
				VaIdToTid(sorted[j].id, &owner);
				if (place_duplicate(index, &owner, stored, heap_tid, building))
					return false;
				break;
			}
		}
		nlinks[layer] = HnswSelectNeighbours(sorted, vectors, n,
											 HnswLayerCapacity(layer, m), ops,
											 selected, &ndiverse, NULL);
		if (layer == 0)
			tup->selection = (uint16) (ndiverse + 1);
		for (int j = 0; j < nlinks[layer]; j++)
			VaIdToTid(sorted[selected[j]].id, &slots[j]);
	}
	return true;
}

/*
 * Link the new element at tid back from each of its neighbours on layers
 * 0..top (its lists as written, nlinks[layer] each).  If every neighbour
 * pruned it away on layer 0, nothing would lead to it: its nearest
 * neighbour keeps it anyway.  A concurrent insert may have pruned away a
 * link this one added, so that is looked at again first.  (One may still do
 * so after the look; VACUUM relinks what that leaves unreachable.)
 */
static void
link_back(Relation index, const VaIndexOps *ops, int m, HnswElementTuple tup,
		  const ItemPointerData *tid, int top, const int *nlinks, bool building)
{
	for (int layer = 0; layer <= top; layer++)
	{
		ItemPointerData *links = HnswElementNeighbours(tup) + HnswLayerStart(layer, m);
		bool		linked = false;

		for (int j = 0; j < nlinks[layer]; j++)
			linked |= HnswAddBacklink(index, ops, m, &links[j], tid,
									  HnswElementVector(tup), layer, building, false);
		if (layer == 0 && nlinks[0] > 0 &&
			!(linked && linked_from_any(index, links, nlinks[0], tid, m)))
			HnswAddBacklink(index, ops, m, &links[0], tid, HnswElementVector(tup), 0,
							building, true);
	}
}

/*
 * Insert an element holding stored (what elements hold: a stored form, or
 * a code; vector_size bytes) for heap row heap_tid, a value of dimensions
 * dimensions; the search compares elements with query (stored itself, or
 * the value's prepared query), and ops compares what elements hold.
 * building: called from hnswbuild after the in-memory graph was written
 * out (no WAL yet; parallel participants insert concurrently then, as
 * backends do).  rng: the level generator (NULL: the backend's global
 * one).  Errors: dimensions differ from the index's, vector too large for
 * a page.
 */
void
HnswInsertStored(Relation index, const VaIndexOps *ops, const void *stored,
				 Size vector_size, const void *query, int dimensions,
				 ItemPointer heap_tid, bool building, VaRandomState *rng)
{
	HnswMetaPageData meta;
	int			m;
	int			level;
	Size		size;
	HnswElementTuple tup;
	ItemPointerData tid;
	int			top = -1;
	int			nlinks[HNSW_MAX_LEVEL + 1];
	LOCKMODE	lockmode;

	if (VARSIZE(stored) != vector_size)
		elog(ERROR, "hnsw stored form of %zu bytes has varlena size %zu",
			 vector_size, (Size) VARSIZE(stored));

	/* the level first (m never changes), then the lock */
	HnswReadMeta(index, &meta);
	m = meta.m;
	/* one draw: Min() evaluates an argument twice */
	level = HnswRandomLevel(m, rng);
	level = Min(level, HnswMaxLevel(HnswStoredSize(stored), m));
	lockmode = lock_for_insert(index, &meta, level);
	if (meta.dimensions >= 0 && meta.dimensions != dimensions)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", meta.dimensions, dimensions)));

	size = HnswElementSize(HnswStoredSize(stored), level, m);
	tup = palloc0(size);
	tup->heaptid = *heap_tid;
	tup->level = (uint8) level;
	ItemPointerSetInvalid(&tup->duplicates);
	memcpy(HnswElementVector(tup), stored, vector_size);

	if (ItemPointerIsValid(&meta.entry_point))
	{
		top = Min(level, meta.entry_level);
		if (!choose_links(index, ops, &meta, tup, stored, query, heap_tid, building,
						  nlinks))
		{
			UnlockPage(index, HNSW_INSERT_LOCK, lockmode);
			return;
		}
	}
	place_element(index, tup, size, dimensions, vector_size, &meta, building, &tid);
	link_back(index, ops, m, tup, &tid, top, nlinks, building);
	/* the upper layers changed: backends' caches of them are stale */
	if (level >= HNSW_UPPER_LOWEST)
		HnswBumpUpperVersion(index, building);
	UnlockPage(index, HNSW_INSERT_LOCK, lockmode);
}

/*
 * Insert a value in exact stored form (ops, the opclass's) for heap row
 * heap_tid: as it is, or as its code with a prepared query when the index
 * is quantized (the metapage says).  building and rng as for
 * HnswInsertStored.  Errors: dimensions differ from the index's, element
 * too large for a page.
 */
void
HnswInsertValue(Relation index, const VaIndexOps *ops, const void *stored,
				ItemPointer heap_tid, bool building, VaRandomState *rng)
{
	HnswMetaPageData meta;
	HnswQuant	hq;
	int			dims = ops->dims(stored);
	const void *held;

	HnswReadMeta(index, &meta);
	if (meta.quantization == HNSW_QUANTIZATION_NONE)
	{
		HnswInsertStored(index, ops, stored, VARSIZE(stored), stored, dims,
						 heap_tid, building, rng);
		return;
	}
	/* the rotation is made for the index's dimensions: check them first */
	if (meta.dimensions >= 0 && meta.dimensions != dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", meta.dimensions, dims)));
	HnswQuantInit(&hq, index, &meta);
	held = HnswQuantElement(&hq, stored, dims);
	HnswInsertStored(index, hq.graph_ops, held, VARSIZE(held),
					 HnswQuantQuery(&hq, stored, dims), dims, heap_tid, building, rng);
}

/* VaInsertStoredFn of a backend's insert (not a build's; the global level generator). */
static void
insert_stored(Relation index, const VaIndexOps *ops, const void *stored, Size size,
			  ItemPointer heap_tid)
{
	HnswInsertValue(index, ops, stored, heap_tid, false, NULL);
}

/*
 * aminsert: index one new heap row.  NULLs and values the opclass declines
 * (zero vectors under cosine) are not indexed.  Errors: dimensions differ
 * from the index's, vector too large for a page.  Returns false (no
 * uniqueness to report).
 */
VA_DEFINE_AMINSERT(hnswinsert, HnswGetIndexOps, insert_stored)

/*
 * check.c
 *	  hnsw_check(regclass): walk an HNSW index and report structural
 *	  violations, in the spirit of amcheck: pages that are not ours, element
 *	  sizes that do not match their level, neighbour lists that are not
 *	  compact or hold duplicates or self-links, links to missing items or to
 *	  elements without that layer, an entry point that is missing or not on
 *	  the top layer, and live elements that no chain of links from the entry
 *	  point reaches (which searches could therefore never return).  In a
 *	  quantized index, a sample of live elements' codes is compared with the
 *	  codes of their heap rows' values.  The session's cache of the upper
 *	  layers (upper.c), when current, is compared with the pages.
 */
#include "hnsw/hnsw.h"

#include "access/table.h"
#include "common/heapvalue.h"
#include "common/report.h"
#include "funcapi.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"

typedef enum ProblemKind
{
	PROBLEM_PAGE,
	PROBLEM_ELEMENT,
	PROBLEM_LINK,
	PROBLEM_ENTRY,
	PROBLEM_UNREACHABLE,
	PROBLEM_DUPLICATE,
	PROBLEM_CODE,
	PROBLEM_CACHE,
	NUM_PROBLEM_KINDS
} ProblemKind;

typedef struct CheckState
{
	Relation	index;
	HnswMetaPageData meta;
	HnswItemMap map;			/* numbers the arrays below */
	uint8	   *level;			/* by element number */
	bool	   *deleted;
	bool	   *freed;			/* marked free by VACUUM (slot reusable) */
	bool	   *dead_duplicate; /* a duplicate item marked deleted */
	bool	   *duplicate;		/* a well-formed duplicate item */
	bool	   *element;		/* a well-formed element */
	VaReport	report;
} CheckState;

static const char *const kind_names[NUM_PROBLEM_KINDS] = {
	"page", "element", "link", "entry point", "unreachable", "duplicate", "code", "cache"
};

/* Elements of a quantized index whose codes are checked against the heap. */
#define HNSW_CHECK_CODE_SAMPLE	1000

static inline bool
item_exists(CheckState *cs, const ItemPointerData *tid)
{
	return HnswItemNumber(&cs->map, tid) >= 0;
}

/* The number of the item at tid (which exists). */
static inline uint32
element_number(CheckState *cs, const ItemPointerData *tid)
{
	return (uint32) HnswItemNumber(&cs->map, tid);
}

/* HnswMapItems' bad_page: a page that is not ours. */
static void
report_bad_page(void *arg, BlockNumber blkno, Page page)
{
	VaReportProblem(&((CheckState *) arg)->report, PROBLEM_PAGE, "block %u is not an hnsw element page", blkno);
}

/* HnswItemFn of pass 1: an item's size, level and flags. */
static void
check_item(void *arg, BlockNumber blkno, OffsetNumber off, uint32 n,
		   ItemId iid, HnswElementTuple tup)
{
	CheckState *cs = (CheckState *) arg;
	int			m = cs->meta.m;

	if (!ItemIdIsNormal(iid) ||
		ItemIdGetLength(iid) < offsetof(HnswElementTupleData, data))
	{
		VaReportProblem(&cs->report, PROBLEM_ELEMENT, "item (%u,%u) is not an element", blkno, off);
		cs->deleted[n] = true;
		return;
	}
	cs->level[n] = tup->level;
	cs->deleted[n] = (tup->flags & HNSW_ELEMENT_DELETED) != 0;
	cs->freed[n] = (tup->flags & HNSW_ELEMENT_FREE) != 0;
	if (tup->flags & HNSW_ELEMENT_DUPLICATE)
	{
		if (!HnswDuplicateFits(tup, ItemIdGetLength(iid)))
			VaReportProblem(&cs->report, PROBLEM_DUPLICATE,
							"item (%u,%u) is marked duplicate but has %u bytes",
							blkno, off, ItemIdGetLength(iid));
		else
			cs->duplicate[n] = true;
		if (!cs->deleted[n] && !ItemPointerIsValid(&tup->heaptid))
			VaReportProblem(&cs->report, PROBLEM_DUPLICATE, "live duplicate item (%u,%u) has no heap TID",
							blkno, off);
		cs->dead_duplicate[n] = cs->deleted[n];
		cs->deleted[n] = true;	/* not an element: no links, not reached */
		cs->level[n] = 0;
	}
	else if (!HnswElementFits(tup, ItemIdGetLength(iid), m))
	{
		VaReportProblem(&cs->report, PROBLEM_ELEMENT,
						"element (%u,%u) of level %d: its %u bytes do not hold its vector and neighbour lists",
						blkno, off, tup->level, ItemIdGetLength(iid));
		cs->deleted[n] = true;	/* do not follow its links */
		cs->level[n] = 0;
	}
	else
	{
		cs->element[n] = true;
		if (!cs->deleted[n] && !ItemPointerIsValid(&tup->heaptid))
			VaReportProblem(&cs->report, PROBLEM_ELEMENT, "live element (%u,%u) has no heap TID",
							blkno, off);
	}
}

/* Pass 1: pages, element sizes and levels. */
static void
check_elements(CheckState *cs)
{
	uint32		n;

	HnswMapItems(cs->index, NULL, &cs->map, report_bad_page, cs);
	n = Max(cs->map.nelements, 1);
	cs->level = palloc0(n);
	cs->deleted = palloc0(sizeof(bool) * n);
	cs->freed = palloc0(sizeof(bool) * n);
	cs->dead_duplicate = palloc0(sizeof(bool) * n);
	cs->duplicate = palloc0(sizeof(bool) * n);
	cs->element = palloc0(sizeof(bool) * n);
	HnswForEachMappedItem(cs->index, NULL, &cs->map, check_item, cs);
}

/* HnswItemFn of pass 2: every neighbour list of a well-formed element. */
static void
check_item_links(void *arg, BlockNumber blkno, OffsetNumber off, uint32 n,
				 ItemId iid, HnswElementTuple tup)
{
	CheckState *cs = (CheckState *) arg;
	int			m = cs->meta.m;
	ItemPointerData self;

	if (!ItemIdIsNormal(iid) || !HnswElementFits(tup, ItemIdGetLength(iid), m) ||
		(tup->flags & HNSW_ELEMENT_FREE))
		return;
	ItemPointerSet(&self, blkno, off);
	for (int layer = 0; layer <= tup->level; layer++)
	{
		ItemPointerData *slots = HnswElementNeighbours(tup) +
		HnswLayerStart(layer, m);
		int			cap = HnswLayerCapacity(layer, m);
		bool		ended = false;

		for (int i = 0; i < cap; i++)
		{
			if (!ItemPointerIsValid(&slots[i]))
			{
				ended = true;
				continue;
			}
			if (ended)
				VaReportProblem(&cs->report, PROBLEM_LINK,
								"element (%u,%u) layer %d: link %d follows an empty slot",
								blkno, off, layer, i);
			if (!item_exists(cs, &slots[i]))
				VaReportProblem(&cs->report, PROBLEM_LINK,
								"element (%u,%u) layer %d: link %d points to missing item (%u,%u)",
								blkno, off, layer, i,
								ItemPointerGetBlockNumberNoCheck(&slots[i]),
								ItemPointerGetOffsetNumberNoCheck(&slots[i]));
			else if (cs->duplicate[element_number(cs, &slots[i])])
				VaReportProblem(&cs->report, PROBLEM_LINK,
								"element (%u,%u) layer %d: link %d points to duplicate item (%u,%u)",
								blkno, off, layer, i,
								ItemPointerGetBlockNumber(&slots[i]),
								ItemPointerGetOffsetNumber(&slots[i]));
			else if (cs->freed[element_number(cs, &slots[i])] &&
					 !(tup->flags & HNSW_ELEMENT_DELETED))
				VaReportProblem(&cs->report, PROBLEM_LINK,
								"element (%u,%u) layer %d: link %d points to freed slot (%u,%u)",
								blkno, off, layer, i,
								ItemPointerGetBlockNumber(&slots[i]),
								ItemPointerGetOffsetNumber(&slots[i]));
			else if (cs->level[element_number(cs, &slots[i])] < layer)
				VaReportProblem(&cs->report, PROBLEM_LINK,
								"element (%u,%u) layer %d: link %d points to (%u,%u), which has no layer %d",
								blkno, off, layer, i,
								ItemPointerGetBlockNumber(&slots[i]),
								ItemPointerGetOffsetNumber(&slots[i]), layer);
			if (ItemPointerEquals(&slots[i], &self))
				VaReportProblem(&cs->report, PROBLEM_LINK,
								"element (%u,%u) layer %d links to itself", blkno, off, layer);
			for (int j = 0; j < i; j++)
			{
				if (ItemPointerEquals(&slots[i], &slots[j]))
					VaReportProblem(&cs->report, PROBLEM_LINK,
									"element (%u,%u) layer %d: links %d and %d are the same",
									blkno, off, layer, j, i);
			}
		}
	}
}

/* A copy of the item at tid (caller checked it exists). */
static void
read_item(CheckState *cs, const ItemPointerData *tid, void *dst, Size size)
{
	Buffer		buf = ReadBuffer(cs->index, ItemPointerGetBlockNumber(tid));
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	memcpy(dst, PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(tid))), size);
	UnlockReleaseBuffer(buf);
}

/*
 * Pass 3: duplicate chains.  Each element's chain must lead through
 * duplicate items that name it as owner, each on one chain only, and every
 * live duplicate item must be on its owner's chain (VACUUM takes deleted
 * ones off their chains, then frees them; inserts run in between).
 */
static void
check_duplicates(CheckState *cs)
{
	bool	   *on_chain = palloc0(sizeof(bool) * Max(cs->map.nelements, 1));

	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < cs->map.nblocks; blkno++)
	{
		for (OffsetNumber off = FirstOffsetNumber; off <= cs->map.maxoff[blkno]; off++)
		{
			uint32		n = cs->map.base[blkno] + off - FirstOffsetNumber;
			ItemPointerData self;
			HnswElementTupleData head;
			ItemPointerData next;

			if (!cs->element[n] || cs->freed[n])
				continue;
			ItemPointerSet(&self, blkno, off);
			read_item(cs, &self, &head, offsetof(HnswElementTupleData, data));
			next = head.duplicates;
			while (ItemPointerIsValid(&next))
			{
				HnswDuplicateTupleData dup;
				uint32		d;

				CHECK_FOR_INTERRUPTS();
				if (!item_exists(cs, &next) || !cs->duplicate[element_number(cs, &next)])
				{
					VaReportProblem(&cs->report, PROBLEM_DUPLICATE,
									"element (%u,%u): its chain leads to (%u,%u), not a duplicate item",
									blkno, off, ItemPointerGetBlockNumberNoCheck(&next),
									ItemPointerGetOffsetNumberNoCheck(&next));
					break;
				}
				d = element_number(cs, &next);
				if (on_chain[d])
				{
					VaReportProblem(&cs->report, PROBLEM_DUPLICATE,
									"element (%u,%u): duplicate item (%u,%u) is on a chain twice",
									blkno, off, ItemPointerGetBlockNumber(&next),
									ItemPointerGetOffsetNumber(&next));
					break;
				}
				on_chain[d] = true;
				read_item(cs, &next, &dup, sizeof(dup));
				if (!ItemPointerEquals(&dup.owner, &self))
					VaReportProblem(&cs->report, PROBLEM_DUPLICATE,
									"duplicate item (%u,%u) on the chain of (%u,%u) names (%u,%u) as owner",
									ItemPointerGetBlockNumber(&next), ItemPointerGetOffsetNumber(&next),
									blkno, off, ItemPointerGetBlockNumberNoCheck(&dup.owner),
									ItemPointerGetOffsetNumberNoCheck(&dup.owner));
				if (cs->freed[d])
					VaReportProblem(&cs->report, PROBLEM_DUPLICATE,
									"element (%u,%u): its chain leads through freed item (%u,%u)",
									blkno, off, ItemPointerGetBlockNumber(&next),
									ItemPointerGetOffsetNumber(&next));
				next = dup.next;
			}
		}
	}
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < cs->map.nblocks; blkno++)
		for (OffsetNumber off = FirstOffsetNumber; off <= cs->map.maxoff[blkno]; off++)
		{
			uint32		n = cs->map.base[blkno] + off - FirstOffsetNumber;

			if (cs->duplicate[n] && !cs->dead_duplicate[n] && !on_chain[n])
				VaReportProblem(&cs->report, PROBLEM_DUPLICATE,
								"duplicate item (%u,%u) is on no element's chain", blkno, off);
		}
	pfree(on_chain);
}

/*
 * Pass 4: the entry point, then reachability: breadth first from the entry
 * point over the layer-0 links (HnswComputeReach).  An element no such
 * chain of links leads to is never returned by a search.
 */
static void
check_entry_and_reach(CheckState *cs)
{
	HnswReach	reach;
	int			top = -1;

	/*
	 * deleted elements keep their level but are unlinked: only live ones
	 * count
	 */
	for (uint32 n = 0; n < cs->map.nelements; n++)
		if (!cs->deleted[n])
			top = Max(top, (int) cs->level[n]);

	if (!ItemPointerIsValid(&cs->meta.entry_point))
	{
		uint32		live = 0;

		for (uint32 n = 0; n < cs->map.nelements; n++)
			live += !cs->deleted[n];
		if (live > 0)
			VaReportProblem(&cs->report, PROBLEM_ENTRY, "index has %u live elements but no entry point",
							live);
		return;
	}
	if (!item_exists(cs, &cs->meta.entry_point))
	{
		VaReportProblem(&cs->report, PROBLEM_ENTRY, "entry point (%u,%u) is missing",
						ItemPointerGetBlockNumberNoCheck(&cs->meta.entry_point),
						ItemPointerGetOffsetNumberNoCheck(&cs->meta.entry_point));
		return;
	}
	if (cs->duplicate[element_number(cs, &cs->meta.entry_point)])
		VaReportProblem(&cs->report, PROBLEM_ENTRY, "entry point (%u,%u) is a duplicate item",
						ItemPointerGetBlockNumber(&cs->meta.entry_point),
						ItemPointerGetOffsetNumber(&cs->meta.entry_point));
	if (cs->freed[element_number(cs, &cs->meta.entry_point)])
		VaReportProblem(&cs->report, PROBLEM_ENTRY, "entry point (%u,%u) is a freed slot",
						ItemPointerGetBlockNumber(&cs->meta.entry_point),
						ItemPointerGetOffsetNumber(&cs->meta.entry_point));
	if (cs->level[element_number(cs, &cs->meta.entry_point)] != cs->meta.entry_level)
		VaReportProblem(&cs->report, PROBLEM_ENTRY, "entry point level is %d, metapage says %d",
						cs->level[element_number(cs, &cs->meta.entry_point)], cs->meta.entry_level);
	if (top > cs->meta.entry_level)
		VaReportProblem(&cs->report, PROBLEM_ENTRY, "a live element has level %d, above the entry level %d",
						top, cs->meta.entry_level);

	HnswComputeReach(cs->index, &cs->meta, NULL, &reach);
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < reach.map.nblocks; blkno++)
	{
		for (OffsetNumber off = FirstOffsetNumber; off <= reach.map.maxoff[blkno]; off++)
		{
			uint32		n = reach.map.base[blkno] + off - FirstOffsetNumber;

			if (reach.live[n] && !reach.seen[n])
				VaReportProblem(&cs->report, PROBLEM_UNREACHABLE,
								"live element (%u,%u) is unreachable from the entry point", blkno, off);
		}
	}
}

/* What check_code found. */
typedef enum CodeCheck
{
	CODE_UNSEEN,				/* the row is not seen: not checked */
	CODE_OK,
	CODE_NULL,					/* the row's value is NULL or not indexable */
	CODE_WRONG					/* not the code of the row's value */
} CodeCheck;

/*
 * Quantized index: the code of the value of live element n's heap row
 * (fetched with the active snapshot; a row it does not see is skipped)
 * must be the element's code byte for byte (encoding is deterministic).
 * Sets *tid to the element's TID and *heaptid to its row's.
 */
static CodeCheck
check_code(CheckState *cs, HnswQuant *hq, uint32 n, VaHeapValues *hv,
		   ItemPointer tid, ItemPointer heaptid)
{
	HnswElementTuple tup;
	void	   *stored;
	const void *code;
	const void *held;
	bool		seen;

	HnswItemTid(&cs->map, n, tid);
	tup = HnswReadElement(cs->index, tid);
	*heaptid = tup->heaptid;
	if (!ItemPointerIsValid(heaptid))
		return CODE_UNSEEN;
	stored = VaHeapValue(hv, heaptid, GetActiveSnapshot(), &seen);
	if (!seen)
		return CODE_UNSEEN;
	if (stored == NULL)
		return CODE_NULL;
	held = HnswElementVector(tup);
	if (hq->ops->dims(stored) != cs->meta.dimensions ||
		VARSIZE(held) != VaRabitqCodeSize(cs->meta.dimensions, hq->bits, hq->centred))
		return CODE_WRONG;
	code = HnswQuantElement(hq, stored, cs->meta.dimensions);
	if (VARSIZE(code) != VARSIZE(held) || memcmp(code, held, VARSIZE(held)) != 0)
		return CODE_WRONG;
	return CODE_OK;
}

/*
 * Pass 5, quantized indexes: the codes of up to HNSW_CHECK_CODE_SAMPLE live
 * elements, spread evenly over the index, against their heap rows.
 */
static void
check_codes(CheckState *cs)
{
	Relation	heap;
	HnswQuant	hq;
	VaHeapValues hv;
	MemoryContext ctx;
	uint32		live = 0;
	uint32		step;
	uint32		seen = 0;

	if (cs->meta.quantization == HNSW_QUANTIZATION_NONE || cs->meta.dimensions < 0)
		return;
	for (uint32 n = 0; n < cs->map.nelements; n++)
		live += cs->element[n] && !cs->deleted[n];
	if (live == 0)
		return;
	step = Max(live / HNSW_CHECK_CODE_SAMPLE, 1);

	heap = table_open(cs->index->rd_index->indrelid, AccessShareLock);
	HnswQuantInit(&hq, cs->index, &cs->meta);
	VaHeapValuesBegin(&hv, heap, cs->index, hq.ops);
	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw_check codes",
								ALLOCSET_DEFAULT_SIZES);
	for (uint32 n = 0; n < cs->map.nelements; n++)
	{
		MemoryContext old;
		ItemPointerData tid;
		ItemPointerData heaptid;
		CodeCheck	found;

		if (!cs->element[n] || cs->deleted[n] || seen++ % step != 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(ctx);
		found = check_code(cs, &hq, n, &hv, &tid, &heaptid);
		MemoryContextSwitchTo(old);
		MemoryContextReset(ctx);
		if (found == CODE_NULL)
			VaReportProblem(&cs->report, PROBLEM_CODE, "element (%u,%u) indexes heap row (%u,%u), whose value is NULL or not indexable",
							ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid),
							ItemPointerGetBlockNumber(&heaptid), ItemPointerGetOffsetNumber(&heaptid));
		else if (found == CODE_WRONG)
			VaReportProblem(&cs->report, PROBLEM_CODE, "element (%u,%u): its code is not the code of heap row (%u,%u)'s value",
							ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid),
							ItemPointerGetBlockNumber(&heaptid), ItemPointerGetOffsetNumber(&heaptid));
	}
	VaHeapValuesEnd(&hv);
	MemoryContextDelete(ctx);
	table_close(heap, AccessShareLock);
}

/*
 * hnsw_check(index regclass) RETURNS TABLE (problem text, detail text):
 * one row per violation, problem being its kind (page, element, link,
 * entry point, unreachable, duplicate, code, cache), at most 50 per kind and then one row with the
 * kind's total; no rows for a sound index.  In a quantized index the codes
 * of up to 1,000 live elements are compared with the codes of their heap
 * rows' values (rows the active snapshot does not see are skipped).  Takes AccessShareLock on the
 * index and blocks inserts and VACUUM's list writes (not scans) while it
 * runs.  EXECUTE is revoked from PUBLIC.  Errors: not an hnsw index.
 */
PG_FUNCTION_INFO_V1(hnsw_check);
Datum
hnsw_check(PG_FUNCTION_ARGS)
{
	CheckState	cs;

	memset(&cs, 0, sizeof(cs));
	cs.index = VaCheckBegin(fcinfo, &cs.report, kind_names, NUM_PROBLEM_KINDS,
							AccessShareLock, hnswbuild, "hnsw");

	LockPage(cs.index, HNSW_INSERT_LOCK, ShareLock);
	HnswReadMeta(cs.index, &cs.meta);
	check_elements(&cs);
	if (cs.meta.insert_page != InvalidBlockNumber && cs.meta.insert_page >= cs.map.nblocks)
		VaReportProblem(&cs.report, PROBLEM_PAGE, "metapage insert page %u is past the end (%u blocks)",
						cs.meta.insert_page, cs.map.nblocks);
	HnswForEachMappedItem(cs.index, NULL, &cs.map, check_item_links, &cs);
	check_duplicates(&cs);
	check_entry_and_reach(&cs);
	check_codes(&cs);
	if (!HnswCheckUpperCopy(cs.index, &cs.meta))
		VaReportProblem(&cs.report, PROBLEM_CACHE, "this session's cache of the upper layers differs from the index's pages");
	UnlockPage(cs.index, HNSW_INSERT_LOCK, ShareLock);
	return VaCheckEnd(fcinfo, cs.index, AccessShareLock, &cs.report);
}

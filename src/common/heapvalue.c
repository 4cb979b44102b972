/*
 * heapvalue.c
 *	  Reading the indexed value of heap rows by TID (see heapvalue.h): the
 *	  exact values behind a quantized index's codes, for re-ranking and
 *	  checks.  Knows no index access method.
 */
#include "common/heapvalue.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "common/blockmap.h"
#include "catalog/index.h"
#include "executor/executor.h"

void
VaHeapValuesBegin(VaHeapValues *hv, Relation heap, Relation index,
				  const VaIndexOps *ops)
{
	hv->ops = ops;
	hv->heap = heap;
	hv->direct = heap->rd_tableam == GetHeapamTableAmRoutine();
	hv->map = NULL;
	hv->fetch = table_index_fetch_begin(heap);
	hv->slot = table_slot_create(heap, NULL);
	hv->estate = CreateExecutorState();
	hv->indexInfo = BuildIndexInfo(index);
}

/*
 * Fetch heap row *tid as seen by snapshot into hv->slot (*tid moved to the
 * visible member of its HOT chain); false when there is none.  A heap
 * table's row is read as heapam's own index fetch reads it
 * (heap_hot_search_buffer under a share lock, the slot keeping a pin on
 * the buffer), except that the page is pinned through the heap's block map
 * (common/blockmap.c: ReadRecentBuffer on the buffer that last held it,
 * without the buffer mapping lookup) and not pruned on the way
 * (heap_page_prune_opt is an opportunistic clean-up; the executor's own
 * fetch of the rows returned still does it).  Re-ranking reads a row from
 * each of a score of pages per query, so the lookup and the pruning check
 * cost as much as the distance.  Other table access methods:
 * table_index_fetch_tuple.
 */
static bool
fetch_row(VaHeapValues *hv, ItemPointer tid, Snapshot snapshot)
{
	BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) hv->slot;
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	VaBlockMap *map;
	Buffer		buf;
	bool		all_dead = false;
	bool		found;

	if (!hv->direct)
	{
		bool		call_again = false;

		return table_index_fetch_tuple(hv->fetch, tid, snapshot, hv->slot,
									   &call_again, &all_dead);
	}
	map = hv->map = VaBlockMapOf(hv->map, hv->heap);
	buf = VaBlockMapRead(map, VaBlockMapEntryOf(map, hv->heap, blkno), hv->heap, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	found = heap_hot_search_buffer(tid, hv->heap, buf, snapshot, &bslot->base.tupdata,
								   &all_dead, true);
	bslot->base.tupdata.t_self = *tid;
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	if (found)
	{
		hv->slot->tts_tableOid = RelationGetRelid(hv->heap);
		/* the slot takes a pin of its own */
		ExecStoreBufferHeapTuple(&bslot->base.tupdata, hv->slot, buf);
	}
	ReleaseBuffer(buf);
	return found;
}

void
VaHeapValuesPrefetch(VaHeapValues *hv, const ItemPointerData *tid)
{
	VaBlockMapEntry *entry;

	if (!hv->direct || !ItemPointerIsValid(tid))
		return;
	hv->map = VaBlockMapOf(hv->map, hv->heap);
	entry = VaBlockMapPeek(hv->map, ItemPointerGetBlockNumber(tid));
	if (entry != NULL)
		VaBlockMapPrefetchItem(entry, ItemPointerGetOffsetNumber(tid));
}

/*
 * The detoasted value heap row tid has for the index, in the per-row
 * memory that the next call resets; false when snapshot does not see the
 * row (*seen false, if seen is not NULL) or the value is NULL.
 */
static bool
heap_value(VaHeapValues *hv, const ItemPointerData *tid, Snapshot snapshot,
		   bool *seen, Datum *value)
{
	ExprContext *econtext = GetPerTupleExprContext(hv->estate);
	ItemPointerData t = *tid;	/* the fetch may move it along a HOT chain */
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	MemoryContext old;

	ResetExprContext(econtext);
	if (seen)
		*seen = false;
	if (!fetch_row(hv, &t, snapshot))
		return false;
	if (seen)
		*seen = true;
	econtext->ecxt_scantuple = hv->slot;
	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	FormIndexDatum(hv->indexInfo, hv->slot, hv->estate, values, isnull);
	if (!isnull[0])
		*value = PointerGetDatum(PG_DETOAST_DATUM(values[0]));
	MemoryContextSwitchTo(old);
	return !isnull[0];
}

void *
VaHeapValue(VaHeapValues *hv, const ItemPointerData *tid, Snapshot snapshot,
			bool *seen)
{
	Datum		value;
	void	   *stored;
	MemoryContext old;

	if (!heap_value(hv, tid, snapshot, seen, &value))
		return NULL;
	old = MemoryContextSwitchTo(GetPerTupleExprContext(hv->estate)->ecxt_per_tuple_memory);
	stored = palloc(hv->ops->stored_size(value));
	if (!hv->ops->to_stored(value, stored))
		stored = NULL;
	MemoryContextSwitchTo(old);
	return stored;
}

bool
VaHeapDistance(VaHeapValues *hv, const ItemPointerData *tid, Snapshot snapshot,
			   const void *query, int dims, float *distance)
{
	Datum		value;
	void	   *stored;

	if (hv->ops->value_distance != NULL)
		return heap_value(hv, tid, snapshot, NULL, &value) &&
			hv->ops->value_distance(query, value, distance);
	stored = VaHeapValue(hv, tid, snapshot, NULL);
	if (stored == NULL || hv->ops->dims(stored) != dims)
		return false;
	*distance = hv->ops->distance(query, stored);
	return true;
}

void
VaHeapValuesRelease(VaHeapValues *hv)
{
	/* the slot keeps a pin on the last tuple's buffer, the fetch its own */
	ExecClearTuple(hv->slot);
	table_index_fetch_reset(hv->fetch);
}

void
VaHeapValuesEnd(VaHeapValues *hv)
{
	table_index_fetch_end(hv->fetch);
	ExecDropSingleTupleTableSlot(hv->slot);
	FreeExecutorState(hv->estate);
}

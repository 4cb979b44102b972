/*
 * heapvalue.c
 *	  Reading the indexed value of heap rows by TID (see heapvalue.h): the
 *	  exact values behind a quantized index's codes, for re-ranking and
 *	  checks.  Knows no access method.
 */
#include "common/heapvalue.h"

#include "access/tableam.h"
#include "catalog/index.h"
#include "executor/executor.h"

void
VaHeapValuesBegin(VaHeapValues *hv, Relation heap, Relation index,
				  const VaIndexOps *ops)
{
	hv->ops = ops;
	hv->fetch = table_index_fetch_begin(heap);
	hv->slot = table_slot_create(heap, NULL);
	hv->estate = CreateExecutorState();
	hv->indexInfo = BuildIndexInfo(index);
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
	bool		call_again = false;
	bool		all_dead = false;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	MemoryContext old;

	ResetExprContext(econtext);
	if (seen)
		*seen = false;
	if (!table_index_fetch_tuple(hv->fetch, &t, snapshot, hv->slot,
								 &call_again, &all_dead))
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

/*
 * heapvalue.h
 *	  Reading the indexed value of heap rows, for what an index needs exact
 *	  values for although it does not hold them: the re-ranking of a
 *	  quantized index's candidates, and the check of its codes against the
 *	  table.  A row is fetched by heap TID through a snapshot (following a
 *	  HOT chain), the index's value is computed from it as the executor
 *	  does (FormIndexDatum: an expression index evaluates its expression)
 *	  and turned into the operator class's stored form.  Rows of heap
 *	  tables are fetched directly (see heapvalue.c); other table access
 *	  methods through table_index_fetch_tuple.
 */
#ifndef VA_HEAPVALUE_H
#define VA_HEAPVALUE_H

#include "vectorann.h"

#include "indexops.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

typedef struct VaHeapValues
{
	const VaIndexOps *ops;		/* the opclass's: makes stored forms */
	Relation	heap;
	bool		direct;			/* heap is a heapam table: fetch directly */
	struct VaBlockMap *map;		/* direct: the heap's block map, or NULL */
	struct IndexFetchTableData *fetch;
	struct TupleTableSlot *slot;
	struct EState *estate;
	struct IndexInfo *indexInfo;
} VaHeapValues;

/*
 * Begin reading the values index (one key column, operator class ops) has
 * for rows of heap; allocates in the current memory context.  Pair with
 * VaHeapValuesEnd.
 */
extern void VaHeapValuesBegin(VaHeapValues *hv, Relation heap, Relation index,
							  const VaIndexOps *ops);

/*
 * The stored form (ops->to_stored) of the value heap row tid has for the
 * index, palloc'd in per-row memory that the next call resets; NULL when
 * snapshot does not see the row (*seen false, if seen is not NULL) or its
 * value is NULL or not indexable.  The heap buffer of the fetch stays
 * pinned until VaHeapValuesRelease or End.  Errors: those of the index
 * expression.
 */
extern void *VaHeapValue(VaHeapValues *hv, const ItemPointerData *tid,
						 Snapshot snapshot, bool *seen);

/*
 * The exact distance (ops->distance) from query, a stored form of dims
 * dimensions, to the value heap row tid has for the index, into
 * *distance; false when snapshot does not see the row or its value is
 * NULL, not indexable or of other dimensions.  Through
 * ops->value_distance when the ops have it (no stored form is made).
 * Pins and errors as VaHeapValue.
 */
extern bool VaHeapDistance(VaHeapValues *hv, const ItemPointerData *tid,
						   Snapshot snapshot, const void *query, int dims,
						   float *distance);

/*
 * Hint the CPU to load what fetching heap row tid will touch first: the
 * buffer descriptor and line pointer, when the row's page is in a buffer
 * the heap's block map knows of.  Nothing is read or pinned.
 */
extern void VaHeapValuesPrefetch(VaHeapValues *hv, const ItemPointerData *tid);

/* Let go of the heap buffer the last fetch pinned (no pin between calls). */
extern void VaHeapValuesRelease(VaHeapValues *hv);

/* End reading: the fetch, slot and executor state are freed. */
extern void VaHeapValuesEnd(VaHeapValues *hv);

#endif							/* VA_HEAPVALUE_H */

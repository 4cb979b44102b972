/*
 * candidates.h
 *	  Candidate heaps for nearest-neighbour searches, shared by the index
 *	  scans and builds: a binary heap of (distance, id) pairs that keeps
 *	  either the nearest (min-heap) or the furthest (max-heap) on top, and a
 *	  bounded form that keeps the best k seen so far.
 *
 *	  Items carry two 64-bit payloads: id (the element, e.g. an encoded index
 *	  TID or an in-memory slot) and aux (whatever the caller needs with it,
 *	  e.g. an encoded heap TID).  Heaps are sized once and grow by doubling
 *	  only when a caller pushes past the initial capacity.
 */
#ifndef VA_CANDIDATES_H
#define VA_CANDIDATES_H

#include "vectorann.h"

#include "storage/itemptr.h"

typedef struct VaCandidate
{
	float		distance;
	uint32		flags;			/* caller's bits, e.g. "deleted" */
	uint64		id;
	uint64		aux;
} VaCandidate;

typedef struct VaHeap
{
	VaCandidate *items;
	int			count;
	int			capacity;
	bool		max_on_top;		/* true: furthest on top; false: nearest */
} VaHeap;

/* A TID packed into a 64-bit candidate id or aux (block << 16 | offset). */
static inline uint64
VaTidToId(const ItemPointerData *tid)
{
	return ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) |
		ItemPointerGetOffsetNumberNoCheck(tid);
}

static inline void
VaIdToTid(uint64 id, ItemPointerData *tid)
{
	ItemPointerSet(tid, (BlockNumber) (id >> 16), (OffsetNumber) (id & 0xFFFF));
}

/* Allocate the heap's array (capacity >= 1) in the current memory context. */
extern void VaHeapInit(VaHeap *heap, int capacity, bool max_on_top);
extern void VaHeapFree(VaHeap *heap);

static inline void
VaHeapReset(VaHeap *heap)
{
	heap->count = 0;
}

static inline VaCandidate *
VaHeapTop(VaHeap *heap)
{
	return heap->count > 0 ? &heap->items[0] : NULL;
}

/* Add c, growing the array if it is full. */
extern void VaHeapPush(VaHeap *heap, const VaCandidate *c);

/* Remove and return the top item; the heap must not be empty. */
extern VaCandidate VaHeapPop(VaHeap *heap);

/*
 * Bounded best-k on a max-heap: add c if fewer than k items are held or c
 * is nearer than the furthest held (which is then dropped).  Returns whether
 * c was kept.
 */
extern bool VaHeapPushBounded(VaHeap *heap, const VaCandidate *c, int k);

/*
 * Empty the heap into out[0..count) sorted nearest first; returns the count.
 * out must hold heap->count items.  Checks for interrupts every 4096 items
 * (may raise the query-cancel ERROR).
 */
extern int	VaHeapDrainSorted(VaHeap *heap, VaCandidate *out);

#endif							/* VA_CANDIDATES_H */

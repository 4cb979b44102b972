/*
 * candidates.c
 *	  Binary heaps of search candidates (see candidates.h).  Ties on distance
 *	  are broken by id so that results are deterministic.
 */
#include "common/candidates.h"

#include "miscadmin.h"

/* Does a belong above b in this heap? */
static inline bool
above(const VaHeap *heap, const VaCandidate *a, const VaCandidate *b)
{
	if (a->distance != b->distance)
		return heap->max_on_top ? a->distance > b->distance
			: a->distance < b->distance;
	return heap->max_on_top ? a->id > b->id : a->id < b->id;
}

void
VaHeapInit(VaHeap *heap, int capacity, bool max_on_top)
{
	heap->capacity = Max(capacity, 1);
	heap->items = palloc(sizeof(VaCandidate) * heap->capacity);
	heap->count = 0;
	heap->max_on_top = max_on_top;
}

void
VaHeapFree(VaHeap *heap)
{
	if (heap->items)
		pfree(heap->items);
	heap->items = NULL;
	heap->count = heap->capacity = 0;
}

static void
sift_up(VaHeap *heap, int i)
{
	VaCandidate item = heap->items[i];

	while (i > 0)
	{
		int			parent = (i - 1) / 2;

		if (!above(heap, &item, &heap->items[parent]))
			break;
		heap->items[i] = heap->items[parent];
		i = parent;
	}
	heap->items[i] = item;
}

static void
sift_down(VaHeap *heap, int i)
{
	VaCandidate item = heap->items[i];
	int			n = heap->count;

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n && above(heap, &heap->items[child + 1], &heap->items[child]))
			child++;
		if (!above(heap, &heap->items[child], &item))
			break;
		heap->items[i] = heap->items[child];
		i = child;
	}
	heap->items[i] = item;
}

void
VaHeapPush(VaHeap *heap, const VaCandidate *c)
{
	if (heap->count >= heap->capacity)
	{
		heap->capacity *= 2;
		heap->items = repalloc_huge(heap->items,
									sizeof(VaCandidate) * (Size) heap->capacity);
	}
	heap->items[heap->count] = *c;
	sift_up(heap, heap->count);
	heap->count++;
}

VaCandidate
VaHeapPop(VaHeap *heap)
{
	VaCandidate top = heap->items[0];

	Assert(heap->count > 0);
	heap->count--;
	if (heap->count > 0)
	{
		heap->items[0] = heap->items[heap->count];
		sift_down(heap, 0);
	}
	return top;
}

bool
VaHeapPushBounded(VaHeap *heap, const VaCandidate *c, int k)
{
	Assert(heap->max_on_top);
	if (heap->count < k)
	{
		VaHeapPush(heap, c);
		return true;
	}
	if (!above(heap, &heap->items[0], c))
		return false;
	heap->items[0] = *c;
	sift_down(heap, 0);
	return true;
}

int
VaHeapDrainSorted(VaHeap *heap, VaCandidate *out)
{
	int			n = heap->count;

	/* an iterative scan's heap may hold millions: stay cancellable */
	if (heap->max_on_top)
		for (int i = n - 1; i >= 0; i--)
		{
			if ((i & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
			out[i] = VaHeapPop(heap);
		}
	else
		for (int i = 0; i < n; i++)
		{
			if ((i & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
			out[i] = VaHeapPop(heap);
		}
	return n;
}

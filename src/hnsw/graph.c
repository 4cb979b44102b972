/*
 * graph.c
 *	  The HNSW algorithms proper, written once over the HnswGraph interface
 *	  so the in-memory build and the on-disk insert and scan share them:
 *	  SEARCH-LAYER (Malkov & Yashunin 2018, Algorithm 2), the greedy descent
 *	  through the upper layers (Algorithm 5, ef = 1), the neighbour-selection
 *	  heuristic (Algorithm 4, without extendCandidates, with
 *	  keepPrunedConnections) and the random level (the paper's
 *	  mL = 1 / ln(M)).  Also the on-disk HnswGraph: elements read from
 *	  shared buffers, an open-addressing visited set.
 */
#include "hnsw/hnsw.h"

#include <float.h>

#include <math.h>

#include "common/blockmap.h"
#include "common/hashfn.h"
#include "distance/cpu.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "storage/bufmgr.h"

/* The visited set of the on-disk graph: a simplehash of element ids. */
typedef struct HnswVisitedEntry
{
	uint64		id;
	char		status;
} HnswVisitedEntry;

#define SH_PREFIX		hnsw_visited
#define SH_ELEMENT_TYPE	HnswVisitedEntry
#define SH_KEY_TYPE		uint64
#define SH_KEY			id
#define SH_HASH_KEY(tb, key) murmurhash32((uint32) ((key) ^ ((key) >> 29)))
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE		static inline
#define SH_DEFINE
#define SH_DECLARE
#include "lib/simplehash.h"

void
HnswGraphInitCommon(HnswGraph *graph, int m, int ef)
{
	graph->m = m;
	graph->scratch = palloc(sizeof(uint64) * 2 * m);
	graph->batch = palloc(sizeof(VaCandidate) * 2 * m);
	graph->evaluate_many = NULL;
	graph->visit_many = NULL;
	graph->beyond = get_float4_infinity();
	graph->live_results = false;
	VaHeapInit(&graph->candidates, Max(ef, 1) * 4, false);
}

/* live_results: deleted candidates a search may take, per ef */
#define HNSW_LIVE_WALK_DELETED	16

/*
 * SEARCH-LAYER: the ef elements nearest the query on layer, found by a
 * best-first walk from entries (whose distances are already set).  result
 * (a max-heap) receives them; it is reset first.  Deleted elements are
 * walked through and kept in result (callers filter them), unless
 * graph->live_results: then result takes live elements only, and the walk
 * goes on until it holds the ef nearest live ones, or until it has taken
 * HNSW_LIVE_WALK_DELETED * ef deleted elements as candidates (then result
 * holds what it found, possibly nothing: where nearly all is deleted, as
 * after DELETE FROM t while VACUUM has marked but not yet freed the
 * elements, a walk for ef live ones would read the whole layer, and an
 * insert would do so holding the insert lock).  Searches that choose
 * neighbour lists (inserts, VACUUM's repair) set it, since they drop
 * deleted results anyway: while VACUUM runs after three rows in four were
 * deleted, ef results held about ef / 4 live elements, all in the base's
 * own cluster, and repaired upper layers lost the links between clusters
 * that searches descend by (recall@10 0.88 against 0.98-1.0 this way on
 * test/t/026's data).  Candidates that evaluate_many flags
 * HNSW_CANDIDATE_FAR (beyond the furthest of ef results: rejected either
 * way) are dropped.  Checks for interrupts once per candidate expanded (it
 * may raise the query-cancel ERROR).
 */
void
HnswSearchLayer(HnswGraph *graph, const VaCandidate *entries, int nentries,
				int ef, int layer, VaHeap *result)
{
	VaHeap	   *cand = &graph->candidates;
	uint64	   *ids = graph->scratch;
	bool		live = graph->live_results;
	int64		deleted_left = (int64) HNSW_LIVE_WALK_DELETED * ef;

	graph->reset_visited(graph);
	VaHeapReset(cand);
	VaHeapReset(result);

	for (int i = 0; i < nentries; i++)
	{
		graph->visit(graph, entries[i].id);
		VaHeapPush(cand, &entries[i]);
		if (!(live && (entries[i].flags & HNSW_CANDIDATE_DELETED)))
			VaHeapPushBounded(result, &entries[i], ef);
		else
			deleted_left--;
	}

	while (cand->count > 0)
	{
		VaCandidate c;
		int			n;

		/*
		 * An iterative scan's search may walk millions of elements; a load
		 * and a branch per candidate (each costs up to 2m distances) keeps it
		 * cancellable within a fraction of a millisecond.
		 */
		CHECK_FOR_INTERRUPTS();
		c = VaHeapPop(cand);

		/* every remaining candidate is further than the furthest result */
		if (result->count >= ef && c.distance > VaHeapTop(result)->distance)
			break;
		if (deleted_left < 0)
			break;				/* live_results' walk through deleted ones */

		n = graph->neighbours(graph, c.id, layer, ids);
		if (graph->evaluate_many)
		{
			/* all unvisited neighbours at once, then keep the near ones */
			VaCandidate *batch = graph->batch;
			int			nbatch = 0;

			if (graph->visit_many)
				nbatch = graph->visit_many(graph, ids, n, batch);
			else
				for (int i = 0; i < n; i++)
					if (graph->visit(graph, ids[i]))
						batch[nbatch++].id = ids[i];
			graph->beyond = result->count >= ef ?
				VaHeapTop(result)->distance : get_float4_infinity();
			graph->evaluate_many(graph, batch, nbatch);
			for (int i = 0; i < nbatch; i++)
			{
				if (batch[i].flags & HNSW_CANDIDATE_FAR)
					continue;
				if (result->count < ef || batch[i].distance < VaHeapTop(result)->distance)
				{
					VaHeapPush(cand, &batch[i]);
					if (!(live && (batch[i].flags & HNSW_CANDIDATE_DELETED)))
						VaHeapPushBounded(result, &batch[i], ef);
					else
						deleted_left--;
				}
			}
			continue;
		}
		for (int i = 0; i < n; i++)
		{
			VaCandidate e;

			if (!graph->visit(graph, ids[i]))
				continue;
			e.id = ids[i];
			graph->evaluate(graph, &e);
			if (result->count < ef || e.distance < VaHeapTop(result)->distance)
			{
				VaHeapPush(cand, &e);
				if (!(live && (e.flags & HNSW_CANDIDATE_DELETED)))
					VaHeapPushBounded(result, &e, ef);
				else
					deleted_left--;
			}
		}
	}
}

/*
 * Walk greedily (SEARCH-LAYER with ef = 1) from *entry (its distance set)
 * down through layers from_layer .. to_layer + 1, leaving in *entry the
 * nearest element found on the way.  On each layer: evaluate every
 * neighbour of the current element and move to the first nearest of them
 * if it is nearer, until none is.  That is what SEARCH-LAYER with ef = 1
 * does (an element it has visited is never nearer than the current one,
 * so skipping it changes nothing), without its visited set, whose reset
 * per layer cost more than the one or two neighbours evaluated again per
 * step.  Checks for interrupts once per step.
 */
void
HnswGreedyDescend(HnswGraph *graph, VaCandidate *entry, int from_layer,
				  int to_layer)
{
	uint64	   *ids = graph->scratch;
	VaCandidate *batch = graph->batch;

	for (int layer = from_layer; layer > to_layer; layer--)
	{
		for (;;)
		{
			int			n;
			int			best = -1;
			float		nearest = entry->distance;

			CHECK_FOR_INTERRUPTS();
			n = graph->neighbours(graph, entry->id, layer, ids);
			for (int i = 0; i < n; i++)
				batch[i].id = ids[i];
			if (graph->evaluate_many)
			{
				graph->beyond = nearest;
				graph->evaluate_many(graph, batch, n);
			}
			else
				for (int i = 0; i < n; i++)
					graph->evaluate(graph, &batch[i]);
			for (int i = 0; i < n; i++)
			{
				if (batch[i].distance < nearest)
				{
					nearest = batch[i].distance;
					best = i;
				}
			}
			if (best < 0)
				break;
			*entry = batch[best];
		}
	}
}

/*
 * SELECT-NEIGHBORS-HEURISTIC with keepPrunedConnections (Malkov & Yashunin
 * 2018, Algorithm 4): from cands (sorted nearest first by distance to the
 * base element; vectors[i] is the stored form of cands[i]) first take, up to
 * cap, each candidate that is nearer the base than every one already taken,
 * which keeps links pointing in diverse directions; then fill the list up to
 * cap with the candidates that step passed over or did not reach, nearest
 * first.  Deleted candidates are never taken.  selected receives indexes
 * into cands (the diverse ones first, *ndiverse of them unless ndiverse is
 * NULL); returns how many.  Unless blockers is NULL, blockers[i] receives,
 * for each i >= *ndiverse, the position among selected[0..*ndiverse) of the
 * first kept candidate that passed candidate selected[i] over (cap must be
 * at most 256).  Costs O(ncands * cap) distances.
 *
 * The filling matters where the distance is not a metric.  Under inner
 * product a vector of large norm is "nearer" to most others than they are
 * to the base, so the first step alone keeps one or two links per list and
 * leaves the graph too sparse to search (recall@20 0.53 at ef_search 40 on
 * 3-dimension data of varied norm; 1.0 with the filling).  On metric data it
 * also raises recall at a given ef_search, as fuller lists are explored more
 * widely.  Its price: lists are full, so every later back-link meets a full
 * list; re-running this over cap + 1 candidates made Fashion-MNIST builds
 * 3.4 times as long, and the in-memory build now chooses such lists anew
 * from what the last selection settled (mem_reselect in build.c, with
 * ndiverse and blockers).  Stopping two slots short of cap halved the
 * cost, but lost a whole cluster's answers on clustered data (test/t/014;
 * test/bench/RESULTS.md).
 */
int
HnswSelectNeighbours(const VaCandidate *cands, const void *const *vectors,
					 int ncands, int cap, const VaIndexOps *ops, int *selected,
					 int *ndiverse, uint8 *blockers)
{
	int			nselected = 0;
	int			npassed = 0;
	int			next;
	int			stack_passed[256];
	uint8		stack_by[256];
	int		   *passed = ncands <= (int) lengthof(stack_passed) ? stack_passed :
	palloc(sizeof(int) * ncands);
	uint8	   *by = ncands <= (int) lengthof(stack_by) ? stack_by : palloc(ncands);

	for (next = 0; next < ncands && nselected < cap; next++)
	{
		int			j;

		if (cands[next].flags & HNSW_CANDIDATE_DELETED)
			continue;
		for (j = 0; j < nselected; j++)
		{
			if (ops->distance(vectors[next], vectors[selected[j]]) < cands[next].distance)
				break;
		}
		if (j == nselected)
			selected[nselected++] = next;
		else
		{
			by[npassed] = (uint8) j;
			passed[npassed++] = next;
		}
	}
	if (ndiverse)
		*ndiverse = nselected;
	for (int i = 0; i < npassed && nselected < cap; i++)
	{
		if (blockers)
			blockers[nselected] = by[i];
		selected[nselected++] = passed[i];
	}
	if (passed != stack_passed)
		pfree(passed);
	if (by != stack_by)
		pfree(by);
	return nselected;
}

/*
 * Level of a new element: floor(-ln(U) * mL) with mL = 1 / ln(m), U uniform
 * in (0, 1], capped at HNSW_MAX_LEVEL.
 */
int
HnswRandomLevel(int m, VaRandomState *state)
{
	double		u = 1.0 - (state ? VaRandomDouble(state) : VaGlobalRandomDouble());
	double		level = floor(-log(u) / log((double) m));

	return (int) Min(level, (double) HNSW_MAX_LEVEL);
}

/*
 * Highest level an element with a vector of vector_size bytes may get so
 * that it fits one page (at most HNSW_MAX_LEVEL); elements drawn higher are
 * capped.  ERROR (ERRCODE_PROGRAM_LIMIT_EXCEEDED) if not even layer 0 fits.
 */
int
HnswMaxLevel(Size vector_size, int m)
{
	int			level = -1;

	while (level < HNSW_MAX_LEVEL &&
		   MAXALIGN(HnswElementSize(vector_size, level + 1, m)) <= VA_MAX_ITEM_SIZE)
		level++;
	if (level < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vectors of %zu bytes are too large for an hnsw index with m = %d",
						vector_size, m),
				 errdetail("An element with its neighbour list must fit in one %d-byte page.",
						   BLCKSZ),
				 errhint("Use fewer dimensions or a smaller m.")));
	return level;
}

/* ---- the on-disk graph ---- */

static inline HnswElementTuple
element_on_page(Relation index, Page page, BlockNumber blkno, OffsetNumber off)
{
	if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" links to missing element (%u,%u)",
						RelationGetRelationName(index), blkno, off),
				 errhint("Please REINDEX it.")));
	return (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
}

/*
 * Pages are pinned through the index's block map (common/blockmap.c):
 * queries touch largely the same pages, and a buffer that still holds its
 * block is pinned by ReadRecentBuffer without the buffer mapping lookup.
 * The graph keeps its map and finds it again when a search of another
 * index took its slot.
 */
static inline VaBlockMap *
graph_map(HnswDiskGraph *dg)
{
	return dg->blockmap = VaBlockMapOf(dg->blockmap, dg->index);
}

/*
 * Pin block blkno of the graph's index through its block map; ERROR as
 * ReadBuffer for a block past the end.
 */
Buffer
HnswReadBuffer(HnswDiskGraph *dg, BlockNumber blkno)
{
	VaBlockMap *map = graph_map(dg);

	return VaBlockMapRead(map, VaBlockMapEntryOf(map, dg->index, blkno),
						  dg->index, blkno);
}

/* Pin block blkno of index through its block map (see HnswReadBuffer). */
Buffer
HnswReadIndexBuffer(Relation index, BlockNumber blkno)
{
	VaBlockMap *map = VaBlockMapGet(index);

	return VaBlockMapRead(map, VaBlockMapEntryOf(map, index, blkno), index, blkno);
}

/*
 * Prefetch what pinning block blkno and locating element off on it will
 * touch, when map has a guess for the block: the buffer's descriptor, for
 * writing (the pin's atomic operation on its state word then finds the line
 * exclusive: -14 to -18 % per query, RESULTS.md), and the line pointer
 * (VaBlockMapPrefetchItem).  Only a hint: nothing is read, pinned or
 * checked.
 */
static inline void
prefetch_element(VaBlockMap *map, BlockNumber blkno, OffsetNumber off)
{
	VaBlockMapEntry *entry = VaBlockMapPeek(map, blkno);

	if (entry != NULL)
		VaBlockMapPrefetchItem(entry, off);
}

/* Candidate flags for element tup: deleted, has duplicates. */
static inline uint32
candidate_flags(HnswElementTuple tup)
{
	return ((tup->flags & HNSW_ELEMENT_DELETED) ? HNSW_CANDIDATE_DELETED : 0) |
		(ItemPointerIsValid(&tup->duplicates) ? HNSW_CANDIDATE_DUPLICATES : 0);
}

/*
 * Evaluate the element tup for candidate c.  A link read before VACUUM freed
 * its element may reach the slot after an insert reused it for a duplicate
 * item, which holds no vector: such a candidate is unreachably far, deleted
 * (never returned) and has no neighbours (disk_neighbours).
 */
static inline void
evaluate_element(HnswDiskGraph *dg, HnswElementTuple tup, VaCandidate *c)
{
	if (tup->flags & HNSW_ELEMENT_DUPLICATE)
	{
		c->distance = FLT_MAX;
		c->flags = HNSW_CANDIDATE_DELETED;
		c->aux = 0;
		return;
	}
	c->distance = dg->ops->distance(dg->query, HnswElementVector(tup));
	c->flags = candidate_flags(tup);
	c->aux = VaTidToId(&tup->heaptid);
}

static void
disk_evaluate(HnswGraph *graph, VaCandidate *c)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) graph;
	BlockNumber blkno = (BlockNumber) (c->id >> 16);
	Buffer		buf = HnswReadBuffer(dg, blkno);
	HnswElementTuple tup;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	tup = element_on_page(dg->index, BufferGetPage(buf), blkno,
						  (OffsetNumber) (c->id & 0xFFFF));
	evaluate_element(dg, tup, c);
	UnlockReleaseBuffer(buf);
}

/*
 * Evaluate cs[0..n-1] (n <= 2m) as disk_evaluate does, overlapping their
 * memory loads: first pin every page and prefetch its line pointer, then,
 * HNSW_PREFETCH_AHEAD elements ahead of the distance computation, prefetch
 * the element's first dg->prefetch bytes (prefetch_item; the hardware
 * prefetcher streams the rest of a longer vector).
 */
#define HNSW_EVALUATE_CHUNK 6

/*
 * Prefetch the first dg->prefetch bytes of item off on buf's page (pinned),
 * reading its line pointer without the content lock: only a hint, clamped to
 * the page; the item is located again under the lock.
 */
static inline void
prefetch_item(HnswDiskGraph *dg, Buffer buf, OffsetNumber off)
{
	char	   *page = (char *) BufferGetPage(buf);

	if (off >= FirstOffsetNumber && off <= MaxOffsetNumber)
	{
		ItemId		lp = PageGetItemId((Page) page, off);
		unsigned	start = Min(ItemIdGetOffset(lp), BLCKSZ - dg->prefetch);

		/* every cache line of [start, start + prefetch) */
		for (unsigned line = start & ~63u; line < start + dg->prefetch; line += 64)
			VaPrefetch(page + line);
	}
}

/*
 * Elements whose loads are in flight while one is evaluated: two ahead hid
 * more of the latency than one (a code's distance takes about 30 ns, a miss
 * about 100), three no more than two.
 */
#define HNSW_PREFETCH_AHEAD 2

static void
evaluate_chunk(HnswDiskGraph *dg, VaCandidate *cs, int n)
{
	Buffer		bufs[HNSW_EVALUATE_CHUNK];

	for (int i = 0; i < n; i++)
	{
		OffsetNumber off = (OffsetNumber) (cs[i].id & 0xFFFF);
		Page		page;

		bufs[i] = HnswReadBuffer(dg, (BlockNumber) (cs[i].id >> 16));
		page = BufferGetPage(bufs[i]);
		if (off >= FirstOffsetNumber && off <= MaxOffsetNumber)
			VaPrefetch(PageGetItemId(page, off));
	}
	for (int i = 0; i < n && i < HNSW_PREFETCH_AHEAD; i++)
		prefetch_item(dg, bufs[i], (OffsetNumber) (cs[i].id & 0xFFFF));
	for (int i = 0; i < n; i++)
	{
		BlockNumber blkno = (BlockNumber) (cs[i].id >> 16);
		HnswElementTuple tup;

		if (i + HNSW_PREFETCH_AHEAD < n)
			prefetch_item(dg, bufs[i + HNSW_PREFETCH_AHEAD],
						  (OffsetNumber) (cs[i + HNSW_PREFETCH_AHEAD].id & 0xFFFF));
		LockBuffer(bufs[i], BUFFER_LOCK_SHARE);
		tup = element_on_page(dg->index, BufferGetPage(bufs[i]), blkno,
							  (OffsetNumber) (cs[i].id & 0xFFFF));
		evaluate_element(dg, tup, &cs[i]);
		LockBuffer(bufs[i], BUFFER_LOCK_UNLOCK);
	}
	for (int i = 0; i < n; i++)
		ReleaseBuffer(bufs[i]);
}

static void
disk_evaluate_many(HnswGraph *graph, VaCandidate *cs, int n)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) graph;

	/*
	 * Start the cache misses of every pin and line pointer at once (without
	 * this, each pin waited for its buffer descriptor), then evaluate in
	 * chunks: a backend tracks its first few pins without a hash table.
	 */
	VaBlockMap *map = graph_map(dg);

	for (int i = 0; i < n; i++)
		prefetch_element(map, (BlockNumber) (cs[i].id >> 16), (OffsetNumber) (cs[i].id & 0xFFFF));
	for (int i = 0; i < n; i += HNSW_EVALUATE_CHUNK)
		evaluate_chunk(dg, cs + i, Min(HNSW_EVALUATE_CHUNK, n - i));
}

/*
 * The least distance from the graph's query that candidate c (evaluated by
 * this graph, its element not moved since) may truly have: its distance
 * less the ops' slack on the element's value (with high probability; see
 * VaIndexOps.slack), or its distance itself under exact ops.  A slot that
 * no longer holds a value gives minus infinity.
 */
float
HnswDiskGraphLowerBound(HnswDiskGraph *dg, const VaCandidate *c)
{
	BlockNumber blkno = (BlockNumber) (c->id >> 16);
	Buffer		buf;
	HnswElementTuple tup;
	float		slack;

	if (dg->ops->slack == NULL)
		return c->distance;
	buf = HnswReadBuffer(dg, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	tup = element_on_page(dg->index, BufferGetPage(buf), blkno,
						  (OffsetNumber) (c->id & 0xFFFF));
	/* a slot freed or reused since the search: no bound (re-rank first) */
	if (tup->flags & (HNSW_ELEMENT_DUPLICATE | HNSW_ELEMENT_FREE) ||
		VaTidToId(&tup->heaptid) != c->aux)
		slack = get_float4_infinity();
	else
		slack = dg->ops->slack(dg->query, HnswElementVector(tup), c->distance);
	UnlockReleaseBuffer(buf);
	return c->distance - slack;
}

static int
disk_neighbours(HnswGraph *graph, uint64 id, int layer, uint64 *out)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) graph;
	BlockNumber blkno = (BlockNumber) (id >> 16);
	Buffer		buf = HnswReadBuffer(dg, blkno);
	HnswElementTuple tup;
	int			n = 0;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	tup = element_on_page(dg->index, BufferGetPage(buf), blkno,
						  (OffsetNumber) (id & 0xFFFF));
	if (!(tup->flags & HNSW_ELEMENT_DUPLICATE) && layer <= tup->level)
	{
		ItemPointerData *slots = HnswElementNeighbours(tup) +
		HnswLayerStart(layer, graph->m);
		int			cap = HnswLayerCapacity(layer, graph->m);

		while (n < cap && ItemPointerIsValid(&slots[n]))
		{
			out[n] = VaTidToId(&slots[n]);
			n++;
		}
	}
	UnlockReleaseBuffer(buf);
	return n;
}

/* A set of element ids (simplehash), sized for about size ids. */
HnswIdSet *
HnswIdSetCreate(int size)
{
	return (HnswIdSet *) hnsw_visited_create(CurrentMemoryContext, Max(size, 16), NULL);
}

/* Add id; true if it was not in the set. */
bool
HnswIdSetAdd(HnswIdSet *set, uint64 id)
{
	bool		found;

	hnsw_visited_insert((struct hnsw_visited_hash *) set, id, &found);
	return !found;
}

/* Is id in the set? */
bool
HnswIdSetContains(HnswIdSet *set, uint64 id)
{
	return hnsw_visited_lookup((struct hnsw_visited_hash *) set, id) != NULL;
}

void
HnswIdSetReset(HnswIdSet *set)
{
	hnsw_visited_reset((struct hnsw_visited_hash *) set);
}

/*
 * The visited set of a search on disk: element ids in an open-addressing
 * table of 2^(64 - visited_shift) slots, linear probing from the id's
 * Fibonacci hash (Knuth, TAOCP vol. 3, 6.4), 0 for an empty slot (no element
 * id is 0: block 0 is the metapage; a corrupt 0 is stored as ~0), at most
 * half full (doubled, rehashing, past that).  A search tests every
 * neighbour of every element it expands (about 750 tests at ef_search 23,
 * m = 16), a batch at a time (disk_visit_many).  simplehash, used before,
 * keeps a status byte beside each key (16 bytes for 8) and does more work
 * per probe: its inserts took 6.3 % of a quantized Fashion-MNIST query's
 * CPU time, this table 4.5 %, and the query takes 3.6 % less (median of 32
 * alternating passes).  simplehash with the same batching (its insert
 * inlined into the list loop) measured no faster than before, so the gain
 * is the table's, not the batching's.
 */
static inline uint64
visited_slot(const HnswDiskGraph *dg, uint64 id)
{
	return (id * UINT64CONST(0x9E3779B97F4A7C15)) >> dg->visited_shift;
}

static void
visited_grow(HnswDiskGraph *dg)
{
	uint64	   *old = dg->visited;
	uint64		oldsize = UINT64CONST(1) << (64 - dg->visited_shift);
	uint64		mask;

	dg->visited_shift--;
	mask = (UINT64CONST(1) << (64 - dg->visited_shift)) - 1;
	/* where the table was made: callers reset shorter-lived contexts */
	dg->visited = MemoryContextAllocExtended(dg->visited_cxt, sizeof(uint64) * (mask + 1),
											 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (uint64 i = 0; i < oldsize; i++)
	{
		uint64		s;

		if (old[i] == 0)
			continue;
		for (s = visited_slot(dg, old[i]); dg->visited[s] != 0; s = (s + 1) & mask)
			;
		dg->visited[s] = old[i];
	}
	pfree(old);
}

static inline bool
visited_add(HnswDiskGraph *dg, uint64 id)
{
	uint64		mask = (UINT64CONST(1) << (64 - dg->visited_shift)) - 1;
	uint64		s;

	if (unlikely(id == 0))
		id = ~UINT64CONST(0);
	for (s = visited_slot(dg, id); dg->visited[s] != 0; s = (s + 1) & mask)
	{
		if (dg->visited[s] == id)
			return false;
	}
	dg->visited[s] = id;
	if (unlikely(++dg->visited_count > mask / 2))
		visited_grow(dg);
	return true;
}

static bool
disk_visit(HnswGraph *graph, uint64 id)
{
	return visited_add((HnswDiskGraph *) graph, id);
}

static int
disk_visit_many(HnswGraph *graph, const uint64 *ids, int n, VaCandidate *out)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) graph;
	int			nout = 0;

	for (int i = 0; i < n; i++)
		if (visited_add(dg, ids[i]))
			out[nout++].id = ids[i];
	return nout;
}

static void
disk_reset_visited(HnswGraph *graph)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) graph;

	if (dg->visited_count > 0)
		memset(dg->visited, 0, sizeof(uint64) << (64 - dg->visited_shift));
	dg->visited_count = 0;
}

/*
 * Set up dg to search index (vectors of vector_size bytes, m from the
 * metapage) with ef as the expected result size; allocations in the current
 * memory context.  The caller sets dg->query before each search.
 */
void
HnswDiskGraphInit(HnswDiskGraph *dg, Relation index, const VaIndexOps *ops,
				  int m, int ef)
{
	HnswGraphInitCommon(&dg->graph, m, ef);
	dg->graph.evaluate = disk_evaluate;
	dg->graph.evaluate_many = disk_evaluate_many;
	dg->graph.neighbours = disk_neighbours;
	dg->graph.visit = disk_visit;
	dg->graph.visit_many = disk_visit_many;
	dg->graph.reset_visited = disk_reset_visited;
	dg->index = index;
	dg->ops = ops;
	dg->query = NULL;

	/*
	 * room for about 2 m neighbours of 2 ef expanded elements, the visits of
	 * a typical layer-0 search (an estimate, not counted; the set grows past
	 * it, at a rehash each time it doubles)
	 */
	dg->visited_shift = 64 - pg_ceil_log2_32((uint32) Min(Max(ef, 16) * m * 4, PG_INT32_MAX / 4));
	dg->visited_cxt = CurrentMemoryContext;
	dg->visited = palloc_extended(sizeof(uint64) << (64 - dg->visited_shift),
								  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	dg->visited_count = 0;
	dg->blockmap = VaBlockMapGet(index);
	dg->prefetch = 256;
}

/*
 * For candidates cands[0..n) (ids set), read each element (palloc'd copy),
 * set its distance to base (a stored vector) and its deleted flag, sort
 * cands nearest first and point vectors[i] at cands[i]'s vector.  For the
 * neighbour-selection heuristic on disk.  A stale id whose slot now holds a
 * duplicate item counts as deleted, with vectors[i] NULL.
 */
void
HnswLoadCandidates(Relation index, const VaIndexOps *ops, const void *base,
				   VaCandidate *cands, int n, const void **vectors)
{
	VaHeap		heap;

	VaHeapInit(&heap, n, false);
	for (int i = 0; i < n; i++)
	{
		ItemPointerData tid;
		HnswElementTuple e;

		VaIdToTid(cands[i].id, &tid);
		e = HnswReadElement(index, &tid);
		if (e->flags & HNSW_ELEMENT_DUPLICATE)
		{
			/* a stale link to a reused slot (see evaluate_element) */
			cands[i].distance = FLT_MAX;
			cands[i].flags = HNSW_CANDIDATE_DELETED;
		}
		else
		{
			cands[i].distance = ops->distance(base, HnswElementVector(e));
			cands[i].flags = (e->flags & HNSW_ELEMENT_DELETED) ? HNSW_CANDIDATE_DELETED : 0;
		}
		cands[i].aux = (uint64) (uintptr_t) e;
		VaHeapPush(&heap, &cands[i]);
	}
	VaHeapDrainSorted(&heap, cands);
	for (int i = 0; i < n; i++)
	{
		HnswElementTuple e = (HnswElementTuple) (uintptr_t) cands[i].aux;

		/*
		 * deleted candidates' vectors are never read: NULL for a duplicate
		 * item
		 */
		vectors[i] = (e->flags & HNSW_ELEMENT_DUPLICATE) ? NULL : HnswElementVector(e);
	}
	VaHeapFree(&heap);
}

/* A palloc'd copy of the element at tid. */
HnswElementTuple
HnswReadElement(Relation index, const ItemPointerData *tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	Buffer		buf = HnswReadIndexBuffer(index, blkno);
	Page		page;
	HnswElementTuple tup;
	HnswElementTuple copy;
	Size		size;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	tup = element_on_page(index, page, blkno, ItemPointerGetOffsetNumber(tid));
	size = ItemIdGetLength(PageGetItemId(page, ItemPointerGetOffsetNumber(tid)));
	copy = palloc(size);
	memcpy(copy, tup, size);
	UnlockReleaseBuffer(buf);
	return copy;
}

/*
 * Distances between stored vectors a and b (b may be NULL) and the vector v
 * of the element at tid, computed on the page itself (share lock, no copy):
 * *da = ops->distance(a, v), *db = ops->distance(b, v) and *dvb =
 * ops->distance(v, b) (the argument order of the caller's comparison, so
 * that nothing assumes a distance kernel symmetric to the last bit).
 * Returns false, setting nothing, if the item there is not a live element
 * (deleted, freed or a duplicate item: a stale link).  ERROR
 * (index_corrupted) if there is no such item.
 */
bool
HnswElementDistances(Relation index, const VaIndexOps *ops, const ItemPointerData *tid,
					 const void *a, const void *b, float *da, float *db, float *dvb)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	Buffer		buf = HnswReadIndexBuffer(index, blkno);
	HnswElementTuple tup;
	bool		live;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	tup = element_on_page(index, BufferGetPage(buf), blkno, ItemPointerGetOffsetNumber(tid));
	live = !(tup->flags & (HNSW_ELEMENT_DELETED | HNSW_ELEMENT_FREE | HNSW_ELEMENT_DUPLICATE));
	if (live)
	{
		*da = ops->distance(a, HnswElementVector(tup));
		if (b != NULL)
		{
			*db = ops->distance(b, HnswElementVector(tup));
			*dvb = ops->distance(HnswElementVector(tup), b);
		}
	}
	UnlockReleaseBuffer(buf);
	return live;
}

/*
 * Walk the duplicate chain of the element at owner, calling fn(arg, tid,
 * item) with a copy of each duplicate item in chain order (deleted ones
 * too).  One page is locked (shared) at a time.  The walk stops early at an
 * item that is not a duplicate item of owner, which only a VACUUM that
 * changed the chain meanwhile leaves behind.  Returns how many items fn saw.
 */
int
HnswWalkDuplicates(Relation index, const ItemPointerData *owner,
				   HnswDuplicateFn fn, void *arg)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	Buffer		buf;
	Page		page;
	ItemPointerData next;
	int			n = 0;

	buf = HnswReadIndexBuffer(index, ItemPointerGetBlockNumber(owner));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	next = element_on_page(index, page, ItemPointerGetBlockNumber(owner),
						   ItemPointerGetOffsetNumber(owner))->duplicates;
	UnlockReleaseBuffer(buf);

	/* a chain visits each item at most once: bound the walk by that */
	while (ItemPointerIsValid(&next) &&
		   ItemPointerGetBlockNumber(&next) < nblocks &&
		   (uint64) n < (uint64) nblocks * MaxIndexTuplesPerPage)
	{
		HnswDuplicateTupleData dup;
		ItemPointerData tid = next;
		OffsetNumber off = ItemPointerGetOffsetNumber(&tid);
		ItemId		iid;
		bool		ok = false;

		CHECK_FOR_INTERRUPTS();
		buf = HnswReadIndexBuffer(index, ItemPointerGetBlockNumber(&tid));
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page))
		{
			iid = PageGetItemId(page, off);
			if (ItemIdIsNormal(iid) &&
				HnswDuplicateFits((HnswElementTuple) PageGetItem(page, iid),
								  ItemIdGetLength(iid)))
			{
				memcpy(&dup, PageGetItem(page, iid), sizeof(dup));
				ok = !(dup.flags & HNSW_ELEMENT_FREE) &&
					ItemPointerEquals(&dup.owner, (ItemPointer) owner);
			}
		}
		UnlockReleaseBuffer(buf);
		if (!ok)
			break;
		fn(arg, &tid, &dup);
		n++;
		next = dup.next;
	}
	return n;
}

/* Copy the metapage contents of index into *meta (ERROR if not ours). */
void
HnswReadMeta(Relation index, HnswMetaPageData *meta)
{
	VaReadMetaPage(index, VA_PAGE_ID_HNSW, meta, sizeof(HnswMetaPageData),
				   HNSW_MAGIC, HNSW_VERSION, "hnsw");
}

/* ---- item numbering, reachability over a whole on-disk index ---- */

/*
 * Number the items of index (see HnswItemMap): one pass over its pages
 * through strategy (NULL: the default).  Pages that are not ours count as
 * empty; bad_page (if not NULL) is called for each such page that is not
 * new (all zeros, as a crash while extending leaves), under its share
 * lock.  Allocations (huge ones allowed) in the current context.
 */
void
HnswMapItems(Relation index, BufferAccessStrategy strategy, HnswItemMap *map,
			 HnswBadPageFn bad_page, void *arg)
{
	map->nblocks = RelationGetNumberOfBlocks(index);
	map->maxoff = palloc_extended(sizeof(OffsetNumber) * map->nblocks, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	map->base = palloc_extended(sizeof(uint32) * (map->nblocks + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < map->nblocks; blkno++)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
		Page		page;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page))
			;					/* left by a crash while extending: harmless */
		else if (PageGetSpecialSize(page) == MAXALIGN(sizeof(VaPageOpaqueData)) &&
				 VaPageGetOpaque(page)->page_id == VA_PAGE_ID_HNSW)
			map->maxoff[blkno] = PageGetMaxOffsetNumber(page);
		else if (bad_page != NULL)
			bad_page(arg, blkno, page);
		UnlockReleaseBuffer(buf);
		map->base[blkno + 1] = map->base[blkno] + map->maxoff[blkno];
	}
	map->nelements = map->base[map->nblocks];
}

/* The number of the item at tid in map, or -1 if map has no such item. */
int64
HnswItemNumber(const HnswItemMap *map, const ItemPointerData *tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumberNoCheck(tid);
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);

	if (blkno <= HNSW_METAPAGE_BLKNO || blkno >= map->nblocks ||
		off < FirstOffsetNumber || off > map->maxoff[blkno])
		return -1;
	return map->base[blkno] + off - FirstOffsetNumber;
}

/*
 * Call fn for each item map counts, in block and offset order, each page
 * read through strategy and share-locked while fn visits its items (items
 * added since the map was made are not visited); interrupts are checked
 * between pages.
 */
void
HnswForEachMappedItem(Relation index, BufferAccessStrategy strategy,
					  const HnswItemMap *map, HnswItemFn fn, void *arg)
{
	for (BlockNumber blkno = HNSW_METAPAGE_BLKNO + 1; blkno < map->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		if (map->maxoff[blkno] == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= map->maxoff[blkno]; off++)
		{
			ItemId		iid = PageGetItemId(page, off);

			fn(arg, blkno, off, map->base[blkno] + off - FirstOffsetNumber, iid,
			   (HnswElementTuple) PageGetItem(page, iid));
		}
		UnlockReleaseBuffer(buf);
	}
}

/* Is tup, at iid, an element whose size matches its level? */
static inline bool
well_formed(ItemId iid, HnswElementTuple tup, const HnswMetaPageData *meta)
{
	return ItemIdIsNormal(iid) && HnswElementFits(tup, ItemIdGetLength(iid), meta->m);
}

typedef struct ReachPass
{
	HnswReach  *r;
	const HnswMetaPageData *meta;
} ReachPass;

/* HnswItemFn: which elements are live. */
static void
mark_live(void *arg, BlockNumber blkno, OffsetNumber off, uint32 n,
		  ItemId iid, HnswElementTuple tup)
{
	ReachPass  *pass = (ReachPass *) arg;

	if (well_formed(iid, tup, pass->meta))
		pass->r->live[n] = !(tup->flags & HNSW_ELEMENT_DELETED);
}

/*
 * Which elements of index can a search reach?  Numbers every item
 * (HnswMapItems), marks the live ones, and marks breadth first from the
 * entry point over the layer-0 links, counting each element's layer-0
 * in-links from reached live elements: a search ends on layer 0, and an
 * iterative scan finds only what layer-0 links lead to (an element linked
 * only on upper layers is passed through on the way down, never returned
 * by a wide search).  Links to
 * missing items and items that are not well-formed elements are ignored
 * (hnsw_check reports them).  Pages that are not ours count as empty.
 * Reads every page twice; allocations in the current context.
 */
void
HnswComputeReach(Relation index, const HnswMetaPageData *meta,
				 BufferAccessStrategy strategy, HnswReach *r)
{
	HnswItemMap *map = &r->map;
	ItemPointerData *queue;
	uint32		head = 0;
	uint32		tail = 0;
	int64		entry;
	ReachPass	pass = {r, meta};

	HnswMapItems(index, strategy, map, NULL, NULL);
	/* large indexes need more than 1 GB here: allow huge allocations */
	r->seen = palloc_extended(sizeof(bool) * Max(map->nelements, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	r->live = palloc_extended(sizeof(bool) * Max(map->nelements, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	r->indegree = palloc_extended(sizeof(int32) * Max(map->nelements, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	queue = palloc_extended(sizeof(ItemPointerData) * Max(map->nelements, 1), MCXT_ALLOC_HUGE);

	HnswForEachMappedItem(index, strategy, map, mark_live, &pass);

	/* breadth first from the entry point */
	entry = ItemPointerIsValid(&meta->entry_point) ? HnswItemNumber(map, &meta->entry_point) : -1;
	if (entry < 0)
		return;
	r->seen[entry] = true;
	queue[tail++] = meta->entry_point;
	while (head < tail)
	{
		ItemPointerData tid = queue[head++];
		BlockNumber blkno = ItemPointerGetBlockNumber(&tid);
		OffsetNumber off = ItemPointerGetOffsetNumber(&tid);
		Buffer		buf;
		Page		page;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (off <= PageGetMaxOffsetNumber(page) &&
			well_formed(PageGetItemId(page, off),
						(HnswElementTuple) PageGetItem(page, PageGetItemId(page, off)), meta))
		{
			HnswElementTuple tup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));
			ItemPointerData *slots = HnswElementNeighbours(tup);
			bool		live = !(tup->flags & HNSW_ELEMENT_DELETED);

			for (int i = 0; i < HnswLayerCapacity(0, meta->m); i++)
			{
				int64		t = ItemPointerIsValid(&slots[i]) ? HnswItemNumber(map, &slots[i]) : -1;

				if (t >= 0 && live)
					r->indegree[t]++;
				if (t >= 0 && !r->seen[t])
				{
					r->seen[t] = true;
					queue[tail++] = slots[i];
				}
			}
		}
		UnlockReleaseBuffer(buf);
	}
	pfree(queue);
}

/* The TID of item number n of map (n < map->nelements). */
void
HnswItemTid(const HnswItemMap *map, uint32 n, ItemPointer tid)
{
	BlockNumber lo = HNSW_METAPAGE_BLKNO + 1;
	BlockNumber hi = map->nblocks - 1;

	Assert(n < map->nelements);
	/* the block with base[block] <= n < base[block + 1] */
	while (lo < hi)
	{
		BlockNumber mid = lo + (hi - lo + 1) / 2;

		if (map->base[mid] <= n)
			lo = mid;
		else
			hi = mid - 1;
	}
	ItemPointerSet(tid, lo, (OffsetNumber) (n - map->base[lo] + FirstOffsetNumber));
}

/* ---- relinking unreachable elements ---- */

/* HnswRelinkSlot's answer when the list links to the element already. */
#define RELINK_ALREADY	(-2)

/*
 * Which slot of list (cap0 numbers) may take a link to element u, whose own
 * layer-0 list is mine?  In order of preference: RELINK_ALREADY if list
 * links to u; its first empty slot; among its last slots
 * (HnswRepairFirstSlot: those the selection valued least), from the end,
 * one whose target is in mine (still reached, through u); among those last
 * slots, one whose target has other in-links from reached elements, which
 * sets *risky: that target stays reached unless those elements are reached
 * only through it (two elements of a cut-off pair linking each other).  -1
 * if none; without allow_risky, -1 also for a risky slot, with *risky set
 * to say there is one.  A link to an item that is not a known element
 * (HNSW_RELINK_OTHER: under VACUUM, most likely a row inserted after the
 * reachability walk, whose in-links the walk did not count) is never
 * replaced: it may be that row's only way in.
 */
static int
relink_slot(const int64 *list, int cap0, const int32 *indegree,
			const int64 *mine, uint32 u, bool allow_risky, bool *risky)
{
	int			first = HnswRepairFirstSlot(cap0);

	*risky = false;
	for (int s = 0; s < cap0; s++)
		if (list[s] == (int64) u)
			return RELINK_ALREADY;
	for (int s = 0; s < cap0; s++)
		if (list[s] == HNSW_RELINK_EMPTY)
			return s;
	for (int s = cap0 - 1; s >= first; s--)
		for (int t = 0; t < cap0; t++)
			if (list[s] >= 0 && list[s] == mine[t])
				return s;
	for (int s = cap0 - 1; s >= first; s--)
		if (list[s] >= 0 && indegree[list[s]] > 1)
		{
			*risky = true;
			return allow_risky ? s : -1;
		}
	return -1;
}

/*
 * Link u from the first of cands[0..ncand) whose list takes it
 * (relink_slot) without a risky replacement, else from the first, from the
 * first that offered one on, that takes it with one, keeping the
 * in-degrees.  Returns whether one links to u.
 */
static bool
relink_from(HnswRelink *rl, const int64 *cands, int ncand, uint32 u,
			const int64 *mine, int64 *list)
{
	int			first_risky = -1;

	for (int pass = 0; pass < 2; pass++)
	{
		for (int c = pass == 0 ? 0 : first_risky; c < ncand; c++)
		{
			int			slot;
			bool		risky;

			rl->ops->read_list(rl->arg, (uint32) cands[c], list);
			slot = relink_slot(list, rl->cap0, rl->indegree, mine, u, pass == 1, &risky);
			if (slot >= 0)
			{
				if (list[slot] >= 0)
					rl->indegree[list[slot]]--;
				rl->indegree[u]++;
				rl->risky += risky;
			}
			rl->ops->write_list(rl->arg, (uint32) cands[c], Max(slot, -1), u);
			if (slot >= 0 || slot == RELINK_ALREADY)
				return true;
			if (risky && first_risky < 0)
				first_risky = c;
		}
		if (first_risky < 0)
			break;				/* no list offered even a risky slot */
	}
	return false;
}

/*
 * Mark u, reached now, and every live element not yet reached that layer-0
 * links lead to from it, as reached (breadth first; queue: room for
 * rl->nelements numbers, list: for cap0), counting their links as in-links
 * from reached elements.  Returns how many it marked.
 */
static uint32
mark_reached(HnswRelink *rl, uint32 u, uint32 *queue, int64 *list)
{
	uint32		head = 0;
	uint32		tail = 0;

	rl->seen[u] = true;
	queue[tail++] = u;
	while (head < tail)
	{
		rl->ops->own_list(rl->arg, queue[head++], list);
		for (int s = 0; s < rl->cap0; s++)
		{
			if (list[s] < 0 || !rl->live[list[s]])
				continue;
			rl->indegree[list[s]]++;
			if (!rl->seen[list[s]])
			{
				rl->seen[list[s]] = true;
				queue[tail++] = (uint32) list[s];
			}
		}
	}
	return tail;
}

/*
 * Give every live element that no chain of layer-0 links from the entry
 * point reaches (rl->seen false) a way in: a layer-0 link from a reached
 * live element of its own layer-0 list or, when none of those can take it,
 * from the nearest reached live elements a search from the entry point
 * finds (up to rl->ef; an insert's search, then, if that finds none that
 * can take it, one on layer 0 alone), in the slot relink_slot picks.  A
 * relinked element, and every element its links lead to, counts as reached
 * from then on, so a cut-off part takes one link, not one per element; the
 * in-degrees follow every change.  Pruning a full list can drop the only
 * link to an element, which searches then never reach: the build runs this
 * over its in-memory graph, VACUUM over the index (see src/hnsw/README.md,
 * VACUUM step 5).  Returns how many of the elements not reached before are
 * reached now; *missing, how many were not reached before (but for those
 * rl->skip names); rl->risky, how many links it replaced on the strength of
 * in-degrees alone (relink_slot): when that is not 0, a new reachability
 * walk may find elements cut off.
 */
uint32
HnswRelinkUnreachable(HnswRelink *rl, uint32 *missing)
{
	int			cap0 = rl->cap0;
	int64	   *mine = palloc(sizeof(int64) * cap0);
	int64	   *list = palloc(sizeof(int64) * cap0);
	int64	   *found = palloc(sizeof(int64) * Max(rl->ef, 1));
	int64	   *cands = palloc(sizeof(int64) * Max(cap0, rl->ef));
	uint32	   *queue = NULL;
	uint32		reached = 0;

	*missing = 0;
	rl->risky = 0;
	for (uint32 u = 0; u < rl->nelements; u++)
		if (rl->live[u] && !rl->seen[u] && (rl->skip == NULL || !rl->skip[u]))
			(*missing)++;

	for (uint32 u = 0; u < rl->nelements && reached < *missing; u++)
	{
		int			ncand = 0;
		bool		linked;

		if (!rl->live[u] || rl->seen[u] || (rl->skip != NULL && rl->skip[u]))
			continue;
		CHECK_FOR_INTERRUPTS();

		/* who could link to it: reached members of its own list ... */
		rl->ops->own_list(rl->arg, u, mine);
		for (int s = 0; s < cap0; s++)
			if (mine[s] >= 0 && rl->seen[mine[s]] && rl->live[mine[s]])
				cands[ncand++] = mine[s];
		linked = relink_from(rl, cands, ncand, u, mine, list);

		/*
		 * ... or, when none of them can take it (its whole neighbourhood is
		 * cut off too, e.g. a cluster no link leads into, or their spare
		 * slots are taken), the nearest reached elements a search from the
		 * entry point finds: first the search an insert makes, then, when
		 * that finds none that can take it (its descent through the upper
		 * layers can end inside the cut-off part, and find only elements of
		 * it), one on layer 0 from the entry point, which finds only reached
		 * elements.
		 */
		for (int pass = 0; pass < 2 && !linked; pass++)
		{
			int			nfound = rl->ops->search(rl->arg, u, pass == 0, found, rl->ef);

			ncand = 0;
			for (int j = 0; j < nfound; j++)
				if (found[j] >= 0 && found[j] != (int64) u &&
					rl->seen[found[j]] && rl->live[found[j]])
					cands[ncand++] = found[j];
			linked = relink_from(rl, cands, ncand, u, mine, list);
		}
		if (linked)
		{
			if (queue == NULL)
				queue = palloc_extended(sizeof(uint32) * rl->nelements, MCXT_ALLOC_HUGE);
			reached += mark_reached(rl, u, queue, list);
		}
	}
	pfree(mine);
	pfree(list);
	pfree(found);
	pfree(cands);
	if (queue != NULL)
		pfree(queue);
	return reached;
}

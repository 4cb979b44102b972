/*
 * build.c
 *	  HNSW index build.  Rows are inserted into an in-memory graph (same
 *	  algorithms as on disk, graph.c) while it fits in maintenance_work_mem;
 *	  the graph is then written out page by page and the whole index is
 *	  WAL-logged once with log_newpage_range.  If the graph outgrows
 *	  maintenance_work_mem it is written out at that point and the build goes
 *	  on inserting the remaining rows into the on-disk graph (insert.c), with
 *	  a NOTICE saying so.
 */
#include "hnsw/hnsw.h"

#include "access/parallel.h"
#include "access/table.h"
#include "access/tableam.h"
#include "commands/progress.h"
#include "common/parallel.h"
#include "common/am.h"
#include "common/wal.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/float.h"
#include "utils/memutils.h"

#define ARENA_BLOCK (1024 * 1024)

/*
 * Stored forms of STORED_ALIGN_MIN bytes or more start, in the in-memory
 * graph, 8 bytes before a 64-byte boundary.  vector, halfvec and bit keep
 * their elements after an 8-byte header, which then begin on a cache line,
 * so that the distance kernels' 64-byte loads (of the query, itself an
 * element, and of the element) never straddle two lines.  A serial
 * Fashion-MNIST build (784 dimensions) took 10 to 13 % less time than with
 * the stored forms at MAXALIGN offsets.  Shorter ones are not moved: the
 * padding, up to 56 bytes, would cost more memory than it saves time.
 */
#define STORED_LINE 64
#define STORED_HEADER 8
#define STORED_ALIGN_MIN 256

/* Bytes to skip from addr so that a stored form placed there is aligned. */
static inline Size
stored_pad(uintptr_t addr, Size size)
{
	if (size < STORED_ALIGN_MIN)
		return 0;
	return (STORED_LINE - ((addr + STORED_HEADER) & (STORED_LINE - 1))) & (STORED_LINE - 1);
}

/*
 * One element of the in-memory graph.  vector and neighbours are offsets
 * from HnswBuildState.base: in a serial build base is 0 and they are the
 * addresses themselves; in a parallel build base is where this process
 * mapped the shared graph area, which differs between processes.
 */
typedef struct BuildElement
{
	ItemPointerData heaptid;
	uint8		level;
	ItemPointerData tid;		/* where it lands on disk */
	Size		vector;			/* stored form, in the arena */
	Size		code;			/* parallel quantized build: its code, in the
								 * arena (a serial one: HnswBuildState.codes) */
	Size		neighbours;		/* HnswSlotCount(level, m) int32 ids, -1 =
								 * empty */
	int32		owner;			/* a duplicate of this element (not linked),
								 * or -1 */
	int32		duplicates;		/* element: first duplicate; duplicate: next;
								 * or -1 */
} BuildElement;

/*
 * State shared by the participants of a parallel build (one DSM chunk; the
 * heap's ParallelTableScanDesc follows it, the graph area is a chunk of its
 * own).  The graph area holds capacity BuildElements, capacity LWLocks (one
 * per element, guarding its neighbour lists) and the arena the elements'
 * vectors and lists are carved from.
 */
typedef struct HnswShared
{
	VaParallelShared rels;		/* first: what a worker opens */
	int			tranche_id;		/* of the element locks */

	/* graph area layout (offsets from the area's start) */
	uint32		capacity;		/* elements the area has room for */
	Size		elements_off;
	Size		locks_off;
	Size		codes_off;		/* quantized, dimensions known in advance:
								 * capacity codes by id, code_stride bytes
								 * each, from the first cache line boundary at
								 * or after it */
	Size		code_stride;	/* 0: codes beside their elements' lists */
	Size		arena_off;
	Size		arena_size;
	pg_atomic_uint64 arena_used;
	pg_atomic_uint32 nelements; /* ids handed out; may pass capacity */
	pg_atomic_uint64 tuples_done;	/* rows indexed, in memory or on disk */

	/* the entry point, guarded by entry_lock */
	LWLock		entry_lock;
	int32		entry;
	int32		entry_level;

	/* the rest is guarded by mutex */
	slock_t		mutex;
	ConditionVariable cv;		/* stopped or flushed changed */
	int32		dimensions;		/* -1 until the first value */
	bool		full;			/* the graph area ran out */
	bool		flushed;		/* the leader wrote the graph out */
	int			stopped;		/* participants done scanning or waiting */
	double		reltuples;		/* heap rows scanned, all participants */
} HnswShared;

#define HNSW_SHM_KEY_SHARED		UINT64CONST(0xA51D000000000001)
#define HNSW_SHM_KEY_AREA		UINT64CONST(0xA51D000000000002)

#define HnswSharedScan(shared) VaParallelSharedScan(shared, sizeof(HnswShared))

/*
 * Element id's mark: whether the current layer search visited it (epoch is
 * the search's) and then its distance to the query, which every visited
 * element has had computed: exact (slack 0), or in a quantized index's
 * search an estimate exact within slack (evaluate_filtered).
 */
typedef struct HnswVisitMark
{
	uint32		epoch;
	float		distance;
	float		slack;			/* 0, or distance is an estimate within it */
} HnswVisitMark;

typedef struct HnswBuildState
{
	HnswGraph	graph;			/* first: the in-memory graph interface */
	Relation	heap;
	Relation	index;
	const VaIndexOps *ops;		/* the opclass's: the build compares exactly */
	HnswQuant	hq;				/* what the elements written out hold */
	int			m;
	int			ef_construction;
	int			dimensions;		/* -1 until the first value */

	/* the in-memory graph */
	uintptr_t	base;			/* BuildElement offsets are relative to it */
	BuildElement *elements;
	LWLock	   *locks;			/* parallel build: one per element, else NULL */
	HnswShared *shared;			/* parallel build, else NULL */
	bool		is_leader;
	int			nparticipants;	/* leader: workers launched + itself */
	int			nelements;
	int			capacity;
	char	   *arena;			/* stored vectors are carved from blocks */
	Size		arena_left;
	char	   *codes;			/* quantized: the codes by id, each on cache
								 * lines of its own (code_stride bytes),
								 * code_capacity of them (serial; parallel,
								 * when HnswShared.code_stride is not 0) */
	char	   *codes_alloc;	/* serial: where codes was allocated */
	Size		code_stride;
	int			code_capacity;
	HnswVisitMark *marks;		/* visited marks, epoch-stamped */
	uint32		epoch;
	const void *query;
	bool		estimate;		/* quantized index: searches filter on codes */
	const void *query_code;		/* while a quantized index's mem_insert
								 * searches: the query's prepared form; else
								 * NULL */
	Size		code_bytes;		/* of a code; 0 before the first */
	int			entry;
	int			entry_level;
	Size		memory_used;
	Size		memory_limit;
	bool		on_disk;		/* graph outgrew memory: inserting on disk */

	/* per-insert scratch, sized once */
	VaHeap		result;
	VaCandidate *sorted;
	const void **vectors;
	int		   *selected;

	double		indtuples;
	double		reltuples;
	VaRandomState rng;
	MemoryContext graphctx;
	MemoryContext tmpctx;
} HnswBuildState;

static inline void *
element_vector(HnswBuildState *bs, int i)
{
	return (void *) (bs->base + bs->elements[i].vector);
}

/*
 * Element i's code (quantized index only): where its element's code field
 * points (a parallel build's code beside the element's lists), else in the
 * array of codes by id (a serial build's, or a parallel build's in the
 * graph area).
 */
static inline void *
element_code(HnswBuildState *bs, int i)
{
	if (bs->elements[i].code == 0)
		return (void *) (bs->codes + (Size) i * bs->code_stride);
	return (void *) (bs->base + bs->elements[i].code);
}

/* All neighbour slots of element i, layer 0 first. */
static inline int32 *
element_slots(HnswBuildState *bs, int i)
{
	return (int32 *) (bs->base + bs->elements[i].neighbours);
}

static inline int32 *
element_layer(HnswBuildState *bs, int i, int layer)
{
	return element_slots(bs, i) + HnswLayerStart(layer, bs->m);
}

/*
 * Kept after element i's slots, for its layer-0 list: each member's
 * distance to i (float[2m], slot by slot, kept for every member however it
 * joined); how many members (the first ones) the heuristic itself kept
 * when it last chose the list, or -1 when the list is not the output of a
 * selection (slots appended or changed since); and for each member after
 * those (a filled-in one, which the heuristic passed over), the slot of a
 * kept member nearer to it than i is (uint8[2m]).  mem_reselect uses them
 * to choose the list anew with a newcomer while computing only the
 * distances whose outcome they do not settle.  The distances are taken in
 * either direction (a search computes d(i, member), a back-link d(member,
 * i)): every distance here gives both the same value, bit for bit.
 */
static inline float *
layer0_distances(HnswBuildState *bs, int i)
{
	return (float *) (element_slots(bs, i) + HnswSlotCount(bs->elements[i].level, bs->m));
}

static inline int32 *
layer0_ndiverse(HnswBuildState *bs, int i)
{
	return (int32 *) (layer0_distances(bs, i) + HnswLayerCapacity(0, bs->m));
}

static inline uint8 *
layer0_blockers(HnswBuildState *bs, int i)
{
	return (uint8 *) (layer0_ndiverse(bs, i) + 1);
}

/* Bytes of an element's lists and its layer-0 selection state. */
static inline Size
neighbour_area_size(int level, int m)
{
	return sizeof(int32) * HnswSlotCount(level, m) +
		(sizeof(float) + sizeof(uint8)) * HnswLayerCapacity(0, m) + sizeof(int32);
}

/* Empty lists, no selection state. */
static inline void
clear_neighbours(HnswBuildState *bs, int i)
{
	memset(element_slots(bs, i), 0xFF,
		   sizeof(int32) * HnswSlotCount(bs->elements[i].level, bs->m));	/* all -1 */
	*layer0_ndiverse(bs, i) = -1;
}

/*
 * Element i's lists may be read (LW_SHARED) or changed (LW_EXCLUSIVE) by
 * the caller.  Only a parallel build has locks; a process holds at most one
 * element lock at a time and never the entry lock with it, so there is no
 * deadlock.  The stored vector and level never change once the element is
 * published and need no lock.
 */
static inline void
lock_element(HnswBuildState *bs, int i, LWLockMode mode)
{
	if (bs->locks)
		LWLockAcquire(&bs->locks[i], mode);
}

static inline void
unlock_element(HnswBuildState *bs, int i)
{
	if (bs->locks)
		LWLockRelease(&bs->locks[i]);
}

/* The entry point and its level (read under the entry lock when shared). */
static void
get_entry(HnswBuildState *bs, int *entry, int *level)
{
	if (bs->shared)
	{
		LWLockAcquire(&bs->shared->entry_lock, LW_SHARED);
		*entry = bs->shared->entry;
		*level = bs->shared->entry_level;
		LWLockRelease(&bs->shared->entry_lock);
	}
	else
	{
		*entry = bs->entry;
		*level = bs->entry_level;
	}
}

static void
mem_evaluate(HnswGraph *graph, VaCandidate *c)
{
	HnswBuildState *bs = (HnswBuildState *) graph;

	c->distance = bs->ops->distance(bs->query, element_vector(bs, (int) c->id));
	bs->marks[c->id].distance = c->distance;
	bs->marks[c->id].slack = 0;
	c->flags = 0;
	c->aux = c->id;
}

/* Prefetch the first 256 bytes of element i's stored form (see below). */
static inline void
prefetch_vector(HnswBuildState *bs, int i)
{
	for (int line = 0; line < 256; line += STORED_LINE)
		VaPrefetch((char *) element_vector(bs, i) + line);
}

/* Prefetch element i's code (up to 512 bytes of it). */
static inline void
prefetch_code(HnswBuildState *bs, int i)
{
	for (Size line = 0; line < Min(bs->code_bytes, 512); line += STORED_LINE)
		VaPrefetch((char *) element_code(bs, i) + line);
}

/*
 * Quantized index: evaluate cs[0..n-1] for mem_evaluate_many, exactly but
 * for the candidates whose codes say they lie beyond graph->beyond.
 *
 * RaBitQ's estimate of a distance comes with an error bound that holds
 * with high probability (Gao & Long 2024, Theorem 3.2, at 3 standard
 * deviations: VaRabitqErrorBound, the rabitq_ops slack).  A candidate
 * whose estimate less its bound exceeds the cut (the search's furthest
 * result once it holds ef of them, or the greedy descent's nearest) is
 * one the search would reject after computing its exact distance: it is
 * flagged HNSW_CANDIDATE_FAR with its estimate instead, and its mark keeps
 * the estimate with its bound (query_nearer).  Every other candidate gets
 * its exact distance, so the search keeps, expands and returns exactly
 * what it would with exact distances only, and builds the same graph while
 * no bound fails: Fashion-MNIST's index came out byte for byte the same
 * (metapage aside), with about 70 % of the distances to cold 3 kB vectors
 * replaced by estimates on codes of 440 bytes.  Bounds are checked before
 * any exact distance is computed, and only those vectors are prefetched.
 */
static void
evaluate_filtered(HnswBuildState *bs, VaCandidate *cs, int n)
{
	const VaIndexOps *gops = bs->hq.graph_ops;
	float		beyond = bs->graph.beyond;
	int			exact[HNSW_MAX_M * 2];
	int			nexact = 0;

	for (int i = 0; i < Min(n, 4); i++)
		VaPrefetch(&bs->elements[cs[i].id]);
	for (int i = 0; i < Min(n, 2); i++)
		prefetch_code(bs, (int) cs[i].id);
	for (int i = 0; i < n; i++)
	{
		const void *code;
		float		estimate;
		float		slack;

		if (i + 4 < n)
			VaPrefetch(&bs->elements[cs[i + 4].id]);
		if (i + 2 < n)
			prefetch_code(bs, (int) cs[i + 2].id);
		code = element_code(bs, (int) cs[i].id);
		estimate = gops->distance(bs->query_code, code);
		cs[i].aux = cs[i].id;
		cs[i].flags = 0;
		/* the bound costs a few square roots: only when it can decide */
		if (estimate > beyond &&
			estimate - (slack = gops->slack(bs->query_code, code, estimate)) > beyond)
		{
			cs[i].distance = estimate;
			cs[i].flags = HNSW_CANDIDATE_FAR;
			bs->marks[cs[i].id].distance = estimate;
			bs->marks[cs[i].id].slack = slack;
		}
		else
			exact[nexact++] = i;
	}
	for (int j = 0; j < Min(nexact, 2); j++)
		prefetch_vector(bs, (int) cs[exact[j]].id);
	for (int j = 0; j < nexact; j++)
	{
		VaCandidate *c = &cs[exact[j]];

		if (j + 2 < nexact)
			prefetch_vector(bs, (int) cs[exact[j + 2]].id);
		c->distance = bs->ops->distance(bs->query, element_vector(bs, (int) c->id));
		bs->marks[c->id].distance = c->distance;
		bs->marks[c->id].slack = 0;
	}
}

/*
 * Evaluate cs[0..n-1] as mem_evaluate does, the way hnswlib hides memory
 * latency: while one distance is computed, the element records of the
 * candidates four ahead and the vectors (first 256 bytes; the hardware
 * prefetcher streams the rest) of the candidates two ahead are prefetched.
 * A quantized index's searches filter on codes first (evaluate_filtered).
 */
static void
mem_evaluate_many(HnswGraph *graph, VaCandidate *cs, int n)
{
	HnswBuildState *bs = (HnswBuildState *) graph;

	if (bs->query_code)
	{
		evaluate_filtered(bs, cs, n);
		return;
	}
	for (int i = 0; i < Min(n, 4); i++)
		VaPrefetch(&bs->elements[cs[i].id]);
	for (int i = 0; i < Min(n, 2); i++)
		prefetch_vector(bs, (int) cs[i].id);
	for (int i = 0; i < n; i++)
	{
		if (i + 4 < n)
			VaPrefetch(&bs->elements[cs[i + 4].id]);
		if (i + 2 < n)
			prefetch_vector(bs, (int) cs[i + 2].id);
		cs[i].distance = bs->ops->distance(bs->query, element_vector(bs, (int) cs[i].id));
		bs->marks[cs[i].id].distance = cs[i].distance;
		bs->marks[cs[i].id].slack = 0;
		cs[i].flags = 0;
		cs[i].aux = cs[i].id;
	}
}

static int
mem_neighbours(HnswGraph *graph, uint64 id, int layer, uint64 *out)
{
	HnswBuildState *bs = (HnswBuildState *) graph;
	int			n = 0;

	if (layer <= bs->elements[id].level)
	{
		int32	   *list = element_layer(bs, (int) id, layer);
		int			cap = HnswLayerCapacity(layer, bs->m);

		lock_element(bs, (int) id, LW_SHARED);
		while (n < cap && list[n] >= 0)
		{
			out[n] = (uint64) list[n];
			n++;
		}
		unlock_element(bs, (int) id);
	}
	return n;
}

static bool
mem_visit(HnswGraph *graph, uint64 id)
{
	HnswBuildState *bs = (HnswBuildState *) graph;

	if (bs->marks[id].epoch == bs->epoch)
		return false;
	bs->marks[id].epoch = bs->epoch;
	return true;
}

static void
mem_reset_visited(HnswGraph *graph)
{
	HnswBuildState *bs = (HnswBuildState *) graph;

	if (++bs->epoch == 0)
	{
		memset(bs->marks, 0, sizeof(HnswVisitMark) * bs->capacity);
		bs->epoch = 1;
	}
}

/*
 * Is element x nearer to the query of the last search (bs->query) than
 * distance than?  Decided from x's mark when that search evaluated it (its
 * exact distance, or an estimate whose bound puts it clearly on one side),
 * else by computing the distance.
 */
static inline bool
query_nearer(HnswBuildState *bs, int32 x, float than)
{
	HnswVisitMark *mk = &bs->marks[x];

	if (mk->epoch == bs->epoch)
	{
		if (mk->slack == 0)
			return mk->distance < than;
		if (mk->distance - mk->slack >= than)
			return false;
		if (mk->distance + mk->slack < than)
			return true;
	}
	return bs->ops->distance(bs->query, element_vector(bs, x)) < than;
}

/*
 * Choose base's full layer-0 list anew over its members plus newcomer (at
 * distance dn from base), as HnswSelectNeighbours would, from the list's
 * selection state (layer0_distances).  Each pair's outcome in the heuristic
 * ("is kept member s nearer to candidate c than base is?") depends on the
 * pair alone, and the last selection settled many: no member it kept is
 * nearer to another member it kept, and a member it passed over is passed
 * over again while the kept member recorded as nearer to it stays kept.
 * Only the pairs left are computed: the newcomer with the kept members
 * before it, and then, as far as a change reaches, the members it passes
 * over, and those that a dropped member had passed over.  Usually a few
 * distances instead of a selection's O(cap^2), for the same list in the
 * same order and a state as good as a new selection's (checked against one
 * on every back-link of serial and parallel builds: test/bench/RESULTS.md,
 * 2026-12-05).  Returns false (nothing changed) when the state is unknown.
 */
static bool
mem_reselect(HnswBuildState *bs, int base, int newcomer, float dn)
{
	int			cap = HnswLayerCapacity(0, bs->m);
	int32	   *list = element_layer(bs, base, 0);
	float	   *dist = layer0_distances(bs, base);
	int32	   *ndiverse = layer0_ndiverse(bs, base);
	uint8	   *blockers = layer0_blockers(bs, base);
	int			nd = *ndiverse;

	/* the candidates in selection order, and what the last selection said */
	int32		id[HNSW_MAX_M * 2 + 1];
	float		d[HNSW_MAX_M * 2 + 1];
	int8		was[HNSW_MAX_M * 2 + 1];	/* 1 kept, 0 passed over, -1 new */
	int16		old_blocker[HNSW_MAX_M * 2 + 1];	/* candidate index, was 0 */
	int16		slot_at[HNSW_MAX_M * 2];	/* old slot -> candidate index */

	/* the new selection */
	int16		kept[HNSW_MAX_M * 2];
	int16		kept_pos[HNSW_MAX_M * 2 + 1];	/* kept[] index, or -1 */
	int16		passed[HNSW_MAX_M * 2 + 1];
	int16		passed_by[HNSW_MAX_M * 2 + 1];	/* kept[] index */
	int			nkept = 0;
	int			npassed = 0;
	int			n = 0;
	int			a = 0;
	int			b = nd;
	bool		placed = false;
	bool		query_is_newcomer = bs->query == element_vector(bs, newcomer);

	if (nd < 0 || list[cap - 1] < 0)
		return false;

	/* merge the kept run, the passed-over run (each in order) and newcomer */
	while (n < cap + 1)
	{
		int			pick;		/* 0 kept run, 1 passed run, 2 newcomer */

		if (a < nd && (b >= cap || HnswPrecedes(dist[a], (uint64) list[a], dist[b], (uint64) list[b])))
			pick = 0;
		else
			pick = b < cap ? 1 : 2;
		if (!placed && (pick == 2 ||
						HnswPrecedes(dn, (uint64) newcomer, pick == 0 ? dist[a] : dist[b],
									 (uint64) (pick == 0 ? list[a] : list[b]))))
		{
			id[n] = newcomer;
			d[n] = dn;
			was[n++] = -1;
			placed = true;
			continue;
		}
		if (pick == 0)
		{
			slot_at[a] = (int16) n;
			id[n] = list[a];
			d[n] = dist[a];
			was[n++] = 1;
			a++;
		}
		else
		{
			slot_at[b] = (int16) n;
			id[n] = list[b];
			d[n] = dist[b];
			was[n++] = 0;
			b++;
		}
	}
	for (int s = nd; s < cap; s++)
		old_blocker[slot_at[s]] = slot_at[blockers[s]];

	for (int c = 0; c < n && nkept < cap; c++)
	{
		int			by = -1;

		kept_pos[c] = -1;
		if (was[c] == 0 && kept_pos[old_blocker[c]] >= 0)
			by = kept_pos[old_blocker[c]];	/* still passed over by it */
		else
		{
			const void *cv = element_vector(bs, id[c]);

			for (int k = 0; k < nkept && by < 0; k++)
			{
				int32		other = id[kept[k]];
				bool		nearer;

				/* two members the last selection kept: settled, no */
				if (was[c] == 1 && was[kept[k]] == 1)
					continue;
				if (was[c] == -1 && query_is_newcomer)
					nearer = query_nearer(bs, other, d[c]);
				else if (was[kept[k]] == -1 && query_is_newcomer)
					nearer = query_nearer(bs, id[c], d[c]);
				else
					nearer = bs->ops->distance(cv, element_vector(bs, other)) < d[c];
				if (nearer)
					by = k;
			}
		}
		if (by < 0)
		{
			kept_pos[c] = (int16) nkept;
			kept[nkept++] = (int16) c;
		}
		else
		{
			passed_by[npassed] = (int16) by;
			passed[npassed++] = (int16) c;
		}
	}

	/* kept members in order, then the passed-over ones nearest first */
	for (int s = 0; s < cap; s++)
	{
		int			c = s < nkept ? kept[s] : passed[s - nkept];

		list[s] = id[c];
		dist[s] = d[c];
		if (s >= nkept)
			blockers[s] = (uint8) passed_by[s - nkept];
	}
	*ndiverse = nkept;
	return true;
}

/*
 * Replace the layer list of element base (in memory) by the best cap of its
 * current neighbours plus newcomer, at distance dn from base, chosen with
 * the heuristic (on layer 0 through mem_reselect when it can, and with the
 * members' stored distances otherwise).  The caller holds base's lock
 * exclusively (parallel build).
 */
static void
mem_prune(HnswBuildState *bs, int base, int layer, int newcomer, float dn)
{
	int32	   *list = element_layer(bs, base, layer);
	int			cap = HnswLayerCapacity(layer, bs->m);
	const void *bv = element_vector(bs, base);
	int			n = 0;
	int			k;
	int			ndiverse;
	uint8		blockers[HNSW_MAX_M * 2];
	VaHeap	   *heap = &bs->result;

	if (layer == 0 && mem_reselect(bs, base, newcomer, dn))
		return;
	VaHeapReset(heap);
	for (int i = 0; i <= cap; i++)
	{
		VaCandidate c;

		c.id = (uint64) (i < cap ? list[i] : newcomer);
		if (i == cap)
			c.distance = dn;
		else if (layer == 0)
			c.distance = layer0_distances(bs, base)[i];
		else
			c.distance = bs->ops->distance(bv, element_vector(bs, (int) c.id));
		c.flags = 0;
		c.aux = 0;
		VaHeapPush(heap, &c);
	}
	n = VaHeapDrainSorted(heap, bs->sorted);
	for (int i = 0; i < n; i++)
		bs->vectors[i] = element_vector(bs, (int) bs->sorted[i].id);
	k = HnswSelectNeighbours(bs->sorted, bs->vectors, n, cap, bs->ops, bs->selected,
							 &ndiverse, blockers);
	for (int i = 0; i < cap; i++)
		list[i] = i < k ? (int32) bs->sorted[bs->selected[i]].id : -1;
	if (layer == 0)
	{
		float	   *dist = layer0_distances(bs, base);

		for (int i = 0; i < k; i++)
			dist[i] = bs->sorted[bs->selected[i]].distance;
		memcpy(layer0_blockers(bs, base), blockers, k);
		*layer0_ndiverse(bs, base) = ndiverse;
	}
}

/*
 * A layer list chosen for a new element by its search: members nearest
 * first as the heuristic returned them (the first ndiverse kept by the
 * heuristic itself, then the filled-in ones), with their distances to it
 * and, for the filled-in ones, the kept member that passed each over.
 */
typedef struct HnswChosen
{
	int			n;
	int			ndiverse;
	int32		id[HNSW_MAX_M * 2];
	float		distance[HNSW_MAX_M * 2];
	uint8		blocker[HNSW_MAX_M * 2];	/* see HnswSelectNeighbours */
} HnswChosen;

/*
 * Make element i a duplicate of element owner (identical stored vector):
 * put it on owner's chain, where flush_graph writes it as a duplicate item.
 */
static void
mem_add_duplicate(HnswBuildState *bs, int i, int owner)
{
	lock_element(bs, owner, LW_EXCLUSIVE);
	bs->elements[i].owner = owner;
	bs->elements[i].duplicates = bs->elements[owner].duplicates;
	bs->elements[owner].duplicates = i;
	unlock_element(bs, owner);
}

/*
 * Link element i into layer with the neighbours chosen for it: its own
 * list, then a back-link from each, pruning a full list with the
 * heuristic.  In a parallel build other inserters may have linked back to
 * i on this layer since it searched; its list is then chosen again, with
 * the heuristic, from those links and chosen together, so that neither is
 * dropped for lack of room.
 */
static void
mem_link(HnswBuildState *bs, int i, int layer, const HnswChosen *chosen)
{
	int			k = chosen->n;
	int			ndiverse = chosen->ndiverse;
	int			cap = HnswLayerCapacity(layer, bs->m);
	int32	   *mine = element_layer(bs, i, layer);
	float	   *mydist = layer == 0 ? layer0_distances(bs, i) : NULL;
	VaCandidate cands[HNSW_MAX_M * 4];
	VaCandidate kept[HNSW_MAX_M * 4];
	uint8		blockers[HNSW_MAX_M * 2];
	const void *vectors[HNSW_MAX_M * 4];
	int			selected[HNSW_MAX_M * 4];
	int			n = 0;

	lock_element(bs, i, LW_EXCLUSIVE);
	for (int j = 0; j < k; j++)
	{
		cands[n].id = (uint64) chosen->id[j];
		cands[n++].distance = chosen->distance[j];
	}
	for (int s = 0; s < cap && mine[s] >= 0; s++)
	{
		bool		dup = false;

		for (int c = 0; c < k && !dup; c++)
			dup = (chosen->id[c] == mine[s]);
		if (!dup)
		{
			cands[n].id = (uint64) mine[s];
			cands[n++].distance = mydist ? mydist[s] :
				bs->ops->distance(element_vector(bs, i), element_vector(bs, mine[s]));
		}
	}
	if (n > cap)
	{
		VaHeap		heap;

		VaHeapInit(&heap, n, false);
		for (int j = 0; j < n; j++)
		{
			cands[j].flags = 0;
			cands[j].aux = 0;
			VaHeapPush(&heap, &cands[j]);
		}
		VaHeapDrainSorted(&heap, cands);
		VaHeapFree(&heap);
		for (int j = 0; j < n; j++)
			vectors[j] = element_vector(bs, (int) cands[j].id);
		n = HnswSelectNeighbours(cands, vectors, n, cap, bs->ops, selected, &ndiverse,
								 blockers);
		for (int j = 0; j < n; j++)
			kept[j] = cands[selected[j]];
		memcpy(cands, kept, sizeof(VaCandidate) * n);
	}
	else if (n > k)
		ndiverse = -1;			/* chosen plus concurrent back-links */
	else
		memcpy(blockers, chosen->blocker, k);
	for (int j = 0; j < cap; j++)
		mine[j] = j < n ? (int32) cands[j].id : -1;
	if (mydist)
	{
		for (int j = 0; j < n; j++)
			mydist[j] = cands[j].distance;
		if (ndiverse >= 0)
			memcpy(layer0_blockers(bs, i), blockers, n);
		*layer0_ndiverse(bs, i) = ndiverse;
	}
	unlock_element(bs, i);

	for (int j = 0; j < k; j++)
	{
		int			nb = chosen->id[j];
		int32	   *list = element_layer(bs, nb, layer);
		int			slot = 0;

		lock_element(bs, nb, LW_EXCLUSIVE);
		while (slot < cap && list[slot] >= 0 && list[slot] != i)
			slot++;
		if (slot < cap && list[slot] < 0)
		{
			list[slot] = i;
			if (layer == 0)
			{
				layer0_distances(bs, nb)[slot] = chosen->distance[j];
				*layer0_ndiverse(bs, nb) = -1;
			}
		}
		else if (slot == cap)
			mem_prune(bs, nb, layer, i, chosen->distance[j]);
		unlock_element(bs, nb);
	}
}

/*
 * The entry point in *entry and *entry_level; when the graph has none yet,
 * element i becomes it and the result is false (nothing to link).
 */
static bool
mem_entry_or_claim(HnswBuildState *bs, int i, int *entry, int *entry_level)
{
	int			level = bs->elements[i].level;

	get_entry(bs, entry, entry_level);
	if (*entry >= 0)
		return true;
	if (!bs->shared)
	{
		bs->entry = i;
		bs->entry_level = level;
		return false;
	}
	LWLockAcquire(&bs->shared->entry_lock, LW_EXCLUSIVE);
	if (bs->shared->entry < 0)
	{
		bs->shared->entry = i;
		bs->shared->entry_level = level;
		LWLockRelease(&bs->shared->entry_lock);
		return false;
	}
	*entry = bs->shared->entry;
	*entry_level = bs->shared->entry_level;
	LWLockRelease(&bs->shared->entry_lock);
	return true;
}

/* Element i, linked, becomes the entry point if its level is above it. */
static void
mem_raise_entry(HnswBuildState *bs, int i)
{
	int			level = bs->elements[i].level;

	if (bs->shared)
	{
		LWLockAcquire(&bs->shared->entry_lock, LW_EXCLUSIVE);
		if (level > bs->shared->entry_level)
		{
			bs->shared->entry = i;
			bs->shared->entry_level = level;
		}
		LWLockRelease(&bs->shared->entry_lock);
	}
	else if (level > bs->entry_level)
	{
		bs->entry = i;
		bs->entry_level = level;
	}
}

/*
 * Search every layer from top down to 0 for element i's neighbours, from
 * the entry point (descending greedily from entry_level first), and choose
 * each layer's list with the heuristic into chosen[layer].
 * Returns false, having chosen nothing, when layer 0 holds an element with
 * i's very vector: i then joined that element's duplicate chain.
 */
static bool
mem_choose(HnswBuildState *bs, int i, int entry, int entry_level, int top,
		   HnswChosen *chosen)
{
	VaCandidate ep;
	VaCandidate *entries;
	int			nentries;

	bs->query = element_vector(bs, i);
	ep.id = (uint64) entry;
	mem_evaluate(&bs->graph, &ep);
	HnswGreedyDescend(&bs->graph, &ep, entry_level, bs->elements[i].level);

	entries = palloc(sizeof(VaCandidate) * (bs->ef_construction + 1));
	entries[0] = ep;
	nentries = 1;
	for (int layer = top; layer >= 0; layer--)
	{
		int			n;

		HnswSearchLayer(&bs->graph, entries, nentries, bs->ef_construction,
						layer, &bs->result);
		n = VaHeapDrainSorted(&bs->result, bs->sorted);
		for (int j = 0; j < n; j++)
			bs->vectors[j] = element_vector(bs, (int) bs->sorted[j].id);
		if (layer == 0)
		{
			for (int j = 0; j < n; j++)
			{
				if (HnswSameVector(bs->vectors[j], bs->query))
				{
					mem_add_duplicate(bs, i, (int) bs->sorted[j].id);
					pfree(entries);
					return false;
				}
			}
		}
		chosen[layer].n = HnswSelectNeighbours(bs->sorted, bs->vectors, n,
											   HnswLayerCapacity(layer, bs->m),
											   bs->ops, bs->selected,
											   &chosen[layer].ndiverse,
											   chosen[layer].blocker);
		for (int j = 0; j < chosen[layer].n; j++)
		{
			chosen[layer].id[j] = (int32) bs->sorted[bs->selected[j]].id;
			chosen[layer].distance[j] = bs->sorted[bs->selected[j]].distance;
		}
		memcpy(entries, bs->sorted, sizeof(VaCandidate) * n);
		nentries = n;
	}
	pfree(entries);
	return true;
}

/*
 * Insert element i (vector, level and heaptid already set, lists empty) into
 * the graph: Malkov & Yashunin's Algorithm 1 over the in-memory graph.  Every
 * layer is searched before any link is written, so that a row whose vector
 * an element already holds (found on layer 0) joins that element's
 * duplicate chain instead and leaves the graph untouched.  In a parallel
 * build other participants insert at the same time: lists are read and
 * changed under their element's lock (mem_link).
 */
static void
mem_insert(HnswBuildState *bs, int i)
{
	int			entry;
	int			entry_level;
	int			top;
	HnswChosen	chosen[HNSW_MAX_LEVEL + 1];
	bool		linked;

	if (!mem_entry_or_claim(bs, i, &entry, &entry_level))
		return;
	top = Min(bs->elements[i].level, entry_level);
	/* a quantized index's searches filter on codes (evaluate_filtered) */
	if (bs->estimate)
		bs->query_code = HnswQuantQuery(&bs->hq, element_vector(bs, i), bs->dimensions);
	linked = mem_choose(bs, i, entry, entry_level, top, chosen);
	if (bs->query_code)
		pfree((void *) bs->query_code);
	bs->query_code = NULL;
	if (!linked)
		return;
	for (int layer = top; layer >= 0; layer--)
		mem_link(bs, i, layer, &chosen[layer]);
	mem_raise_entry(bs, i);
}

/* HnswRelinkOps of the build: the in-memory graph, numbered by element id. */
static void
mem_layer0_list(HnswBuildState *bs, uint32 i, int64 *list)
{
	int32	   *slots = element_layer(bs, (int) i, 0);

	for (int s = 0; s < HnswLayerCapacity(0, bs->m); s++)
		list[s] = slots[s] >= 0 ? slots[s] : HNSW_RELINK_EMPTY;
}

static void
mem_own_list(void *arg, uint32 u, int64 *list)
{
	mem_layer0_list((HnswBuildState *) arg, u, list);
}

static int
mem_search(void *arg, uint32 u, bool descend, int64 *found, int max)
{
	HnswBuildState *bs = (HnswBuildState *) arg;
	VaCandidate ep;
	int			nresult;
	int			k;

	bs->query = element_vector(bs, (int) u);
	ep.id = (uint64) bs->entry;
	mem_evaluate(&bs->graph, &ep);
	if (descend)
		HnswGreedyDescend(&bs->graph, &ep, bs->entry_level, 0);
	HnswSearchLayer(&bs->graph, &ep, 1, bs->ef_construction, 0, &bs->result);
	/* not inside Min(), which would drain the heap a second time */
	nresult = VaHeapDrainSorted(&bs->result, bs->sorted);
	k = Min(nresult, max);
	for (int j = 0; j < k; j++)
		found[j] = (int64) bs->sorted[j].id;
	return k;
}

static void
mem_read_list(void *arg, uint32 c, int64 *list)
{
	mem_layer0_list((HnswBuildState *) arg, c, list);
}

static void
mem_write_list(void *arg, uint32 c, int slot, uint32 u)
{
	HnswBuildState *bs = (HnswBuildState *) arg;

	if (slot < 0)
		return;
	element_layer(bs, (int) c, 0)[slot] = (int32) u;
	layer0_distances(bs, (int) c)[slot] =
		bs->ops->distance(element_vector(bs, (int) c), element_vector(bs, (int) u));
	*layer0_ndiverse(bs, (int) c) = -1;
}

static const HnswRelinkOps mem_relink_ops = {
	mem_own_list, mem_search, mem_read_list, mem_write_list
};

/*
 * Give every element a way in (HnswRelinkUnreachable over the in-memory
 * graph, VACUUM's rule).  Pruning a full list can drop the only link to an
 * element, which searches then can never reach (a few in ten thousand on
 * real data).  Reach is marked breadth first from the entry point over
 * layer 0 (as HnswComputeReach does on disk), then the elements not
 * reached are relinked; repeated while it helps (at most 64 rounds): a
 * relink makes the elements behind the relinked one reachable, which may
 * then take links they could not before.
 */
static void
repair_unreachable(HnswBuildState *bs)
{
	int			n = bs->nelements;
	int			cap0 = HnswLayerCapacity(0, bs->m);
	int32	   *queue;
	bool	   *live;
	HnswRelink	rl;

	if (n < 2)
		return;
	rl.ops = &mem_relink_ops;
	rl.arg = bs;
	rl.cap0 = cap0;
	rl.ef = bs->ef_construction;
	rl.nelements = (uint32) n;
	rl.seen = palloc(sizeof(bool) * n);
	rl.indegree = palloc(sizeof(int32) * n);
	live = palloc(sizeof(bool) * n);
	queue = palloc(sizeof(int32) * n);
	for (int i = 0; i < n; i++)
	{
		/* a duplicate is not in the graph */
		live[i] = bs->elements[i].owner < 0;
	}
	rl.live = live;
	rl.skip = NULL;

	for (int round = 0; round < 64; round++)
	{
		int			head = 0;
		int			tail = 0;
		uint32		missing;

		/* reach, and the in-links from reached elements */
		memset(rl.seen, 0, sizeof(bool) * n);
		memset(rl.indegree, 0, sizeof(int32) * n);
		rl.seen[bs->entry] = true;
		queue[tail++] = bs->entry;
		while (head < tail)
		{
			int			q = queue[head++];

			for (int s = 0; s < cap0; s++)
			{
				int32		t = element_slots(bs, q)[s];

				if (t < 0)
					continue;
				rl.indegree[t]++;
				if (!rl.seen[t])
				{
					rl.seen[t] = true;
					queue[tail++] = t;
				}
			}
		}
		if (HnswRelinkUnreachable(&rl, &missing) == 0 || missing == 0)
			break;
	}
	pfree(rl.seen);
	pfree(rl.indegree);
	pfree(live);
	pfree(queue);
}

/*
 * Bytes of what an element of a value with stored form stored holds on a
 * page (its stored form, or its code: HnswQuantElementSize).
 */
static Size
held_size(HnswBuildState *bs, const void *stored)
{
	return HnswQuantElementSize(&bs->hq, bs->ops->dims(stored), VARSIZE(stored));
}

/* Bytes element i takes on a page: an element, or a duplicate item. */
static Size
item_size(HnswBuildState *bs, int i)
{
	if (bs->elements[i].owner >= 0)
		return HNSW_DUPLICATE_SIZE;
	return HnswElementSize(held_size(bs, element_vector(bs, i)),
						   bs->elements[i].level, bs->m);
}

/* Put element x and its duplicate chain at order[tail..]; the new tail. */
static int
place_chain(HnswBuildState *bs, int32 x, int32 *order, int tail, bool *placed)
{
	for (int32 d = x; d >= 0; d = bs->elements[d].duplicates)
	{
		if (!placed[d])
		{
			placed[d] = true;
			order[tail++] = d;
		}
	}
	return tail;
}

/*
 * The order to write the in-memory graph's elements in: breadth first over
 * layer 0 from the entry point, each element followed by its duplicates,
 * then whatever that did not reach, by id.  Elements a search expands one
 * after another, and the members of one list, then share pages more often
 * than in the rows' order: fewer pages pinned and cache lines missed per
 * query (the reordering of Coleman et al., "Graph Reordering for
 * Cache-Efficient Near Neighbor Search", NeurIPS 2022, by its simplest
 * method).  Returns bs->nelements ids, palloc'd.
 */
static int32 *
write_order(HnswBuildState *bs)
{
	int			n = bs->nelements;
	int			cap0 = HnswLayerCapacity(0, bs->m);
	int32	   *order = palloc(sizeof(int32) * n);
	bool	   *placed = palloc0(sizeof(bool) * n);
	int			head = 0;
	int			tail = 0;
	int			next = 0;		/* ids below it are placed */

	for (;;)
	{
		int32		x;

		if (head < tail)
		{
			/* expand the next element placed: its layer-0 list */
			int32		q = order[head++];
			int32	   *slots;

			if (bs->elements[q].owner >= 0)
				continue;
			slots = element_layer(bs, q, 0);
			for (int s = 0; s < cap0; s++)
			{
				x = slots[s];
				/* a duplicate is placed with its owner */
				if (x >= 0 && !placed[x] && bs->elements[x].owner < 0)
					tail = place_chain(bs, x, order, tail, placed);
			}
			continue;
		}
		/* the entry point first, then any element not reached, by id */
		if (tail == 0)
			x = bs->entry;
		else
		{
			while (next < n && placed[next])
				next++;
			if (next == n)
				break;
			x = next;
			/* a duplicate goes with its owner (mem_add_duplicate chains it) */
			if (bs->elements[x].owner >= 0)
				x = bs->elements[x].owner;
			if (placed[x])
				elog(ERROR, "hnsw build: duplicate %d is not on its owner's chain", next);
		}
		tail = place_chain(bs, x, order, tail, placed);
	}
	Assert(tail == n);
	pfree(placed);
	return order;
}

/* Give each element of the in-memory graph its TID: pages 1.., in order. */
static void
assign_tids(HnswBuildState *bs, const int32 *order)
{
	BlockNumber blkno = HNSW_METAPAGE_BLKNO;
	Size		pagefree = BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(VaPageOpaqueData));
	Size		avail = 0;
	OffsetNumber off = InvalidOffsetNumber;

	for (int k = 0; k < bs->nelements; k++)
	{
		int			i = order[k];
		Size		need = MAXALIGN(item_size(bs, i)) + sizeof(ItemIdData);

		if (off == InvalidOffsetNumber || need > avail)
		{
			blkno++;
			avail = pagefree;
			off = FirstOffsetNumber;
		}
		else
			off++;
		avail -= need;
		ItemPointerSet(&bs->elements[i].tid, blkno, off);
	}
}

/*
 * Make element i's page item in tup (size bytes, item_size): a duplicate
 * item (heap TID, chain link, owner) or an element with what it holds (the
 * vector or its code, made in codectx) and its neighbour ids translated to
 * TIDs.
 */
static void
fill_item(HnswBuildState *bs, int i, HnswElementTuple tup, Size size,
		  MemoryContext codectx)
{
	BuildElement *e = &bs->elements[i];
	ItemPointerData *slots;
	MemoryContext old;
	const void *held;

	memset(tup, 0, size);
	tup->heaptid = e->heaptid;
	if (e->duplicates >= 0)
		tup->duplicates = bs->elements[e->duplicates].tid;
	else
		ItemPointerSetInvalid(&tup->duplicates);
	if (e->owner >= 0)
	{
		tup->level = 0;
		tup->flags = HNSW_ELEMENT_DUPLICATE;
		((HnswDuplicateTuple) tup)->owner = bs->elements[e->owner].tid;
		return;
	}

	tup->level = e->level;
	tup->flags = 0;
	/* the layer-0 list's selection state, which inserts use too */
	if (*layer0_ndiverse(bs, i) >= 0)
		tup->selection = (uint16) (*layer0_ndiverse(bs, i) + 1);
	old = MemoryContextSwitchTo(codectx);
	held = bs->estimate ? element_code(bs, i) :
		HnswQuantElement(&bs->hq, element_vector(bs, i), bs->dimensions);
	memcpy(HnswElementVector(tup), held, VARSIZE(held));
	MemoryContextSwitchTo(old);
	MemoryContextReset(codectx);
	slots = HnswElementNeighbours(tup);
	for (int s = 0; s < HnswSlotCount(e->level, bs->m); s++)
	{
		int32		nb = element_slots(bs, i)[s];

		if (nb >= 0)
			slots[s] = bs->elements[nb].tid;
		else
			ItemPointerSetInvalid(&slots[s]);
	}
}

/*
 * The page of block blkno, new and locked, once buf (if valid) is marked
 * dirty and let go: the build writes its pages in block order.
 */
static Buffer
next_page(HnswBuildState *bs, Buffer buf, BlockNumber blkno)
{
	if (BufferIsValid(buf))
	{
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
	buf = VaNewBuffer(bs->index, MAIN_FORKNUM);
	if (BufferGetBlockNumber(buf) != blkno)
		elog(ERROR, "hnsw build expected block %u, got %u",
			 blkno, BufferGetBlockNumber(buf));
	VaInitPage(BufferGetPage(buf), VA_PAGE_ID_HNSW);
	return buf;
}

/* Write every element at its TID (assign_tids), pages 1.. (not WAL-logged). */
static void
write_elements(HnswBuildState *bs, const int32 *order)
{
	MemoryContext codectx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build codes",
												  ALLOCSET_DEFAULT_SIZES);
	HnswElementTuple tup = palloc0(VA_MAX_ITEM_SIZE);
	Buffer		buf = InvalidBuffer;

	for (int k = 0; k < bs->nelements; k++)
	{
		int			i = order[k];
		ItemPointer tid = &bs->elements[i].tid;
		Size		size = item_size(bs, i);

		CHECK_FOR_INTERRUPTS();
		if (!BufferIsValid(buf) ||
			BufferGetBlockNumber(buf) != ItemPointerGetBlockNumber(tid))
			buf = next_page(bs, buf, ItemPointerGetBlockNumber(tid));
		fill_item(bs, i, tup, size, codectx);
		if (PageAddItem(BufferGetPage(buf), (Item) tup, size, InvalidOffsetNumber,
						false, false) != ItemPointerGetOffsetNumber(tid))
			elog(ERROR, "hnsw build failed to add element to block %u",
				 ItemPointerGetBlockNumber(tid));
	}
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
	pfree(tup);
	MemoryContextDelete(codectx);
}

/*
 * Point the metapage at the graph written out, whose last page is last:
 * dimensions, size of what an element holds, insert page, entry point, and
 * the state of the last relink (repair_unreachable did what a VACUUM's
 * relink pass does).  One WAL record (a build's: see VaWalBegin).
 */
static void
point_metapage(HnswBuildState *bs, BlockNumber last)
{
	Buffer		metabuf = ReadBuffer(bs->index, HNSW_METAPAGE_BLKNO);
	HnswMetaPage meta;
	VaWal		wal;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	VaWalBegin(&wal, bs->index, true);
	meta = HnswPageGetMeta(VaWalRegister(&wal, metabuf, false));
	meta->dimensions = bs->dimensions;
	meta->vector_size = (uint32) held_size(bs, element_vector(bs, 0));
	meta->insert_page = last;
	meta->entry_point = bs->elements[bs->entry].tid;
	meta->entry_level = (int16) bs->entry_level;
	meta->relink_nblocks = last + 1;
	meta->relink_heap_tuples = bs->indtuples;
	VaWalFinish(&wal);
	UnlockReleaseBuffer(metabuf);
}

/*
 * Write the in-memory graph to pages 1.. and point the metapage at it,
 * having relinked the elements no search reaches (repair_unreachable).
 */
static void
flush_graph(HnswBuildState *bs)
{
	int32	   *order;

	if (bs->nelements == 0)
		return;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 3);
	repair_unreachable(bs);
	order = write_order(bs);
	assign_tids(bs, order);
	write_elements(bs, order);
	point_metapage(bs, ItemPointerGetBlockNumber(&bs->elements[order[bs->nelements - 1]].tid));
	pfree(order);
}

/*
 * NOTICE that the graph outgrew maintenance_work_mem after done rows, each
 * of which took per_element bytes on average.
 */
static void
report_spill(HnswBuildState *bs, double per_element, double done)
{
	bool		known = bs->reltuples > done;
	double		need_mb = per_element * (known ? bs->reltuples : done) /
	(1024.0 * 1024.0) + 1;

	ereport(NOTICE,
			(errmsg("hnsw graph no longer fits into maintenance_work_mem after %.0f tuples",
					done),
			 errdetail("The rest of the build inserts into the on-disk graph and takes significantly longer."),
			 known ?
			 errhint("Increase maintenance_work_mem to about %.0f MB to build this index in memory.",
					 need_mb) :
			 errhint("Increase maintenance_work_mem to well over %.0f MB to build this index in memory.",
					 need_mb)));
}

/* Serial build: switch from the in-memory graph to inserting on disk. */
static void
spill_to_disk(HnswBuildState *bs)
{
	report_spill(bs, (double) bs->memory_used / Max(bs->nelements, 1), bs->indtuples);
	flush_graph(bs);
	bs->on_disk = true;
	MemoryContextDelete(bs->graphctx);
	bs->graphctx = NULL;
	bs->elements = NULL;
	bs->arena = NULL;
	bs->arena_left = 0;
	bs->marks = NULL;
	bs->codes = NULL;
	bs->codes_alloc = NULL;
	bs->code_capacity = 0;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 2);
}

/* Make room for one more element in the in-memory graph. */
static void
grow(HnswBuildState *bs)
{
	MemoryContext old = MemoryContextSwitchTo(bs->graphctx);

	if (bs->nelements == bs->capacity)
	{
		int			newcap = bs->capacity * 2;

		bs->elements = repalloc_huge(bs->elements, sizeof(BuildElement) * newcap);
		bs->marks = repalloc_huge(bs->marks, sizeof(HnswVisitMark) * newcap);
		memset(bs->marks + bs->capacity, 0, sizeof(HnswVisitMark) * (newcap - bs->capacity));
		bs->memory_used += (sizeof(BuildElement) + sizeof(HnswVisitMark)) * (newcap - bs->capacity);
		bs->capacity = newcap;
	}
	MemoryContextSwitchTo(old);
}

/*
 * size bytes (MAXALIGNed) for a stored vector, carved from arena blocks and
 * placed as stored_pad says.
 */
static void *
arena_alloc(HnswBuildState *bs, Size size)
{
	void	   *p;
	Size		pad;

	size = MAXALIGN(size);
	pad = stored_pad((uintptr_t) bs->arena, size);
	if (pad + size > bs->arena_left)
	{
		Size		block = Max(ARENA_BLOCK, size + STORED_LINE);

		bs->arena = MemoryContextAllocHuge(bs->graphctx, block);
		bs->arena_left = block;
		pad = stored_pad((uintptr_t) bs->arena, size);
	}
	p = bs->arena + pad;
	Assert(stored_pad((uintptr_t) p, size) == 0);
	bs->arena += pad + size;
	bs->arena_left -= pad + size;
	bs->memory_used += pad;
	return p;
}

/*
 * Make room for capacity codes of code_bytes each (serial quantized build),
 * keeping those of the elements there are.  The codes sit together, apart
 * from the stored forms: a search filters on the codes of most elements it
 * meets and computes exact distances for few, and codes found by id (no
 * element record to read first) and kept together stay in the CPU's caches
 * longer.
 */
static void
grow_codes(HnswBuildState *bs)
{
	Size		stride = TYPEALIGN(STORED_LINE, bs->code_bytes);
	char	   *alloc = MemoryContextAllocHuge(bs->graphctx,
											   stride * bs->capacity + STORED_LINE);
	char	   *codes = (char *) TYPEALIGN(STORED_LINE, alloc);

	if (bs->codes)
	{
		memcpy(codes, bs->codes, stride * bs->nelements);
		pfree(bs->codes_alloc);
		bs->memory_used -= bs->code_stride * bs->code_capacity;
	}
	bs->codes = codes;
	bs->codes_alloc = alloc;
	bs->code_stride = stride;
	bs->code_capacity = bs->capacity;
	bs->memory_used += stride * bs->capacity;
}

/* Give back the last arena_alloc, which returned p (its padding stays used). */
static void
arena_unalloc(HnswBuildState *bs, void *p)
{
	bs->arena_left += bs->arena - (char *) p;
	bs->arena = (char *) p;
}

/* Stored form of one row, in a row of the build's own. */
static void
insert_on_disk(HnswBuildState *bs, Relation index, Datum value, Size size,
			   ItemPointer tid)
{
	void	   *stored = palloc(size);

	if (bs->ops->to_stored(value, stored))
	{
		HnswInsertValue(index, bs->ops, stored, tid, true, &bs->rng);
		bs->indtuples++;
		if (bs->shared)
			pg_atomic_fetch_add_u64(&bs->shared->tuples_done, 1);
	}
}

/* Raise the mixed-dimensions error if stored's dimensions are not expected. */
static void
check_dimensions(int expected, const VaIndexOps *ops, const void *stored)
{
	if (ops->dims(stored) != expected)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", expected, ops->dims(stored)),
				 errdetail("All values in an hnsw index must have the same dimensions.")));
}

/*
 * Parallel build: copy a row's stored form (size bytes) into the shared
 * graph as a new element with its level drawn, lists empty.  Returns its
 * id, or -1 when the graph area is full (nothing is added then).
 */
static int
shared_add_element(HnswBuildState *bs, const void *stored, Size size,
				   ItemPointer tid)
{
	HnswShared *shared = bs->shared;
	int			level;
	Size		need;
	uint64		off;
	uint32		i;
	BuildElement *e;
	const void *code = NULL;

	SpinLockAcquire(&shared->mutex);
	if (shared->dimensions < 0)
		shared->dimensions = bs->ops->dims(stored);
	bs->dimensions = shared->dimensions;
	SpinLockRelease(&shared->mutex);
	check_dimensions(bs->dimensions, bs->ops, stored);

	/* one draw: Min() evaluates an argument twice */
	level = HnswRandomLevel(bs->m, &bs->rng);
	level = Min(level, HnswMaxLevel(held_size(bs, stored), bs->m));
	/* room to place the stored form as stored_pad says */
	need = MAXALIGN(size) + MAXALIGN(neighbour_area_size(level, bs->m));
	if (size >= STORED_ALIGN_MIN)
		need += STORED_LINE;
	/* and the code, on cache lines of its own, unless the array has room */
	if (bs->estimate)
	{
		code = HnswQuantElement(&bs->hq, stored, bs->dimensions);
		bs->code_bytes = VARSIZE(code);
		if (VARSIZE(code) > shared->code_stride)
			need += TYPEALIGN(STORED_LINE, VARSIZE(code)) + STORED_LINE;
	}

	/* space first, then an id, so every id below capacity is complete */
	off = pg_atomic_fetch_add_u64(&shared->arena_used, need);
	if (off + need > shared->arena_size)
		return -1;
	i = pg_atomic_fetch_add_u32(&shared->nelements, 1);
	if (i >= shared->capacity)
		return -1;

	e = &bs->elements[i];
	e->heaptid = *tid;
	e->level = (uint8) level;
	e->owner = -1;
	e->duplicates = -1;
	ItemPointerSetInvalid(&e->tid);
	/* each process maps the area at an address with the same remainder */
	e->vector = shared->arena_off + off;
	e->vector += stored_pad(bs->base + e->vector, size);
	e->neighbours = e->vector + MAXALIGN(size);
	memcpy(element_vector(bs, i), stored, size);
	clear_neighbours(bs, i);
	e->code = 0;
	if (code)
	{
		if (VARSIZE(code) > shared->code_stride)
			e->code = TYPEALIGN(STORED_LINE, bs->base + e->neighbours +
								MAXALIGN(neighbour_area_size(level, bs->m))) - bs->base;
		memcpy(element_code(bs, i), code, VARSIZE(code));
		pfree((void *) code);
	}
	return (int) i;
}

/*
 * Parallel build, leader: once every participant has stopped (finished its
 * share of the scan, or waits because the graph area is full), write the
 * shared graph out, then let the waiting participants go on inserting on
 * disk.  Runs once.
 */
static void
leader_flush(HnswBuildState *bs)
{
	HnswShared *shared = bs->shared;
	bool		full;
	uint32		n;

	for (;;)
	{
		bool		all;

		SpinLockAcquire(&shared->mutex);
		all = shared->stopped >= bs->nparticipants;
		SpinLockRelease(&shared->mutex);
		if (all)
			break;
		ConditionVariableSleep(&shared->cv, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();

	SpinLockAcquire(&shared->mutex);
	full = shared->full;
	bs->dimensions = shared->dimensions;
	SpinLockRelease(&shared->mutex);
	n = Min(pg_atomic_read_u32(&shared->nelements), shared->capacity);
	bs->nelements = (int) n;
	bs->entry = shared->entry;
	bs->entry_level = shared->entry_level;
	if (full && pg_atomic_read_u32(&shared->nelements) >= shared->capacity)
		ereport(NOTICE,
				(errmsg("hnsw parallel build made room for only %u elements, and the table has more rows",
						shared->capacity),
				 errdetail("The rest of the build inserts into the on-disk graph and takes significantly longer."),
				 errhint("Run ANALYZE on the table before building the index.")));
	else if (full && shared->arena_off + shared->arena_size + 1024 * 1024 < bs->memory_limit)
	{
		/*
		 * The area was sized from the table (shared_area_size), below
		 * maintenance_work_mem: raising that would change nothing.
		 */
		bool		declared = TupleDescAttr(RelationGetDescr(bs->index), 0)->atttypmod > 0;

		ereport(NOTICE,
				(errmsg("hnsw parallel build's graph area of %.0f MB, sized from the table, filled after %u tuples",
						(double) (shared->arena_off + shared->arena_size) / (1024.0 * 1024.0), n),
				 errdetail("The rest of the build inserts into the on-disk graph and takes significantly longer."),
				 declared ?
				 errhint("Run ANALYZE on the table before building the index.") :
				 errhint("Declare the column's dimensions, as in vector(768), so that the area is sized from them, or build with max_parallel_maintenance_workers = 0.")));
	}
	else if (full)
		report_spill(bs,
					 (double) (shared->arena_off + pg_atomic_read_u64(&shared->arena_used)) /
					 Max(n, 1), (double) n);
	flush_graph(bs);

	SpinLockAcquire(&shared->mutex);
	shared->flushed = true;
	SpinLockRelease(&shared->mutex);
	ConditionVariableBroadcast(&shared->cv);
	bs->on_disk = true;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 2);
}

/*
 * Parallel build: the graph area is full.  A worker stops and waits until
 * the leader has written the graph out; the leader does that itself.  Then
 * the caller inserts on disk.
 */
static void
stop_for_flush(HnswBuildState *bs)
{
	HnswShared *shared = bs->shared;

	SpinLockAcquire(&shared->mutex);
	shared->full = true;
	shared->stopped++;
	SpinLockRelease(&shared->mutex);
	ConditionVariableBroadcast(&shared->cv);

	if (bs->is_leader)
	{
		leader_flush(bs);
		return;
	}
	for (;;)
	{
		bool		flushed;

		SpinLockAcquire(&shared->mutex);
		flushed = shared->flushed;
		SpinLockRelease(&shared->mutex);
		if (flushed)
			break;
		ConditionVariableSleep(&shared->cv, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	bs->on_disk = true;
}

/* Is the shared graph area full (parallel build)? */
static bool
shared_full(HnswBuildState *bs)
{
	bool		full;

	SpinLockAcquire(&bs->shared->mutex);
	full = bs->shared->full;
	SpinLockRelease(&bs->shared->mutex);
	return full;
}

/* ERROR unless stored, a stored form made for size bytes, says it has size. */
static void
check_stored_size(const void *stored, Size size)
{
	if (VARSIZE(stored) != size)
		elog(ERROR, "hnsw stored form of %zu bytes has varlena size %zu",
			 size, (Size) VARSIZE(stored));
}

/*
 * Parallel build, graph in shared memory: add the row heap tid with value
 * (a stored form of size bytes) to the shared graph, or, once the graph
 * area is full, wait until the graph is written out (stop_for_flush) and
 * insert it on disk.  A value the operator class does not index (e.g. a
 * zero vector under cosine) is left out.
 */
static void
add_shared(HnswBuildState *bs, Relation index, Datum value, Size size,
		   ItemPointer tid)
{
	void	   *stored = palloc(size);
	int			i;

	if (!bs->ops->to_stored(value, stored))
		return;
	check_stored_size(stored, size);
	if (!shared_full(bs) && (i = shared_add_element(bs, stored, size, tid)) >= 0)
		mem_insert(bs, i);
	else
	{
		stop_for_flush(bs);
		HnswInsertValue(index, bs->ops, stored, tid, true, &bs->rng);
	}
	bs->indtuples++;
	pg_atomic_fetch_add_u64(&bs->shared->tuples_done, 1);
}

/*
 * Serial build, graph in memory: add the row heap tid with value (a stored
 * form of size bytes) as a new element, its level drawn, and insert it into
 * the graph.  Returns false, adding nothing, for a value the operator class
 * does not index (e.g. a zero vector under cosine).  Errors: mixed
 * dimensions.
 */
static bool
add_in_memory(HnswBuildState *bs, Datum value, Size size, ItemPointer tid)
{
	int			i;
	int			level;
	BuildElement *e;
	void	   *stored;

	grow(bs);
	i = bs->nelements;
	e = &bs->elements[i];
	e->vector = (Size) (uintptr_t) arena_alloc(bs, size);
	stored = element_vector(bs, i);
	if (!bs->ops->to_stored(value, stored))
	{
		arena_unalloc(bs, stored);
		return false;
	}
	check_stored_size(stored, size);
	if (bs->dimensions < 0)
		bs->dimensions = bs->ops->dims(stored);
	else
		check_dimensions(bs->dimensions, bs->ops, stored);

	bs->memory_used += MAXALIGN(size);
	e->heaptid = *tid;
	e->owner = -1;
	e->duplicates = -1;
	/* one draw: Min() evaluates an argument twice */
	level = HnswRandomLevel(bs->m, &bs->rng);
	e->level = (uint8) Min(level, HnswMaxLevel(held_size(bs, stored), bs->m));
	e->code = 0;
	if (bs->estimate)
	{
		const void *code = HnswQuantElement(&bs->hq, stored, bs->dimensions);

		bs->code_bytes = VARSIZE(code);
		if (bs->code_capacity < bs->capacity)
			grow_codes(bs);
		memcpy(element_code(bs, i), code, VARSIZE(code));
		pfree((void *) code);
	}
	e->neighbours = (Size) (uintptr_t) MemoryContextAlloc(bs->graphctx,
														  neighbour_area_size(e->level, bs->m));
	clear_neighbours(bs, i);
	bs->memory_used += neighbour_area_size(e->level, bs->m) + 16;
	bs->nelements++;

	mem_insert(bs, i);
	bs->indtuples++;
	return true;
}

/*
 * table_index_build_scan's callback: index one heap row, in the in-memory
 * graph (serial: add_in_memory, then written out if it outgrew
 * maintenance_work_mem), the shared one (parallel: add_shared), or on disk
 * once the graph was written out.  NULLs are not indexed.  Reports the rows
 * indexed to pg_stat_progress_create_index (a parallel build: the
 * leader, for all participants).
 */
static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	HnswBuildState *bs = (HnswBuildState *) state;
	MemoryContext old;
	Datum		value;
	Size		size;
	bool		indexed = true;

	if (isnull[0])
		return;
	CHECK_FOR_INTERRUPTS();

	old = MemoryContextSwitchTo(bs->tmpctx);
	value = PointerGetDatum(PG_DETOAST_DATUM(values[0]));
	size = bs->ops->stored_size(value);
	if (bs->shared && !bs->on_disk)
		add_shared(bs, index, value, size, tid);
	else if (bs->on_disk)
		insert_on_disk(bs, index, value, size, tid);
	else
		indexed = add_in_memory(bs, value, size, tid);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpctx);
	if (!indexed)
		return;

	if (!bs->shared)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, bs->indtuples);
	else if (bs->is_leader)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
									 (int64) pg_atomic_read_u64(&bs->shared->tuples_done));

	if (!bs->shared && !bs->on_disk && bs->memory_used > bs->memory_limit)
		spill_to_disk(bs);
}

/* Write an empty metapage as block 0 of fork (not WAL-logged here). */
void
HnswWriteMetaPage(Relation index, ForkNumber fork, int m, int ef_construction,
				  int quantization, int bits)
{
	Buffer		buf = VaNewBuffer(index, fork);
	Page		page = BufferGetPage(buf);
	HnswMetaPage meta;

	if (BufferGetBlockNumber(buf) != HNSW_METAPAGE_BLKNO)
		elog(ERROR, "hnsw metapage must be block %d", HNSW_METAPAGE_BLKNO);
	VaInitPage(page, VA_PAGE_ID_HNSW);
	meta = HnswPageGetMeta(page);
	meta->header.magic = HNSW_MAGIC;
	meta->header.version = HNSW_VERSION;
	meta->m = (uint16) m;
	meta->ef_construction = (uint16) ef_construction;
	meta->dimensions = -1;
	meta->vector_size = 0;
	meta->insert_page = InvalidBlockNumber;
	ItemPointerSetInvalid(&meta->entry_point);
	meta->entry_level = -1;
	meta->relink_nblocks = 0;
	meta->relink_heap_tuples = 0;
	meta->quantization = (uint8) quantization;
	meta->bits = quantization == HNSW_QUANTIZATION_NONE ? 0 : (uint8) bits;
	meta->seed = quantization == HNSW_QUANTIZATION_NONE ? 0 : HNSW_ROTATION_SEED;
	meta->upper_version = VaGlobalRandomUint64() | 1;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/* Fill in what every build process needs; the graph itself is set up later. */
static void
init_build_state(HnswBuildState *bs, Relation heap, Relation index)
{
	HnswOptions opts = HnswGetOptions(index);

	bs->heap = heap;
	bs->index = index;
	bs->ops = HnswGetIndexOps(index);
	HnswQuantCheckSupported(index, bs->ops, opts.quantization);
	HnswQuantInit(&bs->hq, index, NULL);
	bs->m = opts.m;
	bs->ef_construction = opts.ef_construction;
	bs->estimate = opts.quantization != HNSW_QUANTIZATION_NONE;
	bs->dimensions = -1;
	bs->entry = -1;
	bs->entry_level = -1;
	bs->epoch = 1;
	bs->memory_limit = (Size) maintenance_work_mem * 1024;
	bs->reltuples = heap->rd_rel->reltuples > 0 ? heap->rd_rel->reltuples : 0;
	VaRandomSeed(&bs->rng, 0x5EED);

	bs->tmpctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build tuple",
									   ALLOCSET_DEFAULT_SIZES);
	HnswGraphInitCommon(&bs->graph, bs->m, bs->ef_construction);
	bs->graph.evaluate = mem_evaluate;
	bs->graph.evaluate_many = mem_evaluate_many;
	bs->graph.neighbours = mem_neighbours;
	bs->graph.visit = mem_visit;
	bs->graph.reset_visited = mem_reset_visited;
	VaHeapInit(&bs->result, bs->ef_construction + 1, true);
	bs->sorted = palloc(sizeof(VaCandidate) * (Max(bs->ef_construction, 2 * bs->m) + 2));
	bs->vectors = palloc(sizeof(void *) * (Max(bs->ef_construction, 2 * bs->m) + 2));
	bs->selected = palloc(sizeof(int) * (Max(bs->ef_construction, 2 * bs->m) + 2));
}

/*
 * Parallel build: point bs at the shared graph in area (mapped at this
 * process's address) and give it its own visited marks and level seed.
 */
static void
attach_shared(HnswBuildState *bs, HnswShared *shared, char *area, int participant)
{
	bs->shared = shared;
	bs->base = (uintptr_t) area;
	bs->elements = (BuildElement *) (area + shared->elements_off);
	bs->locks = (LWLock *) (area + shared->locks_off);
	bs->capacity = (int) shared->capacity;
	if (shared->code_stride > 0)
	{
		bs->codes = (char *) TYPEALIGN(STORED_LINE, area + shared->codes_off);
		bs->code_stride = shared->code_stride;
		bs->code_capacity = bs->capacity;
	}
	bs->marks = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(HnswVisitMark) * shared->capacity);
	memset(bs->marks, 0, sizeof(HnswVisitMark) * shared->capacity);
	LWLockRegisterTranche(shared->tranche_id, "hnsw build");
	VaRandomSeed(&bs->rng, 0x5EED + (uint64) participant * 0x9E3779B9);
}

/*
 * Parallel build: scan this participant's share of the heap (blocks handed
 * out by the parallel table scan) into the shared graph, then count itself
 * stopped.  Returns the heap rows it scanned.
 */
static double
participate(HnswBuildState *bs, Relation heap, Relation index, IndexInfo *indexInfo)
{
	TableScanDesc scan;
	double		reltuples;
	bool		flushed;

	scan = table_beginscan_parallel(heap, HnswSharedScan(bs->shared));
	reltuples = table_index_build_scan(heap, index, indexInfo, true, bs->is_leader,
									   build_callback, bs, scan);

	SpinLockAcquire(&bs->shared->mutex);
	bs->shared->reltuples += reltuples;
	flushed = bs->shared->flushed;
	if (!flushed)
		bs->shared->stopped++;
	SpinLockRelease(&bs->shared->mutex);
	ConditionVariableBroadcast(&bs->shared->cv);
	return reltuples;
}

/*
 * Entry point of a parallel build worker (CreateParallelContext calls it by
 * name): open the relations the leader named, attach to the shared graph
 * and insert its share of the rows.
 */
PGDLLEXPORT void HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc);

void
HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	HnswShared *shared = shm_toc_lookup(toc, HNSW_SHM_KEY_SHARED, false);
	char	   *area = shm_toc_lookup(toc, HNSW_SHM_KEY_AREA, false);
	HnswBuildState *bs = palloc0(sizeof(HnswBuildState));
	VaParallelWorker w;

	VaParallelWorkerOpen(&shared->rels, &w);
	init_build_state(bs, w.heap, w.index);
	if (bs->estimate)
		HnswQuantLoadCentre(&bs->hq, w.index);
	attach_shared(bs, shared, area, ParallelWorkerNumber + 1);
	participate(bs, w.heap, w.index, w.indexInfo);
	VaParallelWorkerClose(&w);
}

/*
 * Bytes of shared graph area a parallel build asks for: all of
 * maintenance_work_mem, but no more than about three times the heap's size
 * (TOAST included), since the DSM segment is reserved in full up front.
 * Compressed values can take less room in the heap than in the graph, so
 * when the column declares its dimensions (vector(n) and the like) the
 * area is at least what reltuples elements of the largest stored size of
 * that type (the operator class's max_stored_size, at most a page each)
 * with full layer-0 lists would take.
 */
static Size
shared_area_size(HnswBuildState *bs, Relation heap, Relation index)
{
	double		bytes = (double) RelationGetNumberOfBlocks(heap) * BLCKSZ;
	int32		typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	if (OidIsValid(heap->rd_rel->reltoastrelid))
	{
		Relation	toast = table_open(heap->rd_rel->reltoastrelid, AccessShareLock);

		bytes += (double) RelationGetNumberOfBlocks(toast) * BLCKSZ;
		table_close(toast, AccessShareLock);
	}
	bytes = bytes * 3 + (double) 4 * 1024 * 1024;
	if (typmod > 0 && bs->reltuples > 0)
	{
		/* a stored element fits one page */
		double		vector_bytes = Min((double) bs->ops->max_stored_size(typmod),
									   (double) VA_MAX_ITEM_SIZE);
		double		per_element = sizeof(BuildElement) + sizeof(LWLock) +
		vector_bytes + MAXALIGN(neighbour_area_size(0, bs->m)) + STORED_LINE;

		/* a code is smaller than the stored form it is made of */
		if (bs->estimate)
			per_element += vector_bytes + 2 * STORED_LINE;

		bytes = Max(bytes, (bs->reltuples * 1.2 + 1024) * per_element + (double) 4 * 1024 * 1024);
	}
	return (Size) Min((double) bs->memory_limit, bytes);
}

/*
 * Build the graph with nworkers parallel workers plus the leader, all
 * inserting into one graph in dynamic shared memory (element locks as in
 * mem_insert); the leader then writes it out.  Returns false, having done
 * nothing, when no DSM segment could be had; the caller builds serially.
 */
static bool
build_parallel(HnswBuildState *bs, Relation heap, Relation index,
			   IndexInfo *indexInfo, int nworkers, double *reltuples)
{
	VaParallelBuild pb;
	ParallelContext *pcxt;
	Size		area_size;
	Size		per_element;
	HnswShared *shared;
	char	   *area;
	uint32		capacity;
	Size		code_stride = 0;
	int32		typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	VaParallelBuildBegin(&pb, "HnswParallelBuildMain", nworkers, indexInfo);
	pcxt = pb.pcxt;
	area_size = shared_area_size(bs, heap, index);

	/*
	 * A quantized index whose dimensions the type fixes keeps its codes in an
	 * array by id, as a serial build does: the searches then read a code
	 * without the element record first.
	 */
	if (bs->estimate && typmod > 0 && typmod <= VA_MAX_DIM)
		code_stride = TYPEALIGN(STORED_LINE, VaRabitqCodeSize(typmod, bs->hq.bits, bs->hq.centred));

	/*
	 * Elements get ids up to capacity: as many as could fit if each had the
	 * smallest possible vector, unless the table's row count is known.
	 */
	per_element = sizeof(BuildElement) + sizeof(LWLock) + code_stride;
	capacity = (uint32) Min((double) PG_INT32_MAX / 2,
							area_size / (per_element + MAXALIGN(VARHDRSZ + 4) +
										 MAXALIGN(neighbour_area_size(0, bs->m))));
	if (bs->reltuples > 0)
		capacity = (uint32) Min((double) capacity, bs->reltuples * 1.2 + 1024);

	shared = VaParallelBuildInitDSM(&pb, heap, index, indexInfo, sizeof(HnswShared),
									HNSW_SHM_KEY_SHARED, &area_size, 1);
	if (shared == NULL)
		return false;
	shared->tranche_id = LWLockNewTrancheId();
	shared->capacity = capacity;
	shared->elements_off = 0;
	shared->locks_off = MAXALIGN(sizeof(BuildElement) * (Size) capacity);
	shared->codes_off = shared->locks_off + MAXALIGN(sizeof(LWLock) * (Size) capacity);
	shared->code_stride = code_stride;
	shared->arena_off = shared->codes_off +
		(code_stride > 0 ? code_stride * (Size) capacity + STORED_LINE : 0);
	shared->arena_size = area_size > shared->arena_off ? area_size - shared->arena_off : 0;
	pg_atomic_init_u64(&shared->arena_used, 0);
	pg_atomic_init_u32(&shared->nelements, 0);
	pg_atomic_init_u64(&shared->tuples_done, 0);
	LWLockInitialize(&shared->entry_lock, shared->tranche_id);
	shared->entry = -1;
	shared->entry_level = -1;
	SpinLockInit(&shared->mutex);
	ConditionVariableInit(&shared->cv);
	shared->dimensions = -1;

	area = shm_toc_allocate(pcxt->toc, area_size);
	for (uint32 i = 0; i < capacity; i++)
		LWLockInitialize((LWLock *) (area + shared->locks_off) + i, shared->tranche_id);
	shm_toc_insert(pcxt->toc, HNSW_SHM_KEY_AREA, area);

	/* a worker that failed to start must not leave leader_flush waiting */
	bs->nparticipants = VaParallelBuildLaunch(&pb, "hnsw");
	bs->is_leader = true;
	attach_shared(bs, shared, area, 0);
	ereport(DEBUG1,
			(errmsg_internal("hnsw parallel build: room for %u elements in %zu bytes",
							 capacity, area_size)));

	participate(bs, heap, index, indexInfo);
	if (!bs->on_disk)
		leader_flush(bs);
	WaitForParallelWorkersToFinish(pcxt);

	*reltuples = shared->reltuples;
	bs->indtuples = (double) pg_atomic_read_u64(&shared->tuples_done);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);

	VaParallelBuildEnd(&pb);
	return true;
}

/*
 * ambuild: build the index over all rows of heap.  Errors: vectors too
 * large for a page, mixed dimensions.  Reports tuple counts and phases to
 * pg_stat_progress_create_index.  With parallel workers (the planner's
 * plan_create_index_workers: max_parallel_maintenance_workers, the table's
 * parallel_workers and size) the graph is built in shared memory by all of
 * them; otherwise in this backend's memory.
 */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	HnswBuildState *bs = palloc0(sizeof(HnswBuildState));
	double		reltuples = 0;
	int			initial;
	int			nworkers;
	bool		parallel = false;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	init_build_state(bs, heap, index);
	HnswWriteMetaPage(index, MAIN_FORKNUM, bs->m, bs->ef_construction,
					  bs->hq.quantization, bs->hq.bits);
	HnswQuantBuildCentre(&bs->hq, heap, index, indexInfo);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 2);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->reltuples);

	nworkers = IsNormalProcessingMode() ?
		plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index)) : 0;
	if (nworkers > 0)
		parallel = build_parallel(bs, heap, index, indexInfo, nworkers, &reltuples);

	if (!parallel)
	{
		bs->graphctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build graph",
											 ALLOCSET_DEFAULT_SIZES);
		initial = 1024;
		bs->capacity = initial;
		bs->elements = MemoryContextAllocHuge(bs->graphctx, sizeof(BuildElement) * initial);
		bs->marks = MemoryContextAllocHuge(bs->graphctx, sizeof(HnswVisitMark) * initial);
		memset(bs->marks, 0, sizeof(HnswVisitMark) * initial);
		bs->memory_used = (sizeof(BuildElement) + sizeof(HnswVisitMark)) * initial;

		/*
		 * No synchronized scan (allow_sync = false): the heap is read from
		 * its first block whatever other scans are doing, so with the
		 * constant level seed the same table gives the same index.
		 */
		reltuples = table_index_build_scan(heap, index, indexInfo, false, true,
										   build_callback, bs, NULL);
		if (!bs->on_disk)
		{
			flush_graph(bs);
			MemoryContextDelete(bs->graphctx);
		}
	}
	MemoryContextDelete(bs->tmpctx);

	return VaFinishBuild(index, reltuples, bs->indtuples);
}

/* ambuildempty: the init fork of an unlogged index, an empty metapage. */
void
hnswbuildempty(Relation index)
{
	HnswOptions opts = HnswGetOptions(index);

	HnswQuantCheckSupported(index, HnswGetIndexOps(index), opts.quantization);
	HnswWriteMetaPage(index, INIT_FORKNUM, opts.m, opts.ef_construction,
					  opts.quantization, opts.bits);
	VaWalLogRange(index, INIT_FORKNUM, 0, 1);
}

/*
 * blockmap.h
 *	  Backend-lifetime block maps of index files: for each block, the shared
 *	  buffer that last held it (pinned again with ReadRecentBuffer, without
 *	  the buffer mapping lookup) and the block the page linked to when last
 *	  read (so a scan that walks page chains can prefetch pages ahead of the
 *	  one it reads).  Both are only guesses: a pin through the map checks
 *	  the buffer's tag, and a link is always read from the page itself.
 *	  Used by hnsw (every hop of a graph search) and ivfflat (list pages).
 *	  Knows no access method.
 */
#ifndef VA_BLOCKMAP_H
#define VA_BLOCKMAP_H

#include "vectorann.h"

#include "common/page.h"
#include "distance/cpu.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

/* A block's entry: InvalidBuffer / VA_BLOCKMAP_NO_LINK until learned. */
typedef struct VaBlockMapEntry
{
	Buffer		buffer;			/* buffer that last held the block */
	BlockNumber next;			/* link seen on the page, or the two below */
	uint16		lower;			/* pd_lower and pd_upper seen on the page, */
	uint16		upper;			/* 0: not seen */
} VaBlockMapEntry;

/* next: not seen yet (block 0, a metapage, is never a link target) */
#define VA_BLOCKMAP_NO_LINK		((BlockNumber) 0)
/* next: the page was the tail of its chain (InvalidBlockNumber) */
#define VA_BLOCKMAP_TAIL		InvalidBlockNumber

#define VA_BLOCKMAP_CHUNK		1024

typedef struct VaBlockMap
{
	RelFileNode node;			/* the index file; relNode InvalidOid: unused */
	BlockNumber nchunks;		/* length of chunks */
	VaBlockMapEntry **chunks;	/* VA_BLOCKMAP_CHUNK entries each, or NULL */
	uint64		last_use;		/* clock of the last VaBlockMapGet */
	uint32		pins;			/* pins through the map, for the usage count */
} VaBlockMap;

/*
 * The map of index's current file, set up (empty) if the backend has none;
 * up to 64 maps are kept (a query over many partitions keeps one for
 * each), the least recently used giving way.  NULL for an index in local
 * buffers (temporary tables), which then reads plainly.  A REINDEX or
 * TRUNCATE gives the index a new file, and the old file's map then simply
 * ages out.  The pointer stays good until a VaBlockMapGet for another index
 * takes its slot: call it again at the start of every amgettuple, or keep
 * it and check it with VaBlockMapOf.
 */
extern VaBlockMap *VaBlockMapGet(Relation index);

/*
 * map (NULL or a map from VaBlockMapGet) if it is still the map of index's
 * file, else VaBlockMapGet(index): for callers that keep a map across
 * calls.
 */
static inline VaBlockMap *
VaBlockMapOf(VaBlockMap *map, Relation index)
{
	if (map != NULL && RelFileNodeEquals(map->node, index->rd_node))
		return map;
	return VaBlockMapGet(index);
}

/*
 * The entry of blkno in map, allocating its chunk (TopMemoryContext; out of
 * memory is an ERROR), or NULL when blkno is past the end of index (a
 * damaged link must not make the map grow without bound).  Use
 * VaBlockMapEntryOf.
 */
extern VaBlockMapEntry *VaBlockMapGrow(VaBlockMap *map, Relation index,
									   BlockNumber blkno);

/*
 * The entry of blkno in map, the map of index, allocating its chunk; NULL
 * when map is NULL or blkno is past the end of index.
 */
static inline VaBlockMapEntry *
VaBlockMapEntryOf(VaBlockMap *map, Relation index, BlockNumber blkno)
{
	BlockNumber c = blkno / VA_BLOCKMAP_CHUNK;

	if (map == NULL)
		return NULL;
	if (likely(c < map->nchunks && map->chunks[c] != NULL))
		return &map->chunks[c][blkno % VA_BLOCKMAP_CHUNK];
	return VaBlockMapGrow(map, index, blkno);
}

/* The entry of blkno if its chunk exists, else NULL (never allocates). */
static inline VaBlockMapEntry *
VaBlockMapPeek(VaBlockMap *map, BlockNumber blkno)
{
	BlockNumber c = blkno / VA_BLOCKMAP_CHUNK;

	if (map == NULL || c >= map->nchunks || map->chunks[c] == NULL)
		return NULL;
	return &map->chunks[c][blkno % VA_BLOCKMAP_CHUNK];
}

/*
 * Pin block blkno of index (ERROR as ReadBuffer for a block past the end):
 * through the buffer remembered in entry (entry may be NULL) when it still
 * holds the block, otherwise with ReadBuffer, whose buffer is then
 * remembered.  ReadRecentBuffer compares the buffer's tag (relation file,
 * fork, block) under the buffer header lock before pinning, so a wrong
 * guess (the buffer was evicted and reused, the relation rewritten or
 * dropped) only costs the lookup it was to save.  It pins without raising
 * the buffer's usage count (PG 15), so pages read only that way would look
 * cold to the clock sweep and be evicted first, however hot: one pin in 64
 * goes through ReadBuffer instead, which raises it.  Counted in the index's
 * pgstat block counters either way, as ReadBuffer counts.
 */
extern Buffer VaBlockMapRead(VaBlockMap *map, VaBlockMapEntry *entry,
							 Relation index, BlockNumber blkno);

/* Remember page's pd_lower and pd_upper in entry (NULL: nothing to do). */
static inline void
VaBlockMapNoteBounds(VaBlockMapEntry *entry, Page page)
{
	if (entry != NULL)
	{
		entry->lower = ((PageHeader) page)->pd_lower;
		entry->upper = ((PageHeader) page)->pd_upper;
	}
}

/*
 * Hint the CPU to load the buffer descriptor of entry's buffer for writing
 * (pinning it changes the descriptor's state word) and return the
 * buffer's page, or NULL when entry has no plausible buffer.  Nothing is
 * pinned or read.
 */
static inline const char *
VaBlockMapPrefetchBuffer(const VaBlockMapEntry *entry)
{
	Buffer		buf = entry->buffer;

	if (buf <= 0 || buf > NBuffers)
		return NULL;
	VaPrefetchWrite(GetBufferDescriptor(buf - 1));
	return (const char *) BufferGetBlock(buf);
}

/*
 * Hint the CPU to load what locating item off on entry's page will touch:
 * the buffer descriptor (VaBlockMapPrefetchBuffer) and the item's line
 * pointer.  Only a hint: a stale entry only wastes the loads.
 */
static inline void
VaBlockMapPrefetchItem(const VaBlockMapEntry *entry, OffsetNumber off)
{
	const char *page = VaBlockMapPrefetchBuffer(entry);

	if (page != NULL && off >= FirstOffsetNumber && off <= MaxOffsetNumber)
		VaPrefetch(PageGetItemId((Page) page, off));
}

/*
 * Hint the CPU to load what reading block entry's page will touch: the
 * buffer descriptor (for writing: the pin changes it), and the page's
 * header and line pointers up to pd_lower and its items from pd_upper to
 * the end as last seen (VaBlockMapNoteBounds), or the whole page when they
 * were not seen.  Nothing is pinned or read; a stale entry only wastes the
 * loads.
 */
static inline void
VaBlockMapPrefetch(const VaBlockMapEntry *entry)
{
	const char *page = VaBlockMapPrefetchBuffer(entry);
	Size		lower = BLCKSZ;
	Size		upper = BLCKSZ;

	if (page == NULL)
		return;
	if (entry->upper != 0 && entry->lower <= entry->upper && entry->upper <= BLCKSZ)
	{
		lower = entry->lower;
		upper = entry->upper & ~(Size) 63;
	}
	for (Size off = 0; off < lower; off += 64)
		VaPrefetch(page + off);
	for (Size off = upper; off < BLCKSZ; off += 64)
		VaPrefetch(page + off);
}

#endif							/* VA_BLOCKMAP_H */

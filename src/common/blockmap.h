/*
 * blockmap.h
 *	  Backend-lifetime block maps of index files: for each block, the shared
 *	  buffer that last held it (pinned again with ReadRecentBuffer, without
 *	  the buffer mapping lookup) and the block the page linked to when last
 *	  read (so a scan that walks page chains can prefetch pages ahead of the
 *	  one it reads).  Both are only guesses: a pin through the map checks
 *	  the buffer's tag, and a link is always read from the page itself.
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
 * up to 16 maps are kept, the least recently used giving way.  NULL for an
 * index in local buffers (temporary tables), which then reads plainly.
 * The pointer stays good until the next VaBlockMapGet for another index:
 * call it again at the start of every amgettuple.
 */
extern VaBlockMap *VaBlockMapGet(Relation index);

/*
 * The entry of blkno in map, allocating its chunk (TopMemoryContext; out of
 * memory is an ERROR).  Use VaBlockMapEntryOf.
 */
extern VaBlockMapEntry *VaBlockMapGrow(VaBlockMap *map, BlockNumber blkno);

/* The entry of blkno, allocating its chunk; NULL when map is NULL. */
static inline VaBlockMapEntry *
VaBlockMapEntryOf(VaBlockMap *map, BlockNumber blkno)
{
	BlockNumber c = blkno / VA_BLOCKMAP_CHUNK;

	if (map == NULL)
		return NULL;
	if (c < map->nchunks && map->chunks[c] != NULL)
		return &map->chunks[c][blkno % VA_BLOCKMAP_CHUNK];
	return VaBlockMapGrow(map, blkno);
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
 * holds the block, otherwise, and one pin in 64 so that pages in use keep a
 * usage count for the clock sweep (ReadRecentBuffer does not raise it),
 * with ReadBuffer, whose buffer is then remembered.  Counted in the index's
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
	Buffer		buf = entry->buffer;
	const char *page;
	Size		lower = BLCKSZ;
	Size		upper = BLCKSZ;

	if (buf <= 0 || buf > NBuffers)
		return;
	VaPrefetchWrite(GetBufferDescriptor(buf - 1));
	page = (const char *) BufferGetBlock(buf);
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

/*
 * blockmap.c
 *	  Backend-lifetime block maps of index files (see blockmap.h): which
 *	  buffer held each block last, and the link each page held, so scans can
 *	  pin without the buffer mapping lookup and prefetch along page chains.
 */
#include "common/blockmap.h"

#include "pgstat.h"
#include "utils/memutils.h"

#define BLOCKMAP_SLOTS		64
#define BLOCKMAP_PLAIN_EVERY 64

static VaBlockMap maps[BLOCKMAP_SLOTS];
static VaBlockMap *last_found = NULL;	/* the map VaBlockMapGet returned last */
static uint64 clock_now = 0;

static void
forget(VaBlockMap *map)
{
	VaBlockMapEntry **chunks = map->chunks;
	BlockNumber n = map->nchunks;

	/* clear the slot first, so an error below leaves it clean */
	map->node.relNode = InvalidOid;
	map->chunks = NULL;
	map->nchunks = 0;
	for (BlockNumber i = 0; i < n; i++)
		if (chunks[i] != NULL)
			pfree(chunks[i]);
	if (chunks != NULL)
		pfree(chunks);
}

VaBlockMap *
VaBlockMapGet(Relation index)
{
	VaBlockMap *victim = &maps[0];

	if (RelationUsesLocalBuffers(index))
		return NULL;
	if (last_found != NULL && last_found->node.relNode != InvalidOid &&
		RelFileNodeEquals(last_found->node, index->rd_node))
	{
		last_found->last_use = ++clock_now;
		return last_found;
	}
	for (int i = 0; i < BLOCKMAP_SLOTS; i++)
	{
		if (maps[i].node.relNode != InvalidOid &&
			RelFileNodeEquals(maps[i].node, index->rd_node))
		{
			maps[i].last_use = ++clock_now;
			return last_found = &maps[i];
		}
		if (maps[i].node.relNode == InvalidOid ||
			(victim->node.relNode != InvalidOid && maps[i].last_use < victim->last_use))
			victim = &maps[i];
	}
	forget(victim);
	victim->node = index->rd_node;
	victim->last_use = ++clock_now;
	return last_found = victim;
}

/*
 * The entry of blkno, allocating the chunk (and growing the chunk array)
 * it needs in TopMemoryContext; entries start unknown.  The array grows
 * only for a block the index has (the size is asked only then: once per
 * VA_BLOCKMAP_CHUNK blocks of growth).
 */
VaBlockMapEntry *
VaBlockMapGrow(VaBlockMap *map, Relation index, BlockNumber blkno)
{
	BlockNumber c = blkno / VA_BLOCKMAP_CHUNK;

	if (c >= map->nchunks)
	{
		BlockNumber n;
		VaBlockMapEntry **chunks;

		if (blkno >= RelationGetNumberOfBlocks(index))
			return NULL;
		n = Max(c + 1, map->nchunks * 2);
		chunks = MemoryContextAllocZero(TopMemoryContext, sizeof(VaBlockMapEntry *) * n);
		if (map->chunks != NULL)
		{
			memcpy(chunks, map->chunks, sizeof(VaBlockMapEntry *) * map->nchunks);
			pfree(map->chunks);
		}
		map->chunks = chunks;
		map->nchunks = n;
	}
	if (map->chunks[c] == NULL)
	{
		StaticAssertStmt(InvalidBuffer == 0 && VA_BLOCKMAP_NO_LINK == 0,
						 "a zeroed entry is an unknown one");
		map->chunks[c] = MemoryContextAllocZero(TopMemoryContext,
												sizeof(VaBlockMapEntry) * VA_BLOCKMAP_CHUNK);
	}
	return &map->chunks[c][blkno % VA_BLOCKMAP_CHUNK];
}

Buffer
VaBlockMapRead(VaBlockMap *map, VaBlockMapEntry *entry, Relation index,
			   BlockNumber blkno)
{
	Buffer		buf;

	if (entry != NULL && entry->buffer != InvalidBuffer &&
		++map->pins % BLOCKMAP_PLAIN_EVERY != 0 &&
		VaReadRecentBuffer(index, blkno, entry->buffer))
	{
		/*
		 * ReadRecentBuffer counts the hit in pgBufferUsage only; count it in
		 * the index's statistics as ReadBuffer would.
		 */
		pgstat_count_buffer_read(index);
		pgstat_count_buffer_hit(index);
		return entry->buffer;
	}
	buf = ReadBuffer(index, blkno);
	if (entry != NULL)
		entry->buffer = buf;
	return buf;
}

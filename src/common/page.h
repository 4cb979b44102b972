/*
 * page.h
 *	  Page conventions shared by the vectorann access methods: the special
 *	  area at the end of every page (with the page id in its last two bytes,
 *	  so tools such as pg_filedump can tell our pages apart), the header every
 *	  metapage starts with, and new-page allocation.
 */
#ifndef VA_PAGE_H
#define VA_PAGE_H

#include "vectorann.h"

#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/rel.h"

/* Page ids, one per access method (last two bytes of every page). */
#define VA_PAGE_ID_HNSW		0xFA51
#define VA_PAGE_ID_IVFFLAT	0xFA52

typedef struct VaPageOpaqueData
{
	BlockNumber nextblkno;		/* next page in a chain, or InvalidBlockNumber */
	uint16		flags;			/* AM-specific page flags */
	uint16		page_id;		/* VA_PAGE_ID_*; must be last */
} VaPageOpaqueData;

typedef VaPageOpaqueData *VaPageOpaque;

#define VaPageGetOpaque(page) ((VaPageOpaque) PageGetSpecialPointer(page))

/* The first fields of every vectorann metapage. */
typedef struct VaMetaPageHeader
{
	uint32		magic;			/* AM-specific magic number */
	uint32		version;		/* on-disk format version */
} VaMetaPageHeader;

/*
 * Largest item that fits on an otherwise empty page of ours (bytes,
 * including nothing but the item itself).
 */
#define VA_MAX_ITEM_SIZE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData + sizeof(ItemIdData)) - \
	 MAXALIGN(sizeof(VaPageOpaqueData)))

/* Initialise page as an empty page of the AM with the given page id. */
extern void VaInitPage(Page page, uint16 page_id);

/*
 * Extend fork of index by one block and return its buffer, pinned and
 * exclusively locked.  The page is not initialised.
 */
extern Buffer VaNewBuffer(Relation index, ForkNumber fork);

/*
 * Check that page carries our special area with page_id; ERROR
 * (ERRCODE_INDEX_CORRUPTED) naming the index and block otherwise.
 */
extern void VaCheckPage(Relation index, Buffer buf, uint16 page_id);

/*
 * A VACUUM's read of block blkno of index's main fork: first
 * vacuum_delay_point() (cost-based delay, interrupts), then the block read
 * through strategy (NULL: the default) and locked in mode
 * (BUFFER_LOCK_SHARE or BUFFER_LOCK_EXCLUSIVE).  Returns the pinned, locked
 * buffer.  Errors are ReadBuffer's.
 */
extern Buffer VaVacuumReadBuffer(Relation index, BlockNumber blkno,
								 BufferAccessStrategy strategy, int mode);

/*
 * Pin blkno of rel's main fork if buffer recent still holds it (no buffer
 * mapping lookup); false otherwise.  PG 14 added ReadRecentBuffer.
 */
static inline bool
VaReadRecentBuffer(Relation rel, BlockNumber blkno, Buffer recent)
{
#if PG_VERSION_NUM >= 160000
	return ReadRecentBuffer(rel->rd_locator, MAIN_FORKNUM, blkno, recent);
#elif PG_VERSION_NUM >= 140000
	return ReadRecentBuffer(rel->rd_node, MAIN_FORKNUM, blkno, recent);
#else
	return false;
#endif
}

/* Every index of ours keeps its metapage in block 0. */
#define VA_METAPAGE_BLKNO	0

/*
 * Copy size bytes of the metapage contents (block VA_METAPAGE_BLKNO) of
 * index into *meta, which starts with a VaMetaPageHeader, if the index has
 * that block and it is a page of ours with page_id whose header has the
 * given magic and version; returns whether it did (*meta is undefined when
 * not).  Never errors on a damaged page, for callers such as the planner's
 * cost estimate that can do without.
 */
extern bool VaPeekMetaPage(Relation index, uint16 page_id, void *meta, Size size,
						   uint32 magic, uint32 version);

/*
 * Copy size bytes of the metapage contents (block VA_METAPAGE_BLKNO) of
 * index, an index of
 * access method amname, into *meta, which starts with a VaMetaPageHeader.
 * ERROR (ERRCODE_INDEX_CORRUPTED) if block 0 is not a page of ours with
 * page_id, or its magic or version is not the given one (then with a hint
 * to REINDEX).
 */
extern void VaReadMetaPage(Relation index, uint16 page_id, void *meta, Size size,
						   uint32 magic, uint32 version, const char *amname);

#endif							/* VA_PAGE_H */

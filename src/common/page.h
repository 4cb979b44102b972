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
 * Copy size bytes of the metapage contents (block 0) of index into *meta,
 * if the index has a block 0 that is a page of ours with page_id; returns
 * whether it did.  Never errors on a damaged page, for callers such as the
 * planner's cost estimate that can do without (the AM still checks magic
 * and version).
 */
extern bool VaPeekMetaPage(Relation index, uint16 page_id, void *meta, Size size);

/*
 * Copy size bytes of the metapage contents (block 0) of index, an index of
 * access method amname, into *meta, which starts with a VaMetaPageHeader.
 * ERROR (ERRCODE_INDEX_CORRUPTED) if block 0 is not a page of ours with
 * page_id, or its magic or version is not the given one (then with a hint
 * to REINDEX).
 */
extern void VaReadMetaPage(Relation index, uint16 page_id, void *meta, Size size,
						   uint32 magic, uint32 version, const char *amname);

#endif							/* VA_PAGE_H */

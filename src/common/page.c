/*
 * page.c
 *	  Page helpers shared by the vectorann access methods: page
 *	  initialisation, new-buffer allocation, page sanity checks and a
 *	  metapage read that does not error.
 */
#include "common/page.h"

#include "commands/vacuum.h"
#include "storage/lmgr.h"

void
VaInitPage(Page page, uint16 page_id)
{
	VaPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(VaPageOpaqueData));
	opaque = VaPageGetOpaque(page);
	opaque->nextblkno = InvalidBlockNumber;
	opaque->flags = 0;
	opaque->page_id = page_id;
}

/*
 * Extend fork of rel by one block; return it pinned and exclusively locked.
 * Before PG 16 that takes the relation extension lock for the time it
 * takes.
 */
static Buffer
extend_buffer(Relation rel, ForkNumber fork)
{
#if PG_VERSION_NUM >= 160000
	return ExtendBufferedRel(BMR_REL(rel), fork, NULL, EB_LOCK_FIRST);
#else
	Buffer		buf;

	LockRelationForExtension(rel, ExclusiveLock);
	buf = ReadBufferExtended(rel, fork, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(rel, ExclusiveLock);
	return buf;
#endif
}

Buffer
VaNewBuffer(Relation index, ForkNumber fork)
{
	return extend_buffer(index, fork);
}

void
VaCheckPage(Relation index, Buffer buf, uint16 page_id)
{
	Page		page = BufferGetPage(buf);

	if (PageIsNew(page) ||
		PageGetSpecialSize(page) != MAXALIGN(sizeof(VaPageOpaqueData)) ||
		VaPageGetOpaque(page)->page_id != page_id)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" contains unexpected page at block %u",
						RelationGetRelationName(index),
						BufferGetBlockNumber(buf)),
				 errhint("Please REINDEX it.")));
}

Buffer
VaVacuumReadBuffer(Relation index, BlockNumber blkno, BufferAccessStrategy strategy,
				   int mode)
{
	Buffer		buf;

	vacuum_delay_point();
	buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
	LockBuffer(buf, mode);
	return buf;
}

bool
VaPeekMetaPage(Relation index, uint16 page_id, void *meta, Size size,
			   uint32 magic, uint32 version)
{
	const VaMetaPageHeader *header = (const VaMetaPageHeader *) meta;
	Buffer		buf;
	Page		page;
	bool		ours;

	Assert(size >= sizeof(VaMetaPageHeader));
	if (RelationGetNumberOfBlocks(index) <= VA_METAPAGE_BLKNO)
		return false;
	buf = ReadBuffer(index, VA_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	ours = !PageIsNew(page) &&
		PageGetSpecialSize(page) == MAXALIGN(sizeof(VaPageOpaqueData)) &&
		VaPageGetOpaque(page)->page_id == page_id &&
		size <= (Size) (BLCKSZ - MAXALIGN(SizeOfPageHeaderData));
	if (ours)
		memcpy(meta, PageGetContents(page), size);
	UnlockReleaseBuffer(buf);
	return ours && header->magic == magic && header->version == version;
}

void
VaReadMetaPage(Relation index, uint16 page_id, void *meta, Size size,
			   uint32 magic, uint32 version, const char *amname)
{
	Buffer		buf = ReadBuffer(index, VA_METAPAGE_BLKNO);
	const VaMetaPageHeader *header = (const VaMetaPageHeader *) meta;

	Assert(size >= sizeof(VaMetaPageHeader));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	VaCheckPage(index, buf, page_id);
	memcpy(meta, PageGetContents(BufferGetPage(buf)), size);
	UnlockReleaseBuffer(buf);
	if (header->magic != magic || header->version != version)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a vectorann %s index of version %u",
						RelationGetRelationName(index), amname, version),
				 errhint("Please REINDEX it.")));
}

/*
 * insert.c
 *	  Insert one row into an ivfflat index: find the list whose centroid is
 *	  nearest (the opclass distance) and add the row to the first page of
 *	  that list's chain, from the list's insertpage hint on, that has room
 *	  (VACUUM points the hint at the first page it freed space on), extending
 *	  the chain with a new page when the tail is full too.  An index built on no rows has no list yet; its first insert
 *	  makes the row's own vector the centroid of a single list.  In a
 *	  quantized index the row's item holds the code its list codec makes of
 *	  the row and the list's centroid (codec.c).
 *
 *	  Also holds the reader of the centroid pages shared with the scan.
 *	  Locking: at most one list page plus a new page plus one centroid page,
 *	  taken in that order; see README.md.
 */
#include "ivfflat/ivfflat.h"

#include "common/am.h"
#include "common/wal.h"
#include "miscadmin.h"
#include "utils/memutils.h"

/*
 * Call visit(arg, i, blkno, off, ctup) for the first cap centroid items of
 * index in list order (centroid pages from block 1, each under a share lock,
 * one at a time); returns how many were visited.
 */
int
IvfflatForEachCentroid(Relation index, int cap, IvfflatCentroidVisitor visit, void *arg)
{
	BlockNumber blkno = IVFFLAT_FIRST_CENTROID_BLKNO;
	int			n = 0;

	while (blkno != InvalidBlockNumber && n < cap)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		OffsetNumber maxoff;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		VaCheckPage(index, buf, VA_PAGE_ID_IVFFLAT);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff && n < cap; off++)
			visit(arg, n++, blkno, off,
				  (IvfflatCentroidTuple) PageGetItem(page, PageGetItemId(page, off)));
		blkno = VaPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	return n;
}

typedef struct ReadListsState
{
	const VaIndexOps *ops;
	const void *query;
	IvfflatListRef *refs;
	float	   *dists;
	Size		vector_size;	/* with best_centroid: bytes of a centroid */
	char	   *best_centroid;	/* if not NULL: the nearest centroid so far */
	int			best;			/* its list (the first of equals), -1: none */
} ReadListsState;

static void
read_list_ref(void *arg, int i, BlockNumber blkno, OffsetNumber off, IvfflatCentroidTuple ctup)
{
	ReadListsState *st = (ReadListsState *) arg;

	ItemPointerSet(&st->refs[i].centroid, blkno, off);
	st->refs[i].startpage = ctup->startpage;
	st->refs[i].insertpage = ctup->insertpage;
	if (st->query != NULL)
		st->dists[i] = st->ops->distance(st->query, ctup->centroid);
	if (st->best_centroid != NULL && (st->best < 0 || st->dists[i] < st->dists[st->best]))
	{
		st->best = i;
		memcpy(st->best_centroid, ctup->centroid, st->vector_size);
	}
}

/*
 * Read every list of index: refs[i] says where list i's centroid item and
 * pages are, dists[i] the opclass distance from query to its centroid (not
 * set when query is NULL).  At most cap lists are read; returns how many
 * were.
 */
int
IvfflatReadLists(Relation index, const VaIndexOps *ops, const void *query,
				 IvfflatListRef *refs, float *dists, int cap)
{
	ReadListsState st = {ops, query, refs, dists, 0, NULL, -1};

	return IvfflatForEachCentroid(index, cap, read_list_ref, &st);
}

/*
 * Move list's insertpage hint from "from" to "to" as part of the change in
 * wal, if the centroid item still names "from" (VACUUM may have pointed it
 * back at a page it emptied since this insert read it: that hint must win).
 * Locks the list's centroid page exclusively (list page first, then
 * centroid page, as the README's lock order says) and returns its buffer,
 * which the caller releases after VaWalFinish; InvalidBuffer if there is
 * nothing to change.
 */
static Buffer
move_insert_hint(Relation index, VaWal *wal, const IvfflatListRef *list,
				 BlockNumber from, BlockNumber to)
{
	Buffer		cbuf;
	Page		cpage;
	OffsetNumber coff = ItemPointerGetOffsetNumber(&list->centroid);
	IvfflatCentroidTuple ctup;

	if (from == to)
		return InvalidBuffer;
	cbuf = ReadBuffer(index, ItemPointerGetBlockNumber(&list->centroid));
	LockBuffer(cbuf, BUFFER_LOCK_EXCLUSIVE);
	cpage = BufferGetPage(cbuf);
	ctup = (IvfflatCentroidTuple) PageGetItem(cpage, PageGetItemId(cpage, coff));
	if (ctup->insertpage != from)
	{
		UnlockReleaseBuffer(cbuf);
		return InvalidBuffer;
	}
	cpage = VaWalRegister(wal, cbuf, false);
	ctup = (IvfflatCentroidTuple) PageGetItem(cpage, PageGetItemId(cpage, coff));
	ctup->insertpage = to;
	return cbuf;
}

/* Add row tup of size bytes to list page page (ERROR if it has no room). */
static void
add_row(Relation index, Page page, IvfflatListTuple tup, Size size)
{
	if (PageAddItem(page, (Item) tup, size, InvalidOffsetNumber, false, false) ==
		InvalidOffsetNumber)
		elog(ERROR, "failed to add row to ivfflat index \"%s\"",
			 RelationGetRelationName(index));
}

/* Make page, new, a list page that holds row tup of size bytes. */
static void
start_list_page(Relation index, Page page, IvfflatListTuple tup, Size size)
{
	VaInitPage(page, VA_PAGE_ID_IVFFLAT);
	VaPageGetOpaque(page)->flags = IVFFLAT_PAGE_LIST;
	add_row(index, page, tup, size);
}

/*
 * Add tup (size bytes) to list.  Starts at the list's insertpage hint and
 * follows nextblkno to the first page with room for it: a page VACUUM
 * emptied (VACUUM points the hint at the first of those) or the tail.  When
 * every page from the hint on is full, a new page is linked after the tail.
 * Either way, if the row did not go to the hinted page, the hint moves to
 * the page it went to, in the same WAL record (and only if nobody moved
 * the hint meanwhile).  So rows stay in their own list and space VACUUM
 * freed is filled before the list grows.  building: inside ivfflatbuild (no
 * WAL now; the build logs every page at its end).  Returns the block the
 * row went to.
 */
BlockNumber
IvfflatAppend(Relation index, const IvfflatListRef *list,
			  IvfflatListTuple tup, Size size, bool building)
{
	BlockNumber blkno = list->insertpage;
	Buffer		buf;
	Buffer		newbuf;
	Buffer		cbuf;
	Page		page;
	bool		room;
	VaWal		wal;

	for (;;)
	{
		BlockNumber next;

		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		VaCheckPage(index, buf, VA_PAGE_ID_IVFFLAT);
		page = BufferGetPage(buf);
		room = PageGetFreeSpace(page) >= MAXALIGN(size);
		next = VaPageGetOpaque(page)->nextblkno;
		if (room || next == InvalidBlockNumber)
			break;
		UnlockReleaseBuffer(buf);
		blkno = next;
	}

	VaWalBegin(&wal, index, building);
	page = VaWalRegister(&wal, buf, false);
	newbuf = InvalidBuffer;
	if (room)
		add_row(index, page, tup, size);
	else
	{
		/*
		 * every page from the hint on is full: chain a new page after the
		 * tail
		 */
		newbuf = VaNewBuffer(index, MAIN_FORKNUM);
		start_list_page(index, VaWalRegister(&wal, newbuf, true), tup, size);
		blkno = BufferGetBlockNumber(newbuf);
		VaPageGetOpaque(page)->nextblkno = blkno;
	}
	cbuf = move_insert_hint(index, &wal, list, list->insertpage, blkno);
	VaWalFinish(&wal);
	if (BufferIsValid(cbuf))
		UnlockReleaseBuffer(cbuf);
	if (BufferIsValid(newbuf))
		UnlockReleaseBuffer(newbuf);
	UnlockReleaseBuffer(buf);
	return blkno;
}

/*
 * The first row of an index without lists: its vector becomes the centroid
 * of list 0, whose first page holds the row.  pq_m, when > 0, is the
 * number of PQ subspaces the codec resolved (its option may say 0, the
 * default for the dimensions): it is recorded in the metapage with the
 * dimensions, so that the items' size never depends on a later default.
 * Returns false (nothing done) if another backend created the list first.
 */
static bool
create_first_list(Relation index, const void *stored, int dimensions,
				  Size vector_size, int pq_m, IvfflatListTuple tup, Size size)
{
	Buffer		metabuf;
	Buffer		cbuf;
	Buffer		newbuf;
	Page		cpage;
	Page		newpage;
	IvfflatMetaPage meta;
	IvfflatCentroidTuple ctup;
	Size		csize = IVFFLAT_CENTROID_SIZE(vector_size);
	VaWal		wal;

	metabuf = ReadBuffer(index, IVFFLAT_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	if (IvfflatPageGetMeta(BufferGetPage(metabuf))->nlists > 0)
	{
		UnlockReleaseBuffer(metabuf);
		return false;
	}
	cbuf = ReadBuffer(index, IVFFLAT_FIRST_CENTROID_BLKNO);
	LockBuffer(cbuf, BUFFER_LOCK_EXCLUSIVE);
	VaCheckPage(index, cbuf, VA_PAGE_ID_IVFFLAT);
	newbuf = VaNewBuffer(index, MAIN_FORKNUM);

	VaWalBegin(&wal, index, false);
	meta = IvfflatPageGetMeta(VaWalRegister(&wal, metabuf, false));
	cpage = VaWalRegister(&wal, cbuf, false);
	newpage = VaWalRegister(&wal, newbuf, true);

	start_list_page(index, newpage, tup, size);

	ctup = palloc0(csize);
	ctup->startpage = ctup->insertpage = BufferGetBlockNumber(newbuf);
	memcpy(ctup->centroid, stored, vector_size);
	if (PageAddItem(cpage, (Item) ctup, csize, InvalidOffsetNumber, false, false) ==
		InvalidOffsetNumber)
		elog(ERROR, "failed to add list to ivfflat index \"%s\"",
			 RelationGetRelationName(index));

	meta->nlists = 1;
	meta->dimensions = dimensions;
	meta->vector_size = (uint32) vector_size;
	if (pq_m > 0)
		meta->pq_m = pq_m;
	VaWalFinish(&wal);
	UnlockReleaseBuffer(newbuf);
	UnlockReleaseBuffer(cbuf);
	UnlockReleaseBuffer(metabuf);
	return true;
}

/*
 * Insert the stored form of one value for heap row heap_tid (see
 * ivfflatinsert): into the list of the nearest centroid (the first of
 * equals, as the build assigns), as the value itself or, in a quantized
 * index, as its code.
 */
static void
insert_stored(Relation index, const VaIndexOps *ops, const void *stored,
			  Size vector_size, ItemPointer heap_tid)
{
	IvfflatMetaPageData meta;
	int			dimensions = ops->dims(stored);
	IvfflatCodec codec;
	bool		quantized;
	Size		size;
	IvfflatListTuple tup;
	IvfflatListRef *refs;
	float	   *dists;
	ReadListsState st;
	int			n;

	IvfflatCheckVectorSize(vector_size);
	for (;;)
	{
		IvfflatReadMeta(index, &meta);
		if (meta.dimensions >= 0 && meta.dimensions != dimensions)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("expected %d dimensions, not %d", meta.dimensions, dimensions)));
		if (meta.dimensions >= 0 && meta.vector_size != vector_size)
			elog(ERROR, "ivfflat value of %zu bytes does not match the index's %u",
				 vector_size, meta.vector_size);
		quantized = IvfflatCodecInit(&codec, index, ops, &meta);
		size = vector_size;
		if (quantized)
		{
			IvfflatCodecSetup(&codec, dimensions);
			size = codec.code_size;
		}
		tup = palloc0(IVFFLAT_LIST_TUPLE_SIZE(size));
		tup->heaptid = *heap_tid;
		if (meta.nlists > 0)
			break;
		/* the row is its own list's centroid: the code of a zero residual */
		if (quantized)
			codec.methods->encode(&codec, stored, stored, tup->vector);
		else
			memcpy(tup->vector, stored, vector_size);
		if (create_first_list(index, stored, dimensions, vector_size,
							  quantized && codec.quantization == IVFFLAT_QUANTIZATION_PQ ?
							  codec.pq_m : 0,
							  tup, IVFFLAT_LIST_TUPLE_SIZE(size)))
			return;
		pfree(tup);
	}

	refs = palloc(sizeof(IvfflatListRef) * meta.nlists);
	dists = palloc(sizeof(float) * meta.nlists);
	st.ops = ops;
	st.query = stored;
	st.refs = refs;
	st.dists = dists;
	st.vector_size = vector_size;
	st.best_centroid = palloc(vector_size);
	st.best = -1;
	n = IvfflatForEachCentroid(index, meta.nlists, read_list_ref, &st);
	if (n == 0)
		elog(ERROR, "ivfflat index \"%s\" has no lists", RelationGetRelationName(index));
	if (quantized)
		codec.methods->encode(&codec, stored, st.best_centroid, tup->vector);
	else
		memcpy(tup->vector, stored, vector_size);
	IvfflatAppend(index, &refs[st.best], tup, IVFFLAT_LIST_TUPLE_SIZE(size), false);
}

/*
 * aminsert: index one new heap row.  NULLs and values the opclass declines
 * (zero vectors under cosine) are not indexed.  Errors: dimensions differ
 * from the index's, vector too large for a page.  Returns false (no
 * uniqueness to report).
 */
VA_DEFINE_AMINSERT(ivfflatinsert, IvfflatGetIndexOps, insert_stored)

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
 * The centroid piece at off on page (block blkno) of an index whose
 * centroids have vector_size bytes: piece k of its centroid, which must be
 * a normal item of that piece's size (ERROR index_corrupted otherwise).
 */
static IvfflatCentroidTuple
centroid_piece(Relation index, Page page, BlockNumber blkno, OffsetNumber off,
			   Size vector_size, int k)
{
	ItemId		iid = PageGetItemId(page, off);
	Size		want = IVFFLAT_CENTROID_SIZE(IvfflatCentroidPieceBytes(vector_size, k));

	if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) != want)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("centroid item (%u,%u) of index \"%s\" has %u bytes, not %zu",
						blkno, off, RelationGetRelationName(index),
						ItemIdGetLength(iid), want),
				 errhint("Please REINDEX it.")));
	return (IvfflatCentroidTuple) PageGetItem(page, iid);
}

/*
 * Call visit(arg, i, list, centroid) for the first cap lists of index, whose
 * centroids have vector_size bytes, in list order: list says where list i's
 * centroid item and pages are, centroid is its centroid (stored form;
 * valid during the call only).  Reads the centroid pages from block 1, each
 * under a share lock, one at a time, putting a centroid stored in pieces
 * back together.  Returns how many lists were visited.
 */
int
IvfflatForEachCentroid(Relation index, Size vector_size, int cap,
					   IvfflatCentroidVisitor visit, void *arg)
{
	BlockNumber blkno = IVFFLAT_FIRST_CENTROID_BLKNO;
	int			pieces = IvfflatCentroidPieces(vector_size);
	char	   *whole = pieces > 1 ? palloc(vector_size) : NULL;
	int			k = 0;
	IvfflatListRef list;
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
		{
			IvfflatCentroidTuple ctup = centroid_piece(index, page, blkno, off, vector_size, k);

			if (k == 0)
			{
				ItemPointerSet(&list.centroid, blkno, off);
				list.startpage = ctup->startpage;
				list.insertpage = ctup->insertpage;
			}
			if (pieces == 1)
			{
				visit(arg, n++, &list, ctup->centroid);
				continue;
			}
			memcpy(whole + (Size) k * IVFFLAT_CENTROID_PIECE, ctup->centroid,
				   IvfflatCentroidPieceBytes(vector_size, k));
			if (++k == pieces)
			{
				visit(arg, n++, &list, whole);
				k = 0;
			}
		}
		blkno = VaPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	if (whole != NULL)
		pfree(whole);
	return n;
}

/*
 * out[0..vector_size) := the centroid whose (first) item is at tid, in an
 * index whose centroids have vector_size bytes: its pieces are the items
 * after it, on to the next centroid pages.
 */
void
IvfflatReadCentroid(Relation index, Size vector_size, ItemPointer tid, char *out)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	int			pieces = IvfflatCentroidPieces(vector_size);
	int			k = 0;

	while (k < pieces)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber maxoff;

		if (blkno == InvalidBlockNumber)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("centroid (%u,%u) of index \"%s\" ends after %d of its %d pieces",
							ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid),
							RelationGetRelationName(index), k, pieces),
					 errhint("Please REINDEX it.")));
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		VaCheckPage(index, buf, VA_PAGE_ID_IVFFLAT);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (; off <= maxoff && k < pieces; off++, k++)
			memcpy(out + (Size) k * IVFFLAT_CENTROID_PIECE,
				   centroid_piece(index, page, blkno, off, vector_size, k)->centroid,
				   IvfflatCentroidPieceBytes(vector_size, k));
		blkno = VaPageGetOpaque(page)->nextblkno;
		off = FirstOffsetNumber;
		UnlockReleaseBuffer(buf);
	}
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
read_list_ref(void *arg, int i, const IvfflatListRef *list, const char *centroid)
{
	ReadListsState *st = (ReadListsState *) arg;

	st->refs[i] = *list;
	if (st->query != NULL)
		st->dists[i] = st->ops->distance(st->query, centroid);
	if (st->best_centroid != NULL && (st->best < 0 || st->dists[i] < st->dists[st->best]))
	{
		st->best = i;
		memcpy(st->best_centroid, centroid, st->vector_size);
	}
}

/*
 * Read every list of index, whose centroids have vector_size bytes:
 * refs[i] says where list i's centroid item and pages are, dists[i] the
 * opclass distance from query to its centroid (not set when query is
 * NULL).  At most cap lists are read; returns how many were.
 */
int
IvfflatReadLists(Relation index, Size vector_size, const VaIndexOps *ops,
				 const void *query, IvfflatListRef *refs, float *dists, int cap)
{
	ReadListsState st = {ops, query, refs, dists, vector_size, NULL, -1};

	return IvfflatForEachCentroid(index, vector_size, cap, read_list_ref, &st);
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
 * WAL now; the build logs every page at its end).  recent, if not NULL: the
 * buffer that last held the list's insertpage, or InvalidBuffer; it is
 * pinned again with ReadRecentBuffer when it still holds that page (the
 * build appends a million rows to a thousand pages: no buffer-mapping
 * lookup per row), and set to the buffer the row went to.  Returns the
 * block the row went to.
 */
BlockNumber
IvfflatAppend(Relation index, const IvfflatListRef *list,
			  IvfflatListTuple tup, Size size, bool building, Buffer *recent)
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

		if (recent != NULL && BufferIsValid(*recent) && blkno == list->insertpage &&
			VaReadRecentBuffer(index, blkno, *recent))
			buf = *recent;
		else
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
	if (recent != NULL)
		*recent = BufferIsValid(newbuf) ? newbuf : buf;
	if (BufferIsValid(cbuf))
		UnlockReleaseBuffer(cbuf);
	if (BufferIsValid(newbuf))
		UnlockReleaseBuffer(newbuf);
	UnlockReleaseBuffer(buf);
	return blkno;
}

/*
 * Write pieces 1..pieces-1 of centroid (vector_size bytes, stored in
 * IvfflatCentroidPieces pieces) on new centroid pages, one piece a page,
 * each page a WAL record of its own, chained in order; returns the first
 * one's block (InvalidBlockNumber when the centroid is one item).  Until
 * a centroid page links to them they are unreachable: a crash before then
 * leaves only unused pages.
 */
static BlockNumber
write_centroid_tail(Relation index, const char *centroid, Size vector_size)
{
	int			pieces = IvfflatCentroidPieces(vector_size);
	BlockNumber next = InvalidBlockNumber;
	IvfflatCentroidTuple ctup = palloc0(IVFFLAT_CENTROID_SIZE(IVFFLAT_CENTROID_PIECE));

	for (int k = pieces - 1; k >= 1; k--)
	{
		Size		bytes = IvfflatCentroidPieceBytes(vector_size, k);
		Buffer		buf = VaNewBuffer(index, MAIN_FORKNUM);
		Page		page;
		VaWal		wal;

		VaWalBegin(&wal, index, false);
		page = VaWalRegister(&wal, buf, true);
		VaInitPage(page, VA_PAGE_ID_IVFFLAT);
		VaPageGetOpaque(page)->flags = IVFFLAT_PAGE_CENTROIDS;
		VaPageGetOpaque(page)->nextblkno = next;
		ctup->startpage = ctup->insertpage = InvalidBlockNumber;
		memcpy(ctup->centroid, centroid + (Size) k * IVFFLAT_CENTROID_PIECE, bytes);
		if (PageAddItem(page, (Item) ctup, IVFFLAT_CENTROID_SIZE(bytes), InvalidOffsetNumber,
						false, false) == InvalidOffsetNumber)
			elog(ERROR, "failed to add centroid piece to ivfflat index \"%s\"",
				 RelationGetRelationName(index));
		VaWalFinish(&wal);
		next = BufferGetBlockNumber(buf);
		UnlockReleaseBuffer(buf);
	}
	pfree(ctup);
	return next;
}

/*
 * The first row of an index without lists: its vector becomes the centroid
 * of list 0, whose first page holds the row (a centroid in pieces: its
 * first on the centroid page, the rest on pages chained after it).  pq_m,
 * when > 0, is the number of PQ subspaces the codec resolved (its option
 * may say 0, the default for the dimensions): it is recorded in the
 * metapage with the dimensions, so that the items' size never depends on a
 * later default.  Returns false (nothing done) if another backend created
 * the list first.
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
	Size		csize = IVFFLAT_CENTROID_SIZE(IvfflatCentroidPieceBytes(vector_size, 0));
	BlockNumber tail;
	VaWal		wal;

	metabuf = ReadBuffer(index, IVFFLAT_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	if (IvfflatPageGetMeta(BufferGetPage(metabuf))->nlists > 0)
	{
		UnlockReleaseBuffer(metabuf);
		return false;
	}
	tail = write_centroid_tail(index, stored, vector_size);
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
	memcpy(ctup->centroid, stored, csize - IVFFLAT_CENTROID_SIZE(0));
	if (PageAddItem(cpage, (Item) ctup, csize, InvalidOffsetNumber, false, false) ==
		InvalidOffsetNumber)
		elog(ERROR, "failed to add list to ivfflat index \"%s\"",
			 RelationGetRelationName(index));
	if (tail != InvalidBlockNumber)
		VaPageGetOpaque(cpage)->nextblkno = tail;

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

	for (;;)
	{
		IvfflatReadMeta(index, &meta);
		IvfflatCheckVectorSize(vector_size,
							   meta.quantization != IVFFLAT_QUANTIZATION_NONE, ops);
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
	n = IvfflatForEachCentroid(index, vector_size, meta.nlists, read_list_ref, &st);
	if (n == 0)
		elog(ERROR, "ivfflat index \"%s\" has no lists", RelationGetRelationName(index));
	if (quantized)
		codec.methods->encode(&codec, stored, st.best_centroid, tup->vector);
	else
		memcpy(tup->vector, stored, vector_size);
	IvfflatAppend(index, &refs[st.best], tup, IVFFLAT_LIST_TUPLE_SIZE(size), false, NULL);
}

/*
 * aminsert: index one new heap row.  NULLs and values the opclass declines
 * (zero vectors under cosine) are not indexed.  Errors: dimensions differ
 * from the index's, vector too large for a page.  Returns false (no
 * uniqueness to report).
 */
VA_DEFINE_AMINSERT(ivfflatinsert, IvfflatGetIndexOps, insert_stored)

/*
 * knn_remote.c
 *	  vectorann_knn: the k rows of a table nearest to a query, where the
 *	  table's partitions may be postgres_fdw foreign tables on other servers
 *	  (shards).  Every foreign partition gets its own "ORDER BY distance
 *	  LIMIT k" query at the same time, over a libpq connection made from its
 *	  foreign server and user mapping as postgres_fdw makes them, and sends
 *	  back only keys and distances; local partitions are searched meanwhile
 *	  through SPI; the k best of the union are returned.
 *
 *	  Connections are kept for the session, one per (server, user, slot):
 *	  two partitions on one server use two slots so that they too run at the
 *	  same time.  On each connection the query is a prepared statement (so
 *	  the shard plans it once) and the search settings are SET only when
 *	  they change.  Each shard answers in a transaction of its own, from its
 *	  own snapshot (unlike postgres_fdw's scans, which join the local
 *	  transaction): rows written through postgres_fdw in the caller's open
 *	  transaction are not seen.  A connection with a query in flight when a
 *	  transaction or subtransaction aborts is cancelled and closed; all idle
 *	  ones are closed when a foreign server or user mapping changes.
 */
#include "postgres.h"

#include "libpq-fe.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "partitioning/partdesc.h"
#include "pgstat.h"
#include "port/pg_bswap.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

/* The search settings passed on to the shards. */
#define KNN_NSETTINGS 4
static const char *const knn_settings[KNN_NSETTINGS] = {
	"hnsw.ef_search", "hnsw.iterative_scan", "ivfflat.probes", "ivfflat.iterative_scan"
};

/* Prepared queries kept on one connection before they are all dropped. */
#define KNN_MAX_STATEMENTS 32

/* The largest k: k rows per partition are held in memory. */
#define KNN_MAX_K 100000

typedef struct RemoteConnKey
{
	Oid			serverid;
	Oid			userid;
	int			slot;
} RemoteConnKey;

typedef struct RemoteConn
{
	RemoteConnKey key;			/* hash key: must be first */
	PGconn	   *conn;
	bool		busy;			/* a query in flight or results unread */
	char	   *sent[KNN_NSETTINGS];	/* values SET on it (NULL: none yet) */
	List	   *statements;		/* SQL prepared on it; i-th is
								 * vectorann_knn_<i> */
} RemoteConn;

static HTAB *remote_conns = NULL;
static bool remote_conns_stale = false;

/*
 * The wait event set of the last call (the latch, postmaster death and its
 * connections' sockets), kept for the next call with the same connections;
 * freed whenever a connection closes.
 */
static WaitEventSet *answer_set = NULL;
static List *answer_set_conns = NIL;	/* its PGconns, in order */

/* One (key, distance) pair of a partition's answer. */
typedef struct KnnPair
{
	int64		id;
	double		distance;
	bool		id_null;
} KnnPair;

typedef struct KnnPairs
{
	KnnPair    *items;
	int			n;
	int			cap;
} KnnPairs;

static void
pairs_add(KnnPairs *p, int64 id, bool id_null, double distance)
{
	if (p->n == p->cap)
	{
		p->cap = p->cap ? p->cap * 2 : 64;
		p->items = p->items ? repalloc(p->items, sizeof(KnnPair) * p->cap)
			: palloc(sizeof(KnnPair) * p->cap);
	}
	p->items[p->n].id = id;
	p->items[p->n].id_null = id_null;
	p->items[p->n].distance = distance;
	p->n++;
}

static int
pair_cmp(const void *a, const void *b)
{
	const KnnPair *x = a;
	const KnnPair *y = b;

	if (x->distance != y->distance)
		return x->distance < y->distance ? -1 : 1;
	if (x->id_null != y->id_null)
		return x->id_null ? 1 : -1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return 0;
}

/* ---- connections -------------------------------------------------------- */

static void
close_conn(RemoteConn *rc, bool cancel)
{
	if (answer_set)
	{
		FreeWaitEventSet(answer_set);
		answer_set = NULL;
		list_free(answer_set_conns);
		answer_set_conns = NIL;
	}
	if (rc->conn)
	{
		if (cancel && PQtransactionStatus(rc->conn) == PQTRANS_ACTIVE)
		{
			PGcancel   *c = PQgetCancel(rc->conn);
			char		errbuf[256];

			if (c)
			{
				(void) PQcancel(c, errbuf, sizeof(errbuf));
				PQfreeCancel(c);
			}
		}
		PQfinish(rc->conn);
		ReleaseExternalFD();
		rc->conn = NULL;
	}
	for (int i = 0; i < KNN_NSETTINGS; i++)
		if (rc->sent[i])
			pfree(rc->sent[i]);
	list_free_deep(rc->statements);
	hash_search(remote_conns, &rc->key, HASH_REMOVE, NULL);
}

/* Close the connections left busy by an error (all of them if !only_busy). */
static void
close_conns(bool only_busy)
{
	HASH_SEQ_STATUS seq;
	RemoteConn *rc;

	if (remote_conns == NULL)
		return;
	hash_seq_init(&seq, remote_conns);
	while ((rc = hash_seq_search(&seq)) != NULL)
		if (rc->busy || !only_busy)
			close_conn(rc, rc->busy);
}

static void
knn_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		close_conns(true);
}

static void
knn_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		close_conns(true);
}

static void
knn_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	remote_conns_stale = true;
}

/* Is keyword a libpq connection option that a server or user mapping may set? */
static bool
is_libpq_option(const char *keyword)
{
	static List *known = NIL;
	ListCell   *lc;

	if (known == NIL)
	{
		PQconninfoOption *defs = PQconndefaults();
		MemoryContext old;

		if (defs == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		old = MemoryContextSwitchTo(TopMemoryContext);
		for (PQconninfoOption * o = defs; o->keyword; o++)
			if (strchr(o->dispchar, 'D') == NULL &&
				strcmp(o->keyword, "fallback_application_name") != 0 &&
				strcmp(o->keyword, "client_encoding") != 0 &&
				strcmp(o->keyword, "replication") != 0)
				known = lappend(known, pstrdup(o->keyword));
		MemoryContextSwitchTo(old);
		PQconninfoFree(defs);
	}
	foreach(lc, known)
		if (strcmp(lfirst(lc), keyword) == 0)
		return true;
	return false;
}

static void
remote_error(RemoteConn *rc, PGresult * res, const char *what)
{
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char	   *primary = pstrdup(res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
								  ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
								  : pchomp(PQerrorMessage(rc->conn)));
	const char *d = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *h = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	char	   *detail = d ? pstrdup(d) : NULL;
	char	   *hint = h ? pstrdup(h) : NULL;
	int			code = sqlstate && strlen(sqlstate) == 5
	? MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4])
	: ERRCODE_CONNECTION_FAILURE;

	if (res)
		PQclear(res);
	rc->busy = true;			/* the abort callback closes it */
	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", primary),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0,
			 errcontext("%s on foreign server \"%s\"", what,
						GetForeignServer(rc->key.serverid)->servername)));
}

/* The next result of rc's query, waiting without blocking interrupts; NULL at the end. */
static PGresult *
next_result(RemoteConn *rc)
{
	while (PQisBusy(rc->conn))
	{
		int			ev = WaitLatchOrSocket(MyLatch,
										   WL_LATCH_SET | WL_SOCKET_READABLE | WL_EXIT_ON_PM_DEATH,
										   PQsocket(rc->conn), -1L, PG_WAIT_EXTENSION);

		if (ev & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if ((ev & WL_SOCKET_READABLE) && !PQconsumeInput(rc->conn))
			remote_error(rc, NULL, "receiving a result");
	}
	return PQgetResult(rc->conn);
}

/* Read the rest of rc's results, each of which must have status ok. */
static void
finish_query(RemoteConn *rc, ExecStatusType ok, const char *what)
{
	PGresult   *res;

	while ((res = next_result(rc)) != NULL)
	{
		if (PQresultStatus(res) != ok)
			remote_error(rc, res, what);
		PQclear(res);
	}
	rc->busy = false;
}

static void
remote_command(RemoteConn *rc, const char *sql, const char *what)
{
	rc->busy = true;
	if (!PQsendQuery(rc->conn, sql))
		remote_error(rc, NULL, what);
	finish_query(rc, PGRES_COMMAND_OK, what);
}

static PGconn *
connect_shard(ForeignServer *server, UserMapping *um)
{
	List	   *opts = list_concat(list_copy(server->options), um->options);
	const char **keywords = palloc0(sizeof(char *) * (list_length(opts) + 3));
	const char **values = palloc0(sizeof(char *) * (list_length(opts) + 3));
	bool		check_password = !superuser_arg(um->userid);
	bool		has_password = false;
	int			n = 0;
	ListCell   *lc;
	PGconn	   *conn;

	foreach(lc, um->options)
	{
		DefElem    *d = lfirst(lc);

		if (strcmp(d->defname, "password_required") == 0 && !defGetBoolean(d))
			check_password = false;
		if (strcmp(d->defname, "password") == 0)
			has_password = true;
	}
	foreach(lc, opts)
	{
		DefElem    *d = lfirst(lc);

		if (!is_libpq_option(d->defname))
			continue;
		keywords[n] = d->defname;
		values[n++] = defGetString(d);
	}
	keywords[n] = "fallback_application_name";
	values[n++] = "vectorann_knn";
	keywords[n] = "client_encoding";
	values[n++] = GetDatabaseEncodingName();

	if (check_password && !has_password)
		ereport(ERROR,
				(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				 errmsg("password is required"),
				 errdetail("Non-superusers must give a password in the user mapping of server \"%s\".",
						   server->servername)));
	if (!AcquireExternalFD())
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to server \"%s\"", server->servername),
				 errdetail("There are too many open files on the local server.")));
	conn = PQconnectdbParams(keywords, values, false);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		char	   *msg = pchomp(conn ? PQerrorMessage(conn) : "out of memory");

		PQfinish(conn);
		ReleaseExternalFD();
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to server \"%s\"", server->servername),
				 errdetail_internal("%s", msg)));
	}
	if (check_password && !PQconnectionUsedPassword(conn))
	{
		PQfinish(conn);
		ReleaseExternalFD();
		ereport(ERROR,
				(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				 errmsg("password is required"),
				 errdetail("Non-superuser cannot connect if the server does not request a password."),
				 errhint("Change the server's authentication method, or set password_required 'false' in the user mapping.")));
	}
	return conn;
}

/*
 * The connection for (server, user, slot), opened and set up if needed; the
 * remote session gets search_path pg_catalog (every name we send is
 * qualified) and generic plans for the prepared query.
 */
static RemoteConn *
get_conn(ForeignServer *server, UserMapping *um, int slot)
{
	RemoteConnKey key;
	RemoteConn *rc;
	bool		found;

	if (remote_conns == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(RemoteConnKey);
		ctl.entrysize = sizeof(RemoteConn);
		remote_conns = hash_create("vectorann_knn connections", 8, &ctl, HASH_ELEM | HASH_BLOBS);
		RegisterXactCallback(knn_xact_callback, NULL);
		RegisterSubXactCallback(knn_subxact_callback, NULL);
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, knn_inval_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(USERMAPPINGOID, knn_inval_callback, (Datum) 0);
	}
	memset(&key, 0, sizeof(key));
	key.serverid = server->serverid;
	key.userid = um->userid;
	key.slot = slot;
	rc = hash_search(remote_conns, &key, HASH_ENTER, &found);
	if (!found)
	{
		memset(((char *) rc) + sizeof(RemoteConnKey), 0, sizeof(RemoteConn) - sizeof(RemoteConnKey));
		PG_TRY();
		{
			rc->conn = connect_shard(server, um);
		}
		PG_CATCH();
		{
			hash_search(remote_conns, &key, HASH_REMOVE, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
		remote_command(rc, "SET search_path = pg_catalog; SET plan_cache_mode = force_generic_plan",
					   "setting up the session");
	}
	return rc;
}

/*
 * SET on rc the search settings whose values here differ from those sent
 * before, and remember what was sent.  GetConfigOption returns an integer
 * setting's value in a static buffer that the next call overwrites, so each
 * value is copied at once (keeping the pointers made hnsw.ef_search look
 * changed on every call, one more round trip per shard per call).
 */
static void
pass_settings(RemoteConn *rc)
{
	StringInfoData sql;
	char	   *now[KNN_NSETTINGS];

	initStringInfo(&sql);
	for (int i = 0; i < KNN_NSETTINGS; i++)
	{
		const char *v = GetConfigOption(knn_settings[i], true, false);

		now[i] = v ? pstrdup(v) : NULL;
		if (now[i] && (rc->sent[i] == NULL || strcmp(rc->sent[i], now[i]) != 0))
			appendStringInfo(&sql, "SET %s = %s; ", knn_settings[i], quote_literal_cstr(now[i]));
	}
	if (sql.len == 0)
		return;
	remote_command(rc, sql.data, "passing on the search settings");
	for (int i = 0; i < KNN_NSETTINGS; i++)
		if (now[i])
		{
			if (rc->sent[i])
				pfree(rc->sent[i]);
			rc->sent[i] = MemoryContextStrdup(TopMemoryContext, now[i]);
		}
}

/* The name of sql prepared on rc, preparing it on first use. */
static char *
prepared(RemoteConn *rc, const char *sql)
{
	ListCell   *lc;
	int			i = 0;
	MemoryContext old;

	foreach(lc, rc->statements)
	{
		if (strcmp(lfirst(lc), sql) == 0)
			return psprintf("vectorann_knn_%d", i);
		i++;
	}
	if (i >= KNN_MAX_STATEMENTS)
	{
		/* many tables, operators or k: start over rather than pile up */
		remote_command(rc, "DEALLOCATE ALL", "dropping prepared queries");
		list_free_deep(rc->statements);
		rc->statements = NIL;
		i = 0;
	}
	rc->busy = true;
	if (!PQsendPrepare(rc->conn, psprintf("vectorann_knn_%d", i), sql, 1, NULL))
		remote_error(rc, NULL, "preparing the query");
	finish_query(rc, PGRES_COMMAND_OK, "preparing the query");
	old = MemoryContextSwitchTo(TopMemoryContext);
	rc->statements = lappend(rc->statements, pstrdup(sql));
	MemoryContextSwitchTo(old);
	return psprintf("vectorann_knn_%d", i);
}

/* ---- the function --------------------------------------------------------- */

/* The name of column attnum of foreign table relid on its server. */
static const char *
remote_column(Oid relid, AttrNumber attnum, const char *local)
{
	ListCell   *lc;

	foreach(lc, GetForeignColumnOptions(relid, attnum))
	{
		DefElem    *d = lfirst(lc);

		if (strcmp(d->defname, "column_name") == 0)
			return defGetString(d);
	}
	return local;
}

static const char *
table_option(ForeignTable *ft, const char *name, const char *otherwise)
{
	ListCell   *lc;

	foreach(lc, ft->options)
	{
		DefElem    *d = lfirst(lc);

		if (strcmp(d->defname, name) == 0)
			return defGetString(d);
	}
	return otherwise;
}

/* The SQL of one partition's search; the query vector is $1. */
static char *
search_sql(const char *key, const char *vec, const char *schema, const char *op,
		   const char *qtype, const char *table, int k)
{
	return psprintf("SELECT %s::pg_catalog.int8, (%s OPERATOR(%s.%s) $1::%s)::pg_catalog.float8 "
					"FROM %s ORDER BY %s OPERATOR(%s.%s) $1::%s LIMIT %d",
					quote_identifier(key), quote_identifier(vec), quote_identifier(schema), op,
					qtype, table, quote_identifier(vec), quote_identifier(schema), op, qtype, k);
}

static void
check_column(Oid relid, const char *name)
{
	if (get_attnum(relid, name) == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						name, get_rel_name(relid))));
}

static int64
get_int8(const char *p)
{
	uint64		v;

	memcpy(&v, p, sizeof(v));
	return (int64) pg_ntoh64(v);
}

static double
get_float8(const char *p)
{
	uint64		v;
	double		d;

	memcpy(&v, p, sizeof(v));
	v = pg_ntoh64(v);
	memcpy(&d, &v, sizeof(d));
	return d;
}

/* What every partition's search shares: the query and how to ask for it. */
typedef struct KnnQuery
{
	Datum		value;			/* the query vector */
	Oid			typid;			/* its type */
	char	   *qtype;			/* that type's qualified name */
	bytea	   *qbinary;		/* the query vector in its type's binary
								 * (send) form, for shards */
	char	   *schema;			/* the extension's schema, qualifying op */
	const char *op;
	const char *key_column;
	const char *vector_column;
	int			k;
} KnnQuery;

/*
 * Append to *leaves the leaf partitions of partitioned table relid (locked by
 * the caller), each locked in AccessShareLock mode, descending into
 * partitioned partitions.  The partitions come from the relation cache's
 * partition descriptor, as the planner takes them (a partition being
 * detached concurrently is left out), not from a scan of pg_inherits per call
 * as find_all_inheritors makes (a tenth of the coordinator's CPU time per
 * call at 2 shards).
 */
static void
add_leaves(Oid relid, List **leaves)
{
	Relation	rel = relation_open(relid, NoLock);
	PartitionDesc pd = RelationGetPartitionDesc(rel, true);

	check_stack_depth();
	for (int i = 0; i < pd->nparts; i++)
	{
		LockRelationOid(pd->oids[i], AccessShareLock);
		if (pd->is_leaf[i])
			*leaves = lappend_oid(*leaves, pd->oids[i]);
		else
			add_leaves(pd->oids[i], leaves);
	}
	relation_close(rel, NoLock);
}

/*
 * Check vectorann_knn's arguments before any partition is touched: k within
 * 1..KNN_MAX_K, op one of the six distance operators, tbl a table,
 * materialized view, foreign or partitioned table, and SELECT privilege on
 * it.  Returns tbl's relkind.  Errors: ERRCODE_INVALID_PARAMETER_VALUE for
 * k or op, ERRCODE_WRONG_OBJECT_TYPE for tbl, and the ACL error.
 */
static char
check_arguments(Oid tbl, int32 k, const char *op)
{
	static const char *const ops[] = {"<->", "<#>", "<=>", "<+>", "<~>", "<%>"};
	bool		op_ok = false;
	char		relkind;
	AclResult	acl;

	if (k < 1 || k > KNN_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d", KNN_MAX_K)));
	for (int i = 0; i < (int) lengthof(ops); i++)
		op_ok |= strcmp(op, ops[i]) == 0;
	if (!op_ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown distance operator \"%s\"", op),
				 errhint("Use one of <->, <#>, <=>, <+>, <~>, <%%>.")));
	relkind = get_rel_relkind(tbl);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW &&
		relkind != RELKIND_FOREIGN_TABLE && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(tbl))));
	acl = pg_class_aclcheck(tbl, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(tbl));
	return relkind;
}

/*
 * Send foreign leaf relid its search, without waiting for the answer: the
 * connection is the next free slot of its server (*used lists the servers
 * of the leaves sent so far, and gets this one's appended), the search
 * settings are passed on, and the query, with the remote schema, table and
 * column names, is prepared on first use and sent with q->qbinary as $1
 * in binary (the shard decodes it with its type's receive function rather
 * than parsing a decimal text of every dimension), asking for results in
 * binary result format.  Returns the connection, left busy.  Errors: a
 * foreign table of another wrapper (ERRCODE_FEATURE_NOT_SUPPORTED), no user
 * mapping, connection errors, and any error of the shard.
 */
static RemoteConn *
send_shard_search(const KnnQuery *q, Oid relid, List **used)
{
	ForeignTable *ft = GetForeignTable(relid);
	ForeignServer *server = GetForeignServer(ft->serverid);
	UserMapping *um;
	RemoteConn *rc;
	char	   *table;
	char	   *sql;
	char	   *stmt;
	const char *param;
	int			param_length = VARSIZE(q->qbinary) - VARHDRSZ;
	int			param_format = 1;
	int			slot = 0;
	ListCell   *lc;

	if (strcmp(GetForeignDataWrapper(server->fdwid)->fdwname, "postgres_fdw") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("foreign table \"%s\" is not a postgres_fdw table", get_rel_name(relid))));
	um = GetUserMapping(GetUserId(), server->serverid);
	foreach(lc, *used)
		if (lfirst_oid(lc) == server->serverid)
		slot++;
	*used = lappend_oid(*used, server->serverid);
	rc = get_conn(server, um, slot);
	pass_settings(rc);
	table = psprintf("%s.%s",
					 quote_identifier(table_option(ft, "schema_name",
												   get_namespace_name(get_rel_namespace(relid)))),
					 quote_identifier(table_option(ft, "table_name", get_rel_name(relid))));
	sql = search_sql(remote_column(relid, get_attnum(relid, q->key_column), q->key_column),
					 remote_column(relid, get_attnum(relid, q->vector_column), q->vector_column),
					 q->schema, q->op, q->qtype, table, q->k);
	stmt = prepared(rc, sql);
	rc->busy = true;
	param = VARDATA(q->qbinary);
	if (!PQsendQueryPrepared(rc->conn, stmt, 1, &param, &param_length, &param_format, 1))
		remote_error(rc, NULL, "sending the query");
	return rc;
}

/*
 * Search local leaf relid (a table or materialized view) through SPI for its
 * q->k nearest rows and add each (key, distance) whose distance is not NULL
 * to pairs.  Errors: SPI failures (elog) and any error of the query.
 */
static void
search_local(const KnnQuery *q, Oid relid, KnnPairs *pairs)
{
	char	   *sql;
	Datum		values[1] = {q->value};
	Oid			types[1] = {q->typid};

	sql = search_sql(q->key_column, q->vector_column, q->schema, q->op, q->qtype,
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												get_rel_name(relid)), q->k);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, 1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", sql);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		id_null,
					d_null;
		Datum		id = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &id_null);
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &d_null);

		if (!d_null)
			pairs_add(pairs, id_null ? 0 : DatumGetInt64(id), id_null, DatumGetFloat8(d));
	}
	SPI_finish();
}

/*
 * Add the rows of res, the answer to the search sent on rc, to pairs: each
 * (key, distance) whose distance is not NULL (binary int8 and float8
 * columns).  Clears res.  Errors: a result that is not rows, re-raised with
 * the shard's SQLSTATE.
 */
static void
add_shard_rows(RemoteConn *rc, PGresult * res, KnnPairs *pairs)
{
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		remote_error(rc, res, "searching");
	for (int i = 0; i < PQntuples(res); i++)
	{
		bool		id_null = PQgetisnull(res, i, 0);

		if (!PQgetisnull(res, i, 1))
			pairs_add(pairs, id_null ? 0 : get_int8(PQgetvalue(res, i, 0)), id_null,
					  get_float8(PQgetvalue(res, i, 1)));
	}
	PQclear(res);
}

/*
 * Wait in set (the latch, postmaster death and the sockets of conns) for the
 * answers to the searches sent on conns, add their rows to pairs, and read
 * every connection to its end, taking each answer as soon as it is
 * complete, whichever shard sends it first.
 */
static void
collect_answers(WaitEventSet *set, List *conns, KnnPairs *pairs)
{
	int			n = list_length(conns);
	int			pending = n;
	bool	   *ended = palloc0(sizeof(bool) * n);
	WaitEvent  *events = palloc(sizeof(WaitEvent) * (n + 2));
	ListCell   *lc;

	for (;;)
	{
		int			nev;

		/* take every complete result that has arrived */
		foreach(lc, conns)
		{
			RemoteConn *rc = lfirst(lc);
			int			i = foreach_current_index(lc);

			while (!ended[i] && !PQisBusy(rc->conn))
			{
				PGresult   *res = PQgetResult(rc->conn);

				if (res == NULL)
				{
					ended[i] = true;
					rc->busy = false;
					pending--;
				}
				else
					add_shard_rows(rc, res, pairs);
			}
		}
		if (pending == 0)
			break;
		nev = WaitEventSetWait(set, -1L, events, n + 2, PG_WAIT_EXTENSION);
		for (int e = 0; e < nev; e++)
		{
			if (events[e].events & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
			if (events[e].events & WL_SOCKET_READABLE)
			{
				RemoteConn *rc = events[e].user_data;

				/*
				 * a failure on a connection whose answer is in (the shard
				 * closed it since) is left for its next use to report
				 */
				if (!PQconsumeInput(rc->conn) && rc->busy)
					remote_error(rc, NULL, "receiving a result");
			}
		}
	}
	pfree(ended);
	pfree(events);
}

/*
 * The wait event set for conns (RemoteConns): the latch, postmaster death
 * and each connection's socket with the connection as user data.  The set
 * of the last call is kept and used again when conns are the same
 * connections in the same order (the common case: one call after another on
 * the same table), so that a call costs no epoll set of its own; otherwise
 * it is replaced.  Errors: out of file descriptors, as CreateWaitEventSet.
 */
static WaitEventSet *
wait_set_for(List *conns)
{
	bool		same = answer_set != NULL && list_length(answer_set_conns) == list_length(conns);
	WaitEventSet *set;
	MemoryContext old;
	ListCell   *lc;

	foreach(lc, conns)
	{
		RemoteConn *rc = lfirst(lc);

		same = same && list_nth(answer_set_conns, foreach_current_index(lc)) == rc->conn;
	}
	if (same)
		return answer_set;
	if (answer_set)
	{
		FreeWaitEventSet(answer_set);
		answer_set = NULL;
		list_free(answer_set_conns);
		answer_set_conns = NIL;
	}
	set = CreateWaitEventSet(TopMemoryContext, list_length(conns) + 2);
	PG_TRY();
	{
		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		foreach(lc, conns)
		{
			RemoteConn *rc = lfirst(lc);

			AddWaitEventToSet(set, WL_SOCKET_READABLE, PQsocket(rc->conn), NULL, rc);
		}
	}
	PG_CATCH();
	{
		FreeWaitEventSet(set);
		PG_RE_THROW();
	}
	PG_END_TRY();
	old = MemoryContextSwitchTo(TopMemoryContext);
	foreach(lc, conns)
		answer_set_conns = lappend(answer_set_conns, ((RemoteConn *) lfirst(lc))->conn);
	MemoryContextSwitchTo(old);
	answer_set = set;
	return set;
}

/*
 * Wait for the answers to the searches sent on conns (RemoteConns, each
 * busy with one search), add their rows to pairs, and leave every
 * connection idle again.  The wait is in one wait event set over all the
 * sockets, kept from call to call (waiting on one socket after another with
 * WaitLatchOrSocket made and closed an epoll set per wait).  Errors: any
 * error of a shard, re-raised with its SQLSTATE; the abort callback then
 * cancels and closes the connections still busy (which frees the set).
 */
static void
read_shard_answers(List *conns, KnnPairs *pairs)
{
	if (conns == NIL)
		return;
	collect_answers(wait_set_for(conns), conns, pairs);
}

/*
 * Sort pairs by ascending distance (ties: non-NULL keys first, by key) and
 * put the first k into the function's result tuplestore as (id, distance).
 */
static void
return_best(ReturnSetInfo *rsinfo, KnnPairs *pairs, int k)
{
	if (pairs->n > 1)
		qsort(pairs->items, pairs->n, sizeof(KnnPair), pair_cmp);
	for (int i = 0; i < pairs->n && i < k; i++)
	{
		Datum		values[2] = {Int64GetDatum(pairs->items[i].id), Float8GetDatum(pairs->items[i].distance)};
		bool		nulls[2] = {pairs->items[i].id_null, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * vectorann_knn(tbl regclass, query anyelement, k int4, op text,
 *				 key_column name, vector_column name)
 *	  -> SETOF (id int8, distance float8)
 *
 * The k rows of tbl nearest to query under op, as (key, distance) in
 * ascending distance (ties by key); rows whose distance is NULL are left
 * out.  tbl: a table, materialized view, postgres_fdw foreign table, or a
 * partitioned table whose leaves are any of these.  op: <->, <#>, <=>, <+>,
 * <~> or <%>.  key_column must cast to bigint.  Each foreign leaf is asked
 * for its own k nearest (its server plans the query and uses its index),
 * all at the same time; hnsw.ef_search, hnsw.iterative_scan,
 * ivfflat.probes and ivfflat.iterative_scan are passed on.  Local leaves
 * are searched here through SPI meanwhile.  Shards answer from their own
 * snapshot, outside the caller's transaction.
 *
 * Errors: k outside 1..100000, an unknown op, tbl of another kind, a missing
 * column, a foreign table of another wrapper, no user mapping, a
 * non-superuser without a password in the user mapping (as postgres_fdw),
 * no SELECT privilege on tbl, and any error of a shard (re-raised with its
 * SQLSTATE).
 */
PG_FUNCTION_INFO_V1(vectorann_knn);
Datum
vectorann_knn(PG_FUNCTION_ARGS)
{
	Oid			tbl = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KnnQuery	q;
	Oid			typsend;
	bool		typisvarlena;
	char		relkind;
	List	   *leaves = NIL;
	List	   *sent = NIL;
	List	   *used = NIL;
	ListCell   *lc;
	KnnPairs	pairs = {0};

	q.value = PG_GETARG_DATUM(1);
	q.k = PG_GETARG_INT32(2);
	q.op = text_to_cstring(PG_GETARG_TEXT_PP(3));
	q.key_column = NameStr(*PG_GETARG_NAME(4));
	q.vector_column = NameStr(*PG_GETARG_NAME(5));
	q.typid = get_fn_expr_argtype(fcinfo->flinfo, 1);
	q.schema = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));

	InitMaterializedSRF(fcinfo, 0);

	relkind = check_arguments(tbl, q.k, q.op);

	if (remote_conns_stale)
	{
		close_conns(false);
		remote_conns_stale = false;
	}

	/*
	 * the type without a typmod, and said so: plain "bit" would mean bit(1)
	 * and cut a bit query to its first bit (pg_catalog."bit" does not)
	 */
	q.qtype = format_type_extended(q.typid, -1,
								   FORMAT_TYPE_FORCE_QUALIFY | FORMAT_TYPE_TYPEMOD_GIVEN);
	getTypeBinaryOutputInfo(q.typid, &typsend, &typisvarlena);
	q.qbinary = OidSendFunctionCall(typsend, q.value);

	LockRelationOid(tbl, AccessShareLock);
	if (relkind == RELKIND_PARTITIONED_TABLE)
		add_leaves(tbl, &leaves);
	else
		leaves = list_make1_oid(tbl);

	/* send every foreign leaf its query */
	foreach(lc, leaves)
	{
		Oid			relid = lfirst_oid(lc);

		check_column(relid, q.key_column);
		check_column(relid, q.vector_column);
		if (get_rel_relkind(relid) == RELKIND_FOREIGN_TABLE)
			sent = lappend(sent, send_shard_search(&q, relid, &used));
	}

	/* local leaves while the shards search */
	foreach(lc, leaves)
	{
		if (get_rel_relkind(lfirst_oid(lc)) != RELKIND_FOREIGN_TABLE)
			search_local(&q, lfirst_oid(lc), &pairs);
	}

	/* the shards' answers */
	read_shard_answers(sent, &pairs);

	return_best(rsinfo, &pairs, q.k);
	return (Datum) 0;
}

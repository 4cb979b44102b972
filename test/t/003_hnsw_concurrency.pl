# Concurrency: several backends insert and query an hnsw index while others
# delete rows and VACUUM; afterwards hnsw_check finds nothing and recall@10
# against exact search stays high.  Then the same with duplicate rows, whose
# chains VACUUM repairs while inserts add to them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $dim = 16;
my $node = PostgreSQL::Test::Cluster->new('concurrency');
$node->init;
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vectorann;
	CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector($dim));
	SELECT setseed(0.25);
	INSERT INTO items (embedding)
	SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE i > 0)::vector
	FROM generate_series(1, 3000) i;
	CREATE INDEX items_idx ON items USING hnsw (embedding);
});

my $dir = $PostgreSQL::Test::Utils::tmp_check;
my %scripts = (
	'insert.sql' => "INSERT INTO items (embedding) SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim))::vector;\n",
	'query.sql' => "SET enable_seqscan = off;\nSELECT id FROM items ORDER BY embedding <-> (SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim))::vector) LIMIT 10;\n",
	'delete.sql' => "DELETE FROM items WHERE id = (SELECT (random() * 6000)::int);\n",
	'vacuum.sql' => "VACUUM items;\n");
while (my ($name, $text) = each %scripts)
{
	open(my $fh, '>', "$dir/$name") or die;
	print $fh $text;
	close $fh;
}

my @conn = ('-h', $node->host, '-p', $node->port, 'postgres');
my ($out1, $err1, $out2, $err2) = ('', '', '', '');
# four clients insert, query and delete; one runs VACUUM meanwhile
my $load = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-j', '2', '-t', '400',
	  '-f', "$dir/insert.sql\@5", '-f', "$dir/query.sql\@4", '-f', "$dir/delete.sql\@1", @conn ],
	'>', \$out1, '2>', \$err1);
my $vacuum = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '1', '-t', '8', '-f', "$dir/vacuum.sql", @conn ],
	'>', \$out2, '2>', \$err2);
ok($load->finish, 'insert/query/delete load ran without errors') or diag($err1);
ok($vacuum->finish, 'concurrent VACUUMs ran without errors') or diag($err2);
like($out1, qr{actually processed: 1600/1600}, 'every load transaction ran');
like($out2, qr{actually processed: 8/8}, 'every VACUUM ran');

is($node->safe_psql('postgres',
	q{SELECT count(*) FROM hnsw_check('items_idx') WHERE problem <> 'unreachable'}),
	'0', 'no structural violation after the concurrent load')
  or diag($node->safe_psql('postgres', q{SELECT * FROM hnsw_check('items_idx')}));

$node->safe_psql('postgres', 'VACUUM items');
is($node->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('items_idx')}),
	'0', 'hnsw_check finds nothing after a final VACUUM');

# recall@10 of 50 queries against exact search
my $recall = $node->safe_psql('postgres', qq{
	SELECT setseed(0.75);
	CREATE TEMP TABLE q AS
	SELECT i AS qid, ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE i > 0)::vector AS v
	FROM generate_series(1, 50) i;
	SET enable_seqscan = off;
	SELECT avg((SELECT count(*) FROM unnest(
		ARRAY(SELECT id FROM items ORDER BY embedding <-> q.v LIMIT 10)) a
		WHERE a = ANY(ARRAY(SELECT id FROM items ORDER BY (embedding <-> q.v) + 0 LIMIT 10))) / 10.0)
	FROM q;
});
$recall = (split /\n/, $recall)[-1];
cmp_ok($recall, '>=', 0.95, "recall\@10 after the concurrent load is $recall");

# Every live row is in the index and reachable from the entry point: an
# iterative scan ordered by the row's own vector, which searches on with a
# growing candidate list (from the entry point too) until a search finds
# nothing new, returns it.  An element that no chain of links reaches, or
# a row missing from the index, is never returned: with back-links and
# VACUUM's relinking left out on purpose, 473 rows were not, and
# hnsw_check and recall failed too.
my $missing = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SET hnsw.iterative_scan = relaxed_order;
	SET hnsw.max_scan_tuples = 1000000;
	SET work_mem = '64MB';
	SELECT count(*) FROM items i1
	WHERE NOT EXISTS (SELECT FROM (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding
	                               LIMIT 1000000) s WHERE s.id = i1.id);
});
is((split /\n/, $missing)[-1], '0', 'every live row is returned by an iterative scan for its own vector');

# Every live row is its own nearest neighbour at the default ef_search =
# 40.  This failed in about one run in twenty (6 of 120 repetitions of this
# load, test/hnsw_vacuum_race.sh): each time a row inserted during
# the load into a slot an earlier VACUUM had freed, while a later VACUUM
# that had counted that slot as deleted repaired lists; the repair took
# the row out of every list its back-links had put it in, leaving it one or
# two links in from rows beyond its 40 nearest (src/hnsw/README.md, VACUUM
# step 1).
my $first = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT count(*) FROM items i1
	WHERE (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) <> i1.id;
});
is((split /\n/, $first)[-1], '0', 'every live row is its own nearest neighbour at ef_search 40');

# The same race made likely: a VACUUM slowed by cost-based delay repairs
# lists while rows are inserted, one every 50 ms, into the slots an
# earlier VACUUM freed.  Counting those slots as deleted, the repair cut
# the new rows' back-links: 3 to 10 rows of about 2,150 were then not
# their own nearest neighbour at ef_search 10 (none with the fix).
$node->safe_psql('postgres', qq{
	CREATE TABLE slow (id bigserial PRIMARY KEY, v vector($dim)) WITH (autovacuum_enabled = off);
	SELECT setseed(0.5);
	INSERT INTO slow (v)
	SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE i > 0)::vector
	FROM generate_series(1, 3000) i;
	CREATE INDEX slow_idx ON slow USING hnsw (v);
	DELETE FROM slow WHERE id % 3 = 0;
});
$node->safe_psql('postgres', 'VACUUM slow');
$node->safe_psql('postgres', 'DELETE FROM slow WHERE id % 3 = 1 AND id <= 300');
open(my $fh, '>', "$dir/slow_insert.sql") or die;
print $fh "INSERT INTO slow (v) SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim))::vector;\n";
close $fh;
($out1, $err1, $out2, $err2) = ('', '', '', '');
$vacuum = IPC::Run::start(
	[ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-c', "SET vacuum_cost_delay = '20ms'",
	  '-c', 'SET vacuum_cost_limit = 20', '-c', 'VACUUM slow', @conn ],
	'>', \$out2, '2>', \$err2);
$load = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '1', '-T', '12', '-R', '20', '-f', "$dir/slow_insert.sql", @conn ],
	'>', \$out1, '2>', \$err1);
ok($load->finish, 'inserts beside a slow VACUUM ran without errors') or diag($err1);
ok($vacuum->finish, 'the slow VACUUM ran without errors') or diag($err2);
$node->safe_psql('postgres', 'VACUUM slow');
is($node->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('slow_idx')}),
	'0', 'slow VACUUM: hnsw_check finds nothing after a final VACUUM');
$first = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 10;
	SELECT count(*) FROM slow i1
	WHERE (SELECT i2.id FROM slow i2 ORDER BY i2.v <-> i1.v LIMIT 1) <> i1.id;
});
is((split /\n/, $first)[-1], '0',
	'slow VACUUM: every live row is its own nearest neighbour at ef_search 10');

# Duplicate chains under the same load: 20 distinct vectors, each on about
# 50 rows at first; clients insert more copies and delete rows while VACUUM
# runs beside them (it repairs chains and promotes a deleted element's live
# copy while inserts push new copies onto the chains).  Afterwards every
# row is returned at distance 0 by a kNN query for its vector.
$node->safe_psql('postgres', qq{
	CREATE TABLE pool AS SELECT k, ARRAY(SELECT (k * 10 + d)::real FROM generate_series(1, 4) d)::vector AS v
	FROM generate_series(0, 19) k;
	CREATE TABLE dups (id bigserial PRIMARY KEY, v vector(4));
	INSERT INTO dups (v) SELECT v FROM pool, generate_series(1, 50) ORDER BY random();
	CREATE INDEX dups_idx ON dups USING hnsw (v);
});
%scripts = (
	'dup_insert.sql' => "\\set k random(0, 19)\nINSERT INTO dups (v) SELECT v FROM pool WHERE k = :k;\n",
	'dup_delete.sql' => "DELETE FROM dups WHERE id IN (SELECT id FROM dups WHERE id >= (SELECT (random() * max(id))::bigint FROM dups) ORDER BY id LIMIT 1);\n",
	'dup_query.sql' => "\\set k random(0, 19)\nSET enable_seqscan = off;\nSELECT count(*) FROM (SELECT id FROM dups ORDER BY v <-> (SELECT v FROM pool WHERE k = :k) LIMIT 100) s;\n",
	'dup_vacuum.sql' => "VACUUM dups;\n");
while (my ($name, $text) = each %scripts)
{
	open(my $fh, '>', "$dir/$name") or die;
	print $fh $text;
	close $fh;
}
($out1, $err1, $out2, $err2) = ('', '', '', '');
$load = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-j', '2', '-t', '500',
	  '-f', "$dir/dup_insert.sql\@5", '-f', "$dir/dup_delete.sql\@3", '-f', "$dir/dup_query.sql\@2", @conn ],
	'>', \$out1, '2>', \$err1);
$vacuum = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '1', '-t', '12', '-f', "$dir/dup_vacuum.sql", @conn ],
	'>', \$out2, '2>', \$err2);
ok($load->finish, 'duplicates: insert/delete/query load ran without errors') or diag($err1);
ok($vacuum->finish, 'duplicates: concurrent VACUUMs ran without errors') or diag($err2);
like($out1, qr{actually processed: 2000/2000}, 'duplicates: every load transaction ran');
like($out2, qr{actually processed: 12/12}, 'duplicates: every VACUUM ran');
is($node->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('dups_idx') WHERE problem <> 'unreachable'}),
	'0', 'duplicates: no structural violation after the concurrent load')
  or diag($node->safe_psql('postgres', q{SELECT * FROM hnsw_check('dups_idx') LIMIT 20}));
$node->safe_psql('postgres', 'VACUUM dups');
is($node->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('dups_idx')}),
	'0', 'duplicates: hnsw_check finds nothing after a final VACUUM')
  or diag($node->safe_psql('postgres', q{SELECT * FROM hnsw_check('dups_idx') LIMIT 20}));

# per distinct vector: rows the index returns at distance 0 against the rows
my $lost = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT string_agg(k || ': ' || found || ' of ' || rows, ', ') FROM (
		SELECT k, (SELECT count(*) FROM dups WHERE v = p.v) AS rows,
		       (SELECT count(*) FROM (SELECT v <-> p.v AS d FROM dups ORDER BY v <-> p.v LIMIT 100000) s
		        WHERE d = 0) AS found
		FROM pool p) c
	WHERE found <> rows;
});
is((split /\n/, $lost)[-1] // '', '', 'duplicates: every row is returned at distance 0 for its vector');
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM dups'), '>', 1000,
	'duplicates: the table kept rows to check');

$node->stop;
done_testing();

# hnsw with quantization = 'rabitq': a streaming standby replays the build,
# inserts (exact duplicates among them), deletes and VACUUM, and answers the
# same kNN queries as the primary, with exact distances; then the primary
# crashes while four backends insert, and after WAL replay hnsw_check (which
# also compares a sample of codes with the codes of their heap rows' values)
# finds no structural problem, VACUUM relinks what the inserts left
# unreachable, and an iterative scan finds every committed row (this test
# found two bugs of the unquantized index too: see the comments below).
# Recall per operator class, parallel builds and VACUUM repair are in
# 014_recall_opclasses.pl.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use VaCrash qw(crash_during_inserts);

my $dim = 48;
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_buffers = 64MB\nrestart_after_crash = off\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION vectorann');
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

# rows with norms from 0.1 to 10, deterministic for a seed
sub insert_rows
{
	my ($seed, $from, $to) = @_;
	$primary->safe_psql('postgres', qq{
		SELECT setseed($seed);
		INSERT INTO items
		SELECT i, ARRAY(SELECT ((random() - 0.3) * (0.1 + (i % 7) * 1.6))::real
		                FROM generate_series(1, $dim) WHERE i > 0)::vector
		FROM generate_series($from, $to) i;
	});
}

$primary->safe_psql('postgres', qq{
	CREATE TABLE items (id int PRIMARY KEY, embedding vector($dim));
	CREATE TABLE queries (id int, embedding vector($dim));
	SELECT setseed(0.77);
	INSERT INTO queries SELECT i, ARRAY(SELECT (random() - 0.3)::real FROM generate_series(1, $dim) WHERE i > 0)::vector
	FROM generate_series(1, 30) i;
});
insert_rows(0.1, 1, 3000);
$primary->safe_psql('postgres', q{
	CREATE INDEX items_idx ON items USING hnsw (embedding vector_l2_ops) WITH (quantization = 'rabitq', bits = 3);
});

# for each query: ids and distances of the 10 nearest rows by the index,
# listed by distance and then id (rows with one vector tie)
my $knn = q{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 100;
	RESET hnsw.rerank_candidates;
	SELECT q.id, ARRAY(SELECT s.id || ':' || round(s.d::numeric, 5) FROM (
	                   SELECT i.id, i.embedding <-> q.embedding AS d
	                   FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10) s ORDER BY s.d, s.id)
	FROM queries q ORDER BY q.id;
};
# the same by a sequential scan
(my $exact = $knn) =~ s/SET enable_seqscan = off;/SET enable_indexscan = off; SET enable_bitmapscan = off;/;

# $structural: inserts may leave elements unreachable until the next VACUUM
# relinks them (src/hnsw/README.md); only other problems count then
sub same_on_standby
{
	my ($stage, $structural, $min_exact) = @_;
	$min_exact //= 28;
	my $filter = $structural ? "WHERE problem <> 'unreachable'" : '';
	$primary->wait_for_catchup($standby);
	my $on_primary = $primary->safe_psql('postgres', $knn);
	is($standby->safe_psql('postgres', $knn), $on_primary, "$stage: the standby answers as the primary");
	# re-ranked distances are exact: the answer is the exact top 10 but for
	# rare misses of the graph search, each costing a line
	my @p = split /\n/, $on_primary;
	my @e = split /\n/, $primary->safe_psql('postgres', $exact);
	# compared by distances alone: where rows with one vector tie at the
	# tenth place, the index may return any of them, the exact list the
	# lowest ids
	s/\d+:(\d)/$1/g for @p, @e;
	my $same = grep { $p[$_] eq $e[$_] } 0 .. $#e;
	cmp_ok($same, '>=', $min_exact, "$stage: $same of 30 answers are the exact top 10 with exact distances");
	foreach my $node ($primary, $standby)
	{
		is($node->safe_psql('postgres', "SELECT count(*) FROM hnsw_check('items_idx') $filter"), '0',
			"$stage: hnsw_check finds nothing on the " . $node->name)
		  or diag($node->safe_psql('postgres', "SELECT * FROM hnsw_check('items_idx') LIMIT 5"));
	}
}

same_on_standby('after the build');
insert_rows(0.2, 3001, 4500);
$primary->safe_psql('postgres', 'INSERT INTO items SELECT id + 10000, embedding FROM items WHERE id <= 200');
same_on_standby('after inserts and duplicates', 1);
$primary->safe_psql('postgres', 'DELETE FROM items WHERE id % 4 = 0; VACUUM items;');
same_on_standby('after deletes and VACUUM');

# a code that is not its heap row's code is reported: the heap file is
# changed under the index while the server is down
$primary->safe_psql('postgres', q{
	CREATE TABLE other AS SELECT * FROM items WHERE id <= 500;
	CREATE INDEX other_idx ON other USING hnsw (embedding vector_l2_ops) WITH (quantization = 'rabitq', bits = 3);
});
my $relfile = $primary->safe_psql('postgres', q{SELECT pg_relation_filepath('other')});
$primary->safe_psql('postgres', 'CHECKPOINT');
$primary->stop;
{
	# overwrite one float of the first row's vector in the heap file: the
	# row keeps its TID, the index its old code
	my $path = $primary->data_dir . '/' . $relfile;
	open(my $fh, '+<:raw', $path) or die "open $path: $!";
	my $page;
	read($fh, $page, 8192) == 8192 or die 'short read';
	# the first line pointer (after the 24-byte page header) gives the
	# tuple's offset; the vector follows the tuple header and the int
	my $lp = unpack('V', substr($page, 24, 4));
	my $off = $lp & 0x7fff;
	my $hoff = unpack('C', substr($page, $off + 22, 1));
	# int id (4 bytes), then the vector: 4-byte varlena header, int16 dim,
	# int16 unused, floats
	my $x = $off + $hoff + 4 + 8;
	substr($page, $x, 4) = pack('f', 1000.0);
	seek($fh, 0, 0);
	print $fh $page;
	close($fh);
}
$primary->start;
like($primary->safe_psql('postgres', q{SELECT string_agg(problem || ': ' || detail, E'\n') FROM hnsw_check('other_idx')}),
	qr/^code: element \(\d+,\d+\): its code is not the code of heap row \(0,1\)'s value$/,
	'hnsw_check reports a code that does not match its heap row');
$primary->safe_psql('postgres', 'DROP TABLE other');
$primary->wait_for_catchup($standby);

# crash while four backends insert (one in four a copy of an existing row)
$primary->safe_psql('postgres', 'CREATE SEQUENCE ids START 100000; CHECKPOINT;');
my $before = $primary->safe_psql('postgres', 'SELECT count(*) FROM items');
my $rows = crash_during_inserts($primary, $before + 1500,
	[ "INSERT INTO items SELECT nextval('ids'), ARRAY(SELECT (random() - 0.3)::real FROM generate_series(1, $dim))::vector;", 3 ],
	[ "INSERT INTO items SELECT nextval('ids'), embedding FROM items WHERE id = 1 + (random() * 49)::int * 2;", 1 ]);
is($primary->safe_psql('postgres',
	q{SELECT count(*) FROM hnsw_check('items_idx') WHERE problem <> 'unreachable'}),
	'0', 'hnsw_check finds no problem but unreachable elements after recovery')
  or diag($primary->safe_psql('postgres', q{SELECT * FROM hnsw_check('items_idx') LIMIT 10}));
$primary->safe_psql('postgres', 'VACUUM items');

# VACUUM relinks what inserts' pruning left unreachable, also when it
# deleted nothing from the index and the inserts reused freed slots (the
# index did not grow, the table did): before the relink rule counted the
# table's rows too, this failed with quantization 'none' and 'rabitq' alike
is($primary->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('items_idx')}),
	'0', 'hnsw_check finds nothing after VACUUM')
  or diag($primary->safe_psql('postgres', q{SELECT * FROM hnsw_check('items_idx') LIMIT 10}));
# every committed row is in the index and reachable: an iterative scan
# that goes on until a batch finds nothing new returns them all
is($primary->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SET hnsw.iterative_scan = relaxed_order;
	SET hnsw.max_scan_tuples = 1000000;
	SET work_mem = '64MB';
	SELECT count(*) FROM items WHERE id NOT IN (
		SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 1) LIMIT 1000000);
}), '0', 'every committed row is found by an iterative scan');
# A duplicate item put into a freed slot on its owner's own page (the
# copies inserted after VACUUM freed the deleted rows' slots) once left
# itself off the chain and wrote the chain link 6 bytes into another item
# (a code, here): the owner was looked up before the slot's overwrite moved
# the page's items.  In two of five runs before the fix.
is($primary->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('items_idx')}), '0',
	'no duplicate item is on no chain, and no code is wrong');
# recall@10 of the queries: a returned row counts when it is no farther
# than the exact 10th nearest
my $recall = $primary->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 100;
	SELECT round(avg(hits) / 10, 3) FROM (
		SELECT (SELECT count(*) FROM (SELECT i.embedding <-> q.embedding AS d FROM items i
		                              ORDER BY i.embedding <-> q.embedding LIMIT 10) s
		        WHERE d <= (SELECT max(d) FROM (SELECT (i.embedding <-> q.embedding) + 0 AS d FROM items i
		                                         ORDER BY 1 LIMIT 10) e)) AS hits
		FROM queries q) r});
cmp_ok($recall, '>=', 0.9, "recall\@10 after the crash and VACUUM: $recall");
# The graph the crash leaves depends on how far each client got.  Over
# eleven runs (2026-12-05, before and after that day's changes alike) this
# stage gave the exact top 10 for 16 to 23 of the 30 queries, and a floor
# of 18 failed one run in four: the misses are rows the pgbench clients
# inserted, which the search at ef_search 100 does not reach, some even at
# ef_search 400.  That is the data, not the crash or the codes: the
# clients' rows are uniform in a 48-dimension box, as the queries are, and
# on 3,000 such base rows plus 1,500 of them, 200 queries got recall@10
# 0.9675 at ef_search 100 from an unquantized index built over all rows,
# the same from a quantized one (bits = 3), and 0.9640 when the 1,500 were
# inserted after the build (0.9675 unquantized).  So the floor here only
# catches a broken re-ranking; the recall above carries the quality.
same_on_standby('after the crash and VACUUM', 0, 14);

$standby->stop;
$primary->stop;
done_testing();

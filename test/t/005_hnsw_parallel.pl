# Parallel hnsw build: workers really run, the graph passes hnsw_check and
# has the recall of a serial build (within 0.05) on seeded clustered data;
# a build that outgrows maintenance_work_mem in parallel finishes on disk
# with the NOTICE; CREATE INDEX CONCURRENTLY builds in parallel too; a
# standby replaying the parallel build answers like the primary.  The same
# for a quantized index, with its codes in the graph area's array by id
# (a column that declares its dimensions) or beside each element (one that
# does not).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use VaParallelSetup qw(parallel_cluster);

my ($node, $standby) = parallel_cluster('hnsw', 0.21, 0.2);

# recall@10 of the index on table (default items) for the 100 queries at
# ef_search (default 40)
sub recall
{
	my ($n, $table, $ef) = @_;
	$table //= 'items';
	$ef //= 40;
	my $r = $n->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET hnsw.ef_search = $ef;
		SELECT round(avg((SELECT count(*) FROM unnest(
			ARRAY(SELECT i.id FROM $table i ORDER BY i.embedding <-> q.embedding LIMIT 10)) a
			WHERE a = ANY(ARRAY(SELECT i.id FROM $table i ORDER BY (i.embedding <-> q.embedding) + 0 LIMIT 10))) / 10.0), 4)
		FROM queries q;
	});
	return (split /\n/, $r)[-1];
}

sub check_clean
{
	my ($name, $index) = @_;
	$index //= 'items_idx';
	is($node->safe_psql('postgres', qq{SELECT count(*) FROM hnsw_check('$index')}),
		'0', "hnsw_check finds nothing: $name")
	  or diag($node->safe_psql('postgres', qq{SELECT * FROM hnsw_check('$index')}));
}

# Run CREATE INDEX (create) with 2 workers and maintenance_work_mem = mwm
# (undef: the default); check that it succeeded with both workers (the
# leader reports them at DEBUG1) and return its messages.
sub parallel_build
{
	my ($create, $mwm, $name) = @_;
	my $set = defined $mwm ? "SET maintenance_work_mem = '$mwm';" : '';
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		$set
		SET client_min_messages = debug1;
		$create;
	});
	is($ret, 0, "$name succeeds");
	like($err, qr/hnsw parallel build: 2 workers launched/, "$name: two workers took part");
	return $err;
}

# Drop items_idx and make it again with create, in parallel past
# maintenance_work_mem: the graph so far is written out and the rest is
# inserted on disk by all participants.  Checks the NOTICE, the structure,
# hnsw_check after VACUUM and recall@10 (at ef_search ef, default 40) within
# 0.05 of reference.
sub spilled_build
{
	my ($create, $what, $reference, $ef) = @_;
	$node->safe_psql('postgres', 'DROP INDEX items_idx');
	my $err = parallel_build($create, '1MB', "$what past maintenance_work_mem");
	like($err, qr/NOTICE:  hnsw graph no longer fits into maintenance_work_mem/,
		"$what: with the NOTICE");
	# on-disk inserts may prune away an older element's last in-link (as
	# concurrent inserts may); VACUUM relinks such elements
	is($node->safe_psql('postgres',
			q{SELECT count(*) FROM hnsw_check('items_idx') WHERE problem <> 'unreachable'}),
		'0', "no structural violation after the $what on disk")
	  or diag($node->safe_psql('postgres', q{SELECT * FROM hnsw_check('items_idx')}));
	$node->safe_psql('postgres', 'VACUUM items');
	check_clean("$what on disk, then VACUUM");
	my $spilled = recall($node, 'items', $ef);
	cmp_ok($spilled, '>=', $reference - 0.05,
		"recall\@10 of the $what on disk ($spilled) within 0.05 of $reference");
}

# serial reference
$node->safe_psql('postgres', q{
	SET max_parallel_maintenance_workers = 0;
	CREATE INDEX items_idx ON items USING hnsw (embedding);
});
my $serial = recall($node);
cmp_ok($serial, '>=', 0.95, "recall\@10 of the serial build: $serial");
$node->safe_psql('postgres', 'DROP INDEX items_idx');

# parallel
my $err = parallel_build('CREATE INDEX items_idx ON items USING hnsw (embedding)', undef,
	'parallel build');
check_clean('parallel build');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 1234)
	LIMIT 1) x WHERE id = 1234}), '1', 'an indexed row finds itself');
my $parallel = recall($node);
# A parallel build's graph depends on how the workers interleave: over 21
# runs on 2 loaded cores it gave 0.938-1.000 (median 0.99) against the
# serial 0.973 (0.997 with the levels drawn since 9976a6b), so the margin
# is 0.05 (broken graphs gave 0.33-0.78 in 014).
cmp_ok($parallel, '>=', $serial - 0.05,
	"recall\@10 of the parallel build ($parallel) within 0.05 of the serial build ($serial)");
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order; SET hnsw.max_scan_tuples = 100000;
	SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 1)) x}),
	'20000', 'an iterative scan reaches every indexed row');

# the standby replays the parallel build
$node->wait_for_catchup($standby);
is(recall($standby), $parallel, 'the standby answers like the primary');

# past maintenance_work_mem
spilled_build('CREATE INDEX items_idx ON items USING hnsw (embedding)', 'parallel build',
	$serial);

# CREATE INDEX CONCURRENTLY in parallel (an MVCC snapshot for the scan)
$node->safe_psql('postgres', 'DROP INDEX items_idx');
parallel_build('CREATE INDEX CONCURRENTLY items_idx ON items USING hnsw (embedding)', undef,
	'parallel CREATE INDEX CONCURRENTLY');
check_clean('parallel CIC');
cmp_ok(recall($node), '>=', $serial - 0.05, 'recall of the CIC build');

# vectors that compress well are small in the heap (STORAGE MAIN keeps
# them inline, compressed) but full-size in the graph: the shared area is
# sized from the declared dimensions, so the build still fits in memory
$node->safe_psql('postgres', q{
	CREATE TABLE sparse_items (id int, embedding vector(512)) WITH (parallel_workers = 2);
	ALTER TABLE sparse_items ALTER COLUMN embedding SET STORAGE MAIN;
	INSERT INTO sparse_items
	SELECT i, ARRAY(SELECT CASE WHEN d % 64 = i % 64 THEN (i % 97)::real ELSE 0 END
	                FROM generate_series(1, 512) d)::vector
	FROM generate_series(1, 6000) i;
	ANALYZE sparse_items;
});
cmp_ok($node->safe_psql('postgres', q{SELECT pg_total_relation_size('sparse_items')}), '<',
	6000 * 512 * 4 / 3, 'the compressed heap is much smaller than the raw vectors');
$err = parallel_build('CREATE INDEX ON sparse_items USING hnsw (embedding)', '64MB',
	'parallel build over compressed vectors');
unlike($err, qr/NOTICE:  hnsw/, 'and the graph fit in memory (no spill NOTICE)');

# the same vectors in a column that declares no dimensions: the area can only
# be sized from the heap, fills, and the NOTICE says so instead of asking for
# more maintenance_work_mem
$node->safe_psql('postgres', q{
	CREATE TABLE untyped_items (id int, embedding vector) WITH (parallel_workers = 2);
	ALTER TABLE untyped_items ALTER COLUMN embedding SET STORAGE MAIN;
	INSERT INTO untyped_items SELECT * FROM sparse_items;
	ANALYZE untyped_items;
});
$err = parallel_build('CREATE INDEX untyped_idx ON untyped_items USING hnsw (embedding)',
	'64MB', 'parallel build over compressed, untyped vectors');
like($err, qr/NOTICE:  hnsw parallel build's graph area of \d+ MB, sized from the table, filled after \d+ tuples/,
	'the graph area sized from the heap fills, and the NOTICE says so');
like($err, qr/HINT:  Declare the column's dimensions/, 'with a hint that helps');
unlike($err, qr/Increase maintenance_work_mem/, 'and not one that does not');
# (vectors of disjoint supports leave elements unreachable in any build of
# this data, serial and in memory too: only the structure is checked)
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM hnsw_check('untyped_idx') WHERE problem <> 'unreachable'}),
	'0', 'the index built partly on disk, by concurrent participants, is sound')
  or diag($node->safe_psql('postgres', q{SELECT * FROM hnsw_check('untyped_idx') LIMIT 5}));

# quantized: a column that declares its dimensions gives the graph area an
# array of codes by id; one that does not keeps each code beside its
# element's lists (src/hnsw/README.md, "Quantized indexes")
$node->safe_psql('postgres', q{
	SET max_parallel_maintenance_workers = 0;
	CREATE INDEX rq_serial ON items USING hnsw (embedding) WITH (quantization = 'rabitq');
});
# At 24 dimensions, with the rows 7 times as far from the origin as from
# their neighbours, 4-bit codes taken about the origin ordered a cluster's
# rows poorly (recall@10 0.848 at ef_search 40); taken about the rows'
# centre (027_hnsw_rabitq_centre.pl) the serial build gives 0.985, against
# 0.997 unquantized (0.962 and 0.973 with the levels drawn before
# 9976a6b: one graph's levels move these by a few hundredths), and
# parallel builds (in memory, on disk, without declared dimensions) gave
# 0.948-0.984 in 3 runs.
my $rq_serial = recall($node, 'items');
cmp_ok($rq_serial, '>=', 0.92, "recall\@10 of the serial quantized build: $rq_serial");
# Parallel builds insert in an order that varies from run to run, and at
# ef_search 40 the quantized graphs' recall on these clusters varied with
# it: 0.927-0.986 in 5 runs on 2026-12-05 (unquantized builds of such data
# vary too, less).  So serial and parallel graphs are compared at ef_search
# 100, where one graph's few weak links weigh less.
my $rq_serial_wide = recall($node, 'items', 100);
$node->safe_psql('postgres', 'DROP INDEX rq_serial; DROP INDEX items_idx');
parallel_build(q{CREATE INDEX items_idx ON items USING hnsw (embedding) WITH (quantization = 'rabitq')},
	undef, 'parallel quantized build');
check_clean('parallel quantized build');
my $rq = recall($node, 'items', 100);
cmp_ok($rq, '>=', $rq_serial_wide - 0.05,
	"recall\@10 at ef_search 100 of the parallel quantized build ($rq) within 0.05 of the serial one ($rq_serial_wide)");
$node->wait_for_catchup($standby);
is(recall($standby, 'items', 100), $rq, 'the standby answers like the primary (quantized)');

spilled_build(q{CREATE INDEX items_idx ON items USING hnsw (embedding) WITH (quantization = 'rabitq')},
	'parallel quantized build', $rq_serial_wide, 100);

$node->safe_psql('postgres', q{
	CREATE TABLE items_untyped (id int PRIMARY KEY, embedding vector) WITH (parallel_workers = 2);
	INSERT INTO items_untyped SELECT * FROM items;
	ANALYZE items_untyped;
});
parallel_build(q{CREATE INDEX untyped_rq ON items_untyped USING hnsw (embedding) WITH (quantization = 'rabitq')},
	'64MB', 'parallel quantized build, no declared dimensions');
check_clean('parallel quantized build, no declared dimensions', 'untyped_rq');
my $rq_untyped = recall($node, 'items_untyped');
cmp_ok($rq_untyped, '>=', $rq_serial - 0.05,
	"recall\@10 of that build ($rq_untyped) within 0.05 of the serial quantized one");

$standby->stop;
$node->stop;
done_testing();

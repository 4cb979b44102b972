# A long iterative hnsw scan must be cancellable promptly (issue 13): a
# filter no row passes makes hnsw.iterative_scan = relaxed_order search
# again and again with a doubling candidate list, each search walking the
# whole graph once the list is large.  The server has 1 MB of shared buffers
# for a 200,000-row index of about 3,700 pages, so nearly every element
# visited is read from the kernel's page cache: one search over the whole
# graph takes about 1 s here and the whole query about 10 s.
#
# - With statement_timeout set, the query fails with SQLSTATE 57014,
#   "canceling statement due to statement timeout", instead of completing.
# - At timeouts spread over the query (an eighth to five eighths of its
#   whole time, the faster of two uncanceled runs) the scan is always
#   canceled with that error, never completed.  How soon the error follows
#   the timeout is measured in the server (a PL/pgSQL block catching
#   query_canceled) and printed, not asserted: timings belong in benchmarks.
#   Measured: 0-10 ms with CHECK_FOR_INTERRUPTS inside the search; without
#   it, up to a whole search late (0.26-1.27 s in 5 of 7 trials).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hnsw_cancel');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_buffers = 1MB\nmaintenance_work_mem = 256MB\nautovacuum = off\njit = off\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION vectorann;
	SELECT setseed(0.17);
	CREATE TABLE items (id int, v vector(16));
	ALTER TABLE items ALTER v SET STORAGE PLAIN;
	INSERT INTO items
	SELECT i, (SELECT array_agg(random())::vector(16) FROM generate_series(1, 16) WHERE i > 0)
	FROM generate_series(1, 200000) i;
	CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
	ANALYZE items;
});

my $settings = q{
	SET hnsw.iterative_scan = relaxed_order;
	SET hnsw.max_scan_tuples = 2147483647;
	SET work_mem = '1GB';
	SET hnsw.scan_mem_multiplier = 1000;
	SET enable_seqscan = off;
};
my $query = q{SELECT id FROM items WHERE id < 0
	ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10};

my $plan = $node->safe_psql('postgres', "$settings EXPLAIN (COSTS OFF) $query");
like($plan, qr/Index Scan using items_v/, 'the query uses the hnsw index');

# the error the client sees
my ($ret, $out, $err) = $node->psql('postgres',
	"$settings SET statement_timeout = '300ms'; \\set VERBOSITY verbose\n$query;");
isnt($ret, 0, 'the query under statement_timeout fails');
like($err, qr/ERROR:  57014: canceling statement due to statement timeout/,
	'with SQLSTATE 57014, canceling statement due to statement timeout');

# how long the whole query takes here, uncanceled: the timeouts below fall
# within it whatever the machine's speed and load (a fixed 3.3 s outlasted
# the query once on a quiet machine).  The faster of two runs, since load
# changes (9.7 s measured once, 7.2 s a minute later, when timeouts at
# seven eighths of the first outlasted the query); at least 1 ms, as 0
# turns the timeout off
my $whole_ms;
for my $run (1 .. 2)
{
	my $ms = $node->safe_psql('postgres', qq{
		$settings
		CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t;
		SELECT count(*) FROM ($query) q;
		SELECT round(extract(epoch FROM clock_timestamp() - t) * 1000) FROM t0;
	});
	($ms) = $ms =~ /(\d+)\s*$/;
	diag("the uncanceled query takes $ms ms");
	$whole_ms = $ms if !defined $whole_ms || $ms < $whole_ms;
}

# time from the timeout to the error, in the server, at timeouts from an
# eighth to five eighths of the query's whole time, in different searches
for my $timeout_ms (map { 1 + int($whole_ms * $_ / 8) } 1 .. 5)
{
	($ret, $out, $err) = $node->psql('postgres', qq{
		$settings
		SET statement_timeout = $timeout_ms;
		DO \$\$
		DECLARE
			t0 timestamptz := clock_timestamp();
			state text;
			msg text;
		BEGIN
			PERFORM * FROM ($query) q;
			RAISE WARNING 'completed after % ms',
				round(extract(epoch FROM clock_timestamp() - t0) * 1000);
		EXCEPTION WHEN query_canceled THEN
			GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
			RAISE WARNING 'canceled after % ms: % %',
				round(extract(epoch FROM clock_timestamp() - t0) * 1000), state, msg;
		END
		\$\$;
	});
	my ($ms, $state, $msg) = $err =~ /canceled after (\d+) ms: (\w+) (.*)/;
	ok(defined $ms, "timeout $timeout_ms ms: the scan is canceled, not completed")
	  or diag($err);
	next unless defined $ms;
	is("$state $msg", '57014 canceling statement due to statement timeout',
		"timeout $timeout_ms ms: the statement timeout's error");
	diag("timeout $timeout_ms ms: canceled after $ms ms");
}

done_testing();

# Parallel ivfflat build: workers really run, and the index they build
# answers exactly like a serial build of the same data (same centroids, every
# row in the same list), with every row indexed once; a sort that spills to
# disk, CREATE INDEX CONCURRENTLY and a bit index in parallel agree too;
# inserts and VACUUM work on the parallel-built lists; a standby replaying
# the build answers like the primary.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use VaParallelSetup qw(parallel_cluster);

my ($node, $standby) = parallel_cluster('ivf', 0.37, 0.6);

# The top 10 ids of every query at the given probes, one line per query.
sub answers
{
	my ($n, $probes, $op) = @_;
	$op //= '<->';
	my $expr = $op eq '<~>' ? 'binary_quantize(i.embedding)::bit(24)' : 'i.embedding';
	my $q = $op eq '<~>' ? 'binary_quantize(q.embedding)::bit(24)' : 'q.embedding';
	return $n->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET ivfflat.probes = $probes;
		SELECT q.id, ARRAY(SELECT i.id FROM items i ORDER BY $expr $op $q LIMIT 10)
		FROM queries q ORDER BY q.id;
	});
}

# Rows the index returns when every list is probed, and how many distinct.
sub all_rows
{
	my ($n) = @_;
	return $n->safe_psql('postgres', q{
		SET enable_seqscan = off;
		SET ivfflat.probes = 40;
		SELECT count(*), count(DISTINCT id) FROM (
			SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 1)
			LIMIT 100000) s;
	});
}

# parallel: the leader reports the workers it launched at DEBUG1
sub build_parallel
{
	my ($sql, $name, $settings) = @_;
	$settings //= '';
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		$settings
		SET client_min_messages = debug1;
		$sql;
	});
	is($ret, 0, "$name succeeds") or diag($err);
	like($err, qr/ivfflat parallel build: 2 workers launched/, "$name: two workers took part");
}

# serial reference
$node->safe_psql('postgres', q{
	SET max_parallel_maintenance_workers = 0;
	CREATE INDEX items_idx ON items USING ivfflat (embedding) WITH (lists = 40);
});
my %serial = (1 => answers($node, 1), 3 => answers($node, 3));
is(all_rows($node), '20000|20000', 'serial build: every row indexed once');
$node->safe_psql('postgres', 'DROP INDEX items_idx');

build_parallel('CREATE INDEX items_idx ON items USING ivfflat (embedding) WITH (lists = 40)',
	'parallel build');
is(answers($node, 1), $serial{1}, 'probes = 1: the same answers as the serial build');
is(answers($node, 3), $serial{3}, 'probes = 3: the same answers as the serial build');
is(all_rows($node), '20000|20000', 'parallel build: every row indexed once');
is($node->safe_psql('postgres', q{SELECT reltuples FROM pg_class WHERE relname = 'items_idx'}),
	'20000', 'the index counts its rows');

# the standby replays the parallel build
$node->wait_for_catchup($standby);
is(answers($standby, 3), $serial{3}, 'the standby answers like the primary');

# rows inserted after the build go to the lists' tails; VACUUM removes dead ones
$node->safe_psql('postgres', q{
	INSERT INTO items SELECT i, point(i) FROM generate_series(20001, 21000) i;
	DELETE FROM items WHERE id BETWEEN 1 AND 1000;
	VACUUM items;
});
is(all_rows($node), '20000|20000', 'after inserts, deletes and VACUUM: every live row once');
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET ivfflat.probes = 3;
	SELECT count(*) FROM items i1 WHERE id > 20000 AND
		(SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) = i1.id}),
	'1000', 'every inserted row finds itself');
$node->safe_psql('postgres', q{
	DELETE FROM items WHERE id > 20000;
	INSERT INTO items SELECT i, point(i) FROM generate_series(1, 1000) i;
});
# the rows are new (new random points), so compare with a fresh serial build
$node->safe_psql('postgres', q{
	VACUUM ANALYZE items;
	DROP INDEX items_idx;
	SET max_parallel_maintenance_workers = 0;
	CREATE INDEX items_idx ON items USING ivfflat (embedding) WITH (lists = 40);
});
%serial = (1 => answers($node, 1), 3 => answers($node, 3));
$node->safe_psql('postgres', 'DROP INDEX items_idx');

# a sort that does not fit maintenance_work_mem spills to disk and is merged
build_parallel('CREATE INDEX items_idx ON items USING ivfflat (embedding) WITH (lists = 40)',
	'parallel build with 1MB maintenance_work_mem', q{SET maintenance_work_mem = '1MB';});
is(answers($node, 3), $serial{3}, 'spilled sort: the same answers as the serial build');
is(all_rows($node), '20000|20000', 'spilled sort: every row indexed once');
$node->safe_psql('postgres', 'DROP INDEX items_idx');

# CREATE INDEX CONCURRENTLY in parallel (an MVCC snapshot for the scan)
build_parallel('CREATE INDEX CONCURRENTLY items_idx ON items USING ivfflat (embedding) WITH (lists = 40)',
	'parallel CREATE INDEX CONCURRENTLY');
is(answers($node, 3), $serial{3}, 'CIC: the same answers as the serial build');
is(all_rows($node), '20000|20000', 'CIC: every row indexed once');

# bit strings (Hamming): serial and parallel builds agree
$node->safe_psql('postgres', q{
	SET max_parallel_maintenance_workers = 0;
	CREATE INDEX items_bit ON items USING ivfflat ((binary_quantize(embedding)::bit(24)) bit_hamming_ops)
		WITH (lists = 20);
});
my $bit_serial = answers($node, 2, '<~>');
$node->safe_psql('postgres', 'DROP INDEX items_bit');
build_parallel(q{CREATE INDEX items_bit ON items USING ivfflat ((binary_quantize(embedding)::bit(24)) bit_hamming_ops)
	WITH (lists = 20)}, 'parallel bit build');
is(answers($node, 2, '<~>'), $bit_serial, 'bit: the same answers as the serial build');

$standby->stop;
$node->stop;
done_testing();

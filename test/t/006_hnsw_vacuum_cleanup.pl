# A VACUUM that deletes nothing (an autovacuum of an insert-only table)
# reads the whole hnsw index to relink cut-off elements only when the index
# has grown by a tenth since the last relink; otherwise it reads just the
# metapage.  Measured with pg_statio_user_indexes (blocks hit + read).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cleanup');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;
psql_flushed(q{
	CREATE EXTENSION vectorann;
	SELECT setseed(0.31);
	CREATE TABLE items (id int, embedding vector(8));
	INSERT INTO items SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)
	FROM generate_series(1, 5000) i;
	CREATE INDEX items_idx ON items USING hnsw (embedding);
});

# Each statement that touches the index ends with
# pg_stat_force_next_flush(): the backend then flushes its statistics
# before it reports the statement done, so the next session reads them.
sub psql_flushed
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', "$sql; SELECT pg_stat_force_next_flush();");
}

# index blocks touched by one VACUUM
sub blocks_vacuum_touches
{
	my $q = q{SELECT idx_blks_hit + idx_blks_read FROM pg_statio_user_indexes WHERE indexrelname = 'items_idx'};
	my $before = $node->safe_psql('postgres', $q);
	psql_flushed('VACUUM items');
	my $after = $node->safe_psql('postgres', $q);
	return $after - $before;
}

my $nblocks = $node->safe_psql('postgres', q{SELECT pg_relation_size('items_idx') / 8192});
cmp_ok(blocks_vacuum_touches(), '<=', 2,
	"a VACUUM right after the build reads only the metapage ($nblocks blocks in the index)");

psql_flushed(q{
	INSERT INTO items SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)
	FROM generate_series(5001, 5200) i;
});
cmp_ok(blocks_vacuum_touches(), '<=', 2, 'still only the metapage after 4% more rows');

psql_flushed(q{
	INSERT INTO items SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)
	FROM generate_series(5201, 6500) i;
});
$nblocks = $node->safe_psql('postgres', q{SELECT pg_relation_size('items_idx') / 8192});
cmp_ok(blocks_vacuum_touches(), '>=', $nblocks - 1,
	"after 30% more rows the VACUUM walks the whole index ($nblocks blocks)");
cmp_ok(blocks_vacuum_touches(), '<=', 2, 'and the next one reads only the metapage again');

is($node->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('items_idx')}), '0',
	'hnsw_check finds nothing');

$node->stop;
done_testing();

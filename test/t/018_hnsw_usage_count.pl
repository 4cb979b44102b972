# Pages an hnsw search pins keep a usage count for the clock sweep: most pins
# go through the backend's map of recently used buffers (ReadRecentBuffer,
# which in PostgreSQL 15 does not raise the usage count), so one in 64 goes
# through ReadBuffer, which does (src/hnsw/graph.c, HnswReadIndexBuffer).
#
# After a restart the shared buffers are empty and nothing else runs, so
# every index page a session's searches touch is loaded once with usage
# count 1; a count above 1 can come only from searches pinning the page
# through ReadBuffer again.  Without the one-in-64 rule every count stays 1.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('usage');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\nshared_buffers = 32MB\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION vectorann;
	CREATE EXTENSION pg_buffercache;
	SELECT setseed(0.1);
	CREATE TABLE huc (id int, v vector(8));
	INSERT INTO huc SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)::vector
	FROM generate_series(1, 3000) i;
	CREATE INDEX huc_v ON huc USING hnsw (v);
});
$node->restart;

my $counts = q{
	SELECT count(*), coalesce(max(usagecount), 0) FROM pg_buffercache
	WHERE relfilenode = pg_relation_filenode('huc_v') AND relblocknumber > 0
	  AND reldatabase = (SELECT oid FROM pg_database WHERE datname = current_database());
};
is($node->safe_psql('postgres', $counts), '0|0', 'no index page is in shared buffers after the restart');

# 300 searches in one session: the map of recent buffers lives as long as it
my $after = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT setseed(0.2);
	DO $$
	DECLARE r int;
	BEGIN
		FOR i IN 1..300 LOOP
			SELECT id INTO r FROM huc
			ORDER BY v <-> ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)::vector LIMIT 1;
		END LOOP;
	END $$;
} . $counts);
my ($pages, $max) = split /\|/, (split /\n/, $after)[-1];
cmp_ok($pages, '>', 0, "the searches loaded $pages index pages");
cmp_ok($max, '>', 1, "the hottest of them has usage count $max, raised by the searches' pins");

$node->stop;
done_testing();

# A session's cache of an hnsw index's upper layers (src/hnsw/upper.c) stays
# the same as the index's pages through inserts, deletes with VACUUM, and on
# a standby replaying them.  One session on the primary and one on the
# standby stay open throughout; after each change (made by other sessions),
# each runs enough searches to make its cache again, and hnsw_check, which
# compares a current cache with a fresh walk of the pages, finds nothing.
# A change of the upper layers that did not bump the metapage's
# upper_version would leave the cache looking current but stale, and
# hnsw_check would report it.  The
# server log must show the caches being made (DEBUG1), so the checks are not
# vacuous; and searches through the cache must give what exact search gives
# (recall@10 >= 0.97 at ef_search 100 against the sequential scan).
# m = 4, so that 1 / 16 of the elements reach layer 2: 3,000 rows give a
# cache of about 190 elements, made after about 24 searches.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $primary = PostgreSQL::Test::Cluster->new('upper_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "autovacuum = off\njit = off\nlog_min_messages = debug1\n");
$primary->start;
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('upper_standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->append_conf('postgresql.conf', "log_min_messages = debug1\n");
$standby->start;

$primary->safe_psql('postgres', q{
	CREATE EXTENSION vectorann;
	SELECT setseed(0.5);
	CREATE TABLE t (id int PRIMARY KEY, v vector(12));
	INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 12) d WHERE i > 0)
	FROM generate_series(1, 3000) i;
	CREATE TABLE q AS SELECT i AS qid, ARRAY(SELECT random()::real FROM generate_series(1, 12) d WHERE i > 0)::vector(12) AS v
	FROM generate_series(1, 200) i;
});

# 200 searches at ef_search 100, their recall@10 against exact search (the
# distance plus 0 cannot use the index; the standby allows no temporary
# tables), then hnsw_check.  Prints the recall, then the problems of kind
# "cache" found and all problems found.  (Inserts may leave an element
# unreachable until VACUUM relinks it, which hnsw_check reports too: not
# this test's business.)
my $search_and_check = q{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 100;
	SELECT round(avg(cardinality(ARRAY(SELECT unnest(f) INTERSECT SELECT unnest(e))) / 10.0), 3)
	FROM (SELECT ARRAY(SELECT t.id FROM t ORDER BY t.v <-> q.v LIMIT 10) AS f,
	             ARRAY(SELECT t.id FROM t ORDER BY (t.v <-> q.v) + 0, t.id LIMIT 10) AS e
	      FROM q) x;
	SELECT count(*) FILTER (WHERE problem = 'cache'),
	       coalesce(string_agg(problem || ': ' || detail, '; '), '')
	FROM hnsw_check('t_v_idx');
};

# A session kept open across the steps (psql reading its standard input),
# so that its cache outlives the changes other sessions make.
sub open_session
{
	my ($node) = @_;
	my %s = (in => '', out => '', err => '', node => $node);
	$s{timer} = IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default);
	$s{h} = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-f', '-' ],
		'<', \$s{in}, '>', \$s{out}, '2>', \$s{err}, $s{timer});
	return \%s;
}

# Run sql in session s; returns its lines of output.
sub session_run
{
	my ($s, $sql) = @_;
	$s->{out} = '';
	$s->{in} .= "$sql\n\\echo __done__\n";
	$s->{h}->pump until $s->{out} =~ /__done__/ || $s->{timer}->is_expired
	  || !$s->{h}->pumpable;
	die "session failed: $s->{err}" unless $s->{out} =~ /__done__/;
	return grep { $_ ne '' && $_ ne '__done__' } split /\n/, $s->{out};
}

# In session s: 200 searches (enough to (re)make its cache, whose elements
# number about 8 * 24), then hnsw_check, which compares the cache with the
# pages.
sub step
{
	my ($s, $name) = @_;
	my $node = $s->{node};
	my $log_at = -s $node->logfile;
	my ($recall, $found) = session_run($s, $search_and_check);
	my ($problems, $all) = split /\|/, $found, 2;
	note("$name: hnsw_check: $all") if $all ne '';
	is($problems, 0, "$name: hnsw_check finds the cache the same as the pages");
	cmp_ok($recall, '>=', 0.97, "$name: recall\@10 through the cache ($recall)");
	my $log = slurp_file($node->logfile, $log_at);
	like($log, qr/hnsw index "t_v_idx": cached layers \d+ to \d+ for searches/,
		"$name: a cache was made");
}

$primary->safe_psql('postgres', 'CREATE INDEX t_v_idx ON t USING hnsw (v vector_l2_ops) WITH (m = 4)');
$primary->wait_for_catchup($standby);
my %sessions = (primary => open_session($primary), standby => open_session($standby));

sub steps
{
	my ($name) = @_;
	$primary->wait_for_catchup($standby);
	step($sessions{$_}, "$_, $name") for qw(primary standby);
}

steps('after the build');

# inserts: about 60 new elements of level >= 2, linked into the upper layers
$primary->safe_psql('postgres', q{
	INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 12) d WHERE i > 0)
	FROM generate_series(3001, 4000) i;
});
steps('after inserts');

# deletes and VACUUM: upper elements freed, lists repaired, the entry point
# moved if it was deleted; then inserts that reuse the freed slots
$primary->safe_psql('postgres', q{
	DELETE FROM t WHERE id % 3 = 0;
	VACUUM t;
	INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 12) d WHERE i > 0)
	FROM generate_series(4001, 4500) i;
});
steps('after deletes, VACUUM and inserts');

# VACUUM alone (its repair of the lists)
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id % 5 = 0; VACUUM t;');
steps('after deletes and VACUUM');

for my $s (values %sessions)
{
	$s->{in} .= "\\q\n";
	$s->{h}->finish;
}
$standby->stop;
$primary->stop;
done_testing();

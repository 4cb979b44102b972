# Shared crash-recovery step of the TAP tests (002 hnsw, 020 quantized hnsw,
# 022 and 023 quantized ivfflat): four pgbench clients run insert scripts
# against a node until enough rows are committed, the postmaster is killed
# with SIGKILL in the middle of them, and the node is started again.
package VaCrash;
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Exporter 'import';
our @EXPORT_OK = qw(crash_during_inserts);

# crash_during_inserts(NODE, MIN_ROWS, [SQL, WEIGHT], ...): run the SQL
# scripts (one statement each, picked by WEIGHT) from 4 pgbench clients until
# the table items has more than MIN_ROWS rows, kill -9 the postmaster, check
# that pgbench's clients were cut off (status 2, "aborted": the crash hit
# running inserts), restart the node (backends of the killed postmaster may
# linger a moment) and check that more than MIN_ROWS committed rows are back.
# Returns the number of rows recovered.
sub crash_during_inserts
{
	my ($node, $min_rows, @scripts) = @_;
	my @files;
	for my $i (0 .. $#scripts)
	{
		my ($sql, $weight) = @{ $scripts[$i] };
		my $file = "$PostgreSQL::Test::Utils::tmp_check/crash_insert_$i.sql";
		open(my $fh, '>', $file) or die "cannot write $file: $!";
		print $fh "$sql\n";
		close $fh;
		push @files, '-f', "$file\@$weight";
	}
	my ($out, $err) = ('', '');
	my $pgbench = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', '60', @files,
		  '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$out, '2>', \$err);
	$node->poll_query_until('postgres', "SELECT count(*) > $min_rows FROM items")
	  or die 'inserts did not progress';
	$node->kill9;
	# pgbench ends with status 2 ("errors in the benchmark run") only when
	# its clients lose their connections; 0 if the load had already
	# finished, 1 if it never started
	$pgbench->finish;
	is($pgbench->result(0), 2, 'pgbench clients were cut off by the crash')
	  or diag($err);
	like($err, qr/aborted/, 'pgbench reports its aborted clients');

	my $started = 0;
	for (1 .. 30)
	{
		last if ($started = $node->start(fail_ok => 1));
		$node->{_pid} = undef;    # the failed start read the stale pid file
		sleep 1;
	}
	ok($started, 'restarted after the crash');
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
	cmp_ok($rows, '>', $min_rows, "recovered $rows committed rows");
	return $rows;
}

1;

#!/bin/bash
# tools/pgindent.sh [--check] [FILE...]
#
# Format the C sources the way PostgreSQL formats its own and its contrib
# modules': pg_bsd_indent (Debian package pg-bsd-indent) with the options
# PostgreSQL 15's pgindent passes it, and a list of typedef names so that
# declarations are laid out as declarations.  PostgreSQL's pgindent wrapper
# and its typedefs.list are not packaged, so the list is made here, each
# run, from:
#   - every typedef in PostgreSQL 15's server headers
#     ($PG_INCLUDEDIR_SERVER, default: pg_config --includedir-server, else
#     /usr/include/postgresql/15/server);
#   - every typedef in src/ itself;
#   - the C library and SIMD intrinsic types src/ uses, which no PostgreSQL
#     header defines (listed below).
#
# Without FILE arguments it formats every src/**/*.c and src/**/*.h.
# Files are rewritten in place, only when their formatting changes.
# --check: rewrite nothing; list the files that would change (with a diff
# of each on stderr) and exit 1 if there are any, 0 otherwise.
#
# Besides pg_bsd_indent, the script removes trailing white space (as
# pgindent does before indenting) and puts one space between a function's
# return type and its "*" (as pgindent does after).  Code pg_bsd_indent
# cannot lay out (inline assembly) is kept between /* INDENT OFF */ and
# /* INDENT ON */.  PGINDENT_TYPEDEFS_OUT=path keeps a copy
# of the typedef list made.  Needs bash, perl, diff.
set -euo pipefail

cd "$(dirname "$0")/.."

check=0
if [ "${1:-}" = "--check" ]; then
	check=1
	shift
fi

INDENT=${PG_BSD_INDENT:-pg_bsd_indent}
if ! command -v "$INDENT" >/dev/null 2>&1; then
	echo "pgindent.sh: $INDENT not found (apt-get install pg-bsd-indent)" >&2
	exit 2
fi

if [ -z "${PG_INCLUDEDIR_SERVER:-}" ]; then
	PG_INCLUDEDIR_SERVER=$(${PG_CONFIG:-pg_config} --includedir-server 2>/dev/null ||
		echo /usr/include/postgresql/15/server)
fi
if [ ! -f "$PG_INCLUDEDIR_SERVER/postgres.h" ]; then
	echo "pgindent.sh: no PostgreSQL server headers in $PG_INCLUDEDIR_SERVER" >&2
	exit 2
fi

# The options of PostgreSQL 15's pgindent.
OPTS="-bad -bap -bbb -bc -bl -cli1 -cp33 -cdb -nce -d0 -di12 -nfc1 -i4 -l79 -lp -lpl -nip -npro -sac -tpg -ts4"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $# -gt 0 ]; then
	printf '%s\n' "$@" >"$work/files"
else
	find src -name '*.[ch]' | LC_ALL=C sort >"$work/files"
fi

# Typedef names: for each "typedef ... ;" statement (comments, preprocessor
# lines, attributes (__attribute__, pg_attribute_*), bodies in braces and
# array bounds taken out), the name
# in "(*name)" for a function pointer, the name before the parameter list
# for a function type, else the last identifier of each declarator.
typedef_names() {
	perl -e '
		my %names;
		for my $file (@ARGV) {
			open(my $fh, "<", $file) or next;
			local $/;
			my $s = <$fh>;
			close $fh;
			$s =~ s{/\*.*?\*/}{ }gs;
			$s =~ s{//[^\n]*}{}g;
			$s =~ s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{}gm;
			$s =~ s{__attribute__\s*\(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\)}{}g;
			$s =~ s{\bpg_attribute_\w+\s*\([^()]*\)}{}g;
			while ($s =~ /\btypedef\b/g) {
				my $start = pos($s);
				my ($depth, $i) = (0, $start);
				for (; $i < length($s); $i++) {
					my $c = substr($s, $i, 1);
					$depth++ if $c eq "{";
					$depth-- if $c eq "}";
					last if $c eq ";" && $depth == 0;
				}
				my $t = substr($s, $start, $i - $start);
				pos($s) = $i;
				1 while $t =~ s/\{[^{}]*\}/ /g;
				$t =~ s/\[[^\]]*\]//g;
				if ($t =~ /\(\s*\*+\s*(\w+)\s*\)/) {
					$names{$1} = 1;
				} elsif ($t =~ /(\w+)\s*\(/) {
					$names{$1} = 1;
				} else {
					for my $decl (split /,/, $t) {
						$names{$1} = 1 if $decl =~ /(\w+)\s*$/;
					}
				}
			}
		}
		print "$_\n" for sort keys %names;
	' "$@"
}

{
	find "$PG_INCLUDEDIR_SERVER" src -name '*.[ch]' -print0 |
		xargs -0 perl -e 'print "$_\n" for @ARGV' >"$work/sources"
	mapfile -t sources <"$work/sources"
	typedef_names "${sources[@]}"
	# C library and SIMD intrinsic types src/ uses (no PostgreSQL header
	# defines them).
	printf '%s\n' FILE size_t ssize_t va_list \
		int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t \
		__m128 __m128d __m128i __m256 __m256d __m256i __m512 __m512d __m512i \
		__mmask8 __mmask16 __mmask32 __mmask64
} | grep -E '^[A-Za-z_][A-Za-z0-9_]*$' | LC_ALL=C sort -u >"$work/typedefs.list"
if [ -n "${PGINDENT_TYPEDEFS_OUT:-}" ]; then
	cp "$work/typedefs.list" "$PGINDENT_TYPEDEFS_OUT"
fi

changed=0
while read -r f; do
	perl -pe 's/[ \t]+$//' "$f" >"$work/in.c"
	"$INDENT" $OPTS -U"$work/typedefs.list" "$work/in.c" "$work/indented.c" 2>"$work/err" || {
		echo "pgindent.sh: $INDENT failed on $f:" >&2
		cat "$work/err" >&2
		exit 2
	}
	# pg_bsd_indent lines up a function's return type on a line of its own
	# as a declaration ("char	   *"); PostgreSQL keeps one space there.
	perl -pe 's/^([A-Za-z_][A-Za-z0-9_ ]*[A-Za-z0-9_])[ \t]+(\*+)$/$1 $2/' \
		"$work/indented.c" >"$work/out.c"
	if [ -s "$work/err" ]; then
		echo "pgindent.sh: $f:" >&2
		cat "$work/err" >&2
	fi
	if ! cmp -s "$f" "$work/out.c"; then
		changed=1
		if [ $check = 1 ]; then
			echo "$f"
			diff -u "$f" "$work/out.c" | sed "s|$work/out.c|$f (formatted)|" >&2 || true
		else
			cp "$work/out.c" "$f"
			echo "formatted $f"
		fi
	fi
done <"$work/files"

if [ $check = 1 ] && [ $changed = 1 ]; then
	exit 1
fi
exit 0

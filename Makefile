# PGXS build of the vectorann extension.
#   make && make install            build and install against pg_config on PATH
#   make installcheck               pg_regress suite (sql/*.sql vs expected/*.out)
#   make prove-installcheck         TAP suite in test/t (needs a PostgreSQL server install)
#   make WERROR=1                   treat warnings as errors (CI does)
#   make emulated-kernel-check      every SIMD kernel against scalar on any CPU
#                                   (SIMDe emulation; needs libsimde-dev)

EXTENSION = vectorann
MODULE_big = vectorann
DATA = sql/vectorann--0.2.0.sql sql/vectorann--0.1.0.sql sql/vectorann--0.1.0--0.2.0.sql

SRCS = src/vectorann.c \
       $(wildcard src/type/*.c) \
       $(wildcard src/distance/*.c) \
       $(wildcard src/common/*.c) \
       $(wildcard src/quant/*.c) \
       $(wildcard src/hnsw/*.c) \
       $(wildcard src/ivfflat/*.c)
OBJS = $(SRCS:.c=.o)

# Every sql/*.sql except the install script is a pg_regress test, run in name order.
REGRESS = $(sort $(patsubst sql/%.sql,%,$(filter-out sql/vectorann--%.sql,$(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=vectorann

# "make installcheck" runs pg_regress, then the TAP tests (PGXS);
# "make installcheck TAP_TESTS=" runs pg_regress alone and
# "make prove-installcheck" (below) the TAP tests alone.
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -I$(srcdir)/src -I$(libpq_srcdir)
# libpq: vectorann_knn's connections to shards (src/common/knn_remote.c)
SHLIB_LINK_INTERNAL = $(libpq)
# -Wno-unused-parameter: fmgr and index AM callbacks have fixed signatures.
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers $(if $(WERROR),-Werror)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies (without --enable-depend): rebuild
# every object when any header changes, so a struct change never leaves
# objects compiled against the old layout.
VA_HEADERS = $(wildcard src/*.h src/*/*.h)
$(OBJS) $(OBJS:.o=.bc): $(VA_HEADERS)

.PHONY: prove-installcheck
prove-installcheck:
	$(prove_installcheck)

# test/kernels/simd_emulated: every SIMD source, src/distance/distance_*.c,
# compiled with VA_KERNEL_EMULATE (intrinsics from SIMDe, portable C) and
# linked with the scalar reference in distance.c, so every SIMD kernel's
# logic is checked against the scalar one on any CPU.  The program is given
# the SIMD files' names and fails if it has no comparisons for one of them.
# Same flags as the extension (PGXS CPPFLAGS/CFLAGS, so WERROR=1 applies);
# no -march.  -Wno-psabi: GCC notes that SIMDe's 64-byte vector types are
# passed by value.
EMULATED_KERNEL_TEST = test/kernels/simd_emulated
EMULATED_KERNEL_SIMD_SRCS = $(sort $(wildcard src/distance/distance_*.c))
EXTRA_CLEAN += $(EMULATED_KERNEL_TEST)

$(EMULATED_KERNEL_TEST): test/kernels/simd_emulated.c src/distance/distance.c $(EMULATED_KERNEL_SIMD_SRCS) $(wildcard src/distance/*.h) src/vectorann.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -DVA_KERNEL_EMULATE -Wno-psabi -o $@ test/kernels/simd_emulated.c src/distance/distance.c $(EMULATED_KERNEL_SIMD_SRCS) -lm

.PHONY: emulated-kernel-check
emulated-kernel-check: $(EMULATED_KERNEL_TEST)
	./$(EMULATED_KERNEL_TEST) $(notdir $(EMULATED_KERNEL_SIMD_SRCS))

# test/bench/rabitq_kernel_bench: ns per call of the RaBitQ code kernel
# (scalar, AVX2, AVX-512 VNNI; the real instructions) at padded 832 and
# 3072, bits 1, 2, 4, 8.  Same flags as the extension; see test/bench/RESULTS.md.
RABITQ_KERNEL_BENCH = test/bench/rabitq_kernel_bench
EXTRA_CLEAN += $(RABITQ_KERNEL_BENCH)

$(RABITQ_KERNEL_BENCH): test/bench/rabitq_kernel_bench.c src/distance/distance.c $(EMULATED_KERNEL_SIMD_SRCS) $(wildcard src/distance/*.h) src/vectorann.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ test/bench/rabitq_kernel_bench.c src/distance/distance.c $(EMULATED_KERNEL_SIMD_SRCS) -lm

.PHONY: rabitq-kernel-bench
rabitq-kernel-bench: $(RABITQ_KERNEL_BENCH)
	./$(RABITQ_KERNEL_BENCH)

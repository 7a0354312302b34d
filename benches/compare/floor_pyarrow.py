"""The pyarrow floor of SPEC §8: what `spotcheck score` costs at the least, done by pyarrow — read
the two input tables (enterprises and emissions, Parquet) and write the same output table as
`spotcheck score` wrote (zstd level 1, row groups of 2^20 rows, dictionaries on), no computing in
between. The output table is loaded from spotcheck's own output before the clock starts, so the
write encodes exactly the bytes' worth spotcheck encodes. Prints its wall clock and the CPU time
(user + system, all threads) of the timed part.

Usage: python3 floor_pyarrow.py ENTERPRISES.parquet EMISSIONS.parquet SCORED.parquet OUT.parquet
"""

import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq


def main():
    ent, emi, scored, out = sys.argv[1:5]
    table = pq.read_table(scored)
    table = pa.Table.from_batches(table.to_batches())  # fully in memory before the clock
    start = time.perf_counter()
    cpu = time.process_time()
    e = pq.read_table(ent)
    m = pq.read_table(emi)
    pq.write_table(table, out, compression="zstd", compression_level=1, row_group_size=1 << 20)
    t = time.perf_counter() - start
    cpu = time.process_time() - cpu
    print(f"pyarrow floor: {t:.3f} s, {cpu:.2f} s CPU (read {e.num_rows} + {m.num_rows} rows, wrote {table.num_rows}; pyarrow {pa.__version__})")


if __name__ == "__main__":
    main()

# The `wasmtime serve` options llm-proxy runs with (sourced by scripts/run.sh
# and bench/run.sh, so the benchmark measures what users run):
#   -S cli                       offer wasi:cli: the environment, where settings live
#   -S p3 -W component-model-async
#                                serve WASIp3 components (the default build), whose
#                                instances are reused: up to 16 requests at once, ~128
#                                in all (a WASIp2 build runs with them too)
#   -O pooling-allocator         preallocated instance slots: cheap per-request instantiation
#   pooling-memory-keep-resident=1MiB, pooling-table-keep-resident=64KiB
#                                reset a finished instance's memory in place instead of
#                                returning it to the OS: fewer page faults and TLB flushes
#                                per request (the component's memory starts at 192 KiB)
#   pooling-pagemap-scan=auto    reset only the pages a request dirtied (Linux 6.7+
#                                PAGEMAP_SCAN; ignored where unsupported): keeps RSS low
SERVE_OPTS=(-S cli -S p3 -W component-model-async -O "pooling-allocator,pooling-memory-keep-resident=1048576,pooling-table-keep-resident=65536,pooling-pagemap-scan=auto")

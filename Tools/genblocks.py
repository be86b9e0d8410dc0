#!/usr/bin/env python3
"""Writes OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.

usage: genblocks.py SERIES HOURS STEP_SECONDS > data.om

Each family is contiguous with one # TYPE line, timestamps are in seconds, counters end in
_total, samples of a series are in time order, and the file ends with # EOF, as promtool wants.
The data ends an hour ago so every block is complete.
"""
import math
import sys
import time

series, hours, step = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
end = int(time.time()) - 3600
start = end - int(hours * 3600)
out = sys.stdout
out.write("# HELP skiff_demo_gauge A slowly changing gauge.\n# TYPE skiff_demo_gauge gauge\n")
for i in range(series):
    for t in range(start, end, step):
        out.write(f'skiff_demo_gauge{{job="demo",series="{i}"}} {i + math.sin(t / 600.0):.6f} {t}\n')
out.write("# HELP skiff_demo_requests A counter.\n# TYPE skiff_demo_requests counter\n")
for i in range(min(series, 5)):
    for t in range(start, end, step):
        out.write(f'skiff_demo_requests_total{{job="demo",series="{i}"}} {(t - start) // step} {t}\n')
out.write("# EOF\n")

# SPDX-License-Identifier: ISC
# The chart of bench/run.sh (called by bench/report.py):
#     gnuplot -e "datafile='chart.dat'; outfile='performance.png'; subtitle='...'" performance.gp
# chart.dat: one row per configuration, "label" then median, min and max of
# tput1 tput4 (Gbit/s), lat_p50 lat_p99 (µs), cps1 cps8 (thousands/s).
if (!exists("subtitle")) subtitle = ""

set terminal pngcairo size 1800,640 font "DejaVu Sans,11" noenhanced
set output outfile
set datafile missing "NaN"

set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.95 relative
set errorbars small
set grid ytics lc rgb "#dddddd"
set border 3
set xtics nomirror scale 0
set ytics nomirror
set key top right
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0

# Bars of a 2-series cluster with gap 1 sit at x - 1/6 and x + 1/6.
lbl(v, f) = (v == v) ? sprintf(f, v) : ""
gb(v) = (v != v) ? "" : (v >= 10) ? sprintf("%.0f", v) : (v >= 1) ? sprintf("%.1f", v) : sprintf("%.2f", v)

if (exists("nconf")) set xrange [-0.6:nconf - 0.4]

set multiplot layout 1,3 title "zcc and its peers, two namespaces on one veth pair\n".subtitle

set title "iperf3 throughput (Gbit/s, log scale, higher is better)"
set logscale y
set yrange [0.1:*]
set autoscale yfixmax
set offsets 0, 0, graph 0.10, 0
plot datafile using 2:3:4:xtic(1) title "1 stream" lc rgb "#3465a4", \
     '' using 5:6:7 title "4 streams" lc rgb "#73d216", \
     '' using ($0 - 1.0/6):4:(gb($2)) with labels offset 0,0.7 font ",9" notitle, \
     '' using ($0 + 1.0/6):7:(gb($5)) with labels offset 0,0.7 font ",9" notitle

unset logscale y
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set title "64-byte ping-pong, half round trip (µs, lower is better)"
plot datafile using 8:9:10:xtic(1) title "p50" lc rgb "#f57900", \
     '' using 11:12:13 title "p99" lc rgb "#cc0000", \
     '' using ($0 - 1.0/6):10:(lbl($8, "%.0f")) with labels offset 0,0.7 font ",9" notitle, \
     '' using ($0 + 1.0/6):13:(lbl($11, "%.0f")) with labels offset 0,0.7 font ",9" notitle

set title "new connections (thousands per second, higher is better)"
plot datafile using 14:15:16:xtic(1) title "1 in flight" lc rgb "#75507b", \
     '' using 17:18:19 title "8 in flight" lc rgb "#c17d11", \
     '' using ($0 - 1.0/6):16:(lbl($14, "%.1f")) with labels offset 0,0.7 font ",9" notitle, \
     '' using ($0 + 1.0/6):19:(lbl($17, "%.1f")) with labels offset 0,0.7 font ",9" notitle

unset multiplot

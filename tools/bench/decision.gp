# SPDX-License-Identifier: MIT
# Decision cost against rule count, from bench_decision's CSV.
#   gnuplot -e "csv='decision.csv'; out='decision.png'" tools/bench/decision.gp
set terminal pngcairo size 900,560 font "sans,10"
set output out
set datafile separator ","
set termoption noenhanced
set title "taskscope decision cost (task gate + rule lookup + verdict), BPF_PROG_TEST_RUN"
set xlabel "rules of the task"
set ylabel "ns per decision (bare loop subtracted)"
set logscale x 10
set xrange [0.7:14000]
set yrange [0:*]
set key top left
set grid
# Columns: 1 kind, 2 rules, 3 depth, 4 outcome, 5 ns, 7 one lookup ns.
# One series is the rows of one kind, depth and outcome (awk keeps the
# line unbroken, which a NaN filter inside gnuplot would not).
series(kind, depth, outcome) = sprintf("< awk -F, '$1==\"%s\" && $3==%d && $4==\"%s\"' %s", \
                                       kind, depth, outcome, csv)
plot series("path", 2, "hit")   using 2:5 with linespoints lw 2 title "path depth 2, hit", \
     series("path", 2, "miss")  using 2:5 with linespoints lw 2 title "path depth 2, miss", \
     series("path", 20, "hit")  using 2:5 with linespoints lw 2 title "path depth 20, hit", \
     series("path", 20, "miss") using 2:5 with linespoints lw 2 title "path depth 20, miss", \
     series("net", 0, "hit")    using 2:5 with linespoints lw 2 title "net, hit", \
     series("net", 0, "miss")   using 2:5 with linespoints lw 2 title "net, miss", \
     series("net", 0, "hit")    using 2:7 with lines dt 2 lc rgb "gray40" title "one hash lookup (reference)", \
     150 with lines dt 3 lc rgb "red" title "target at 1,000 rules (150 ns)"

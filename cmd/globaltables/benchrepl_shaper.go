package main

import (
	"context"
	"fmt"
	"io"
	"sort"
)

// compareShaper measures what the shaping proxies cost: pairs of steps
// with and without them, interleaved so that the machine's drift affects
// both alike, compared by the median over runs of the links' mean p50 and
// p99.
func compareShaper(ctx context.Context, out io.Writer, self string, cfg replConfig, pairs int) error {
	var p50 [2][]float64
	var p99 [2][]float64
	for i := 0; i < pairs; i++ {
		for mode, noShaper := range []bool{false, true} {
			c := cfg
			c.NoShaper = noShaper
			st, err := runReplStep(ctx, self, c, io.Discard)
			if err != nil {
				return err
			}
			var a, b float64
			for _, l := range st.Links {
				a += l.P50AllMs
				b += l.P99AllMs
			}
			n := float64(len(st.Links))
			p50[mode] = append(p50[mode], a/n)
			p99[mode] = append(p99[mode], b/n)
			fmt.Fprintf(out, "pair %d, %-15s p50 %.2f ms, p99 %.2f ms\n", i+1, map[bool]string{false: "with shaper:", true: "without shaper:"}[noShaper], a/n, b/n)
		}
	}
	med := func(v []float64) float64 {
		s := append([]float64(nil), v...)
		sort.Float64s(s)
		return s[len(s)/2]
	}
	fmt.Fprintf(out, "\nmedian over %d runs each at %d writes/s: with shaper p50 %.2f ms p99 %.2f ms; without p50 %.2f ms p99 %.2f ms; ratio p50 %.2f, p99 %.2f\n",
		pairs, cfg.Rate, med(p50[0]), med(p99[0]), med(p50[1]), med(p99[1]), med(p50[0])/med(p50[1]), med(p99[0])/med(p99[1]))
	return nil
}

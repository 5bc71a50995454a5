package drill

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
	"github.com/globaltables/globaltables/cmd/globaltables/experiment"
	"github.com/globaltables/globaltables/region"
)

// judge waits for convergence and decides the verdict: every acknowledged
// write is present in every region or overwritten by a newer write, and
// every region holds the same content.
func (r *run) judge(ctx context.Context, rec *experiment.Recording, within time.Duration) {
	after, ok, digests := experiment.Convergence(ctx, r.cfg.Endpoints, r.cfg.Table, within)
	r.event("converged: %v after %s", ok, after.Round(time.Millisecond))
	r.recoverWG.Wait()
	r.mu.Lock()
	for name, s := range r.recovered {
		r.res.Recover[name] = s
	}
	r.mu.Unlock()
	final := r.finalContent(ctx)
	byKey := map[string][]*experiment.Write{}
	for _, w := range rec.Writes {
		if w.Err == "" {
			byKey[w.Key] = append(byKey[w.Key], w)
		}
	}
	for key, ws := range byKey {
		fw := rec.WriteByID(final[key])
		if fw == nil || fw.Err != "" {
			// The final value is a write whose fate the client never
			// learned (it failed in a region that died): nothing to
			// compare versions with.
			r.res.Unknown++
			continue
		}
		for _, w := range ws {
			if fw.Version.Less(w.Version) {
				r.res.Lost = append(r.res.Lost, fmt.Sprintf("%s=%s (%s) lost to %s", key, w.ID, w.Token, fw.ID))
			}
		}
		if _, ok := final[key]; !ok {
			r.res.Lost = append(r.res.Lost, fmt.Sprintf("%s: no region holds it", key))
		}
	}
	sort.Strings(r.res.Lost)
	r.analyse(ctx, rec, after, ok, digests)
	r.res.Tables = r.checkFixtures(ctx, within)
	r.res.Passed = ok && len(r.res.Lost) == 0 && len(r.res.Tables) == 0
	switch {
	case len(r.res.Tables) > 0:
		r.res.Verdict = fmt.Sprintf("FAIL: %d problems with the drill's tables, e.g. %s", len(r.res.Tables), r.res.Tables[0])
	case r.res.Passed && len(r.fixtures) > 0:
		r.res.Verdict = fmt.Sprintf("PASS: no acknowledged write lost (%d keys checked, %d ended on a write of unknown fate); all regions converged; %d drill tables whole and ACTIVE everywhere", len(byKey), r.res.Unknown, len(r.fixtures))
	case r.res.Passed:
		r.res.Verdict = fmt.Sprintf("PASS: no acknowledged write lost (%d keys checked, %d ended on a write of unknown fate); all regions converged", len(byKey), r.res.Unknown)
	case !ok:
		r.res.Verdict = "FAIL: the regions did not converge"
	default:
		r.res.Verdict = fmt.Sprintf("FAIL: %d acknowledged writes lost, e.g. %s", len(r.res.Lost), r.res.Lost[0])
	}
}

// analyse turns what was recorded and measured into the drill's figures
// and per-phase counts.
func (r *run) analyse(ctx context.Context, rec *experiment.Recording, after time.Duration, ok bool, digests map[string]region.Digest) {
	// What the regions recorded is read even after Ctrl-C, briefly.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var records []region.ConflictRecord
	for _, ep := range r.cfg.Endpoints {
		var cs region.Conflicts
		if err := region.GetJSON(qctx, ep+region.ConflictsPath+"?limit=10000&table="+r.cfg.Table, &cs); err == nil {
			records = append(records, cs.Records...)
		}
	}
	r.res.Result = experiment.Analyse(rec, records, r.monitor.Links(), after, ok, digests)
	r.mu.Lock()
	r.res.Result.Events = append([]experiment.Event(nil), r.events...)
	r.mu.Unlock()
	r.phases[len(r.phases)-1].End = time.Now()
	r.res.Phases = r.phases
	r.countPhases(rec)
}

// interrupted ends a drill that Ctrl-C cut short at step i: the load is
// stopped, what ran is analysed, and the verdict says it was not judged.
func (r *run) interrupted(ctx context.Context, i int, s Step) {
	rec := r.stopLoad()
	rec.Interrupted = true
	r.event("interrupted at step %d (%s)", i+1, s.Kind)
	r.analyse(ctx, rec, 0, false, nil)
	r.res.Interrupted, r.res.Passed = true, false
	r.res.Verdict = fmt.Sprintf("INTERRUPTED at step %d (%s) after %s of load: not judged; the figures cover only the part that ran",
		i+1, s.Kind, r.res.Result.Duration())
}

// finalContent reads the workload's table from the first region, once the
// regions converged: key to the ID of the write it holds.
func (r *run) finalContent(ctx context.Context) map[string]string {
	final := map[string]string{}
	client := bench.Client(r.cfg.Endpoints[r.lab.Regions()[0]], 2)
	p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: aws.String(r.cfg.Table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		for _, it := range page.Items {
			k, _ := it["pk"].(*types.AttributeValueMemberS)
			w, _ := it["w"].(*types.AttributeValueMemberS)
			if k != nil && w != nil {
				final[k.Value] = w.Value
			}
		}
	}
	return final
}

// countPhases counts each phase's writes, reads, stale reads and
// conflicts, with the same Tally as the drill's other figures.
func (r *run) countPhases(rec *experiment.Recording) {
	for i := range r.res.Phases {
		ph := &r.res.Phases[i]
		ph.Tally = rec.Tally(func(start time.Time) bool { return !start.Before(ph.Start) && start.Before(ph.End) })
		ph.Conflicts = 0
		for _, c := range r.res.Result.Conflicted {
			if !c.DetectedAt.Before(ph.Start) && c.DetectedAt.Before(ph.End) {
				ph.Conflicts++
			}
		}
	}
}

/**
 * The issues of a run of an outside source (src/pipeline/translate-source.ts), kept in flat memory.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

/**
 * The issues of a run: the first `max` are kept, the others only counted by severity, so a file
 * of millions of bad lines does not hold millions of issues. `list()` ends with a line saying
 * how many were left out.
 */
export class IssueList {
  private readonly kept: OperationOutcomeIssue[] = [];
  private readonly omitted = new Map<string, number>();
  private total = 0;

  constructor(private readonly max: number) {}

  push(...issues: OperationOutcomeIssue[]): void {
    for (const issue of issues) {
      this.total++;
      // A fatal issue (an input abandoned) is always listed: it is the one that says why a run stopped.
      if (this.kept.length < this.max || issue.severity === 'fatal') this.kept.push(issue);
      else this.omitted.set(issue.severity, (this.omitted.get(issue.severity) ?? 0) + 1);
    }
  }

  get size(): number {
    return this.total;
  }

  list(): OperationOutcomeIssue[] {
    if (this.omitted.size === 0) return this.kept;
    const counts = [...this.omitted].map(([severity, n]) => `${n} ${severity}${n === 1 || severity === 'information' ? '' : 's'}`).join(', ');
    const text = `${this.total - this.kept.length} more issues not listed (${counts}); each rejected record's errors go with it to the rejects report (peerbridge translate --rejects) or the reject store (ingest without dryRun)`;
    return [...this.kept, { severity: 'information', code: 'informational', details: { text } }];
  }
}

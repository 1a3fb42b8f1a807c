/**
 * What the MLLP listener does with one HL7 v2 message: translate it with the source's mapping,
 * commit the accepted records and keep the rejected ones, and only then answer (HL7 v2
 * original-mode acknowledgment, https://hl7.org/fhir/uv/v2mappings/ and HL7 v2.5.1 ch. 2.9):
 * - `AA`: every record made from the message was stored (or it makes none: a DFT without H0038);
 * - `AE`: the message was read but a record was rejected (kept in the rejects store; ERR says why);
 * - `AR`: the message could not be read, or no feed takes its type (kept in the rejects store too).
 * ERR-3 carries the HL7 table 0357 code of each error (see errorCode).
 * When storing fails the promise rejects and the listener sends no acknowledgment at all, so the
 * sender keeps the message and sends it again: nothing is acknowledged that was not durably handled.
 */
import { buildAck, parseHl7 } from '../inbound/hl7v2';
import type { LoadedSource } from '../translate/types';
import { FhirError } from '../outcomes';
import { ingestSource, type SourceIngestDeps } from './ingest';
import type { RejectError } from './translate-source';
import { sourceOwners } from './reject-owners';

export function mllpIngest(source: LoadedSource, deps: SourceIngestDeps): (message: Buffer) => Promise<string> {
  return async (message: Buffer): Promise<string> => {
    const original = parseHl7(message.toString('latin1'), { input: 'mllp', n: 1 });
    let result: Awaited<ReturnType<typeof ingestSource>>;
    try {
      result = await ingestSource(source, [{ name: 'mllp', chunks: [message] }], false, deps);
    } catch (err) {
      // Not HL7 at all (no MSH): kept as a reject like any unreadable message, and refused.
      if (!(err instanceof FhirError) || err.status >= 500) throw err;
      const reason = err.outcome.issue.map((i) => i.details?.text ?? i.diagnostics ?? '').join('; ');
      await deps.saveRejects?.(
        [{ source: source.name, record: 1, input: 'mllp', where: 'message 1', errors: [{ reason, stage: 'parse' }], raw: message.toString('latin1') }],
        sourceOwners(source),
      );
      return buildAck(original, 'AR', [{ message: reason, code: '100' }]);
    }
    const { read, rejected } = result.report.records;
    // A message that makes no record (a DFT with no peer support charge) is accepted: there is nothing to keep.
    if (read > 0 && rejected === 0) return buildAck(original, 'AA');
    const errors = result.rejects.flatMap((r) =>
      r.errors.map((e) => ({ message: e.reason, code: errorCode(e), ...((e.source ?? e.field) ? { where: e.source ?? e.field } : {}) })),
    );
    // A reject without a record kind is the message itself: unreadable, or of a type no feed takes.
    const refused = read === 0 || result.rejects.some((r) => r.kind === undefined);
    return buildAck(original, refused ? 'AR' : 'AE', errors.length ? errors : [{ message: 'The message made no record' }]);
  };
}

/**
 * ERR-3 (HL7 table 0357) of a reject's error: the pipeline's own code when it has one (200-203: a
 * message no feed takes); 100 for a message whose segments could not be read; 102 for data the
 * mapping, the canonical checks or the profiles refused; 207 (application internal error) only
 * for what is not the message's fault.
 */
function errorCode(e: RejectError): string {
  if (e.code) return e.code;
  if (e.stage === 'parse') return '100';
  return DATA_STAGES.has(e.stage) ? '102' : '207';
}

const DATA_STAGES = new Set(['mapping', 'canonical', 'rules', 'fhir', 'validate']);

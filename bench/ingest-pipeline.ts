/**
 * The measured path of the ingest benchmark, shared by `bench/ingest.ts` and its RSS child
 * (`bench/ingest-child.ts`): canonical file -> `translateCanonical` -> every accepted resource
 * written as a PUT entry of one transaction Bundle to a file, honouring the write stream's
 * back-pressure so memory does not grow with the output.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import type { Resource } from '@medplum/fhirtypes';
import { loadRules } from '../src/domain/rules';
import { putEntry } from '../src/fhir/bundle';
import { loadPackageTerms } from '../src/fhir/context';
import { scanTopLevel } from '../src/inbound/json-records';
import type { PipelineDeps, RecordResult } from '../src/pipeline/canonical';
import { documentEvents, translateCanonical, type TranslateReport } from '../src/pipeline/translate-canonical';
import { Validator } from '../src/validation';

export const HIGH_WATER_MARK = 1 << 16;

export function loadDeps(): PipelineDeps {
  return { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms() };
}

/** Streams `{"resourceType":"Bundle","type":"transaction","entry":[...]}` to a file, entry by entry. */
export class BundleWriter {
  private readonly stream: WriteStream;
  private first = true;
  entries = 0;

  constructor(file: string) {
    this.stream = createWriteStream(file, { encoding: 'utf8', highWaterMark: HIGH_WATER_MARK });
    this.stream.write('{"resourceType":"Bundle","type":"transaction","entry":[\n');
  }

  /** Writes one record's resources; returns a promise only when the stream asks to wait. */
  add(resources: readonly Resource[]): void | Promise<void> {
    let text = '';
    for (const r of resources) {
      text += (this.first ? '' : ',\n') + JSON.stringify(putEntry(r));
      this.first = false;
      this.entries++;
    }
    if (!text) return;
    if (!this.stream.write(text)) {
      return once(this.stream, 'drain').then(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.stream.end('\n]}\n');
    await once(this.stream, 'finish');
  }
}

export type InputMode = 'stream' | 'whole';

export interface PipelineRun {
  mode: InputMode;
  ms: number;
  report: TranslateReport;
  entries: number;
}

/**
 * One run over `file`. `stream`: fs read stream (64 KiB chunks) -> scanTopLevel (one record parsed
 * at a time). `whole`: readFileSync + JSON.parse of the whole file -> documentEvents.
 */
export async function runPipeline(
  file: string,
  out: string,
  deps: PipelineDeps,
  mode: InputMode = 'stream',
  onRecord?: (resources: Resource[], result: RecordResult) => void,
): Promise<PipelineRun> {
  const t0 = performance.now();
  const writer = new BundleWriter(out);
  const events =
    mode === 'stream'
      ? scanTopLevel(createReadStream(file, { encoding: 'utf8', highWaterMark: HIGH_WATER_MARK }))
      : documentEvents(JSON.parse(readFileSync(file, 'utf8')));
  const report = await translateCanonical(events, deps, (resources, result) => {
    onRecord?.(resources, result);
    return writer.add(resources);
  });
  await writer.close();
  return { mode, ms: performance.now() - t0, report, entries: writer.entries };
}

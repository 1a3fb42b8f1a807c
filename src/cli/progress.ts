/**
 * A progress bar for a terminal (stderr): bytes read of the total, records, records per second.
 * Redrawn at most ten times a second (or at once with `force`, after the line was cleared to print
 * something above it); `done()` clears the line so the summary starts clean.
 */
export interface ProgressBar {
  update: (progress: { bytes: number; records: number }, force?: boolean) => void;
  done(): void;
}

const WIDTH = 30;

export function progressBar(stream: NodeJS.WriteStream, totalBytes: number, now: () => number = Date.now, unit = 'records'): ProgressBar {
  const started = now();
  let last = 0;
  let drawn = false;
  const draw = (bytes: number, records: number): void => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const fraction = totalBytes > 0 ? Math.min(bytes / totalBytes, 1) : 0;
    const filled = Math.round(fraction * WIDTH);
    const bar = totalBytes > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ` : '';
    const mb = (n: number): string => (n / 1048576).toFixed(1);
    const size = totalBytes > 0 ? `${mb(bytes)}/${mb(totalBytes)} MB` : `${mb(bytes)} MB`;
    stream.write(`\r${bar}${size}  ${records.toLocaleString('en-US')} ${unit}  ${Math.round(records / seconds).toLocaleString('en-US')}/s\x1b[K`);
    drawn = true;
  };
  return {
    update: ({ bytes, records }, force = false) => {
      const t = now();
      if (t - last < 100 && !force) return;
      last = t;
      draw(bytes, records);
    },
    done: () => {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}

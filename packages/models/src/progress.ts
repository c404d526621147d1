/** How fetch/verify report what they do. The default draws a bar on a TTY and prints plain lines otherwise. */
export interface Progress {
  /** A one-line status message. */
  line(message: string): void;
  /** Bytes processed of a known total for the current task; called often. */
  bytes(label: string, done: number, total: number): void;
  /** The current byte task finished. */
  endBytes(label: string): void;
}

export const silentProgress: Progress = { line() {}, bytes() {}, endBytes() {} };

export function defaultProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? ttyProgress(stream) : lineProgress(stream);
}

const mb = (n: number): string => (n / 1e6).toFixed(1);

function lineProgress(stream: NodeJS.WritableStream): Progress {
  // Plain logs (CI) get one line per finished task, not a stream of updates.
  const tasks = new Map<string, { t0: number; total: number }>();
  return {
    line: (message) => void stream.write(`${message}\n`),
    bytes(label, _done, total) {
      if (!tasks.has(label)) tasks.set(label, { t0: Date.now(), total });
    },
    endBytes(label) {
      const task = tasks.get(label);
      tasks.delete(label);
      if (task) stream.write(`${label} (${mb(task.total)} MB) in ${((Date.now() - task.t0) / 1000).toFixed(1)} s\n`);
    },
  };
}

function ttyProgress(stream: NodeJS.WriteStream): Progress {
  let lastDraw = 0;
  const clear = (): void => void stream.write('\r\x1b[2K');
  return {
    line(message) {
      clear();
      stream.write(`${message}\n`);
    },
    bytes(label, done, total) {
      const now = Date.now();
      if (now - lastDraw < 80 && done < total) return; // redraw at most ~12 times a second
      lastDraw = now;
      const width = 30;
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(frac * width);
      clear();
      stream.write(`${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(frac * 100)}% ${mb(done)}/${mb(total)} MB`);
    },
    endBytes(label) {
      clear();
      stream.write(`${label} done\n`);
    },
  };
}

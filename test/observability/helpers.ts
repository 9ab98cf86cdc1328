/**
 * What the observability tests share: a clock they move by hand, a logger keeping its lines, and
 * a reader of the Prometheus text format.
 */
import type { Logger } from '../../lib/logger.js';

/** A clock starting at `start` (ISO 8601), moved by `set` and `advance`. */
export function manualClock(start: string) {
  let time = Date.parse(start);
  return {
    now: () => new Date(time),
    ms: () => time,
    set(iso: string | number) {
      time = typeof iso === 'number' ? iso : Date.parse(iso);
    },
    advance(ms: number) {
      time += ms;
    },
  };
}

export interface LoggedLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A logger keeping every entry, in order. */
export function keepingLogger(): Logger & { readonly lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const write = (level: LoggedLine['level']) => (fields: object, message: string) => {
    lines.push({ level, fields: fields as Record<string, unknown>, message });
  };
  return { lines, info: write('info'), warn: write('warn'), error: write('error') };
}

/**
 * The value of the sample `name` with exactly `labels` in a Prometheus text exposition, or
 * undefined when there is none.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]));
    const keys = Object.keys(found);
    if (keys.length === Object.keys(labels).length && keys.every((key) => found[key] === labels[key])) return Number(match[3]);
  }
  return undefined;
}

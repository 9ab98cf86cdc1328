/**
 * Shared helpers of the revocation tests (not a test file itself): a checker on a manual clock,
 * a logger that keeps what it is told, a suite's QTSP, and certificate paths as node:crypto objects.
 */
import { createHash, X509Certificate } from 'node:crypto';

import { MemoryStorage } from '../../adapters/memory.js';
import type { Storage } from '../../lib/storage.js';
import type { AuthorityOptions, IssuedCertificate } from '../../tools/dev-pki/pki.js';
import type { Logger } from '../../lib/logger.js';
import { RevocationChecker, type RevocationSettings } from '../../lib/certificates/revocation/index.js';
import { Qtsp, type QtspOptions } from '../support/qtsp.js';
import { beforeSuite } from '../support/suite.js';

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  readonly #waiting = new Map<string, (() => void)[]>();

  info(fields: object, message: string): void {
    this.#record({ level: 'info', fields: fields as Record<string, unknown>, message });
  }

  warn(fields: object, message: string): void {
    this.#record({ level: 'warn', fields: fields as Record<string, unknown>, message });
  }

  error(fields: object, message: string): void {
    this.#record({ level: 'error', fields: fields as Record<string, unknown>, message });
  }

  /** Resolves once an entry of event `name` is logged (at once if one was). */
  async logged(name: string): Promise<void> {
    if (this.events(name).length) return;
    await new Promise<void>((resolve) => this.#waiting.set(name, [...(this.#waiting.get(name) ?? []), resolve]));
  }

  #record(entry: LogEntry): void {
    this.entries.push(entry);
    const event = entry.fields.event;
    if (typeof event !== 'string') return;
    for (const resolve of this.#waiting.get(event) ?? []) resolve();
    this.#waiting.delete(event);
  }

  events(name: string): Record<string, unknown>[] {
    return this.entries.filter((entry) => entry.fields.event === name).map((entry) => entry.fields);
  }
}

/** A clock that moves only when told. */
export class ManualClock {
  #time: number;

  constructor(start = Date.now()) {
    this.#time = start;
  }

  readonly now = (): Date => new Date(this.#time);

  advance(seconds: number): void {
    this.#time += seconds * 1000;
  }
}

export interface TestChecker {
  readonly checker: RevocationChecker;
  readonly clock: ManualClock;
  readonly logger: RecordingLogger;
  readonly storage: Storage;
}

/** A checker on its own memory storage (or the one given), a manual clock and a recording logger. */
export function testChecker(settings: Partial<RevocationSettings> = {}, options: { storage?: Storage; clock?: ManualClock } = {}): TestChecker {
  const clock = options.clock ?? new ManualClock();
  const logger = new RecordingLogger();
  const storage = options.storage ?? new MemoryStorage();
  const checker = new RevocationChecker(storage, { timeout: 1000, ...settings }, { now: clock.now, logger });
  return { checker, clock, logger, storage };
}

/** A path as identity verification hands it over: node:crypto certificates, leaf first, anchor last. */
export function pathOf(...certificates: IssuedCertificate[]): X509Certificate[] {
  return certificates.map((certificate) => new X509Certificate(certificate.der));
}

/** The certificate's `x5t#S256`. */
export function thumbprintOf(certificate: IssuedCertificate): string {
  return createHash('sha256').update(certificate.der).digest('base64url');
}

/**
 * A QTSP (root CA, CRL published, responder up) made before the suite's tests and closed after
 * them; with `restoreAfterEach`, its responder is started again and its counts reset after each test.
 */
export function suiteQtsp(name: string, options: QtspOptions & AuthorityOptions = {}, restoreAfterEach = false): Qtsp {
  const qtsp = beforeSuite(() => Qtsp.create(name, options), (made) => made.close());
  if (restoreAfterEach) {
    afterEach(async () => {
      await qtsp.startResponder();
      qtsp.resetCounts();
    });
  }
  return qtsp;
}

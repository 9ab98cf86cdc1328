/**
 * The EBA PSD2 register as the tests publish it: entities in the shape of the EBA's JSON data
 * specification, the golden copy, its ZIP with the SHA-256 inside, served on a loopback port.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import yazl from 'yazl';

export interface EntitySpec {
  /** `CA_OwnerID`, e.g. `FR_ACPR`. */
  readonly owner: string;
  /** `ENT_NAT_REF_COD`: the authorisation number. */
  readonly number: string;
  readonly type?: string;
  readonly name?: string;
  /** `ENT_AUT`: authorisation, withdrawal, … dates. */
  readonly dates: readonly string[];
  /** `Services`: host country → codes (a lone code is written as a string, as the specification allows). */
  readonly services: Readonly<Record<string, string | readonly string[]>>;
}

/** One entity in the register's shape. */
export function ebaEntity(spec: EntitySpec): Record<string, unknown> {
  return {
    CA_OwnerID: spec.owner,
    EntityCode: `${spec.owner}!${spec.number}`,
    EntityType: spec.type ?? 'PSD_PI',
    Services: Object.entries(spec.services).map(([country, codes]) => ({ [country]: codes })),
    Properties: [
      { ENT_COD_TYP: 'NON_LEI' },
      { ENT_NAT_REF_COD: spec.number },
      { ENT_NAM: spec.name ?? `TPP ${spec.number}` },
      { ENT_COU_RES: spec.owner.slice(0, 2) },
      { ENT_AUT: [...spec.dates] },
    ],
    __EBA_EntityVersion: '20261206213506543',
  };
}

/** The golden copy: the EBA's two lists, a first one of other records, then the entities. */
export function goldenCopy(entities: readonly Record<string, unknown>[]): string {
  return JSON.stringify([[{ Disclaimer: 'test register' }], entities]);
}

export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The ZIP the EBA publishes: the golden copy and a `.sha256` entry (the given digest, or the right one). */
export function registerZip(json: string | Buffer, digest: string = sha256(json)): Promise<Buffer> {
  return zipOf({ 'PSD2_register.json': json, 'PSD2_register.json.sha256': `${digest}  PSD2_register.json\n` });
}

/** A ZIP of these entries (name → content), deflated. */
export function zipOf(entries: Readonly<Record<string, string | Buffer>>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(entries)) zip.addBuffer(Buffer.from(content), name);
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.once('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.once('error', reject);
  });
}

export interface FileServer {
  /** The URL of `name` on the server. */
  url(name: string): string;
  /** Publishes `body` as `name` (or stops answering it: 503). */
  publish(name: string, body: string | Buffer | undefined): void;
  /** Requests answered, by path. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

/** A loopback HTTP server on an ephemeral port, answering what was published. */
export async function fileServer(): Promise<FileServer> {
  const files = new Map<string, Buffer>();
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = files.get(path);
    if (!body) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    publish: (name, body) => {
      if (body === undefined) files.delete(`/${name}`);
      else files.set(`/${name}`, Buffer.from(body));
    },
    hits,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Register entities of the cases the tests tell apart, under `FR_ACPR`. */
export const CASES = {
  /** Authorised in 2019, AIS and PIS in France and Germany. */
  authorised: { owner: 'FR_ACPR', number: '10001', dates: ['2019-03-01'], services: { FR: ['PS_070', 'PS_080'], DE: ['PS_070', 'PS_080'] } },
  /** Authorised in 2019, withdrawn in 2025. */
  withdrawn: { owner: 'FR_ACPR', number: '10002', dates: ['2019-03-01', '2025-06-30'], services: { FR: ['PS_070', 'PS_080'] } },
  /** A German AISP, passported to Austria only. */
  notPassported: { owner: 'DE_BAFIN', number: '10003', type: 'PSD_AISP', dates: ['2020-01-15'], services: { DE: 'PS_080', AT: 'PS_080' } },
  /** Account information only, in France. */
  aisOnly: { owner: 'FR_ACPR', number: '10004', type: 'PSD_AISP', dates: ['2020-01-15'], services: { FR: 'PS_080' } },
} as const satisfies Record<string, EntitySpec>;

/** The `tppRegister` option as resolved with its defaults, without its register; no sweep, no retry before a test asks. */
export const SETTINGS = {
  country: 'FR', environments: ['bank'], refreshInterval: 86_400, sweepInterval: 0, maxShrink: 0.2, retryDelay: 3600, maxSuspensions: 5, maxSuspensionShare: 0.1, exemptions: [],
} as const;

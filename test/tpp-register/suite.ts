/**
 * A server on Redis checking bank TPPs against a register served over HTTP on a loopback port,
 * shared by the register's server tests.
 */
import type { TppRegisterOptions } from '../../lib/index.js';
import { EbaRegister, RedisStorage } from '../../lib/index.js';
import { bankTpp } from '../support/pki.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startServer, type TestServer } from '../support/server.js';
import { CASES, ebaEntity, fileServer, goldenCopy, registerZip, type EntitySpec, type FileServer } from './fixtures.js';

export const REDIRECT_URI = 'https://tpp.example/callback';
export type Role = 'PSP_AI' | 'PSP_PI';

/** Tonight's register: what the cases say, `changes` applied. */
export const copyOf = (changes: Partial<Record<keyof typeof CASES, Partial<EntitySpec>>> = {}) => goldenCopy(
  Object.entries(CASES).map(([name, spec]) => ebaEntity({ ...spec, ...changes[name as keyof typeof CASES] })),
);

export const tppOf = (country: string, ncaId: string, number: string, roles: Role[]) => bankTpp({ roles, country, ncaId, authorisationNumber: number, organization: `TPP ${number}` });

/** A server on Redis checking bank TPPs against a register served over HTTP (yesterday's: the withdrawn TPP still authorised). */
export interface RegisterSetup { readonly files: FileServer; readonly redis: TestRedis; readonly server: TestServer }

export function registerSuite(sweepInterval: number, tppRegister: Partial<TppRegisterOptions> = {}): RegisterSetup {
  const setup = {} as { files: FileServer; redis: TestRedis; server: TestServer };
  before(async () => {
    setup.files = await fileServer();
    setup.files.publish('register.zip', await registerZip(copyOf({ withdrawn: { dates: ['2019-03-01'] } })));
    setup.redis = await startRedis();
    setup.server = await startServer({
      options: {
        storage: new RedisStorage(setup.redis.client, { keyPrefix: setup.redis.keyPrefix, cache: false }),
        suspensionCacheTtl: 0,
        tppRegister: { register: new EbaRegister({ url: setup.files.url('register.zip') }), country: 'FR', sweepInterval, ...tppRegister },
      },
    });
    await setup.server.logged((entry) => entry.fields.event === 'tpp_register.loaded');
  });
  after(async () => {
    await setup.server?.close();
    await setup.redis?.close();
    await setup.files?.close();
  });
  return setup;
}


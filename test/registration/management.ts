/**
 * What the client management tests (RFC 7592) share: one server with its in-memory storage, the
 * certificates of two organizations, and the bodies and records they read.
 */
import { MemoryStorage } from '../../adapters/memory.js';
import { bankTpp, sandboxTpp, type TppCredentials } from '../support/pki.js';
import type { TestServer } from '../support/server.js';
import { beforeSuite, suiteServer } from '../support/suite.js';
import { fullMetadata, type Registered } from './helpers.js';

export const ACME = { organization: 'Acme Payments', commonName: 'acme.example', ncaId: 'FR-ACPR', authorisationNumber: '12345' } as const;
export const ACME_ID = 'PSDFR-ACPR-12345';
export const ACME_DN = `CN=acme.example,organizationIdentifier=${ACME_ID},O=Acme Payments,C=FR`;
export const ZETA = { organization: 'Zeta Finance', commonName: 'zeta.example', ncaId: 'FR-ACPR', authorisationNumber: '67890' } as const;

export const bearer = (token: string) => `Bearer ${token}`;

/** The PUT body: what was registered, with `changes` (undefined removes a field). */
export function putBody(registered: Registered, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const body = { ...fullMetadata(registered.body), ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete body[key];
  return body;
}

export interface ManagementSuite {
  readonly server: TestServer;
  readonly storage: MemoryStorage;
  /** Certificates of Acme (sandbox AIS, sandbox with every role, bank AIS) and of Zeta (sandbox, every role). */
  readonly tpps: { readonly acme: TppCredentials; readonly acmeAll: TppCredentials; readonly acmeBank: TppCredentials; readonly zeta: TppCredentials };
  storedClient(clientId: string): ReturnType<ReturnType<MemoryStorage['adapterFor']>['find']>;
  storedToken(token: string): ReturnType<ReturnType<MemoryStorage['adapterFor']>['find']>;
}

/** The server and certificates of a management suite, made before its tests. */
export function managementSuite(): ManagementSuite {
  const storage = new MemoryStorage();
  const server = suiteServer({ options: { storage } });
  const tpps = beforeSuite(async () => {
    const [acme, acmeAll, acmeBank, zeta] = await Promise.all([
      sandboxTpp({ ...ACME, roles: ['PSP_AI'] }),
      sandboxTpp({ ...ACME, roles: ['PSP_AI', 'PSP_IC', 'PSP_PI'] }),
      bankTpp({ ...ACME, roles: ['PSP_AI'] }),
      sandboxTpp({ ...ZETA, roles: ['PSP_AI', 'PSP_IC', 'PSP_PI'] }),
    ]);
    return { acme, acmeAll, acmeBank, zeta };
  });
  return {
    server,
    storage,
    tpps,
    storedClient: (clientId) => storage.adapterFor('Client').find(clientId),
    storedToken: (token) => storage.adapterFor('RegistrationAccessToken').find(token),
  };
}

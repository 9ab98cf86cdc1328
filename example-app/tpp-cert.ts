/**
 * Mints a TPP certificate from the development PKI (`npm run tpp-cert -- --roles PSP_AI,PSP_PI --org "Acme"`).
 * Writes the certificate (with its chain) and key next to the PKI and prints how to register with it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { PSD2_ROLES, type Psd2Role } from '../lib/certificates/oids.js';
import { devPki } from './dev-pki.js';
import { issueTppCertificate, organizationIdentifierFor } from './pki.js';

const USAGE = `Usage: npm run tpp-cert -- [--roles PSP_AI,PSP_PI,PSP_IC,PSP_AS] [--org NAME] [--env sandbox|bank]
                          [--country FR] [--nca FR-ACPR] [--number 12345] [--days 365] [--out DIR]`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      roles: { type: 'string', default: 'PSP_AI' },
      org: { type: 'string', default: 'Example TPP' },
      env: { type: 'string', default: 'sandbox' },
      country: { type: 'string', default: 'FR' },
      nca: { type: 'string' },
      number: { type: 'string' },
      days: { type: 'string', default: '365' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const roles = values.roles.split(',').map((role) => role.trim().toUpperCase()).filter(Boolean);
const unknown = roles.find((role) => !(role in PSD2_ROLES));
if (unknown) fail(`unknown role ${unknown}; roles are ${Object.keys(PSD2_ROLES).join(', ')}`);
if (values.env !== 'sandbox' && values.env !== 'bank') fail(`--env must be sandbox or bank, not ${values.env}`);
const country = values.country.toUpperCase();
if (!/^[A-Z]{2}$/.test(country)) fail('--country must be a two-letter country code');
const days = Number(values.days);
if (!Number.isInteger(days) || days < 1) fail('--days must be a positive whole number');
const ncaId = values.nca ?? `${country}-NCA`;
if (!/^[A-Z]{2}-[A-Z0-9]{1,8}$/.test(ncaId)) fail('--nca must look like FR-ACPR');

const pki = await devPki(process.env.DEV_PKI_DIR || undefined);
const authority = values.env === 'bank' ? pki.bankQtsp : pki.sandboxQtsp;
const certOptions = {
  roles: roles as Psd2Role[],
  organization: values.org,
  country,
  ncaId,
  ...(values.number ? { authorisationNumber: values.number } : {}),
  notAfter: new Date(Date.now() + days * 24 * 60 * 60 * 1000),
};
const issued = await issueTppCertificate(authority, certOptions);
const slug = `${values.env}-${values.org.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'tpp'}`;
const outDir = values.out ?? pki.dir;
const certPath = join(outDir, `${slug}.pem`);
const keyPath = join(outDir, `${slug}-key.pem`);
writeFileSync(certPath, issued.certPem);
writeFileSync(keyPath, issued.keyPem, { mode: 0o600 });

const port = process.env.PORT ?? '8443';
console.log(`TPP certificate for "${values.org}" (${values.env}), roles ${roles.join(', ')}`);
console.log(`  organizationIdentifier: ${organizationIdentifierFor(certOptions)}`);
console.log(`  certificate: ${certPath}`);
console.log(`  private key: ${keyPath}`);
console.log('\nRegister a client with it:');
console.log(`  curl --cacert ${join(pki.dir, 'server-ca.pem')} --cert ${certPath} --key ${keyPath} \\
    -H 'Content-Type: application/json' \\
    -d '{"redirect_uris":["https://tpp.example/callback"],"client_name":"${values.org.replace(/'/g, '')}"}' \\
    https://localhost:${port}/oauth2/register`);

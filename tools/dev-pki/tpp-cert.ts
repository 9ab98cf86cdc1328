/**
 * Mints a TPP certificate from the development PKI (`npm run tpp-cert -- --roles PSP_AI,PSP_PI --org "Acme"`),
 * or revokes one (`npm run tpp-cert -- --revoke FILE`). Writes the certificate and key next to the
 * PKI, registers it with its QTSP, and prints how to use it.
 */
import 'reflect-metadata';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import * as x509 from '@peculiar/x509';

import { PSD2_ROLES, type Psd2Role } from '../../lib/certificates/oids.js';
import { devPki, type DevPki } from './dev-pki.js';
import { DEFAULT_QTSP_PORT, qtspBaseUrl, qtspPortFrom, recordedQtspBase, statusUrls } from './dev-qtsp.js';
import { issueTppCertificate, organizationIdentifierFor } from './pki.js';
import { recordIssued, recordRevoked, REVOCATION_REASONS, type QtspName, type RevocationReason } from './qtsp-register.js';

const USAGE = `Usage: npm run tpp-cert -- [--roles PSP_AI,PSP_PI,PSP_IC,PSP_AS] [--org NAME] [--env sandbox|bank]
                          [--country FR] [--nca FR-ACPR] [--number 12345] [--days 365] [--out DIR]
       npm run tpp-cert -- --revoke FILE [--reason ${Object.keys(REVOCATION_REASONS).join('|')}]`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      options: {
        roles: { type: 'string', default: 'PSP_AI' },
        org: { type: 'string', default: 'Example TPP' },
        env: { type: 'string', default: 'sandbox' },
        country: { type: 'string', default: 'FR' },
        nca: { type: 'string' },
        number: { type: 'string' },
        days: { type: 'string', default: '365' },
        out: { type: 'string' },
        revoke: { type: 'string' },
        reason: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
}
const values = parse();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const port = process.env.PORT ?? '8443';
const pkiDir = process.env.DEV_PKI_DIR || undefined;

/**
 * Where the running app serves the QTSPs: QTSP_PORT when set, else what the app recorded when it
 * started, else the default port.
 */
function qtspBase(pki: DevPki): string {
  let explicit;
  try {
    explicit = qtspPortFrom(process.env.QTSP_PORT);
  } catch (error) {
    fail((error as Error).message);
  }
  if (explicit !== undefined) return qtspBaseUrl(explicit);
  return recordedQtspBase(pki.dir) ?? qtspBaseUrl(DEFAULT_QTSP_PORT);
}

async function revoke(file: string, reasonName: string): Promise<void> {
  if (!(reasonName in REVOCATION_REASONS)) fail(`--reason must be one of ${Object.keys(REVOCATION_REASONS).join(', ')}`);
  const reason = reasonName as RevocationReason;
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(x509.PemConverter.decodeFirst(readFileSync(file, 'utf8')));
  } catch (error) {
    fail(`${file} is not a PEM certificate: ${(error as Error).message}`);
  }
  const pki = await devPki(pkiDir);
  let qtsp: QtspName | undefined;
  for (const [name, authority] of [['sandbox', pki.sandboxQtsp], ['bank', pki.bankQtsp]] as const) {
    if (certificate.issuer === authority.certificate.subject
      && await certificate.verify({ publicKey: authority.certificate.publicKey, signatureOnly: true })) qtsp = name;
  }
  if (!qtsp) {
    fail(`${file} was not issued by a development QTSP of ${pki.dir} (sandbox-qtsp.pem, bank-qtsp.pem): `
      + `its issuer is "${certificate.issuer}"; only the QTSP that issued a certificate can revoke it`);
  }
  const { entry, already } = recordRevoked(pki.dir, {
    qtsp,
    serial: certificate.serialNumber,
    subject: certificate.subject,
    notAfter: certificate.notAfter.toISOString(),
  }, reason, new Date());
  const { ocspUrl, crlUrl } = statusUrls(qtspBase(pki), qtsp);
  const issuerPem = join(pki.dir, `${qtsp}-qtsp.pem`);
  console.log(already
    ? `Certificate ${entry.serial} was already revoked by the ${qtsp} QTSP on ${entry.revokedAt}${entry.reason ? ` (${entry.reason})` : ''}.`
    : `Revoked certificate ${entry.serial} (${certificate.subject}) of the ${qtsp} QTSP on ${entry.revokedAt}${entry.reason ? `, reason ${entry.reason}` : ''}.`);
  console.log(`  recorded in: ${join(pki.dir, 'qtsp-register.json')}`);
  const pointers = [
    ...certificate.getExtensions(x509.AuthorityInfoAccessExtension).flatMap((extension) => extension.ocsp.map((name) => name.value)),
    ...certificate.getExtensions(x509.CRLDistributionPointsExtension).flatMap((extension) => extension.distributionPoints
      .flatMap((point) => point.distributionPoint?.fullName ?? []).flatMap((name) => name.uniformResourceIdentifier ?? [])),
  ];
  if (!pointers.length) {
    console.log('\nThis certificate names no OCSP responder and no CRL (it was minted before they were added):'
      + ' the server cannot learn its status and treats it as unknown (REVOCATION_BANK, REVOCATION_SANDBOX).');
    return;
  }
  console.log(`\nThe ${qtsp} QTSP now reports it revoked, at the URLs the certificate names:`);
  for (const pointer of pointers) console.log(`  ${pointer}`);
  console.log(`  openssl ocsp -issuer ${issuerPem} -cert ${file} -url ${ocspUrl} -CAfile ${issuerPem}`);
  console.log(`  curl -s ${crlUrl} | openssl crl -inform DER -CAfile ${issuerPem} -noout -text`);
  const key = file.endsWith('.pem') ? file.replace(/\.pem$/, '-key.pem') : '';
  console.log('\nThe server refuses the certificate with 401 invalid_client ("... revoked") once the status it cached'
    + ' ages out (REVOCATION_MAX_AGE seconds, 3600 by default), e.g. at the registration of its client:');
  console.log(`  curl --cacert ${join(pki.dir, 'server-ca.pem')} --cert ${file} --key ${key && existsSync(key) ? key : 'KEY'} \\
    https://localhost:${port}/oauth2/register/CLIENT_ID`);
}

async function mint(): Promise<void> {
  const roles = values.roles.split(',').map((role) => role.trim().toUpperCase()).filter(Boolean);
  const unknown = roles.find((role) => !(role in PSD2_ROLES));
  if (unknown) fail(`unknown role ${unknown}; roles are ${Object.keys(PSD2_ROLES).join(', ')}`);
  if (values.env !== 'sandbox' && values.env !== 'bank') fail(`--env must be sandbox or bank, not ${values.env}`);
  const qtsp: QtspName = values.env;
  const country = values.country.toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) fail('--country must be a two-letter country code');
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1) fail('--days must be a positive whole number');
  const ncaId = values.nca ?? `${country}-NCA`;
  if (!/^[A-Z]{2}-[A-Z0-9]{1,8}$/.test(ncaId)) fail('--nca must look like FR-ACPR');
  if (values.reason) fail('--reason goes with --revoke');

  const pki = await devPki(pkiDir);
  const authority = qtsp === 'bank' ? pki.bankQtsp : pki.sandboxQtsp;
  const certOptions = {
    roles: roles as Psd2Role[],
    organization: values.org,
    country,
    ncaId,
    ...(values.number ? { authorisationNumber: values.number } : {}),
    notAfter: new Date(Date.now() + days * 24 * 60 * 60 * 1000),
    // Where the example app answers for the certificate's status.
    ...statusUrls(qtspBase(pki), qtsp),
  };
  const issued = await issueTppCertificate(authority, certOptions);
  recordIssued(pki.dir, {
    qtsp,
    serial: issued.certificate.serialNumber,
    subject: issued.certificate.subject,
    notAfter: issued.certificate.notAfter.toISOString(),
  });
  const slug = `${qtsp}-${values.org.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'tpp'}`;
  const outDir = values.out ?? pki.dir;
  const certPath = join(outDir, `${slug}.pem`);
  const keyPath = join(outDir, `${slug}-key.pem`);
  writeFileSync(certPath, issued.certPem);
  writeFileSync(keyPath, issued.keyPem, { mode: 0o600 });

  console.log(`TPP certificate for "${values.org}" (${qtsp}), roles ${roles.join(', ')}`);
  console.log(`  organizationIdentifier: ${organizationIdentifierFor(certOptions)}`);
  console.log(`  certificate: ${certPath}`);
  console.log(`  private key: ${keyPath}`);
  console.log(`  status:      ${certOptions.ocspUrl} (OCSP), ${certOptions.crlUrl} (CRL)`);
  console.log('\nRegister a client with it:');
  console.log(`  curl --cacert ${join(pki.dir, 'server-ca.pem')} --cert ${certPath} --key ${keyPath} \\
    -H 'Content-Type: application/json' \\
    -d '{"redirect_uris":["https://tpp.example/callback"],"client_name":"${values.org.replace(/'/g, '')}"}' \\
    https://localhost:${port}/oauth2/register`);
  console.log(`\nRevoke it: npm run tpp-cert -- --revoke ${certPath}`);
}

if (values.revoke !== undefined) await revoke(values.revoke, values.reason ?? 'unspecified');
else await mint();

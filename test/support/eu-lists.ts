/**
 * A small EU of trusted lists for tests: a pinned Official Journal key signing the LOTL (RSA), a
 * French list signed with ECDSA and a German one with RSA-PSS, and the QTSPs they list, published
 * on a loopback server.
 */
import { createAuthority, issueTppCertificate, type Authority, type IssuedCertificate, type TppCertificateOptions } from '../../tools/dev-pki/pki.js';
import {
  GRANTED, ListServer, WITHDRAWN, createListSigner, lotlXml, nationalListXml, signList, type ListSigner, type SchemeSpec, type ServiceSpec,
} from './trusted-lists.js';

const DAY = 86_400_000;
const base64 = (authority: Authority) => authority.der.toString('base64');

/** What can be changed in one publication of the lists. */
export interface Publication {
  readonly lotl?: Omit<SchemeSpec, 'territory'> & { readonly signer?: ListSigner };
  readonly fr?: Omit<SchemeSpec, 'territory'> & {
    readonly signer?: ListSigner;
    readonly tamper?: (xml: string) => string;
    /** Elements added, signed, before the list's provider. */
    readonly padding?: string;
    /** Base64 DER of the certificate the signed properties name; default the signer's. */
    readonly signingCertificate?: string;
  };
  readonly de?: Omit<SchemeSpec, 'territory'> & { readonly signer?: ListSigner };
}

export interface EuLists {
  readonly server: ListServer;
  readonly lotlUrl: string;
  /** The key of the Official Journal: the pinned LOTL signer. */
  readonly officialJournal: ListSigner;
  readonly frSigner: ListSigner;
  readonly deSigner: ListSigner;
  /** A key nobody expects. */
  readonly stranger: ListSigner;
  /** French issuing CA (below a root that is not listed), granted for websites. */
  readonly frCa: Authority;
  /** German CA, granted for websites. */
  readonly deCa: Authority;
  /** German CA withdrawn `withdrawnAt` (granted for five years before). */
  readonly withdrawnCa: Authority;
  readonly withdrawnAt: Date;
  /** French CA listed for e-seals only. */
  readonly esealCa: Authority;
  /** Publishes the three lists (signed), with `changes`. */
  publish(changes?: Publication): Promise<void>;
  /** A QWAC from `ca`, valid from `notBefore` (default a day ago). */
  tpp(ca: Authority, options?: TppCertificateOptions): Promise<IssuedCertificate>;
  close(): Promise<void>;
}

export async function euLists(): Promise<EuLists> {
  const server = await new ListServer().start();
  const [officialJournal, frSigner, deSigner, stranger] = await Promise.all([
    createListSigner('Official Journal LOTL signer', 'rsa'),
    createListSigner('FR trusted list signer', 'ecdsa'),
    createListSigner('DE trusted list signer', 'rsa-pss'),
    createListSigner('Stranger', 'rsa'),
  ]);
  const frRoot = await createAuthority('FR QTSP Root', { notBefore: new Date(Date.now() - 2000 * DAY) });
  const frCa = await createAuthority('FR QWAC Issuing CA', { issuer: frRoot, notBefore: new Date(Date.now() - 2000 * DAY) });
  const deCa = await createAuthority('DE QWAC CA', { notBefore: new Date(Date.now() - 2000 * DAY) });
  const withdrawnCa = await createAuthority('DE Withdrawn QWAC CA', { notBefore: new Date(Date.now() - 2000 * DAY) });
  const esealCa = await createAuthority('FR eSeal CA', { notBefore: new Date(Date.now() - 2000 * DAY) });
  const withdrawnAt = new Date(Date.now() - 10 * DAY);
  const fiveYearsAgo = new Date(Date.now() - 5 * 365 * DAY);

  const frServices: ServiceSpec[] = [
    { name: 'FR QWAC Issuing CA', certificates: [base64(frCa)] },
    { name: 'FR eSeal CA', certificates: [base64(esealCa)], forWebsites: false },
  ];
  const deServices: ServiceSpec[] = [
    { name: 'DE QWAC CA', certificates: [base64(deCa)] },
    {
      name: 'DE Withdrawn QWAC CA',
      certificates: [base64(withdrawnCa)],
      current: { status: WITHDRAWN, since: withdrawnAt },
      history: [{ status: GRANTED, since: fiveYearsAgo }],
    },
  ];

  const publish = async (changes: Publication = {}) => {
    const frXml = nationalListXml({ territory: 'FR', ...changes.fr }, frServices).replace('<tsl:TrustServiceProviderList>', `${changes.fr?.padding ?? ''}<tsl:TrustServiceProviderList>`);
    const frSigning = changes.fr?.signer ?? frSigner;
    const fr = await signList(frXml, frSigning, '', undefined, changes.fr?.signingCertificate ?? frSigning.base64);
    server.publish('/fr.xml', changes.fr?.tamper ? changes.fr.tamper(fr) : fr);
    server.publish('/de.xml', await signList(nationalListXml({ territory: 'DE', ...changes.de }, deServices), changes.de?.signer ?? deSigner));
    const lotl = lotlXml(changes.lotl ?? {}, [
      { territory: 'FR', location: server.url('/fr.xml'), signers: [frSigner.base64] },
      { territory: 'DE', location: server.url('/de.xml'), signers: [deSigner.base64] },
    ]);
    server.publish('/lotl.xml', await signList(lotl, changes.lotl?.signer ?? officialJournal));
  };
  await publish();
  return {
    server,
    lotlUrl: server.url('/lotl.xml'),
    officialJournal,
    frSigner,
    deSigner,
    stranger,
    frCa,
    deCa,
    withdrawnCa,
    withdrawnAt,
    esealCa,
    publish,
    tpp: (ca, options = {}) => issueTppCertificate(ca, { notBefore: new Date(Date.now() - DAY), ...options }),
    close: () => server.close(),
  };
}

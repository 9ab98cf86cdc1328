/**
 * EU trusted lists for tests (ETSI TS 119 612): a list of lists (LOTL) and national lists in the
 * ETSI schema, signed with enveloped XAdES (RSA PKCS#1 v1.5, RSA-PSS or ECDSA), and a loopback
 * HTTP server that publishes them.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import * as x509 from '@peculiar/x509';
import { DOMParser, XMLSerializer, type Document } from '@xmldom/xmldom';
import * as xades from 'xadesjs';
import type { OptionsSignTransform } from 'xmldsigjs';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const TSL = 'http://uri.etsi.org/02231/v2#';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const TSLX = 'http://uri.etsi.org/02231/v2/additionaltypes#';
const DAY = 86_400_000;
export const CA_QC = 'http://uri.etsi.org/TrstSvc/Svctype/CA/QC';
export const GRANTED = 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted';
export const WITHDRAWN = 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn';
export const FOR_WEBSITES = 'http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForWebSiteAuthentication';
const FOR_ESEALS = 'http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSeals';

export type SignatureKind = 'rsa' | 'rsa-pss' | 'ecdsa';

const KEY_ALGORITHMS = {
  rsa: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
  'rsa-pss': { name: 'RSA-PSS', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), saltLength: 32 },
  ecdsa: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
} as const;

const SIGNATURE_ALGORITHMS = {
  rsa: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  'rsa-pss': { name: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 },
  ecdsa: { name: 'ECDSA', hash: 'SHA-256' },
} as const;

/** A key that signs lists, with its (self-signed) certificate. */
export interface ListSigner {
  readonly kind: SignatureKind;
  readonly keys: CryptoKeyPair;
  readonly certPem: string;
  /** Base64 DER of the certificate, as lists carry it. */
  readonly base64: string;
}

/** A signer with a new key pair, or with `validity.keys` (a renewed certificate for the same key). */
export async function createListSigner(name: string, kind: SignatureKind, validity: { notBefore?: Date; notAfter?: Date; keys?: CryptoKeyPair } = {}): Promise<ListSigner> {
  const keys = validity.keys ?? ((await webcrypto.subtle.generateKey(KEY_ALGORITHMS[kind], true, ['sign', 'verify'])) as CryptoKeyPair);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex')}`,
    name: `CN=${name},O=Trusted List Scheme Operator,C=EU`,
    notBefore: validity.notBefore ?? new Date(Date.now() - DAY),
    notAfter: validity.notAfter ?? new Date(Date.now() + 365 * DAY),
    signingAlgorithm: KEY_ALGORITHMS[kind],
    keys,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true)],
  });
  return { kind, keys, certPem: `${certificate.toString('pem').trim()}\n`, base64: Buffer.from(certificate.rawData).toString('base64') };
}

const iso = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface SchemeSpec {
  readonly territory: string;
  readonly sequenceNumber?: number;
  readonly issued?: Date;
  /** Default: 30 days from now; `null` for no NextUpdate date. */
  readonly nextUpdate?: Date | null;
}

function schemeInformation(spec: SchemeSpec, type: string, inner = ''): string {
  const next = spec.nextUpdate === undefined ? new Date(Date.now() + 30 * DAY) : spec.nextUpdate;
  return `<tsl:SchemeInformation><tsl:TSLVersionIdentifier>5</tsl:TSLVersionIdentifier>`
    + `<tsl:TSLSequenceNumber>${spec.sequenceNumber ?? 1}</tsl:TSLSequenceNumber>`
    + `<tsl:TSLType>http://uri.etsi.org/TrstSvc/TrustedList/TSLType/${type}</tsl:TSLType>`
    + `<tsl:SchemeOperatorName><tsl:Name xml:lang="en">${escape(spec.territory)} scheme operator</tsl:Name></tsl:SchemeOperatorName>`
    + `<tsl:SchemeOperatorAddress>${address(`${spec.territory} scheme operator`)}</tsl:SchemeOperatorAddress>`
    + `<tsl:SchemeName><tsl:Name xml:lang="en">${spec.territory}:Trusted list including information related to the qualified trust service providers</tsl:Name></tsl:SchemeName>`
    + `<tsl:SchemeInformationURI><tsl:URI xml:lang="en">https://trusted-list.example/${spec.territory.toLowerCase()}/</tsl:URI></tsl:SchemeInformationURI>`
    + `<tsl:StatusDeterminationApproach>http://uri.etsi.org/TrstSvc/TrustedList/StatusDetn/${type === 'EUlistofthelists' ? 'EUlistofthelists' : 'EUappropriate'}</tsl:StatusDeterminationApproach>`
    + `<tsl:SchemeTypeCommunityRules><tsl:URI xml:lang="en">http://uri.etsi.org/TrstSvc/TrustedList/schemerules/EUcommon</tsl:URI></tsl:SchemeTypeCommunityRules>`
    + `<tsl:SchemeTerritory>${spec.territory}</tsl:SchemeTerritory>`
    + `<tsl:PolicyOrLegalNotice><tsl:TSLLegalNotice xml:lang="en">Test list.</tsl:TSLLegalNotice></tsl:PolicyOrLegalNotice>`
    + `<tsl:HistoricalInformationPeriod>65535</tsl:HistoricalInformationPeriod>`
    + `${inner}<tsl:ListIssueDateTime>${iso(spec.issued ?? new Date(Date.now() - DAY))}</tsl:ListIssueDateTime>`
    + `<tsl:NextUpdate>${next ? `<tsl:dateTime>${iso(next)}</tsl:dateTime>` : ''}</tsl:NextUpdate>`
    + `</tsl:SchemeInformation>`;
}

/** A postal and electronic address (ETSI TS 119 612 §5.3.5), mandatory for operators and providers. */
function address(name: string): string {
  return `<tsl:PostalAddresses><tsl:PostalAddress xml:lang="en"><tsl:StreetAddress>1 ${escape(name)} Street</tsl:StreetAddress>`
    + `<tsl:Locality>Capital</tsl:Locality><tsl:CountryName>EU</tsl:CountryName></tsl:PostalAddress></tsl:PostalAddresses>`
    + `<tsl:ElectronicAddress><tsl:URI xml:lang="en">mailto:operator@trusted-list.example</tsl:URI></tsl:ElectronicAddress>`;
}

function list(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<tsl:TrustServiceStatusList xmlns:tsl="${TSL}" xmlns:tslx="${TSLX}" `
    + `Id="TrustServiceStatusList" TSLTag="http://uri.etsi.org/19612/TSLTag">${body}</tsl:TrustServiceStatusList>`;
}

const identity = (certificates: readonly string[]) => certificates.map((base64) => `<tsl:DigitalId><tsl:X509Certificate>${base64}</tsl:X509Certificate></tsl:DigitalId>`).join('');

/** A LOTL pointer to a national list. */
export interface PointerSpec {
  readonly territory: string;
  readonly location: string;
  /** Base64 DER of the certificates allowed to sign that list. */
  readonly signers: readonly string[];
}

/** The (unsigned) LOTL pointing to `pointers`, and to a PDF copy of each list, as the real one does. */
export function lotlXml(spec: Omit<SchemeSpec, 'territory'>, pointers: readonly PointerSpec[]): string {
  const pointer = (p: PointerSpec, mime: string, location: string) => `<tsl:OtherTSLPointer><tsl:ServiceDigitalIdentities>`
    + p.signers.map((s) => `<tsl:ServiceDigitalIdentity>${identity([s])}</tsl:ServiceDigitalIdentity>`).join('')
    + `</tsl:ServiceDigitalIdentities><tsl:TSLLocation>${escape(location)}</tsl:TSLLocation><tsl:AdditionalInformation>`
    + `<tsl:OtherInformation><tsl:TSLType>http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric</tsl:TSLType></tsl:OtherInformation>`
    + `<tsl:OtherInformation><tsl:SchemeTerritory>${p.territory}</tsl:SchemeTerritory></tsl:OtherInformation>`
    + `<tsl:OtherInformation><tslx:MimeType>${mime}</tslx:MimeType></tsl:OtherInformation>`
    + `</tsl:AdditionalInformation></tsl:OtherTSLPointer>`;
  const pointers_ = pointers.map((p) => pointer(p, 'application/vnd.etsi.tsl+xml', p.location) + pointer(p, 'application/pdf', `${p.location}.pdf`)).join('');
  return list(schemeInformation({ ...spec, territory: 'EU' }, 'EUlistofthelists', `<tsl:PointersToOtherTSL>${pointers_}</tsl:PointersToOtherTSL>`));
}

/** One status of a service's timeline. */
export interface StatusSpec {
  readonly status: string;
  readonly since: Date;
  /** A history instance's service type; default the service's. */
  readonly type?: string;
  /** A history instance's usage mark: true for websites, false for e-seals; default none. */
  readonly forWebsites?: boolean;
}

/** A trust service of a national list. */
export interface ServiceSpec {
  readonly name: string;
  /** Base64 DER of the service's certificates. */
  readonly certificates: readonly string[];
  /** Default CA/QC. */
  readonly type?: string;
  /** Default granted since 5 years ago. */
  readonly current?: StatusSpec;
  /** Earlier statuses. */
  readonly history?: readonly StatusSpec[];
  /** Default true; false marks the service for e-seals instead. */
  readonly forWebsites?: boolean;
}

function serviceXml(service: ServiceSpec): string {
  const type = service.type ?? CA_QC;
  const current = service.current ?? { status: GRANTED, since: new Date(Date.now() - 5 * 365 * DAY) };
  const common = `<tsl:ServiceTypeIdentifier>${type}</tsl:ServiceTypeIdentifier>`
    + `<tsl:ServiceName><tsl:Name xml:lang="en">${escape(service.name)}</tsl:Name></tsl:ServiceName>`
    + `<tsl:ServiceDigitalIdentity>${identity(service.certificates)}</tsl:ServiceDigitalIdentity>`;
  const status = (entry: StatusSpec) => `<tsl:ServiceStatus>${entry.status}</tsl:ServiceStatus><tsl:StatusStartingTime>${iso(entry.since)}</tsl:StatusStartingTime>`;
  const extension = (forWebsites: boolean) => `<tsl:ServiceInformationExtensions><tsl:Extension Critical="false"><tsl:AdditionalServiceInformation>`
    + `<tsl:URI xml:lang="en">${forWebsites ? FOR_WEBSITES : FOR_ESEALS}</tsl:URI>`
    + `</tsl:AdditionalServiceInformation></tsl:Extension></tsl:ServiceInformationExtensions>`;
  const history = (service.history ?? []).map((entry) => `<tsl:ServiceHistoryInstance>${entry.type ? common.replace(type, entry.type) : common}`
    + `${status(entry)}${entry.forWebsites === undefined ? '' : extension(entry.forWebsites)}</tsl:ServiceHistoryInstance>`).join('');
  return `<tsl:TSPService><tsl:ServiceInformation>${common}${status(current)}${extension(service.forWebsites !== false)}</tsl:ServiceInformation>`
    + `${history ? `<tsl:ServiceHistory>${history}</tsl:ServiceHistory>` : ''}</tsl:TSPService>`;
}

/** An (unsigned) national trusted list with one provider holding `services`. */
export function nationalListXml(spec: SchemeSpec, services: readonly ServiceSpec[]): string {
  return list(schemeInformation(spec, 'EUgeneric')
    + `<tsl:TrustServiceProviderList><tsl:TrustServiceProvider><tsl:TSPInformation><tsl:TSPName><tsl:Name xml:lang="en">`
    + `${spec.territory} Qualified Trust Services</tsl:Name></tsl:TSPName><tsl:TSPAddress>${address(`${spec.territory} QTSP`)}</tsl:TSPAddress>`
    + `<tsl:TSPInformationURI><tsl:URI xml:lang="en">https://qtsp.example/${spec.territory.toLowerCase()}/</tsl:URI></tsl:TSPInformationURI>`
    + `</tsl:TSPInformation><tsl:TSPServices>`
    + `${services.map(serviceXml).join('')}</tsl:TSPServices></tsl:TrustServiceProvider></tsl:TrustServiceProviderList>`);
}

let engine = false;

/**
 * `xml` with an enveloped XAdES-BES signature by `signer` over the whole list (or the part `uri`
 * names), with the reference's `transforms`.
 */
export async function signList(
  xml: string, signer: ListSigner, uri = '', transforms: OptionsSignTransform[] = ['enveloped', 'exc-c14n'], signingCertificate = signer.base64,
): Promise<string> {
  if (!engine) {
    xades.Application.setEngine('NodeJS', webcrypto);
    xades.setNodeDependencies({ DOMParser, XMLSerializer });
    engine = true;
  }
  const document = new DOMParser().parseFromString(xml, 'application/xml');
  const signed = new xades.SignedXml();
  await signed.Sign(SIGNATURE_ALGORITHMS[signer.kind], signer.keys.privateKey, document, {
    x509: [signer.base64],
    signingCertificate,
    references: [{ uri, hash: 'SHA-256', transforms }],
  });
  document.documentElement!.appendChild(signed.GetXml());
  return new XMLSerializer().serializeToString(document);
}

/** The library's canonical SignedInfo, which it keeps to itself. */
class CanonicalSignedInfo extends xades.SignedXml {
  canonical(document: Document): string {
    return this.TransformSignedInfo(document);
  }
}

/**
 * `xml` signed with `signer`'s RSA-PSS key under the identifier without parameters,
 * `…/xmldsig-more#sha256-rsa-MGF1` (SHA-256, salt of 32 bytes), which lists also use: xadesjs signs
 * with the parameterized one only, so its SignatureMethod is rewritten and SignedInfo signed again.
 */
export async function signListMgf1(xml: string, signer: ListSigner): Promise<string> {
  const document = new DOMParser().parseFromString(await signList(xml, signer), 'application/xml');
  const method = document.getElementsByTagNameNS(DSIG, 'SignatureMethod')[0]!;
  while (method.firstChild) method.removeChild(method.firstChild);
  method.setAttribute('Algorithm', 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1');
  const signature = new CanonicalSignedInfo(document);
  signature.LoadXml(document.getElementsByTagNameNS(DSIG, 'Signature')[0]!);
  const value = await webcrypto.subtle.sign({ name: 'RSA-PSS', saltLength: 32 }, signer.keys.privateKey, Buffer.from(signature.canonical(document)));
  document.getElementsByTagNameNS(DSIG, 'SignatureValue')[0]!.textContent = Buffer.from(value).toString('base64');
  return new XMLSerializer().serializeToString(document);
}

/** Publishes lists on a loopback port; a path not set answers 404, a path failed answers 503. */
export class ListServer {
  readonly #lists = new Map<string, string>();
  readonly #failing = new Set<string>();
  readonly #server: Server;
  /** Paths requested, in order. */
  readonly requests: string[] = [];

  constructor() {
    this.#server = createServer((req, res) => {
      const path = req.url ?? '/';
      this.requests.push(path);
      const body = this.#lists.get(path);
      if (this.#failing.has(path) || body === undefined) {
        res.writeHead(this.#failing.has(path) ? 503 : 404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/vnd.etsi.tsl+xml' }).end(body);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${path}`;
  }

  publish(path: string, xml: string): void {
    this.#lists.set(path, xml);
    this.#failing.delete(path);
  }

  fail(path: string): void {
    this.#failing.add(path);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

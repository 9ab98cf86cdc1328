/**
 * GeneralName (RFC 5280 §4.2.1.6) as name constraints need it: the iPAddress octets kept as they
 * are (an address in a subjectAltName, an address and mask in a subtree), where
 * `@peculiar/asn1-x509` turns them into text.
 */
import { AsnArray, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { EDIPartyName, Name, OtherName } from '@peculiar/asn1-x509';

@AsnType({ type: AsnTypeTypes.Choice })
export class RawGeneralName {
  @AsnProp({ type: OtherName, context: 0, implicit: true })
  public otherName?: OtherName;

  @AsnProp({ type: AsnPropTypes.IA5String, context: 1, implicit: true })
  public rfc822Name?: string;

  @AsnProp({ type: AsnPropTypes.IA5String, context: 2, implicit: true })
  public dNSName?: string;

  @AsnProp({ type: AsnPropTypes.Any, context: 3, implicit: true })
  public x400Address?: ArrayBuffer;

  @AsnProp({ type: Name, context: 4, implicit: false })
  public directoryName?: Name;

  @AsnProp({ type: EDIPartyName, context: 5 })
  public ediPartyName?: EDIPartyName;

  @AsnProp({ type: AsnPropTypes.IA5String, context: 6, implicit: true })
  public uniformResourceIdentifier?: string;

  @AsnProp({ type: AsnPropTypes.OctetString, context: 7, implicit: true })
  public iPAddress?: ArrayBuffer;

  @AsnProp({ type: AsnPropTypes.ObjectIdentifier, context: 8, implicit: true })
  public registeredID?: string;
}

@AsnType({ type: AsnTypeTypes.Sequence, itemType: RawGeneralName })
export class RawGeneralNames extends AsnArray<RawGeneralName> {
  constructor(items?: RawGeneralName[]) {
    super(items);
    Object.setPrototypeOf(this, RawGeneralNames.prototype);
  }
}

export class RawGeneralSubtree {
  @AsnProp({ type: RawGeneralName })
  public base = new RawGeneralName();

  @AsnProp({ type: AsnPropTypes.Integer, context: 0, defaultValue: 0, implicit: true })
  public minimum = 0;

  @AsnProp({ type: AsnPropTypes.Integer, context: 1, optional: true, implicit: true })
  public maximum?: number;
}

@AsnType({ type: AsnTypeTypes.Sequence, itemType: RawGeneralSubtree })
export class RawGeneralSubtrees extends AsnArray<RawGeneralSubtree> {
  constructor(items?: RawGeneralSubtree[]) {
    super(items);
    Object.setPrototypeOf(this, RawGeneralSubtrees.prototype);
  }
}

export class RawNameConstraints {
  @AsnProp({ type: RawGeneralSubtrees, context: 0, optional: true, implicit: true })
  public permittedSubtrees?: RawGeneralSubtrees;

  @AsnProp({ type: RawGeneralSubtrees, context: 1, optional: true, implicit: true })
  public excludedSubtrees?: RawGeneralSubtrees;
}

/** The name forms of RFC 5280 §4.2.1.10 this server compares; others are refused where constrained. */
export type NameForm = 'directoryName' | 'dNSName' | 'rfc822Name' | 'iPAddress' | 'uniformResourceIdentifier'
  | 'otherName' | 'x400Address' | 'ediPartyName' | 'registeredID';

export function formOf(name: RawGeneralName): NameForm {
  if (name.directoryName) return 'directoryName';
  if (name.dNSName !== undefined) return 'dNSName';
  if (name.rfc822Name !== undefined) return 'rfc822Name';
  if (name.iPAddress) return 'iPAddress';
  if (name.uniformResourceIdentifier !== undefined) return 'uniformResourceIdentifier';
  if (name.otherName) return 'otherName';
  if (name.x400Address) return 'x400Address';
  if (name.ediPartyName) return 'ediPartyName';
  return 'registeredID';
}

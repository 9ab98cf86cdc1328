import { AsnArray, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';

/**
 * ETSI TS 119 495 §5.1:
 * ```asn1
 * RoleOfPSP ::= SEQUENCE { roleOfPspOid RoleOfPspOid, roleOfPspName RoleOfPspName }
 * RolesOfPSP ::= SEQUENCE OF RoleOfPSP
 * PSD2QcType ::= SEQUENCE { rolesOfPSP RolesOfPSP, nCAName NCAName, nCAId NCAId }
 * ```
 */
export class RoleOfPsp {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  public roleOfPspOid = '';

  @AsnProp({ type: AsnPropTypes.Utf8String })
  public roleOfPspName = '';

  constructor(params: Partial<RoleOfPsp> = {}) {
    Object.assign(this, params);
  }
}

@AsnType({ type: AsnTypeTypes.Sequence, itemType: RoleOfPsp })
export class RolesOfPsp extends AsnArray<RoleOfPsp> {
  constructor(items?: RoleOfPsp[]) {
    super(items);
    Object.setPrototypeOf(this, RolesOfPsp.prototype);
  }
}

export class Psd2QcType {
  @AsnProp({ type: RolesOfPsp })
  public rolesOfPSP = new RolesOfPsp();

  @AsnProp({ type: AsnPropTypes.Utf8String })
  public nCAName = '';

  @AsnProp({ type: AsnPropTypes.Utf8String })
  public nCAId = '';

  constructor(params: Partial<Psd2QcType> = {}) {
    Object.assign(this, params);
  }
}

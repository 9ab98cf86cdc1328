import { generateKeyPairSync, sign, constants } from 'node:crypto';

import { expect } from 'chai';
import { AsnConvert, AsnProp, AsnPropTypes } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

import { signatureProblem } from '../../lib/certificates/revocation/signature.js';

const DATA = Buffer.from('tbsResponseData');
const SHA256 = '2.16.840.1.101.3.4.2.1';
const MGF1 = '1.2.840.113549.1.1.8';

class PssParameters {
  @AsnProp({ type: AlgorithmIdentifier, context: 0 })
  public hashAlgorithm = new AlgorithmIdentifier();

  @AsnProp({ type: AlgorithmIdentifier, context: 1 })
  public maskGenAlgorithm = new AlgorithmIdentifier();

  @AsnProp({ type: AsnPropTypes.Integer, context: 2 })
  public saltLength = 32;
}

function pss(saltLength: number, hash = SHA256): AlgorithmIdentifier {
  const parameters = new PssParameters();
  parameters.hashAlgorithm = new AlgorithmIdentifier({ algorithm: hash, parameters: null });
  parameters.maskGenAlgorithm = new AlgorithmIdentifier({ algorithm: MGF1, parameters: AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: hash, parameters: null })) });
  parameters.saltLength = saltLength;
  return new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.10', parameters: AsnConvert.serialize(parameters) });
}

describe('revocation: signatures of OCSP responses and CRLs', function () {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ed = generateKeyPairSync('ed25519');

  it('RSA PKCS #1 v1.5 with SHA-256', function () {
    const signature = sign('sha256', DATA, rsa.privateKey);
    expect(signatureProblem(new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null }), DATA, signature, rsa.publicKey)).to.equal(undefined);
    expect(signatureProblem(new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null }), Buffer.from('other'), signature, rsa.publicKey)).to.equal('the signature does not verify');
  });

  it('RSASSA-PSS with SHA-256, the salt length as the parameters say', function () {
    const signature = sign('sha256', DATA, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    expect(signatureProblem(pss(32), DATA, signature, rsa.publicKey)).to.equal(undefined);
    expect(signatureProblem(pss(20), DATA, signature, rsa.publicKey)).to.equal('the signature does not verify');
    expect(signatureProblem(new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.10' }), DATA, signature, rsa.publicKey)).to.equal('signed with RSASSA-PSS with SHA-1, which is not accepted');
  });

  it('ECDSA with SHA-384 and Ed25519', function () {
    expect(signatureProblem(new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.3' }), DATA, sign('sha384', DATA, ec.privateKey), ec.publicKey)).to.equal(undefined);
    expect(signatureProblem(new AlgorithmIdentifier({ algorithm: '1.3.101.112' }), DATA, sign(null, DATA, ed.privateKey), ed.publicKey)).to.equal(undefined);
  });

  it('refuses SHA-1, unknown algorithms and a key of another kind', function () {
    const sha1 = sign('sha1', DATA, rsa.privateKey);
    expect(signatureProblem(new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.5', parameters: null }), DATA, sha1, rsa.publicKey)).to.equal('signed with sha1WithRSAEncryption, which is not accepted');
    expect(signatureProblem(new AlgorithmIdentifier({ algorithm: '1.2.3.4' }), DATA, sha1, rsa.publicKey)).to.equal('signed with the algorithm 1.2.3.4, which is not accepted');
    expect(signatureProblem(new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }), DATA, sign('sha256', DATA, rsa.privateKey), rsa.publicKey)).to.equal('signed with an algorithm for ec keys by a key of type rsa');
  });
});

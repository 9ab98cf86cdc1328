/**
 * Certificate path validation (RFC 5280 §6.1): name constraints of the CAs and the trust anchor.
 */
import 'reflect-metadata';

import { expect } from 'chai';

import { expectRejection, rejectionOf } from './helpers.js';
import { mint, tppSubject, type Minted } from './path-pki.js';
import { caLabel, pathSuite, present, refusedBy } from './path-suite.js';

describe('certificate path validation (RFC 5280 §6.1)', () => {
  const suite = pathSuite();
  const { qtsp, tpp, identify, refusal, trusting } = suite;

  describe('name_constraints_violated', () => {
    let constrained: Minted;
    before(async () => {
      constrained = await qtsp('Constrained TPP QTSP', {
        nameConstraints: {
          permitted: [
            { directoryName: 'C=FR,O=Path TPP' },
            { dNSName: 'path-tpp.example' },
            { rfc822Name: 'path-tpp.example' },
            { iPAddress: '192.0.2.0/24' },
            { uniformResourceIdentifier: '.path-tpp.example' },
          ],
          excluded: [{ dNSName: 'internal.path-tpp.example' }, { directoryName: 'C=FR,O=Path TPP,CN=blocked.path-tpp.example' }],
        },
      });
    });
    const constraintsOf = () => `the name constraints of ${caLabel('Constrained TPP QTSP')}`;

    it('refuses an IPv4-mapped IPv6 address inside an excluded IPv4 range, and a URI host ending in a dot', async () => {
      const excluding = await qtsp('Excluding Mapped QTSP', {
        nameConstraints: { excluded: [{ iPAddress: '10.0.0.0/8' }, { uniformResourceIdentifier: '.bank.example' }] },
      });
      const mapped = await tpp(excluding, { subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }, { type: 'ip', value: '::ffff:a01:203' }] });
      const refusedMapped = refusal(mapped, excluding);
      expect(refusedMapped.reason).to.equal('name_constraints_violated');
      expect(refusedMapped.error_description).to.equal(`the client certificate's name IP:0:0:0:0:0:ffff:a01:203 is excluded by the name constraints of ${caLabel('Excluding Mapped QTSP')}`);
      const dotted = await tpp(excluding, { subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }, { type: 'url', value: 'https://evil.bank.example./' }] });
      expectRejection(refusal(dotted, excluding), 'name_constraints_violated', `the client certificate's name URI:https://evil.bank.example./ is excluded by the name constraints of ${caLabel('Excluding Mapped QTSP')}`);
    });

    it('refuses a subject outside the permitted directory names', async () => {
      const leaf = await tpp(constrained, { subject: tppSubject('api.path-tpp.example', 'Other TPP') });
      expectRejection(
        refusal(leaf, constrained),
        'name_constraints_violated',
        `the client certificate's subject CN=api.path-tpp.example,organizationIdentifier=PSDFR-NCA-PATHTPP,O=Other TPP,C=FR is outside the names permitted by ${constraintsOf()}`,
      );
    });

    it('refuses a subject inside an excluded directory name', async () => {
      const leaf = await tpp(constrained, { subject: 'C=FR,O=Path TPP,CN=blocked.path-tpp.example,2.5.4.97=PSDFR-NCA-PATHTPP' });
      expectRejection(
        refusal(leaf, constrained),
        'name_constraints_violated',
        `the client certificate's subject organizationIdentifier=PSDFR-NCA-PATHTPP,CN=blocked.path-tpp.example,O=Path TPP,C=FR is excluded by ${constraintsOf()}`,
      );
    });

    it('refuses a DNS name outside the permitted subtrees', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }, { type: 'dns', value: 'www.bank.example' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name DNS:www.bank.example is outside the names permitted by ${constraintsOf()}`);
    });

    it('refuses a DNS name that only ends like a permitted one', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'evilpath-tpp.example' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name DNS:evilpath-tpp.example is outside the names permitted by ${constraintsOf()}`);
    });

    it('refuses a DNS name in an excluded subtree, and a wildcard that reaches into one', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'db.internal.path-tpp.example' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name DNS:db.internal.path-tpp.example is excluded by ${constraintsOf()}`);
      const wildcard = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: '*.path-tpp.example' }] });
      expectRejection(refusal(wildcard, constrained), 'name_constraints_violated', `the client certificate's name DNS:*.path-tpp.example is excluded by ${constraintsOf()}`);
    });

    it('refuses a host name in the common name when there is no DNS name in subjectAltName', async () => {
      const leaf = await tpp(constrained, { subject: tppSubject('www.bank.example') });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name DNS:www.bank.example is outside the names permitted by ${constraintsOf()}`);
    });

    it('refuses an e-mail address outside the permitted subtrees, in subjectAltName or in the subject', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'email', value: 'it@bank.example' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name email:it@bank.example is outside the names permitted by ${constraintsOf()}`);
      const inSubject = await tpp(constrained, { subject: `${tppSubject('api.path-tpp.example')},E=it@bank.example` });
      expectRejection(refusal(inSubject, constrained), 'name_constraints_violated', `the client certificate's name email:it@bank.example is outside the names permitted by ${constraintsOf()}`);
      const inside = await tpp(constrained, { subjectAltNames: [{ type: 'email', value: 'ops@path-tpp.example' }] });
      expect(identify(inside, constrained).environment).to.equal('sandbox');
    });

    it('refuses an IP address outside the permitted range', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'ip', value: '198.51.100.7' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name IP:198.51.100.7 is outside the names permitted by ${constraintsOf()}`);
      const inside = await tpp(constrained, { subjectAltNames: [{ type: 'ip', value: '192.0.2.77' }] });
      expect(identify(inside, constrained).environment).to.equal('sandbox');
    });

    it('refuses a URI whose host is outside the permitted subtrees', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'url', value: 'https://tpp.bank.example/id' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name URI:https://tpp.bank.example/id is outside the names permitted by ${constraintsOf()}`);
      const inside = await tpp(constrained, { subjectAltNames: [{ type: 'url', value: 'https://id.path-tpp.example/tpp' }] });
      expect(identify(inside, constrained).environment).to.equal('sandbox');
    });

    it('refuses a name form it cannot compare where a CA constrains that form', async () => {
      const ca = await qtsp('Registered ID QTSP', { nameConstraints: { permitted: [{ registeredID: '1.3.6.1.4.1.55555.9' }] } });
      const leaf = await tpp(ca, { subjectAltNames: [{ type: 'id', value: '1.3.6.1.4.1.55555.9' }] });
      expectRejection(
        refusal(leaf, ca),
        'name_constraints_violated',
        `the client certificate's registeredID name cannot be checked against the name constraints of ${caLabel('Registered ID QTSP')}`,
      );
    });

    it("applies the trust anchor's name constraints", async () => {
      const root = await mint({ subject: 'C=EU,O=Constrained Root,CN=Constrained Root', ca: { pathLength: 1 }, freshKey: true, nameConstraints: { permitted: [{ directoryName: 'C=EU' }, { directoryName: 'C=DE' }] } });
      const ca = await mint({ issuer: root, subject: 'C=EU,O=Root QTSP,CN=Root QTSP', ca: { pathLength: 0 }, freshKey: true });
      const leaf = await tpp(ca);
      expectRejection(
        rejectionOf(() => trusting(root).identify(present(leaf, ca))),
        'name_constraints_violated',
        "the client certificate's subject CN=api.path-tpp.example,organizationIdentifier=PSDFR-NCA-PATHTPP,O=Path TPP,C=FR is outside the names permitted by the name constraints of the trust anchor \"CN=Constrained Root,O=Constrained Root,C=EU\"",
      );
    });

    it('applies constraints to the intermediates below, and combines those of every CA above', async () => {
      const root = await mint({ subject: 'C=EU,O=Deep Root,CN=Deep Root', ca: { pathLength: 2 }, freshKey: true });
      const upper = await mint({ issuer: root, subject: 'C=EU,O=Upper QTSP,CN=Upper QTSP', ca: { pathLength: 1 }, freshKey: true, nameConstraints: { permitted: [{ directoryName: 'C=FR' }] } });
      const lower = await mint({ issuer: upper, subject: 'C=EU,O=Lower QTSP,CN=Lower QTSP', ca: { pathLength: 0 }, freshKey: true });
      expectRejection(
        await refusedBy(trusting(root), tpp(lower), lower, upper),
        'name_constraints_violated',
        'the subject CN=Lower QTSP,O=Lower QTSP,C=EU of the CA certificate "CN=Lower QTSP,O=Lower QTSP,C=EU" is outside the names permitted by the name constraints of the CA certificate "CN=Upper QTSP,O=Upper QTSP,C=EU"',
      );
      const frUpper = await mint({ issuer: root, subject: 'C=FR,O=Upper FR QTSP,CN=Upper FR QTSP', ca: { pathLength: 1 }, freshKey: true, nameConstraints: { permitted: [{ directoryName: 'C=FR' }] } });
      const frLower = await mint({ issuer: frUpper, subject: 'C=FR,O=Lower FR QTSP,CN=Lower FR QTSP', ca: { pathLength: 0 }, freshKey: true, nameConstraints: { permitted: [{ dNSName: 'other.example' }] } });
      expect(trusting(root).identify(present(await tpp(frLower, { subject: tppSubject('api.other.example') }), frLower, frUpper)).environment).to.equal('sandbox');
      const frLeafOutside = await tpp(frLower);
      expectRejection(
        rejectionOf(() => trusting(root).identify(present(frLeafOutside, frLower, frUpper))),
        'name_constraints_violated',
        "the client certificate's name DNS:api.path-tpp.example is outside the names permitted by the name constraints of the CA certificate \"CN=Lower FR QTSP,O=Lower FR QTSP,C=FR\"",
      );
    });
  });
});

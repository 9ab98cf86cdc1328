/**
 * Certificate policy processing of RFC 5280 §6.1 (steps 6.1.2 (a, d–f), 6.1.3 (d–f),
 * 6.1.4 (a, b, h–j) and 6.1.5 (a, b, g)), with user-initial-policy-set = {anyPolicy} and the three
 * initial flags false: the relying party asks for no policy of its own, and the path's CAs decide
 * through policyConstraints and inhibitAnyPolicy whether one must hold all along the path.
 */
import type { CertificateFacts, PolicyMapping } from './certificate-facts.js';
import { ANY_POLICY } from './oids.js';

interface PolicyNode {
  readonly validPolicy: string;
  expected: ReadonlySet<string>;
  readonly parent: PolicyNode | undefined;
  readonly children: PolicyNode[];
}

export type PolicyFailure =
  /** §6.1.4(a): a CA maps anyPolicy, or maps a policy to it. */
  | { readonly kind: 'any_policy_mapped'; readonly certificate: CertificateFacts }
  /** §6.1.3(f), §6.1.5: an explicit policy is required and none is valid for the path down to `certificate`. */
  | { readonly kind: 'no_valid_policy'; readonly certificate: CertificateFacts; readonly requiredBy: CertificateFacts };

/** The valid_policy_tree, held level by level; `null` once it is NULL. */
class PolicyTree {
  levels: PolicyNode[][] | null;

  constructor() {
    this.levels = [[{ validPolicy: ANY_POLICY, expected: new Set([ANY_POLICY]), parent: undefined, children: [] }]];
  }

  level(depth: number): PolicyNode[] {
    return this.levels?.[depth] ?? [];
  }

  add(parent: PolicyNode, depth: number, validPolicy: string, expected: ReadonlySet<string>): void {
    const node: PolicyNode = { validPolicy, expected, parent, children: [] };
    parent.children.push(node);
    const levels = this.levels as PolicyNode[][];
    (levels[depth] ??= []).push(node);
  }

  remove(depth: number, keep: (node: PolicyNode) => boolean): void {
    const levels = this.levels as PolicyNode[][];
    const removed = (levels[depth] ?? []).filter((node) => !keep(node));
    levels[depth] = (levels[depth] ?? []).filter(keep);
    for (const node of removed) {
      if (node.parent) node.parent.children.splice(node.parent.children.indexOf(node), 1);
    }
  }

  /** Deletes childless nodes above `depth`, deepest first; the tree becomes NULL when its root goes. */
  prune(depth: number): void {
    if (!this.levels) return;
    for (let level = depth - 1; level >= 0; level -= 1) this.remove(level, (node) => node.children.length > 0);
    if (!this.levels[0]?.length) this.levels = null;
  }
}

/** RFC 5280 §6.1.3(d, e): the certificate's policies grow the tree, or end it. */
function processPolicies(tree: PolicyTree, i: number, certificate: CertificateFacts, anyPolicyAllowed: boolean): void {
  if (!tree.levels || !certificate.policies) {
    tree.levels = null;
    return;
  }
  const parents = tree.level(i - 1);
  for (const policy of certificate.policies) {
    if (policy === ANY_POLICY) continue;
    const matching = parents.filter((node) => node.expected.has(policy));
    const anchors = matching.length ? matching : parents.filter((node) => node.validPolicy === ANY_POLICY);
    for (const parent of anchors) tree.add(parent, i, policy, new Set([policy]));
  }
  if (certificate.policies.includes(ANY_POLICY) && anyPolicyAllowed) {
    for (const parent of parents) {
      for (const value of parent.expected) {
        if (!parent.children.some((child) => child.validPolicy === value)) tree.add(parent, i, value, new Set([value]));
      }
    }
  }
  tree.prune(i);
}

/** RFC 5280 §6.1.4(b): the certificate's policy mappings, applied while mapping is allowed, else pruned. */
function applyMappings(tree: PolicyTree, i: number, mappings: readonly PolicyMapping[], mappingAllowed: boolean): void {
  const mapped = new Map<string, Set<string>>();
  for (const { issuerDomainPolicy, subjectDomainPolicy } of mappings) {
    if (!mapped.has(issuerDomainPolicy)) mapped.set(issuerDomainPolicy, new Set());
    mapped.get(issuerDomainPolicy)?.add(subjectDomainPolicy);
  }
  for (const [issuerPolicy, subjectPolicies] of mapped) {
    if (!tree.levels) break;
    if (mappingAllowed) {
      const nodes = tree.level(i).filter((node) => node.validPolicy === issuerPolicy);
      if (nodes.length) {
        for (const node of nodes) node.expected = subjectPolicies;
      } else {
        const any = tree.level(i).find((node) => node.validPolicy === ANY_POLICY);
        if (any?.parent) tree.add(any.parent, i, issuerPolicy, subjectPolicies);
      }
    } else {
      tree.remove(i, (node) => node.validPolicy !== issuerPolicy);
      tree.prune(i);
    }
  }
}

/**
 * Processes the policies of `path` (the certificates below the trust anchor, the anchor's child
 * first, the TPP's certificate last); returns what fails, or undefined when the path is valid.
 */
export function policyFailure(path: readonly CertificateFacts[]): PolicyFailure | undefined {
  const n = path.length;
  const tree = new PolicyTree();
  let explicitPolicy = n + 1;
  let inhibitAnyPolicy = n + 1;
  let policyMapping = n + 1;
  let requiredBy: CertificateFacts | undefined;

  for (const [index, certificate] of path.entries()) {
    const i = index + 1;
    const last = i === n;
    // §6.1.3(d, e)
    processPolicies(tree, i, certificate, inhibitAnyPolicy > 0 || (!last && certificate.selfIssued));
    // §6.1.3(f)
    if (explicitPolicy <= 0 && !tree.levels) return { kind: 'no_valid_policy', certificate, requiredBy: requiredBy ?? certificate };
    if (last) break;

    // §6.1.4(a, b)
    const mappings = certificate.policyMappings ?? [];
    if (mappings.some((mapping) => mapping.issuerDomainPolicy === ANY_POLICY || mapping.subjectDomainPolicy === ANY_POLICY)) {
      return { kind: 'any_policy_mapped', certificate };
    }
    applyMappings(tree, i, mappings, policyMapping > 0);
    // §6.1.4(h–j)
    if (!certificate.selfIssued) {
      if (explicitPolicy > 0) explicitPolicy -= 1;
      if (policyMapping > 0) policyMapping -= 1;
      if (inhibitAnyPolicy > 0) inhibitAnyPolicy -= 1;
    }
    if (certificate.requireExplicitPolicy !== undefined && certificate.requireExplicitPolicy < explicitPolicy) {
      explicitPolicy = certificate.requireExplicitPolicy;
      requiredBy = certificate;
    }
    if (certificate.inhibitPolicyMapping !== undefined && certificate.inhibitPolicyMapping < policyMapping) {
      policyMapping = certificate.inhibitPolicyMapping;
    }
    if (certificate.inhibitAnyPolicy !== undefined && certificate.inhibitAnyPolicy < inhibitAnyPolicy) {
      inhibitAnyPolicy = certificate.inhibitAnyPolicy;
    }
  }

  // §6.1.5(a, b, g): with user-initial-policy-set = {anyPolicy} the tree is kept as it is.
  const leaf = path[n - 1];
  if (!leaf) return undefined;
  if (explicitPolicy > 0) explicitPolicy -= 1;
  if (leaf.requireExplicitPolicy === 0) {
    explicitPolicy = 0;
    requiredBy = leaf;
  }
  if (explicitPolicy <= 0 && !tree.levels) return { kind: 'no_valid_policy', certificate: leaf, requiredBy: requiredBy ?? leaf };
  return undefined;
}

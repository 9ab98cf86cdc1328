/**
 * Codes and tokens issued under a grant carry the start of the grant's id, e.g. `Ab3dE9x_.…`: a
 * storage can then keep a grant and all its tokens together (one Redis Cluster hash slot) and
 * revoke them in one step, while still finding each token by its value alone. The random part is
 * oidc-provider's own, so the tokens are as unguessable as before.
 */

/** Characters of a grant id that prefix the ids of its codes and tokens. */
export const GRANT_TAG_LENGTH = 8;
export const GRANT_TAG_SEPARATOR = '.';

/** The prefix of the ids of codes and tokens issued under `grantId` ('' outside a grant). */
export function grantTag(grantId: unknown): string {
  return typeof grantId === 'string' && grantId.length >= GRANT_TAG_LENGTH ? `${grantId.slice(0, GRANT_TAG_LENGTH)}${GRANT_TAG_SEPARATOR}` : '';
}

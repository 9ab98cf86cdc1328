import type Provider from 'oidc-provider';

/** Characters of a grant id that prefix the ids of its codes and tokens. */
export const GRANT_TAG_LENGTH = 8;
export const GRANT_TAG_SEPARATOR = '.';

type TokenClass = { prototype: { generateTokenId(): string; grantId?: unknown } };

/**
 * Codes and tokens issued under a grant carry the start of the grant's id, e.g. `Ab3dE9x_.…`: a
 * storage can then keep a grant and all its tokens together (one Redis Cluster hash slot) and
 * revoke them in one step, while still finding each token by its value alone. The random part is
 * oidc-provider's own, so the tokens are as unguessable as before.
 */
export function tagTokenIdsWithGrant(provider: Provider): void {
  const models = [provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode] as unknown as TokenClass[];
  for (const model of models) {
    const generate = model.prototype.generateTokenId;
    model.prototype.generateTokenId = function generateTokenId(this: { grantId?: unknown }) {
      const id = generate.call(this);
      const { grantId } = this;
      return typeof grantId === 'string' && grantId.length >= GRANT_TAG_LENGTH
        ? `${grantId.slice(0, GRANT_TAG_LENGTH)}${GRANT_TAG_SEPARATOR}${id}`
        : id;
    };
  }
}

import { createRequire } from 'node:module';

import type { ResolvedOptions } from '../options/index.js';

import { authorizationPaths } from './authorization.js';
import { components } from './components.js';
import { interactionPaths } from './interaction.js';
import { introspectionPaths } from './introspection.js';
import { metadataPaths, OPENAPI_DOCUMENT_PATHS } from './metadata.js';
import { REGISTRATION_PATHS } from './registration.js';
import { REVOCATION_PATHS } from './revocation.js';
import { tokenPaths } from './token.js';

/** What the document says of the product as a whole: roles, scopes, payment authorizations. */
function info(version: string): Record<string, unknown> {
  return {
    title: 'PSD2 OAuth 2 authorization server',
    version,
    license: { name: 'MIT', identifier: 'MIT' },
    description: [
      'OAuth 2 endpoints for third-party providers (TPPs) under PSD2: dynamic client registration over mutual TLS with an eIDAS QWAC (RFC 7591/7592, RFC 8705 `tls_client_auth`), the PSU authorization pages, and the token, revocation and introspection endpoints.',
      '',
      '| role | scopes | grant types |',
      '|---|---|---|',
      '| PSP_AI (account information) | `aisp`, `aisp extended_transaction_history` | authorization_code, refresh_token (renews `aisp` only) |',
      '| PSP_IC (card-based payment instruments) | `cbpii` | authorization_code, refresh_token |',
      '| PSP_PI (payment initiation) | `pisp` | client_credentials; authorization_code for payment authorizations |',
      '',
      'Any method or path not listed here answers 404 `not_found` (a JSON error, `NotFound` in the components).',
      '',
      '`aisp`: balances and the last 90 days of transactions of the accounts the PSU chose, for up to 180 days after their strong customer authentication. `extended_transaction_history`: the history older than 90 days, once. `cbpii`: funds confirmation (yes or no). `pisp`: payment initiation, without a PSU at the token endpoint (client credentials), or with the PSU\'s confirmation of one payment (authorization code).',
      '',
      '**Payment authorizations.** A PISP submits a payment (or its cancellation) to the bank\'s payment API, which opens the PSU\'s authorization in process (an RFC 9126 pushed request with RFC 9396 `authorization_details` of type `payment_initiation` or `payment_cancellation`; `POST /request` answers 404) and gives the PISP a URL: an entry page with `client_id` and `request_uri`, usable once until it expires. The PSU signs in, sees the payment and confirms or rejects it. Confirmed, the PISP gets a code whose token carries scope `pisp`, the payment in `authorization_details` (`PaymentAuthorizationDetail`) and the payment API as audience, without a refresh token; otherwise `access_denied`.',
    ].join('\n'),
  };
}

/**
 * The version of the package, from its package.json. The package names itself (its `exports` lists
 * `./package.json`), so the same line finds it from the sources and from dist/, at any depth.
 */
function packageVersion(): string {
  const { version } = createRequire(import.meta.url)('psd2-oauth2-server/package.json') as { version: string };
  return version;
}

const TAGS = [
  { name: 'Metadata', description: 'What clients discover.' },
  { name: 'Registration', description: 'RFC 7591 and 7592, with the TPP\'s QWAC.' },
  { name: 'Authorization', description: 'Where a TPP sends the PSU; for a payment, the URL the bank\'s payment API gave the PISP.' },
  { name: 'PSU pages', description: 'The sign-in and consent pages the PSU\'s browser sees.' },
  { name: 'Tokens', description: 'Token, revocation and introspection endpoints.' },
];

/**
 * The OpenAPI 3.1 description of every endpoint the router serves, for this configuration: mount
 * path, entry pages and resource servers as the options set them.
 */
export function openApiDocument(options: ResolvedOptions): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: info(packageVersion()),
    servers: [{ url: options.issuer }],
    tags: TAGS,
    paths: {
      ...metadataPaths(options),
      ...REGISTRATION_PATHS,
      ...authorizationPaths(options),
      ...interactionPaths(options),
      ...tokenPaths(options),
      ...REVOCATION_PATHS,
      ...introspectionPaths(options),
      ...OPENAPI_DOCUMENT_PATHS,
    },
    components: components(options),
  };
}

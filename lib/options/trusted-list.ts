// The schema of the trusted-list options (TrustedListOptions): its rules and defaults.
import { z } from 'zod';

import { parseBundle } from './pem.js';

const LIST_URL = /^(https?|file):/;

export const trustedListSchema = z.strictObject({
  url: z.string().refine((value) => {
    try {
      return LIST_URL.test(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'must be an https, http or file URL'),
  signers: z.union([z.string(), z.instanceof(Buffer)]).transform((value, ctx) => parseBundle(value, ctx, true)),
  refreshInterval: z.int().min(60).max(604_800).default(21_600),
  retryInterval: z.int().min(10).max(86_400).default(300),
  maxAge: z.int().min(3600).max(7_776_000).default(604_800),
  timeout: z.int().min(1000).max(120_000).default(30_000),
  grace: z.int().min(0).max(2_592_000).default(86_400),
  maxListBytes: z.int().min(65_536).max(67_108_864).default(8 * 1024 * 1024),
  maxElements: z.int().min(1000).max(5_000_000).default(200_000),
  readTimeout: z.int().min(1000).max(600_000).default(60_000),
});

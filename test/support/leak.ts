/** What a leaked stack trace or server path looks like in a response body. */
export const LEAK = /\n\s*at\s|\bat\s+[\w$.<>]+\s+\(|node_modules|\/work\/|file:\/\/|\w\.(?:ts|js|mjs|cjs):\d+|\bError:\s/;

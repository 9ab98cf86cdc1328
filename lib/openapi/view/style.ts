import { createHash } from 'node:crypto';

/** The page's one stylesheet, inline and allowed by its hash: the page loads nothing else. */
export const VIEW_STYLE = `
:root { color-scheme: light; --line: #d0d7de; --muted: #57606a; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #fff; }
header, main, nav { max-width: 72rem; margin: 0 auto; padding: 0 1.25rem; }
header { padding-top: 1.5rem; border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
h2 { margin-top: 2.5rem; padding-bottom: .25rem; border-bottom: 2px solid var(--line); }
h3 { margin: 0; font-size: 1.05rem; display: flex; gap: .6rem; align-items: baseline; flex-wrap: wrap; }
h4 { margin: 1rem 0 .35rem; font-size: .95rem; }
h5 { margin: 0 0 .25rem; font-size: .9rem; }
a { color: var(--accent); }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { background: #f3f4f6; padding: 0 .2em; border-radius: 3px; overflow-wrap: anywhere; }
pre { background: #f6f8fa; padding: .5rem .75rem; border-radius: 4px; overflow-x: auto; margin: .25rem 0; }
table { border-collapse: collapse; width: 100%; margin: .35rem 0; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
.meta { color: var(--muted); }
nav { padding-top: 1rem; }
nav ul { margin: .25rem 0 .75rem; padding-left: 1.25rem; }
nav li { margin: .1rem 0; }
.operation { border: 1px solid var(--line); border-radius: 6px; padding: .9rem 1rem; margin: 1rem 0; }
.method { display: inline-block; min-width: 4.2rem; text-align: center; border-radius: 4px; padding: .05rem .4rem; color: #fff; font: 600 12px/1.6 ui-monospace, Menlo, monospace; background: #6e7781; }
.method-get { background: #1a7f37; }
.method-post { background: #0b5cad; }
.method-put { background: #9a6700; }
.method-delete { background: #cf222e; }
.path { font-size: 14px; background: none; }
.summary { margin: .35rem 0; font-weight: 600; }
.security { color: var(--muted); }
.response { border-top: 1px dashed var(--line); padding: .5rem 0; }
.status { font-family: ui-monospace, Menlo, monospace; padding: 0 .35rem; border-radius: 3px; background: #eaeef2; }
.status-2 { background: #dafbe1; }
.status-3 { background: #ddf4ff; }
.status-4 { background: #fff1e5; }
.status-5 { background: #ffebe9; }
.schema { margin: .1rem 0; }
.schema .description p { margin: .2rem 0; }
.kind .type { font-style: italic; }
.constraints, .format, .closed { color: var(--muted); }
.required { color: #cf222e; font-size: .8rem; font-weight: 600; }
.properties { list-style: none; padding-left: 1rem; border-left: 2px solid #eaeef2; margin: .3rem 0; }
.properties li { margin: .3rem 0; }
.properties .schema { display: inline; }
.composition ol { margin: .2rem 0; }
.content dt { margin-top: .4rem; }
.content dd { margin-left: 1rem; }
.examples summary { cursor: pointer; color: var(--muted); }
.component { border-top: 1px solid var(--line); padding: .6rem 0; }
`;

/**
 * Headers of the page: nothing runs, nothing is loaded, the style is allowed by its hash, and the
 * page is never framed; as strict as the PSU pages, without forms or images.
 */
export function viewSecurityHeaders(): Record<string, string> {
  const style = `'sha256-${createHash('sha256').update(VIEW_STYLE).digest('base64')}'`;
  return {
    'Content-Security-Policy': `default-src 'none'; style-src ${style}; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

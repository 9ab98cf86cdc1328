/** The pages' stylesheet: sober, high-contrast, readable on a phone; served as a file (stylesheets.ts). */
export const STYLESHEET = `
:root{--ink:#14213d;--muted:#4a5568;--line:#cbd2dc;--brand:#0b3a6f;--brand-dark:#072a51;--focus:#f2b705;--bg:#f3f5f8;--danger:#a4161a;--warn-bg:#fff4ce;--radius:6px}
*{box-sizing:border-box}
html{font-size:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:var(--brand)}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:2}
header.bar{background:var(--brand);color:#fff}
header.bar .inner{max-width:40rem;margin:0 auto;padding:.75rem 1rem;display:flex;align-items:center;justify-content:space-between;gap:1rem;flex-wrap:wrap}
header.bar .bank{font-weight:700;letter-spacing:.02em}
nav.languages ul{list-style:none;margin:0;padding:0;display:flex;gap:.75rem}
nav.languages a{color:#fff}
nav.languages a[aria-current]{font-weight:700;text-decoration:none;border-bottom:2px solid #fff}
.sandbox{background:var(--warn-bg);border-bottom:1px solid #e6cf7a;text-align:center;padding:.5rem 1rem;font-size:.95rem}
main{max-width:40rem;margin:2rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid var(--line);border-radius:var(--radius);padding:1.5rem 1.5rem 1.25rem;box-shadow:0 1px 2px rgba(20,33,61,.06)}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
.tpp{display:flex;gap:1rem;align-items:center;margin:0 0 1.25rem;padding:0 0 1rem;border-bottom:1px solid var(--line)}
.tpp img{width:48px;height:48px;object-fit:contain;border:1px solid var(--line);border-radius:4px;background:#fff}
.tpp .name{font-weight:700;overflow-wrap:anywhere}
.tpp .id{color:var(--muted);font-size:.9rem;overflow-wrap:anywhere}
ul.scopes{padding-left:1.25rem;margin:.5rem 0 1.25rem}
ul.scopes li{margin:.35rem 0}
dl.payment{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem;border:1px solid var(--line);border-radius:4px;padding:1rem;margin:.75rem 0 1.25rem}
dl.payment dt{color:var(--muted,#555)}
dl.payment dd{margin:0;font-weight:600;overflow-wrap:anywhere}
dl.payment dd.amount{font-size:1.35rem}
fieldset{border:0;margin:0 0 1rem;padding:0}
legend{font-weight:700;margin-bottom:.5rem}
.hint{color:var(--muted);font-size:.95rem;margin:.25rem 0 .75rem}
label{display:block;font-weight:600;margin:0 0 .25rem}
input[type=text],input[type=password]{width:100%;font:inherit;padding:.6rem .7rem;border:2px solid var(--muted);border-radius:4px;margin-bottom:1rem;background:#fff;color:var(--ink)}
.choice{display:flex;gap:.75rem;align-items:flex-start;border:1px solid var(--line);border-radius:4px;padding:.75rem;margin:.5rem 0}
.choice input{width:1.25rem;height:1.25rem;margin:.15rem 0 0;flex:none}
.choice label{margin:0;font-weight:600}
.choice .detail{display:block;font-weight:400;color:var(--muted);font-size:.95rem;overflow-wrap:anywhere}
.actions{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:1.25rem}
button{font:inherit;font-weight:600;border-radius:4px;padding:.65rem 1.25rem;cursor:pointer;border:2px solid var(--brand)}
button.primary{background:var(--brand);color:#fff}
button.primary:hover{background:var(--brand-dark)}
button.secondary{background:#fff;color:var(--brand)}
button.link{border:0;background:none;color:var(--brand);text-decoration:underline;padding:.65rem 0}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
h1[tabindex]:focus{outline:none}
.error{border-left:4px solid var(--danger);background:#fdecec;padding:.75rem 1rem;margin:0 0 1rem}
.error h2{font-size:1rem;margin:0 0 .25rem;color:var(--danger)}
.error p{margin:0}
.cancel{margin-top:1rem;border-top:1px solid var(--line);padding-top:.5rem}
details{margin-top:1rem;color:var(--muted);font-size:.9rem}
details code{overflow-wrap:anywhere}
footer{max-width:40rem;margin:0 auto 2rem;padding:0 1rem;color:var(--muted);font-size:.85rem}
@media (max-width:30rem){.card{padding:1.25rem 1rem}main{margin-top:1rem}}
`;

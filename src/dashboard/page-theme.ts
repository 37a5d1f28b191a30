// The status page's colours, light and dark (prefers-color-scheme), and its small-screen layout. Every
// colour of ./page.ts's CSS is a variable defined here; each pair of text and background meets WCAG 2.1
// AA contrast (4.5:1 for text) in both schemes, as the browser test checks with axe-core.

/** Light colours by default; dark ones when the system asks for them. */
export const THEME_CSS = `
:root{color-scheme:light dark;
--bg:#f4f6f8;--fg:#1e293b;--fg2:#334155;--muted:#475569;--card:#fff;--border:#e2e8f0;--line:#e8edf3;--link:#1d4ed8;
--closed:#15803d;--open:#dc2626;--hero-open:#fff1f2;--hero-half:#fffbeb;--ramp-ring:#fde68a;
--ok:#15803d;--bad:#b91c1c;--err:#7f1d1d;--alert-bg:#fef2f2;--alert-border:#fecaca;--alert-fg:#991b1b;
--chip-ok-bg:#dcfce7;--chip-ok:#166534;--chip-bad-bg:#fee2e2;--chip-bad:#991b1b;--chip-warn-bg:#fef3c7;--chip-warn:#92400e;
--count-bg:#f8fafc;--code-bg:#eef2f7;--control-bg:#fff;--control-border:#94a3b8;--hover:#f1f5f9}
@media (prefers-color-scheme:dark){:root{
--bg:#0b1120;--fg:#e2e8f0;--fg2:#cbd5e1;--muted:#a3b1c6;--card:#162032;--border:#2b3a52;--line:#26344a;--link:#93c5fd;
--closed:#15803d;--open:#dc2626;--hero-open:#3a1418;--hero-half:#33270b;--ramp-ring:#92400e;
--ok:#4ade80;--bad:#fca5a5;--err:#fecaca;--alert-bg:#3a1418;--alert-border:#7f1d1d;--alert-fg:#fecaca;
--chip-ok-bg:#14532d;--chip-ok:#bbf7d0;--chip-bad-bg:#7f1d1d;--chip-bad:#fee2e2;--chip-warn-bg:#78350f;--chip-warn:#fef3c7;
--count-bg:#0f1a2b;--code-bg:#0b1120;--control-bg:#22304a;--control-border:#64748b;--hover:#2b3a52}
.chart{background:#f8fafc;border-radius:8px;padding:6px}
}
`;

/**
 * Small screens (a phone is 390 px wide): nothing wider than the screen, so the page never scrolls
 * sideways; the wide table keeps its own scroll box.
 */
export const LAYOUT_CSS = `
@media (max-width:640px){
.bar{padding:10px 14px;gap:8px 12px}.bar nav{margin-left:0;flex-wrap:wrap;gap:8px 14px}
#probe-result{max-width:100%;white-space:normal}
main{padding:14px 12px 28px}
.hero{flex-wrap:wrap;gap:10px 14px;padding:12px 14px}.badge{min-width:0}.sup{text-align:left;min-width:0}
.card{padding:12px 12px}
.counts,.counts-4{grid-template-columns:repeat(3,minmax(0,1fr))}
.metrics{grid-template-columns:repeat(2,minmax(0,1fr))}
.recovery{padding:0 12px 28px}
dl{grid-template-columns:minmax(0,max-content) minmax(0,1fr)}
}
`;

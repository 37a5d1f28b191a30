// GET /: the status page (or, with ?partial=main, the part the page reloads), under a nonce-based CSP.
import { renderStatusMain, renderStatusPage, type PageContext } from '../page.js';
import type { Handler } from '../reply.js';
import type { ReadStatus } from '../status-reader.js';

export interface PagePorts {
  readStatus: ReadStatus;
  /** The page's settings and time zone, for a read at `at` with that nonce. */
  pageContext(at: number, nonce: string): PageContext;
  /** A fresh nonce per answer (random in production). */
  nonce(): string;
}

function contentSecurityPolicy(nonce: string): string {
  return (
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self' data:; ` +
    `connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`
  );
}

export function pageHandler(ports: PagePorts): Handler {
  return async (req) => {
    const { status, at, headline } = await ports.readStatus();
    const nonce = ports.nonce();
    const ctx = { ...ports.pageContext(at, nonce), headline };
    const render = req.query.partial === 'main' ? renderStatusMain : renderStatusPage;
    return {
      status: 200,
      type: 'html',
      text: render(status, ctx),
      headers: { 'Cache-Control': 'no-store', 'Content-Security-Policy': contentSecurityPolicy(nonce) },
    };
  };
}

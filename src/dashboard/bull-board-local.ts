// Bull Board with nothing loaded from outside the machine. Its page (@bull-board/ui dist/index.ejs) links
// Google Fonts' stylesheet for IBM Plex; the rest (scripts, styles, icons, locales) it serves itself.
// This adapter renders the same page without that link: its CSS names IBM Plex first and falls back to
// the system's fonts (system-ui, ui-monospace), so nothing changes but the typeface and the request.
import { ExpressAdapter } from '@bull-board/express';
import type { Express } from 'express';

/** Remote stylesheets of the page, e.g. `<link href="https://fonts.googleapis.com/css2?…" rel="stylesheet">`. */
const REMOTE_STYLESHEET = /<link\b[^>]*\bhref="https?:\/\/[^"]*"[^>]*\brel="stylesheet"[^>]*>\s*/gi;

/** The page without any stylesheet from another host. */
export const withoutRemoteStylesheets = (html: string): string => html.replace(REMOTE_STYLESHEET, '');

type ViewEngine = (path: string, options: object, done: (err: Error | null, html?: string) => void) => void;

export class LocalExpressAdapter extends ExpressAdapter {
  /** Bull Board's own view engine (ejs), each page it renders passed through withoutRemoteStylesheets. */
  override setViewsPath(viewPath: string): this {
    super.setViewsPath(viewPath);
    const app = this.getRouter() as Express & { engines: Record<string, ViewEngine> };
    const render = app.engines['.ejs'];
    app.engine('ejs', (path: string, options: object, done: (err: Error | null, html?: string) => void) =>
      render(path, options, (err, html) => done(err, html === undefined ? html : withoutRemoteStylesheets(html))),
    );
    return this;
  }
}

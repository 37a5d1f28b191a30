// Stash's plugin log framing (stashapp/stash pkg/plugin/common/log/log.go): a stderr line is \x01, the
// level letter, \x02, then the text. Built as a pattern string, so the framing bytes are characters of the
// pattern rather than control ranges in a regular-expression literal.

/** A pattern for a stderr line at Stash log level `letter` (or a class: `[tdiwep]`) whose text matches `text`. */
export function stashLogLine(letter: string, text = '', flags = 'm'): RegExp {
  return new RegExp(`^\x01${letter}\x02${text}`, flags);
}

// Edits longer than a proxy allows (src/plex/edit-split.ts): the sizes measured are the sizes sent, a
// split edit keeps each tag list whole and in order, and a value too long alone is cut at a character.
import { describe, expect, it } from 'vitest';
import type { PlexEdit } from '../../src/model/types.js';
import { decodeTagList, encodeEdit } from '../../src/plex/edits.js';
import {
  editUnits,
  ELLIPSIS,
  fitScalar,
  fitTags,
  planEdit,
  requestBytes,
  requestParams,
  unitParams,
  type EditUnit,
} from '../../src/plex/edit-split.js';

/** What a request adds after `?type=1&id=…`: `&` and its parameters, as URLSearchParams writes them. */
const sentBytes = (units: readonly EditUnit[]) => requestParams(units).toString().length + 1;

const LETTERS = Array.from('äöü€漢字😀');
const nonAscii = (n: number) => Array.from({ length: n }, (_, i) => LETTERS[i % LETTERS.length]).join('');
const tags = (n: number, prefix = 'Tag') => Array.from({ length: n }, (_, i) => `${prefix} ${String(i).padStart(3, '0')} ñ`);

const big: PlexEdit = {
  scalars: { title: 'Ünïcödé title', summary: nonAscii(700), studio: 'A & B + C', originallyAvailableAt: '2024-02-29' },
  tags: {
    genre: { set: tags(120), remove: ['Old, with comma', '100% + more', ...tags(60, 'Extra')] },
    actor: { set: tags(40, 'Actör'), remove: [] },
    collection: { set: [], remove: ['Gone'] },
  },
  unlock: ['thumb', 'studio'],
};

/** Every parameter of the planned requests, with each field's removals gathered (they may be split). */
function gathered(requests: EditUnit[][]): { params: string[]; removed: Record<string, string[]> } {
  const params: string[] = [];
  const removed: Record<string, string[]> = {};
  for (const [name, value] of requests.flat().flatMap(unitParams)) {
    if (name.endsWith('[].tag.tag-')) (removed[name] ??= []).push(...decodeTagList(value));
    else params.push(`${name}=${value}`);
  }
  return { params: params.sort(), removed };
}

describe('sizes', () => {
  it('are exactly what URLSearchParams sends: spaces, commas, percent signs, emoji, removals encoded twice', () => {
    for (const unit of editUnits(big)) expect(requestBytes([unit]), unit.field).toBe(sentBytes([unit]));
    expect(requestBytes(editUnits(big))).toBe(sentBytes(editUnits(big)));
  });
});

describe('planEdit', () => {
  it('one request when everything fits: the parameters encodeEdit gives, in its order', () => {
    const units = editUnits(big);
    const requests = planEdit(units, requestBytes(units));
    expect(requests).toHaveLength(1);
    expect(requestParams(requests[0]).toString()).toBe(encodeEdit(big).toString());
  });

  it('within the budget, several requests: scalars, then each tag list whole with its lock, then locks released alone', () => {
    const budget = 6_000;
    const requests = planEdit(editUnits(big), budget);
    expect(requests.map((r) => r.map((u) => u.field))).toEqual([
      ['title', 'summary', 'studio', 'originallyAvailableAt'],
      ['genre'], // the list, its removal and its lock were too long for one request: the removal goes on
      ['genre', 'actor', 'collection', 'thumb'],
    ]);
    for (const r of requests) expect(sentBytes(r)).toBeLessThanOrEqual(budget);
    // Each list's indexed tags are in one request, all of them, with its lock.
    for (const field of ['genre', 'actor'] as const) {
      const holding = requests.filter((r) => r.some((u) => u.field === field && u.values.length > 0));
      expect(holding, field).toHaveLength(1);
      const sent = requestParams(holding[0]);
      expect(sent.getAll(`${field}.locked`)).toEqual(['1']);
      expect(big.tags[field]!.set.map((_, i) => sent.get(`${field}[${i}].tag.tag`))).toEqual(big.tags[field]!.set);
    }
    // The order: every scalar before any tag, every tag before the locks released alone.
    const order = requests.flat().map((u) => (u.values[0]?.[0].endsWith('.value') ? 0 : u.field === 'thumb' ? 2 : 1));
    expect(order).toEqual([...order].sort());
    // Nothing lost, nothing added: the same parameters as one request, removals possibly in several.
    const one = gathered([editUnits(big)]);
    expect(gathered(requests)).toEqual(one);
  });

  it('splits a removal too long for one request into removals that each fit', () => {
    const edit: PlexEdit = { scalars: {}, tags: { genre: { set: ['Kept'], remove: tags(300, 'Removed') } } };
    const budget = 3_000;
    const requests = planEdit(editUnits(edit), budget);
    expect(requests.length).toBeGreaterThan(2);
    for (const r of requests) expect(sentBytes(r)).toBeLessThanOrEqual(budget);
    expect(gathered(requests).removed['genre[].tag.tag-']).toEqual(tags(300, 'Removed'));
    expect(requestParams(requests[0]).toString()).toBe('genre%5B0%5D.tag.tag=Kept&genre.locked=1');
  });

  it('a field that cannot fit is sent alone, never cut here (fitScalar and fitTags decide that)', () => {
    const edit: PlexEdit = { scalars: { title: 'T', summary: nonAscii(2_000) }, tags: {} };
    const requests = planEdit(editUnits(edit), 1_000);
    expect(requests.map((r) => r.map((u) => u.field))).toEqual([['title'], ['summary']]);
    expect(requestParams(requests[1]).get('summary.value')).toBe(nonAscii(2_000));
  });

  it('halving a request splits it further (what a 414 asks for)', () => {
    const units = editUnits({
      scalars: { title: 'x'.repeat(500), summary: 'y'.repeat(500) },
      tags: { genre: { set: tags(10), remove: tags(10, 'R') } },
    });
    const once = planEdit(units, requestBytes(units));
    expect(once).toHaveLength(1);
    const halves = planEdit(once[0], Math.floor(requestBytes(once[0]) / 2));
    expect(halves.length).toBeGreaterThan(1);
    expect(gathered(halves)).toEqual(gathered(once));
  });
});

describe('fitScalar', () => {
  const characters = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const unitOf = (value: string): EditUnit[] => editUnits({ scalars: { summary: value }, tags: {} });

  it('leaves a value that fits alone as it is', () => {
    const value = nonAscii(100);
    expect(fitScalar('summary', value, sentBytes(unitOf(value)))).toBe(value);
  });

  it('cuts at a character with an ellipsis: the longest start that fits, emoji and accents whole', () => {
    // Characters of 1 to 4 UTF-8 bytes, a surrogate pair, a letter with a combining accent, spaces.
    const value = 'Résumé 😀 e\u0301t\u00e9 漢字 '.repeat(200);
    for (const budget of [700, 701, 702, 703, 1_000, 4_321]) {
      const cut = fitScalar('summary', value, budget);
      expect(cut.endsWith(ELLIPSIS)).toBe(true);
      const kept = cut.slice(0, -ELLIPSIS.length);
      expect(value.startsWith(kept)).toBe(true);
      expect(sentBytes(unitOf(cut))).toBeLessThanOrEqual(budget);
      expect(kept).toBe(kept.trimEnd());
      expect(() => encodeURIComponent(kept)).not.toThrow(); // no half of a surrogate pair
      expect(value.slice(kept.length).startsWith('\u0301')).toBe(false); // the accent stays with its letter
      // Maximal: one character more (before trimming spaces) would not fit.
      const next = [...characters.segment(value.slice(kept.length, kept.length + 40))].find((s) => s.segment.trim() !== '');
      expect(
        sentBytes(
          unitOf(`${value.slice(0, kept.length + value.slice(kept.length).indexOf(next!.segment) + next!.segment.length)}${ELLIPSIS}`),
        ),
      ).toBeGreaterThan(budget);
    }
  });
});

describe('fitTags', () => {
  it('keeps the longest start of the list whose indexed tags and lock fit', () => {
    const list = tags(200, 'Ünïcödé');
    const all = (n: number): EditUnit[] => editUnits({ scalars: {}, tags: { genre: { set: list.slice(0, n), remove: [] } } });
    expect(fitTags('genre', list, sentBytes(all(200)))).toEqual(list);
    const budget = 4_000;
    const kept = fitTags('genre', list, budget);
    expect(kept.length).toBeGreaterThan(10);
    expect(kept).toEqual(list.slice(0, kept.length));
    expect(sentBytes(all(kept.length))).toBeLessThanOrEqual(budget);
    expect(sentBytes(all(kept.length + 1))).toBeGreaterThan(budget);
  });
});

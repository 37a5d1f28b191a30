// The inbox item's one definition (src/model/inbox-item.ts) and its full validation (src/model/job.ts)
// agree: what the hook records, the spool keeps and the inbox carries, the workers accept.
import { describe, expect, it } from 'vitest';
import {
  encodeItem,
  FANOUT_RELATIONS,
  fanoutItem,
  inboxItemOf,
  itemJson,
  itemLabel,
  JOB_REASONS,
  stashIdOf,
  type InboxItem,
} from '../../src/model/inbox-item.js';
import { decodeInboxEntry, fanoutSchema, syncJobSchema } from '../../src/model/job.js';

const NOW = 1_750_000_000_000;
const items: InboxItem[] = [
  ...JOB_REASONS.map((reason, i) => ({ sceneId: String(i + 1), reason, enqueuedAt: NOW })),
  { sceneId: '45', reason: 'hook', event: 'Scene.Update.Post', fields: ['title', 'tag_ids'], enqueuedAt: NOW },
  ...FANOUT_RELATIONS.map((relation, i) => fanoutItem({ relation, id: String(i + 7), event: 'Tag.Merge.Post', enqueuedAt: NOW })),
];

describe('inbox item', () => {
  it.each(items)('%j: its inbox entry decodes back to it', (item) => {
    const d = decodeInboxEntry(encodeItem(item));
    expect(d.ok).toBe(true);
    if ('kind' in item)
      expect(d).toEqual({ ok: true, fanout: { relation: item.relation, id: item.id, event: item.event, enqueuedAt: item.enqueuedAt } });
    else expect(d).toEqual({ ok: true, job: item });
  });

  it.each(items)('%j: its spool line reads back to it', (item) => {
    expect(inboxItemOf(JSON.parse(itemJson(item)))).toEqual(item);
  });

  it('labels items for messages', () => {
    expect(items.map(itemLabel).slice(-5)).toEqual(['scene 45', 'performer 7', 'studio 8', 'tag 9', 'group 10']);
  });

  it.each([1, 45, '45', ' 45 ', '123456789012345678', Number.MAX_SAFE_INTEGER])('the hook id %j is an id the workers accept', (raw) => {
    const id = stashIdOf(raw);
    expect(id).not.toBeNull();
    expect(syncJobSchema.safeParse({ sceneId: id, reason: 'hook', enqueuedAt: NOW }).success).toBe(true);
    expect(fanoutSchema.safeParse({ relation: 'tag', id, event: 'Tag.Update.Post', enqueuedAt: NOW }).success).toBe(true);
  });

  it.each(['0', '007', '-3', '1.5', '1e3', '', '1234567890123456789', 0, -1, 1.5, 2 ** 60, null, {}])(
    'the hook refuses the id %j',
    (raw) => {
      expect(stashIdOf(raw)).toBeNull();
    },
  );

  it.each([
    { kind: 'fanout', relation: 'gallery', id: '1', event: 'x', enqueuedAt: 1 },
    { kind: 'fanout', relation: 'tag', id: 'x1', event: 'x', enqueuedAt: 1 },
    { kind: 'other', sceneId: '1', reason: 'hook', enqueuedAt: 1 },
    { sceneId: '1a', reason: 'hook', enqueuedAt: 1 },
    { sceneId: '1', reason: 'hook', enqueuedAt: '1' },
    { sceneId: '1', reason: 'hook', enqueuedAt: 1, fields: [1] },
    [],
    null,
  ])('a spool line %j is no item', (value) => {
    expect(inboxItemOf(value)).toBeNull();
  });
});

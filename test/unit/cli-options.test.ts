// The commands' options, pure (each beside what it runs; workers/ only calls them): what each takes, and
// the one line it says about what it does not.
import { describe, expect, it } from 'vitest';
import { parseDemoArgs } from '../../src/demo/options.js';
import { parseRequeueArgs } from '../../src/dlq/cli.js';
import { parseRestoreArgs } from '../../src/restore/cli.js';
import { parseReconcileArgs } from '../../src/sync/library-reconcile-cli.js';

describe('npm run requeue options', () => {
  it('takes every option, error lists split on commas', () => {
    const r = parseRequeueArgs([
      '--dry-run',
      '--outage',
      'all',
      '--errors',
      'PlexServerDown,PlexTimeout',
      '--errors',
      'PlexNotFound',
      '--limit',
      '5',
      '--rate',
      '0.5',
      '--force',
      '--json',
    ]);
    expect(r).toEqual({
      ok: true,
      command: {
        json: true,
        options: {
          dryRun: true,
          outage: 'all',
          since: undefined,
          until: undefined,
          errors: ['PlexServerDown', 'PlexTimeout', 'PlexNotFound'],
          includeOptional: false,
          limit: 5,
          rate: 0.5,
          force: true,
        },
      },
    });
  });

  it.each([
    [['--limit', '0'], '--limit must be a whole number of at least 1, not "0"'],
    [['--limit', '2.5'], '--limit must be a whole number of at least 1, not "2.5"'],
    [['--rate', ' '], '--rate must be a number of jobs per second above 0, not " "'],
    [['--rate=-1'], '--rate must be a number of jobs per second above 0, not "-1"'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['extra'], "Unexpected argument 'extra'. This command does not take positional arguments"],
  ])('%j: %s', (args, error) => {
    expect(parseRequeueArgs(args)).toEqual({ ok: false, error });
  });
});

describe('npm run restore options', () => {
  it('scene ids (repeated or a comma list), --all, --resume', () => {
    expect(parseRestoreArgs(['--scene', '12, 13', '--scene', '9', '--dry-run'])).toEqual({
      ok: true,
      command: { scope: { sceneIds: ['12', '13', '9'] }, resume: false, dryRun: true, json: false },
    });
    expect(parseRestoreArgs(['--all', '--resume', '--json'])).toEqual({
      ok: true,
      command: { scope: { all: true }, resume: true, dryRun: false, json: true },
    });
  });

  it.each([
    [['--scene', 'x1'], '--scene takes Stash scene ids (numbers), not "x1"'],
    [['--all', '--scene', '1'], 'give --scene or --all, not both'],
    [[], 'say which scenes: --scene ID (repeatable) or --all'],
  ])('%j: %s', (args, error) => {
    expect(parseRestoreArgs(args)).toEqual({ ok: false, error });
  });
});

describe('npm run reconcile options', () => {
  it('--dry-run and --json, nothing else', () => {
    expect(parseReconcileArgs(['--dry-run'])).toEqual({ ok: true, command: { dryRun: true, json: false } });
    expect(parseReconcileArgs(['--json', '--full'])).toEqual({ ok: false, error: "Unknown option '--full'" });
  });
});

describe('npm run demo options', () => {
  it('defaults: a 30 s outage, 300 scenes', () => {
    expect(parseDemoArgs([])).toEqual({ ok: true, options: { outage: true, outageMs: 30_000, scenes: 300, malformed: false } });
    expect(parseDemoArgs(['--no-outage', '--outage', '2m', '--scenes', '20', '--malformed'])).toEqual({
      ok: true,
      options: { outage: false, outageMs: 120_000, scenes: 20, malformed: true },
    });
  });

  it.each([
    [['--outage', '5x'], '--outage must look like 30s or 2m, not "5x"'],
    [['--scenes', '0'], '--scenes must be a whole number from 1 to 20000'],
    [['--scenes', '20001'], '--scenes must be a whole number from 1 to 20000'],
  ])('%j: %s', (args, error) => {
    expect(parseDemoArgs(args)).toEqual({ ok: false, error });
  });
});

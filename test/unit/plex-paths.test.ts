import { describe, expect, it } from 'vitest';
import { pathHintLine } from '../../src/plex/path-hints.js';
import {
  baseName,
  folderOf,
  inLocationStyle,
  libraryProblems,
  mapPath,
  normalisePlexPath,
  pickSection,
  suggestPathMap,
  titleGuess,
  type PlexSection,
} from '../../src/plex/paths.js';
import { parseLibraryCheck } from '../../src/supervisor/status.js';

describe('mapPath', () => {
  const map = [
    { from: '/stash', to: '/plex' },
    { from: '/stash/videos', to: '/mnt/v' },
  ];

  it('uses the longest matching prefix, whatever the order', () => {
    expect(mapPath('/stash/videos/a.mp4', map)).toBe('/mnt/v/a.mp4');
    expect(mapPath('/stash/videos/a.mp4', [...map].reverse())).toBe('/mnt/v/a.mp4');
    expect(mapPath('/stash/other/b.mp4', map)).toBe('/plex/other/b.mp4');
  });

  it('matches on a path-component boundary only', () => {
    expect(mapPath('/stash/videos2/a.mp4', [{ from: '/stash/videos', to: '/x' }])).toBe('/stash/videos2/a.mp4');
    expect(mapPath('/stashy/a.mp4', map)).toBe('/stashy/a.mp4');
  });

  it('ignores trailing separators on either side', () => {
    expect(mapPath('/stash/a.mp4', [{ from: '/stash/', to: '/plex/' }])).toBe('/plex/a.mp4');
    expect(mapPath('/stash/a.mp4', [{ from: '/stash', to: '/plex/' }])).toBe('/plex/a.mp4');
  });

  it('maps the root', () => {
    expect(mapPath('/a/b.mp4', [{ from: '/', to: '/mnt' }])).toBe('/mnt/a/b.mp4');
    expect(mapPath('/a/b.mp4', [{ from: '/mnt', to: '/' }])).toBe('/a/b.mp4');
    expect(mapPath('/mnt/a/b.mp4', [{ from: '/mnt', to: '/' }])).toBe('/a/b.mp4');
  });

  it('normalises Windows separators on both sides', () => {
    expect(mapPath('D:\\Media\\Clips\\x.mp4', [{ from: 'D:\\Media', to: '/data' }])).toBe('/data/Clips/x.mp4');
    expect(mapPath('/stash/a/b.mp4', [{ from: '/stash', to: 'C:\\Plex\\Movies' }])).toBe('C:/Plex/Movies/a/b.mp4');
    expect(mapPath('D:\\x.mp4', [{ from: 'D:\\', to: 'E:\\' }])).toBe('E:/x.mp4');
  });

  it('returns the path normalised when nothing matches', () => {
    expect(mapPath('C:\\a\\b.mp4', [])).toBe('C:/a/b.mp4');
    expect(mapPath('/x/y.mp4', map)).toBe('/x/y.mp4');
  });
});

describe('normalisePlexPath', () => {
  it('turns backslashes into slashes and strips the long-path prefix', () => {
    expect(normalisePlexPath('\\\\?\\C:\\Media\\a.mp4')).toBe('C:/Media/a.mp4');
    expect(normalisePlexPath('\\\\?\\UNC\\srv\\share\\a.mp4')).toBe('//srv/share/a.mp4');
    expect(normalisePlexPath('\\\\srv\\share\\a.mp4')).toBe('//srv/share/a.mp4');
  });
  it('is exact otherwise (case, spaces)', () => {
    expect(normalisePlexPath('/Media/A File.MP4')).toBe('/Media/A File.MP4');
    expect(normalisePlexPath('/media/a.mp4')).not.toBe(normalisePlexPath('/Media/a.mp4'));
  });
});

describe('pickSection', () => {
  const s = (key: string, title: string, locations: string[], type = 'movie'): PlexSection => ({ key, title, type, locations });
  const sections = [
    s('1', 'Movies', ['/media']),
    s('2', 'Adult', ['/other', '/media/adult/']),
    s('3', 'Shows', ['/media/adult/shows'], 'show'),
    s('4', 'Windows', ['\\\\?\\D:\\Clips']),
  ];

  it('picks the movie section with the longest location prefix', () => {
    expect(pickSection(sections, '/media/adult/x.mp4')).toMatchObject({ section: { key: '2' }, location: '/media/adult/' });
    expect(pickSection(sections, '/media/film/x.mp4')?.section.key).toBe('1');
    // A show library is never chosen, even with the longer prefix.
    expect(pickSection(sections, '/media/adult/shows/x.mp4')?.section.key).toBe('2');
  });

  it('matches on a path-component boundary', () => {
    expect(pickSection(sections, '/media/adultx/a.mp4')?.section.key).toBe('1');
    expect(pickSection(sections, '/mediax/a.mp4')).toBeNull();
  });

  it('compares Windows locations normalised', () => {
    expect(pickSection(sections, 'D:/Clips/a.mp4')?.section.key).toBe('4');
    expect(pickSection(sections, 'D:\\Clips\\a.mp4')?.section.key).toBe('4');
  });

  it('honours the library allow-list (case-insensitively)', () => {
    expect(pickSection(sections, '/media/adult/x.mp4', ['movies'])?.section.key).toBe('1');
    expect(pickSection(sections, '/media/adult/x.mp4', ['Nope'])).toBeNull();
    expect(pickSection(sections, '/media/adult/x.mp4', [])?.section.key).toBe('2');
    expect(pickSection(sections, '/media/adult/x.mp4', null)?.section.key).toBe('2');
  });

  it('returns null when no location holds the path', () => {
    expect(pickSection(sections, '/elsewhere/a.mp4')).toBeNull();
    expect(pickSection([], '/media/a.mp4')).toBeNull();
  });
});

describe('titleGuess', () => {
  it('derives a title from the file name', () => {
    expect(titleGuess('/a/b/My.Great_Movie  2024.mp4')).toBe('My Great Movie 2024');
    expect(titleGuess('C:\\x\\clip.one.mp4')).toBe('clip one');
    expect(titleGuess('/a/noext')).toBe('noext');
    expect(titleGuess('/a/scene-1 (2020).mkv')).toBe('scene-1 (2020)');
  });
  it('is empty when there is no name', () => {
    expect(titleGuess('/a/')).toBe('');
  });
});

describe('inLocationStyle', () => {
  it('uses backslashes when the Plex location does', () => {
    expect(inLocationStyle('C:/Plex/a.mp4', 'C:\\Plex')).toBe('C:\\Plex\\a.mp4');
    expect(inLocationStyle('/plex/a.mp4', '/plex')).toBe('/plex/a.mp4');
  });
});

describe('suggestPathMap', () => {
  it('drops the common tail of whole components: the heads are the pair', () => {
    expect(suggestPathMap('/data/stash/x/y.mp4', '/media/x/y.mp4')).toEqual({ from: '/data/stash', to: '/media' });
    expect(suggestPathMap('D:\\Videos\\x\\y.mp4', '/media/x/y.mp4')).toEqual({ from: 'D:/Videos', to: '/media' });
    expect(suggestPathMap('/x/y.mp4', '/media/x/y.mp4')).toEqual({ from: '/', to: '/media' });
    expect(suggestPathMap('//nas/share/x/y.mp4', 'Z:/x/y.mp4')).toEqual({ from: '//nas/share', to: 'Z:/' });
  });
  it('maps onto the Plex library location when the tail allows', () => {
    expect(suggestPathMap('/data/stash/x/y.mp4', '/media/stash/x/y.mp4')).toEqual({ from: '/data', to: '/media' });
    expect(suggestPathMap('/data/stash/x/y.mp4', '/media/stash/x/y.mp4', '/media/stash/')).toEqual({
      from: '/data/stash',
      to: '/media/stash',
    });
    // A location the Stash path does not share below: the common tail decides.
    expect(suggestPathMap('/data/a/y.mp4', '/media/stash/b/a/y.mp4', '/media/stash')).toEqual({ from: '/data', to: '/media/stash/b' });
  });
  it('null when equal, or when the file names differ (even in case): no prefix mapping could help', () => {
    expect(suggestPathMap('/media/x/y.mp4', '/media/x/y.mp4')).toBeNull();
    expect(suggestPathMap('/data/x/Y.mp4', '/media/x/y.mp4')).toBeNull();
  });
  it('every pair it suggests maps the Stash path onto the Plex path', () => {
    const cases: [string, string, string?][] = [
      ['/data/stash/x/y.mp4', '/media/x/y.mp4'],
      ['C:\\a\\b\\c.mkv', '/srv/b/c.mkv', '/srv'],
      ['/a/b/c.mkv', '/a/z/b/c.mkv', '/a/z'],
    ];
    for (const [stash, plex, loc] of cases) expect(mapPath(stash, [suggestPathMap(stash, plex, loc)!])).toBe(normalisePlexPath(plex));
  });
});

describe('folderOf / baseName', () => {
  it('the folder of a file and its last component', () => {
    expect(folderOf('/media/x/y.mp4')).toBe('/media/x');
    expect(folderOf('/y.mp4')).toBe('/');
    expect(folderOf('C:\\y.mp4')).toBe('C:/');
    expect(folderOf('y.mp4')).toBe('');
    expect(baseName('C:\\a\\Y.mp4')).toBe('Y.mp4');
  });
});

describe('libraryProblems', () => {
  const sections = [
    { key: '1', title: 'Videos', type: 'movie', locations: ['/m'] },
    { key: '2', title: 'Shows', type: 'show', locations: ['/s'] },
  ];
  it('a title Plex has not, and a library that is not a movie library', () => {
    const p = libraryProblems(sections, ['videos', 'Movies', 'Shows']);
    expect(p).toEqual([
      'PLEX_LIBRARIES: Plex has no library "Movies" (its libraries: "Videos" (movie), "Shows" (show))',
      'PLEX_LIBRARIES: "Shows" is a show library; stash2plex needs a movie or other-videos library',
    ]);
  });
  it('nothing when every title fits, or when none is given', () => {
    expect(libraryProblems(sections, [' VIDEOS '])).toEqual([]);
    expect(libraryProblems(sections, null)).toEqual([]);
  });
});

describe('pathHintLine / parseLibraryCheck', () => {
  it('one PATH_MAP value joining every suggestion', () => {
    expect(pathHintLine([])).toBeNull();
    expect(pathHintLine([{ pathMap: '/a=/b' }, { pathMap: 'D:/x=/y' }])).toBe(
      'Plex sees these files under another path; set PATH_MAP=/a=/b;D:/x=/y',
    );
  });
  it('an unreadable library check reads as not checked', () => {
    expect(parseLibraryCheck(JSON.stringify({ checkedAt: 5, problems: ['x', 3] }))).toEqual({
      libraryProblems: ['x'],
      librariesCheckedAt: 5,
    });
    for (const raw of [null, '{', '{"problems":[]}'])
      expect(parseLibraryCheck(raw)).toEqual({ libraryProblems: [], librariesCheckedAt: null });
  });
});

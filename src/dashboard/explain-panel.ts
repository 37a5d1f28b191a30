// The status page's Explain panel: a scene id, then what its next sync would do and why (GET
// /api/explain, the answer of `npm run explain`), shown as text lines. Outside the refreshed part, like
// the other panels of ./page.ts.
import { CSRF_HEADER_VALUE } from './security.js';

export function explainPanel(): string {
  return (
    `<section class="recovery"><div class="card" data-testid="explain-panel"><h2>Explain a scene</h2>` +
    `<p class="small muted">What the next sync of one scene would do, and why: the requirements (<code>SYNC_REQUIRE</code>), ` +
    `every path tried (<code>PATH_MAP</code>) and Plex item looked at, the match, and per field the Stash and Plex values, the lock, ` +
    `whose the value is and the action. Changes nothing. Same as <code>npm run explain -- &lt;sceneId&gt;</code> and the Stash task.</p>` +
    `<form id="explain-form" class="row" action="api/explain" method="get">` +
    `<label for="explain-scene">Scene id</label> <input type="text" id="explain-scene" name="scene" data-testid="explain-scene" inputmode="numeric" required placeholder="12">` +
    `<button type="submit" data-testid="explain-submit">Explain</button></form>` +
    `<pre id="explain-result" data-testid="explain-result" aria-live="polite"></pre>` +
    `</div></section>`
  );
}

export const EXPLAIN_CSS = `#explain-result{margin:8px 0 0;font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
#explain-result:empty{display:none}
`;

export const EXPLAIN_SCRIPT = `// Explain: the scene's explanation as text lines; the form still works without the script (JSON).
var ex={form:document.getElementById('explain-form'),id:document.getElementById('explain-scene'),out:document.getElementById('explain-result')};
ex.form.addEventListener('submit',function(ev){
  ev.preventDefault();var id=ex.id.value.trim();ex.out.className='';ex.out.textContent='Reading the scene from Stash and Plex…';
  fetch('./api/explain?scene='+encodeURIComponent(id),{credentials:'same-origin',headers:{'X-Requested-With':${JSON.stringify(CSRF_HEADER_VALUE)}}})
  .then(function(r){return r.json().catch(function(){return {error:'HTTP '+r.status};}).then(function(j){if(!r.ok)throw new Error(j.error||('HTTP '+r.status));return j;});})
  .then(function(j){ex.out.textContent=j.lines.join('\\n');})
  .catch(function(e){ex.out.className='bad';ex.out.textContent=e.message;});
});
`;

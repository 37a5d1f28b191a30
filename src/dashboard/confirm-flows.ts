// The status page's dry-run-then-confirm flows (requeue, queue maintenance, Reconcile Library, restore),
// as one browser-side function and four descriptions of what differs: what is sent, what the dry run's
// answer says, what the confirmed run's answer says. Each flow's panel is `confirmPanel` (./page.ts): ids
// `<id>-dry`, `<id>-confirm`, `<id>-cancel`, `<id>-result`. The confirmed run sends exactly the request the
// dry run answered for (its options, and for a requeue at most as many jobs as it counted); changing an
// option after a dry run withdraws the confirm button.

/** `confirmFlow(id, spec)`: spec = { request() → body | 'error text', call(body), dryText, dry(answer, body) →
 * { lines, confirm?, pending? }, runText, done(answer, body) → lines, failText(error, dryRun), cancelText }.
 * Lines are [className, text] pairs. Returns { reset, clear, pending() } for the flow's own listeners. */
const CONFIRM_FLOW = `function confirmFlow(id,spec){
  var el={dry:document.getElementById(id+'-dry'),ok:document.getElementById(id+'-confirm'),no:document.getElementById(id+'-cancel'),out:document.getElementById(id+'-result')},pending=null;
  function show(lines){el.out.textContent='';lines.forEach(function(l){if(!l)return;var p=document.createElement('p');if(l[0])p.className=l[0];p.textContent=l[1];el.out.appendChild(p);});}
  function reset(){pending=null;el.ok.hidden=true;el.no.hidden=true;el.dry.disabled=false;}
  el.dry.addEventListener('click',function(){
    reset();var body=spec.request();if(typeof body==='string'){show([['bad',body]]);return;}
    el.dry.disabled=true;show([['muted',spec.dryText]]);
    spec.call(Object.assign({},body,{dryRun:true})).then(function(answer){
      var seen=spec.dry(answer,body);show(seen.lines);el.dry.disabled=false;
      if(seen.confirm){pending=seen.pending||Object.assign({},body,{dryRun:false});el.ok.textContent=seen.confirm;el.ok.hidden=false;el.no.hidden=false;el.ok.focus();}
    }).catch(function(e){show([['bad',spec.failText(e,true)]]);el.dry.disabled=false;});
  });
  el.ok.addEventListener('click',function(){
    if(!pending)return;var body=pending;reset();el.dry.disabled=true;show([['muted',spec.runText]]);
    spec.call(body).then(function(answer){show(spec.done(answer,body));}).catch(function(e){show([['bad',spec.failText(e,false)]]);}).then(function(){el.dry.disabled=false;});
  });
  el.no.addEventListener('click',function(){reset();show([['muted',spec.cancelText]]);});
  return {reset:reset,clear:function(){el.out.textContent='';},pending:function(){return pending!==null;}};
}
function reportLines(cls,lines){return lines.map(function(t,i){return [i===lines.length-1?cls:'small muted',t];});}
function withdrawOnChange(flow,input,event,also){input.addEventListener(event,function(){if(also)also();if(flow.pending()){flow.reset();flow.clear();}});}
`;

/** Dead-letter recovery: the real run carries the dry run's options and at most as many jobs as it counted. */
const REQUEUE_FLOW = `(function(){
  var outage=document.getElementById('requeue-outage'),opt=document.getElementById('requeue-optional');
  function skipped(s){var k=s.skipped||{},parts=[];
    if(k.alreadyQueued)parts.push(k.alreadyQueued+' already queued');if(k.errorType)parts.push(k.errorType+' of other error types');
    if(k.outsideWindow)parts.push(k.outsideWindow+' outside the window');if(k.tooManyRequeues)parts.push(k.tooManyRequeues+' requeued too often already');
    return plural(s.scanned,'failed job','failed jobs')+' scanned'+(parts.length?' · left: '+parts.join(', '):'');}
  var flow=confirmFlow('requeue',{
    request:function(){return {outage:outage.value,includeOptional:opt.checked};},
    call:function(body){return postJson(fetch('./api/requeue',jsonPost(body)));},
    dryText:'Counting the failed jobs a requeue would move (dry run)…',
    dry:function(s,body){
      if(s.refused)return {lines:[['big bad',plural(s.requeued+s.skipped.breakerNotClosed,'job','jobs')+' could be requeued, but not now'],['small',s.refused],['small muted',skipped(s)]]};
      if(s.requeued===0)return {lines:[['big','Nothing to requeue: no failed job of '+s.errorTypes.join(', ')+' in the window'],['small muted',skipped(s)]]};
      return {lines:[['big',plural(s.requeued,'job','jobs')+' would be requeued'],['small muted','Dry run: nothing moved yet. '+s.errorTypes.join(', ')+' · '+skipped(s)]],
        confirm:'Requeue '+plural(s.requeued,'job','jobs'),pending:Object.assign({},body,{dryRun:false,limit:s.requeued})};
    },
    runText:'Requeueing…',
    done:function(s,body){
      if(s.refused)return [['big bad','Refused: nothing was requeued'],['small',s.refused]];
      return [['big ok','Requeued '+plural(s.requeued,'job','jobs')],['small muted',skipped(s)+(s.limitReached?' · stopped at the '+body.limit+' confirmed':'')]];
    },
    failText:function(e,dryRun){return (dryRun?'Dry run failed: ':'Requeue failed: ')+e.message;},
    cancelText:'Cancelled: nothing was requeued.'
  });
  withdrawOnChange(flow,outage,'change');withdrawOnChange(flow,opt,'change');
})();
`;

/** Queue maintenance: the confirmed real run of that very request. */
const CLEAN_FLOW = `(function(){
  var action=document.getElementById('clean-action'),days=document.getElementById('clean-days');
  var flow=confirmFlow('clean',{
    request:function(){var body={action:action.value};if(body.action==='purge_failed')body.days=Number(days.value);return body;},
    call:function(body){return postJson(fetch('./api/queue/clean',jsonPost(body)));},
    dryText:'Counting the jobs this would remove (dry run)…',
    dry:function(s){return {lines:[['',s.text]],confirm:s.count>0?'Remove '+plural(s.count,'job','jobs'):null};},
    runText:'Removing…',
    done:function(s){return [['ok',s.text]];},
    failText:function(e){return e.message;},
    cancelText:'Cancelled: nothing was removed.'
  });
  action.addEventListener('change',function(){flow.reset();flow.clear();days.disabled=action.value!=='purge_failed';});
})();
`;

/** Reconcile Library: the dry run reads the whole library; the real run reads it again and queues. */
const RECONCILE_FLOW = `confirmFlow('reconcile',{
  request:function(){return {};},
  call:function(body){return postJson(fetch('./api/reconcile',jsonPost(body)));},
  dryText:'Reading every scene and its Plex item (dry run)…',
  dry:function(r){return {lines:reportLines('',r.lines),confirm:r.toQueue>0?'Queue '+plural(r.toQueue,'scene','scenes'):null};},
  runText:'Reconciling: reading the library again and queueing…',
  done:function(r){return reportLines('ok',r.lines);},
  failText:function(e){return e.message;},
  cancelText:'Cancelled: nothing was queued.'
});
`;

/** Restore: the confirmed run of the same scenes; "Sync again" buttons (in the refreshed part, so handled
 * by delegation) bring one restored scene back into sync. */
const RESTORE_FLOW = `(function(){
  var ids=document.getElementById('restore-scenes'),all=document.getElementById('restore-all');
  var flow=confirmFlow('restore',{
    request:function(){if(all.checked)return {all:true};var list=ids.value.split(/[\\s,]+/).filter(Boolean);return list.length?{sceneIds:list}:'Name scene ids (12, 13) or tick "every scene".';},
    call:function(body){return postJson(fetch('./api/restore',jsonPost(body)));},
    dryText:'Reading what was kept and what Plex shows now (dry run)…',
    dry:function(r){return {lines:reportLines('',r.lines),confirm:r.excluded>0?'Restore '+plural(r.excluded,'scene','scenes'):null};},
    runText:'Restoring…',
    done:function(r){return reportLines('ok',r.lines);},
    failText:function(e){return e.message;},
    cancelText:'Cancelled: nothing was restored.'
  });
  withdrawOnChange(flow,ids,'input');withdrawOnChange(flow,all,'change',function(){ids.disabled=all.checked;});
  document.addEventListener('click',function(ev){
    var b=ev.target&&ev.target.closest?ev.target.closest('button[data-resume]'):null;if(!b)return;
    b.disabled=true;b.textContent='queueing…';
    postJson(fetch('./api/restore/resume',jsonPost({sceneIds:[b.getAttribute('data-resume')],dryRun:false})))
    .then(function(r){b.textContent=r.queued?'sync queued':'not excluded';})
    .catch(function(e){b.textContent='failed: '+e.message;b.disabled=false;});
  });
})();
`;

/** The four flows, for the page script (after jsonPost, postJson and plural). */
export const CONFIRM_FLOWS_SCRIPT = CONFIRM_FLOW + REQUEUE_FLOW + CLEAN_FLOW + RECONCILE_FLOW + RESTORE_FLOW;

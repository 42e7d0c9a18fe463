// Venue QR projector: show each code for its period, fetch the next one
// just before it is due, keep the current one while the network is down
// (it is accepted for one more period), and say clearly when the code on
// the screen no longer works.
(function () {
  var root = document.getElementById('projector');
  if (!root) return;
  var img = document.getElementById('qr-img');
  var cd = document.getElementById('qr-countdown');
  var room = document.getElementById('room-code');
  var counts = document.getElementById('qr-counts');
  var status = document.getElementById('qr-status');
  var url = root.getAttribute('data-code-url');
  var t = function (k) { return root.getAttribute('data-t-' + k); };
  // Server time minus local time, so the countdown follows the server's slots.
  var offset = Number(root.getAttribute('data-now')) - Date.now();
  var expires = Number(root.getAttribute('data-expires'));
  var valid = Number(root.getAttribute('data-valid'));
  var fetching = false, failures = 0, nextTry = 0;
  var countsTpl = counts ? counts.textContent.replace(/\d+/, '{p}').replace(/\d+/, '{e}') : '';

  function now() { return Date.now() + offset; }
  function setStatus(cls, text) {
    status.className = 'status ' + cls;
    status.textContent = text;
    root.classList.toggle('stale', cls === 'stale');
  }
  function apply(d) {
    img.src = 'data:image/png;base64,' + d.png;
    img.setAttribute('data-url', d.url);
    room.textContent = d.room;
    offset = Date.parse(d.now) - Date.now();
    expires = Date.parse(d.expires_at);
    valid = Date.parse(d.valid_until);
    if (counts && d.counts) {
      counts.textContent = countsTpl.replace('{p}', d.counts.present).replace('{e}', d.counts.eligible);
    }
    failures = 0;
    setStatus('ok', t('live'));
  }
  function fetchNext() {
    if (fetching) return;
    fetching = true;
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctl) ctl.abort(); }, 4000);
    fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'application/json' }, redirect: 'error', signal: ctl ? ctl.signal : undefined })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) { throw new Error('login'); }
        if (!r.ok) throw new Error('http ' + r.status);
        return r.json();
      })
      .then(function (d) { clearTimeout(timer); fetching = false; apply(d); })
      .catch(function (e) {
        clearTimeout(timer);
        fetching = false;
        failures++;
        nextTry = Date.now() + Math.min(2000 * failures, 10000);
        if (String(e && e.message) === 'login' || String(e).indexOf('redirect') >= 0) {
          setStatus('stale', t('login'));
        }
      });
  }
  function tick() {
    var n = now();
    var left = Math.max(0, Math.ceil((expires - n) / 1000));
    cd.textContent = left;
    if (n >= valid) {
      setStatus('stale', t('stale'));
    } else if (n >= expires && failures > 0) {
      setStatus('retry', t('retry'));
    }
    // Ask for the next code a moment after it is due (the server mints it
    // from the same clock), then retry with backoff while offline.
    if (n >= expires + 150 && !fetching && Date.now() >= nextTry) fetchNext();
  }
  setInterval(tick, 250);
  tick();
})();
